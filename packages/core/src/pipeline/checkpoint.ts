/**
 * The respond path's checkpoint (pipeline/respond.ts): what an invocation saves on its claim after each assessment it
 * acted on, how it is read back by the invocation that takes a dead one's claim over, and how it is cut to fit the
 * claim item.
 */
import type { ActionOutcome } from "../actions/run.ts";
import type { Decision } from "./types.ts";

/**
 * How far an earlier invocation of the same event got before it died or gave the event back to its retry policy:
 * saved after each assessment is acted on (the respond function keeps it on the claim), read when the claim is taken
 * over. An assessment in `done` is never acted on again; `partial` keeps what a playbook that stopped on a transient
 * failure already changed, so the retry's "already done" does not hide the earlier change (and its undo).
 */
export interface RespondCheckpoint {
  version: 1;
  done: { decision: Decision; outcomes?: ActionOutcome[]; executionArn?: string }[];
  partial: { assessmentId: string; outcomes: ActionOutcome[] }[];
}

/** An earlier attempt's applied outcome wins over this attempt's "already done" for the same action and params. */
export function mergeOutcomes(earlier: readonly ActionOutcome[] | undefined, now: ActionOutcome[]): ActionOutcome[] {
  if (!earlier || earlier.length === 0) return now;
  return now.map((o) => {
    if (o.status !== "already-done") return o;
    const same = earlier.find(
      (e) => e.status === "applied" && e.action === o.action && JSON.stringify(e.params) === JSON.stringify(o.params),
    );
    return same ? { ...same, reason: `${same.reason} (by an earlier attempt of this event)` } : o;
  });
}

/**
 * A checkpoint as stored on the claim, read back. It is this project's own data, but read as untrusted: anything that
 * is not a version-1 checkpoint gives undefined, and the event is then handled as if from the start (every action
 * re-checks live state first, so nothing is changed twice).
 */
export function parseCheckpoint(text: string | undefined): RespondCheckpoint | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object") return undefined;
  const { version, done, partial } = value as Partial<Record<keyof RespondCheckpoint, unknown>>;
  if (version !== 1 || !Array.isArray(done) || !Array.isArray(partial)) return undefined;
  const isDecision = (d: unknown): d is Decision =>
    d !== null &&
    typeof d === "object" &&
    typeof (d as Decision).assessmentId === "string" &&
    Array.isArray((d as Decision).reasons) &&
    Array.isArray((d as Decision).plan);
  const doneOk = done.every(
    (d: unknown) =>
      d !== null &&
      typeof d === "object" &&
      isDecision((d as { decision?: unknown }).decision) &&
      ((d as { outcomes?: unknown }).outcomes === undefined || Array.isArray((d as { outcomes?: unknown }).outcomes)),
  );
  const partialOk = partial.every(
    (p: unknown) =>
      p !== null &&
      typeof p === "object" &&
      typeof (p as { assessmentId?: unknown }).assessmentId === "string" &&
      Array.isArray((p as { outcomes?: unknown }).outcomes),
  );
  return doneOk && partialOk ? (value as RespondCheckpoint) : undefined;
}

/**
 * The checkpoint as stored: whole when it fits the claim item, else without the outcomes' `before` and `details`
 * (the audit keeps those), else only which assessments are done, which is what a takeover must know to act on nothing
 * twice.
 */
export function fitCheckpoint(checkpoint: RespondCheckpoint, maxBytes: number): string {
  const fits = (text: string) => Buffer.byteLength(text, "utf8") <= maxBytes;
  const whole = JSON.stringify(checkpoint);
  if (fits(whole)) return whole;
  const lean = (outcomes: RespondCheckpoint["done"][number]["outcomes"]) =>
    outcomes?.map(({ before: _before, details: _details, ...rest }) => rest);
  const smaller = JSON.stringify({
    ...checkpoint,
    done: checkpoint.done.map((d) => ({ ...d, ...(d.outcomes ? { outcomes: lean(d.outcomes) } : {}) })),
    partial: checkpoint.partial.map((p) => ({ ...p, outcomes: lean(p.outcomes) ?? [] })),
  });
  if (fits(smaller)) return smaller;
  return JSON.stringify({
    version: 1,
    done: checkpoint.done.map((d) => ({
      decision: { ...d.decision, plan: [], reasons: [...d.decision.reasons.slice(0, 20), "checkpoint cut to fit"] },
      ...(d.executionArn ? { executionArn: d.executionArn } : {}),
      outcomes: [],
    })),
    partial: [],
  } satisfies RespondCheckpoint);
}
