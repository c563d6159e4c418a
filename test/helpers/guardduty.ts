import { type GuardDutySignal, parseEvent } from "../../packages/core/src/index.ts";

/** The GuardDuty signal of an event (an object, or its JSON text); throws when the event is not read as one. */
export function guardDutySignalOf(input: unknown): GuardDutySignal {
  const parsed = parseEvent(typeof input === "string" ? JSON.parse(input) : input);
  if (parsed.status !== "signal" || parsed.signal.family !== "guardduty") throw new Error("expected a finding");
  return parsed.signal;
}
