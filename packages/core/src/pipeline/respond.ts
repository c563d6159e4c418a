import { type ActionOutcome, runPlaybook } from "../actions/run.ts";
import type { AwsClients } from "../aws/clients.ts";
import type { Assessment } from "../detectors/types.ts";
import { TransientActionError, transientFailure } from "../guardrails/faults.ts";
import type { Policy } from "../policy/schema.ts";
import { answerRepeats, type FindingResponse, responseOf } from "./finding-repeats.ts";
import { processEvent } from "./process.ts";
import type { Decision, EventResult } from "./types.ts";

/** What an approval needs: the assessment, the decision with its exact plan, and who may decide. */
export interface ApprovalStart {
  assessment: Assessment;
  decision: Decision;
  eventId?: string;
}

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

/** What claiming an event gave: the claim (maybe taking over from a dead invocation), or why not. */
export type ClaimAnswer =
  | {
      claimed: true;
      /** 1 for the first delivery to claim the event. */
      attempt?: number;
      /** When the first invocation claimed the event: the audit's time, so a resumed event is recorded once. */
      firstClaimedAt?: string;
      resume?: RespondCheckpoint;
    }
  /** Handled already: a duplicate delivery, answered as such. */
  | { claimed: false; status: "COMPLETED" }
  /** Another invocation holds the claim (or held it and may have died): this delivery must fail and come back. */
  | { claimed: false; status: "IN_PROGRESS"; heldUntil?: string };

/**
 * A delivery of an event that another invocation is handling, or was handling when it died (its claim has not expired
 * yet). Thrown, not answered as a duplicate: the invocation fails, and Lambda's retry comes back after the claim is
 * released, completed or expired, so an event whose holder died is taken over, never lost.
 */
export class ClaimHeldError extends Error {
  override name = "ClaimHeldError";
  readonly code = "RESPOND.CLAIM_HELD";
  constructor(key: string, heldUntil?: string) {
    super(
      `${key} is being handled by another invocation${heldUntil ? ` (its claim holds until ${heldUntil})` : ""}: ` +
        "this delivery fails so that it is retried once that one finishes or its claim expires",
    );
  }
}

/**
 * The ports of the respond path. Every one is passed in, so the Lambda wires AWS and the tests wire fakes or local
 * servers. A missing `startApproval` makes approve-mode decisions fail closed (alert only).
 */
export interface RespondDeps {
  policy: Policy;
  clients(region: string): AwsClients;
  sleep(ms: number): Promise<void>;
  /** Claims the event for this invocation, or says who has it (see ClaimAnswer). */
  claim?(key: string): Promise<ClaimAnswer>;
  /** Saves how far this invocation got (after each assessment acted on), on the claim. */
  checkpoint?(key: string, checkpoint: RespondCheckpoint): Promise<void>;
  complete?(key: string, result: RespondResult): Promise<void>;
  release?(key: string): Promise<void>;
  /**
   * When true, every mode is downgraded to alert (the kill switch). Called once per event that could be acted on, just
   * before acting: it must read the switch fresh (no cache), so that turning it on stops the very next action.
   */
  killSwitch?(): Promise<boolean>;
  /**
   * Takes one automatic-action slot of the account's blast-radius limit. Refused: the decision asks for approval
   * instead (or alerts, when no approval workflow is configured), with the reason.
   */
  takeAutomaticSlot?(account: string): Promise<{ allowed: true } | { allowed: false; reason: string }>;
  startApproval?(request: ApprovalStart): Promise<{ executionArn: string }>;
  /**
   * The response in place for a GuardDuty finding across its repeats (store/finding-responses.ts): read before acting
   * on a finding, so that a repeat is an alert, never a second response; written once this event answered it.
   */
  findingResponses?: {
    get(account: string, region: string, findingId: string): Promise<FindingResponse | undefined>;
    put(response: FindingResponse): Promise<void>;
  };
  record(result: RespondResult): Promise<void>;
  notify(result: RespondResult): Promise<void>;
}

export interface RespondResult extends EventResult {
  /** Per assessment acted on now (auto mode, not dry-run): each action's outcome. */
  applied: { assessmentId: string; outcomes: ActionOutcome[] }[];
  approvals: { assessmentId: string; executionArn: string }[];
  /** Set when this delivery was a duplicate of an event already handled or in hand. */
  duplicate?: boolean;
  /** Set when notifying failed: recorded, and never blocks or undoes a remediation. */
  notifyError?: string;
  /**
   * The audit's time for this event: when it was first claimed, so that an invocation resuming after another died
   * writes the same audit items, not a second set.
   */
  recordedAt?: string;
  /** Which claim of the event this was: more than 1 when it took over from an invocation that died or gave it back. */
  attempt?: number;
}

function downgrade(decision: Decision, reason: string): Decision {
  return { ...decision, mode: "alert", plan: [], reasons: [...decision.reasons, `fail closed, alert only: ${reason}`] };
}

/** An earlier attempt's applied outcome wins over this attempt's "already done" for the same action and params. */
function mergeOutcomes(earlier: readonly ActionOutcome[] | undefined, now: ActionOutcome[]): ActionOutcome[] {
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
 * The respond path of the Lambda: parse → assess → decide → (apply | ask approval | alert) → record → notify.
 * Invalid and skipped events are recorded too: nothing is dropped silently.
 *
 * Crash safety: the claim is held from before the first change until the event is complete. After each assessment is
 * acted on, a checkpoint says so; an invocation that takes over a dead one's claim resumes from it (nothing done twice),
 * re-checks live state for the rest, and records under the first claim's time (the audit is written once).
 */
export async function respond(event: unknown, deps: RespondDeps): Promise<RespondResult> {
  const processed = processEvent(event, deps.policy, { forceDryRun: false });
  const result: RespondResult = { ...processed, applied: [], approvals: [] };
  const key = processed.signal?.key;
  let resume: RespondCheckpoint | undefined;
  if (key && deps.claim) {
    const claim = await deps.claim(key);
    if (!claim.claimed) {
      if (claim.status === "IN_PROGRESS") throw new ClaimHeldError(key, claim.heldUntil);
      return {
        ...result,
        outcome: "skipped",
        skipped: "duplicate",
        duplicate: true,
        reason: `duplicate delivery of ${key}: already handled`,
      };
    }
    resume = claim.resume;
    if (claim.attempt !== undefined) result.attempt = claim.attempt;
    if (claim.firstClaimedAt !== undefined) result.recordedAt = claim.firstClaimedAt;
  }
  const checkpoint: RespondCheckpoint = { version: 1, done: [], partial: [] };
  try {
    // What an earlier attempt finished stays as it was: its decision, its outcomes, its approval.
    const done = new Set<string>();
    for (const [index, decision] of result.decisions.entries()) {
      const earlier = resume?.done.find((d) => d.decision.assessmentId === decision.assessmentId);
      if (!earlier) continue;
      done.add(decision.assessmentId);
      checkpoint.done.push(earlier);
      result.decisions[index] = earlier.decision;
      if (earlier.outcomes) result.applied.push({ assessmentId: decision.assessmentId, outcomes: earlier.outcomes });
      if (earlier.executionArn)
        result.approvals.push({ assessmentId: decision.assessmentId, executionArn: earlier.executionArn });
    }
    const open = (d: Decision) => (d.mode === "auto" || d.mode === "approve") && !done.has(d.assessmentId);
    const summary = processed.signal;
    const finding =
      summary?.family === "guardduty" && summary.finding ? { ...summary, finding: summary.finding } : undefined;
    if (finding && deps.findingResponses && result.decisions.some(open)) {
      const prior = await deps.findingResponses.get(finding.account, finding.region, finding.id);
      if (prior) result.decisions = answerRepeats(finding, result.decisions, result.assessments, prior);
    }
    // Read only when something could be acted on: an alert or a skipped event does not wait on the parameter.
    if (result.decisions.some(open) && deps.killSwitch && (await deps.killSwitch())) {
      result.decisions = result.decisions.map((d) => (open(d) ? downgrade(d, "the kill switch is on") : d));
    }
    if ((result.attempt ?? 1) > 1) {
      result.decisions = result.decisions.map((d) =>
        done.has(d.assessmentId)
          ? d
          : {
              ...d,
              reasons: [
                ...d.reasons,
                `claim ${result.attempt} of this event: an earlier invocation did not finish; what it completed is kept, the rest is checked again on the live resource`,
              ],
            },
      );
    }
    for (const [index, decision] of result.decisions.entries()) {
      if (done.has(decision.assessmentId) || decision.dryRun || decision.plan.length === 0) continue;
      const assessment = result.assessments.find((a) => a.id === decision.assessmentId);
      if (!assessment) continue;
      if (decision.mode === "auto" && deps.takeAutomaticSlot) {
        const slot = await deps.takeAutomaticSlot(assessment.account);
        if (!slot.allowed) {
          const reasons = [...decision.reasons, `${slot.reason}: asking for approval instead`];
          result.decisions[index] = deps.startApproval
            ? { ...decision, mode: "approve", reasons }
            : downgrade(decision, slot.reason);
          if (!deps.startApproval) continue;
        }
      }
      const current = result.decisions[index] ?? decision;
      if (current.mode === "auto") {
        const earlier = resume?.partial.find((p) => p.assessmentId === assessment.id)?.outcomes;
        const outcomes = mergeOutcomes(
          earlier,
          await runPlaybook(assessment, {
            clients: deps.clients(assessment.region),
            dryRun: false,
            assessmentId: assessment.id,
            account: assessment.account,
            region: assessment.region,
            sleep: deps.sleep,
            exemptTags: deps.policy.exemptions.tags,
          }),
        );
        result.applied.push({ assessmentId: assessment.id, outcomes });
        // What the actions found out of their reach on the live resource (an aws-auth ConfigMap, say) is a reason too.
        const caveats = outcomes.flatMap((o) => (o.caveats ?? []).map((c) => `${o.action}: ${c}`));
        const said = caveats.length > 0 ? { ...current, reasons: [...current.reasons, ...caveats] } : current;
        result.decisions[index] = said;
        // A refusal changed nothing: the decision reads as an alert, with the refusal, no plan and no rollback.
        const refused = outcomes.find((o) => o.status === "refused");
        if (refused) result.decisions[index] = downgrade(said, `${refused.action} refused: ${refused.reason}`);
        if (transientFailure({ applied: [{ assessmentId: assessment.id, outcomes }] })) {
          checkpoint.partial.push({ assessmentId: assessment.id, outcomes });
        } else {
          checkpoint.done.push({ decision: result.decisions[index] ?? said, outcomes });
        }
      } else if (current.mode === "approve") {
        if (!deps.startApproval) {
          result.decisions[index] = downgrade(current, "no approval workflow is configured");
          continue;
        }
        const started = await deps.startApproval({
          assessment,
          decision: current,
          ...(processed.eventId ? { eventId: processed.eventId } : {}),
        });
        result.approvals.push({ assessmentId: assessment.id, executionArn: started.executionArn });
        checkpoint.done.push({ decision: current, executionArn: started.executionArn });
      } else {
        continue;
      }
      if (key && deps.checkpoint) await deps.checkpoint(key, checkpoint);
    }
    result.plan = result.decisions.flatMap((d) => d.plan);
    if (finding && deps.findingResponses) {
      const at = result.recordedAt ?? new Date().toISOString();
      const answered = responseOf(finding, result.assessments, result.applied, result.approvals, at);
      if (answered) await deps.findingResponses.put(answered);
    }
    // A throttled or timed-out AWS call is not a verdict: send the event back to its retry policy (the claim is
    // released below, its checkpoint kept; the retry re-checks live state for what is not in the checkpoint).
    const transient = transientFailure(result);
    if (transient) throw new TransientActionError(transient);
    result.outcome = outcomeAfter(result);
    const outcomes = result.applied.flatMap((a) => a.outcomes);
    if (outcomes.length > 0) {
      const failed = outcomes.find((o) => o.status === "failed");
      result.reason = failed
        ? `${failed.action} failed: ${failed.reason}`
        : outcomes.map((o) => `${o.action} ${o.status}: ${o.reason}`).join("; ");
    } else if (result.approvals.length > 0) {
      result.reason = `approval requested: ${result.approvals.map((a) => a.executionArn).join(", ")}`;
    }
    await deps.record(result);
    try {
      await deps.notify(result);
    } catch (error) {
      result.notifyError = error instanceof Error ? error.message : String(error);
      await deps.record(result);
    }
    if (key && deps.complete) await deps.complete(key, result);
    return result;
  } catch (error) {
    // The event goes back to its retry policy and, in the end, to the dead-letter queue: give the claim up (its
    // checkpoint stays). If even that fails, the claim expires and the retry takes it over then.
    if (key && deps.release) await deps.release(key);
    throw error;
  }
}

function outcomeAfter(result: RespondResult): EventResult["outcome"] {
  if (result.outcome === "invalid" || result.outcome === "skipped") return result.outcome;
  const outcomes = result.applied.flatMap((a) => a.outcomes);
  if (outcomes.some((o) => o.status === "failed")) return "failed";
  // A refused action changed nothing (an exemption tag on the live resource, a precondition): the finding stands, so
  // the event is an alert, never reported as fixed.
  if (outcomes.some((o) => o.status === "refused")) return "alert";
  if (result.applied.length > 0) return "applied";
  if (result.approvals.length > 0) return "pending-approval";
  if (result.decisions.some((d) => (d.mode === "auto" || d.mode === "approve") && d.dryRun)) return "dry-run";
  return "alert";
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
