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

const BY_EARLIER = " (by an earlier attempt of this event)";

/**
 * This attempt's outcomes with what an earlier attempt of the same event applied. An earlier applied outcome is never
 * lost, so a rollback of the plan still finds its undo:
 * - this attempt found the change already made (already-done): the earlier applied outcome stands in for it;
 * - this attempt did not re-apply it (its check failed or refused, or it never got that far): the earlier applied
 *   outcome is kept next to this attempt's result for the same action, or after this attempt's outcomes (a playbook
 *   stops at its first failure, so the actions it did not reach come after the ones it ran).
 * An action applied again now keeps this attempt's outcome (its undo describes the state it changed).
 */
export function mergeOutcomes(earlier: readonly ActionOutcome[] | undefined, now: ActionOutcome[]): ActionOutcome[] {
  if (!earlier || earlier.length === 0) return now;
  const same = (a: ActionOutcome, b: ActionOutcome) =>
    a.action === b.action && JSON.stringify(a.params) === JSON.stringify(b.params);
  const applied = earlier.filter((e) => e.status === "applied");
  const used = new Set<ActionOutcome>();
  const kept = (e: ActionOutcome): ActionOutcome => {
    used.add(e);
    return e.reason.endsWith(BY_EARLIER) ? e : { ...e, reason: `${e.reason}${BY_EARLIER}` };
  };
  const merged = now.flatMap((o) => {
    const e = applied.find((x) => !used.has(x) && same(x, o));
    if (!e) return [o];
    if (o.status === "applied") {
      used.add(e);
      return [o];
    }
    return o.status === "already-done" ? [kept(e)] : [kept(e), o];
  });
  return [...merged, ...applied.filter((e) => !used.has(e)).map(kept)];
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
