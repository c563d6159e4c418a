import { type ActionOutcome, halfDoneNotice, runPlaybook, warmPlaybook } from "../actions/run.ts";
import type { ApplyContext } from "../actions/types.ts";
import type { ActingFor, AwsClients } from "../aws/clients.ts";
import { signalKey } from "../detectors/common.ts";
import type { Assessment } from "../detectors/types.ts";
import { TransientActionError, transientFailure } from "../guardrails/faults.ts";
import type { KubernetesAccess } from "../kubernetes/api.ts";
import type { Policy } from "../policy/schema.ts";
import { scopedSettings } from "../policy/scopes.ts";
import type { Signal } from "../signals/types.ts";
import { mergeOutcomes, type RespondCheckpoint } from "./checkpoint.ts";
import { answerRepeats, type FindingResponse, responseOf } from "./finding-repeats.ts";
import { parseQuietly, processEvent } from "./process.ts";
import type { Decision, EventResult, SignalSummary } from "./types.ts";

/** What an approval needs: the assessment, the decision with its exact plan, and who may decide. */
export interface ApprovalStart {
  assessment: Assessment;
  decision: Decision;
  eventId?: string;
  /** The signal's time (CloudTrail eventTime, GuardDuty updatedAt): the start of time to remediate. */
  eventTime?: string;
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
  /** Handled already: a duplicate delivery, answered as such (with how the first one ended, when it was kept). */
  | { claimed: false; status: "COMPLETED"; previous?: { outcome: string; reason: string } }
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
  /**
   * The policy, or its read in flight: the event is claimed (and, with `prepareSlot`, the account's blast-radius counter
   * read) while the policy is read. A read that fails makes respond throw after giving the claim back: nothing is acted
   * on, and the event goes to its retry policy.
   */
  policy: Policy | Promise<Policy>;
  /** The clients of the region, acting in the assessment's account (hub mode: through its member role). */
  clients(region: string, target: ActingFor): AwsClients;
  /**
   * The Kubernetes API of the region's clusters, for the `k8s:*` actions (ApplyContext.kubernetes). Absent: those
   * actions refuse, with the reason. Whatever it loads must load on its first call, not when it is handed over.
   */
  kubernetes?(region: string, target: ActingFor): KubernetesAccess;
  sleep(ms: number): Promise<void>;
  /** Claims the event for this invocation, or says who has it (see ClaimAnswer). */
  claim?(key: string): Promise<ClaimAnswer>;
  /** Saves how far this invocation got (after each assessment acted on), on the claim. */
  checkpoint?(key: string, checkpoint: RespondCheckpoint): Promise<void>;
  complete?(key: string, result: RespondResult): Promise<void>;
  release?(key: string): Promise<void>;
  /**
   * When true, every mode is downgraded to alert (the kill switch, on for all or for the event's account). Called once
   * per event that could be acted on, just before acting: it must read the switch fresh (no cache), so that turning it
   * on stops the very next action. `account` is the event's (absent when unknown: a per-account value then reads on).
   */
  killSwitch?(account?: string): Promise<boolean>;
  /**
   * Takes one automatic-action slot of the account's blast-radius limit. Refused: the decision asks for approval
   * instead (or alerts, when no approval workflow is configured), with the reason.
   */
  takeAutomaticSlot?(account: string, region: string): Promise<{ allowed: true } | { allowed: false; reason: string }>;
  /**
   * The guards of rules the responder revoked before, read before anything is acted on (guardrails/restored.ts,
   * guardrails/flapping.ts): a reason (a rule a rollback put back, a rule revoked again and again) turns the decision
   * into an alert with it. `signal` says which event it is and who made the change it reports.
   */
  holdBack?(assessment: Assessment, decision: Decision, signal: SignalSummary | undefined): Promise<string | undefined>;
  /**
   * Starts reading what `takeAutomaticSlot(account)` will need (the counter, read ahead) while the claim and the policy
   * are in flight. Reading only: the slot is taken later, if at all, once the claim is held and the kill switch is off.
   */
  prepareSlot?(account: string): void;
  /**
   * Starts reading what `holdBack` will need (the flapping counters of the groups the event changed) while the claim
   * and the policy are in flight, as `prepareSlot` does for the slot. Reading only: a revocation is counted later, if
   * at all, once the claim is held and the kill switch is off.
   */
  prepareHoldBack?(signal: Signal): void;
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
  /**
   * The deployment's audit table, named in the rollback command a half-done plan's outcome gives
   * (`eks-responder rollback asm-… --table <table>`).
   */
  auditTable?: string;
}

export interface RespondResult extends EventResult {
  /** Per assessment acted on now (auto mode, not dry-run): each action's outcome. */
  applied: { assessmentId: string; outcomes: ActionOutcome[] }[];
  approvals: { assessmentId: string; executionArn: string }[];
  /** Set when this delivery was a duplicate of an event already handled or in hand. */
  duplicate?: boolean;
  /** For a duplicate: how the delivery that handled the event ended (from its claim record). */
  previous?: { outcome: string; reason: string };
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

/**
 * Why an action stopped before its first change: the blast-radius slot was refused, or a rule guard held the change
 * back (its outcome is then discarded).
 */
class SlotRefusedError extends Error {
  override name = "SlotRefusedError";
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
/** A promise whose rejection is held until it is awaited (no unhandled rejection when the path ends before that). */
function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}
function unwrap<T>(settled: Settled<T>): T {
  if (!settled.ok) throw settled.error;
  return settled.value;
}

const isLive = (d: Decision) => d.mode === "auto" && !d.dryRun && d.plan.length > 0;

function downgrade(decision: Decision, reason: string): Decision {
  return { ...decision, mode: "alert", plan: [], reasons: [...decision.reasons, `fail closed, alert only: ${reason}`] };
}

/**
 * The respond path of the Lambda: parse → assess → decide → (apply | ask approval | alert) → record → notify.
 * Invalid and skipped events are recorded too: nothing is dropped silently.
 *
 * Crash safety: the claim is held from before the first change until the event is complete. After each assessment is
 * acted on, a checkpoint says so; an invocation that takes over a dead one's claim resumes from it (nothing done twice),
 * re-checks live state for the rest, and records under the first claim's time (the audit is written once).
 *
 * Independent reads go out together, and nothing is changed before all of them have answered: the claim is sent as
 * soon as the event is parsed, with the policy's read; the kill switch is read with the policy (or, with the policy
 * cached, with the claim); the blast-radius counter and the rule guards' flapping counters are read ahead with the
 * claim; the SDK clients of a live playbook start loading as soon as the assessment names them; an automatic action's
 * live reads run while its blast-radius slot is taken and its rule guards count it, and its first change waits for
 * both (ApplyContext.beforeChange). The loop below acts only once the claim is held and the kill switch was read off.
 */
export async function respond(event: unknown, deps: RespondDeps): Promise<RespondResult> {
  const parsed = parseQuietly(event);
  const early = parsed?.status === "signal" ? parsed.signal : undefined;
  const earlyKey = early ? signalKey(early) : undefined;
  const claiming = earlyKey && deps.claim ? settle(deps.claim(earlyKey)) : undefined;
  const policyPending = deps.policy instanceof Promise;
  // The policy is not known yet: the counter is read ahead for any event that has an account (a read, never a slot).
  if (early && policyPending) {
    deps.prepareSlot?.(early.account);
    deps.prepareHoldBack?.(early);
  }
  let policy: Policy;
  try {
    policy = await deps.policy;
  } catch (error) {
    if (claiming && earlyKey) await giveBack(claiming, earlyKey, deps);
    throw error;
  }
  const processed = processEvent(event, policy, { forceDryRun: false }, parsed);
  const result: RespondResult = { ...processed, applied: [], approvals: [] };
  const key = processed.signal?.key;
  if (claiming && earlyKey && key !== earlyKey) await giveBack(claiming, earlyKey, deps);
  const live = result.assessments.filter((a) => result.decisions.some((d) => d.assessmentId === a.id && isLive(d)));
  // Read now, with the claim, when something could be acted on (with the policy just read, it came with it).
  const killRead =
    deps.killSwitch && result.decisions.some((d) => d.mode === "auto" || d.mode === "approve")
      ? settle(deps.killSwitch(processed.signal?.account))
      : undefined;
  for (const assessment of live) {
    if (!policyPending) deps.prepareSlot?.(assessment.account);
    warmPlaybook(assessment, deps.clients(assessment.region, actingFor(assessment)));
  }
  if (early && !policyPending && live.length > 0) deps.prepareHoldBack?.(early);
  let resume: RespondCheckpoint | undefined;
  if (key && deps.claim) {
    const claim = claiming && key === earlyKey ? unwrap(await claiming) : await deps.claim(key);
    if (!claim.claimed) {
      if (claim.status === "IN_PROGRESS") throw new ClaimHeldError(key, claim.heldUntil);
      return {
        ...result,
        outcome: "skipped",
        skipped: "duplicate",
        duplicate: true,
        ...(claim.previous ? { previous: claim.previous } : {}),
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
    if (result.decisions.some(open) && killRead && unwrap(await killRead)) {
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
      // The rule guards (a rule a rollback put back, a rule re-added again and again) are read while the slot is
      // taken and the playbook reads live state; no change is sent before both said yes.
      const holding = deps.holdBack ? settle(deps.holdBack(assessment, decision, result.signal)) : undefined;
      const heldBack = async (): Promise<string | undefined> => (holding ? unwrap(await holding) : undefined);
      const context: ApplyContext = {
        clients: deps.clients(assessment.region, actingFor(assessment)),
        dryRun: false,
        assessmentId: assessment.id,
        account: assessment.account,
        region: assessment.region,
        sleep: deps.sleep,
        exemptTags: scopedSettings(policy, assessment.account, assessment.region).exemptions.tags,
        kubernetes: deps.kubernetes?.(assessment.region, actingFor(assessment)),
      };
      let running: Promise<ActionOutcome[]> | undefined;
      if (decision.mode === "auto" && deps.takeAutomaticSlot) {
        const slotting = settle(deps.takeAutomaticSlot(assessment.account, assessment.region));
        // The playbook's reads go out while the slot is taken; its first change waits for it, and never comes if the
        // slot is refused (that run changed nothing and is discarded).
        running = runPlaybook(assessment, {
          ...context,
          async beforeChange() {
            const taken = unwrap(await slotting);
            if (!taken.allowed) throw new SlotRefusedError(taken.reason);
            const held = await heldBack();
            if (held !== undefined) throw new SlotRefusedError(held);
          },
        });
        const settled = await slotting;
        if (!settled.ok) await running;
        const slot = unwrap(settled);
        const held = await heldBack().catch(async (error: unknown) => {
          await running;
          throw error;
        });
        if (held !== undefined) {
          // That run changed nothing (its first change waited for the guards) and is discarded.
          await running;
          result.decisions[index] = downgrade(decision, held);
          continue;
        }
        if (!slot.allowed) {
          await running;
          running = undefined;
          const reasons = [...decision.reasons, `${slot.reason}: asking for approval instead`];
          result.decisions[index] = deps.startApproval
            ? { ...decision, mode: "approve", reasons }
            : downgrade(decision, slot.reason);
          if (!deps.startApproval) continue;
        }
      }
      if (!deps.takeAutomaticSlot || decision.mode !== "auto") {
        const held = await heldBack();
        if (held !== undefined) {
          result.decisions[index] = downgrade(decision, held);
          continue;
        }
      }
      const current = result.decisions[index] ?? decision;
      if (current.mode === "auto") {
        const earlier = resume?.partial.find((p) => p.assessmentId === assessment.id)?.outcomes;
        const outcomes = mergeOutcomes(earlier, await (running ?? runPlaybook(assessment, context)));
        result.applied.push({ assessmentId: assessment.id, outcomes });
        // What the actions found out of their reach on the live resource (an aws-auth ConfigMap, say) is a reason too.
        const caveats = outcomes.flatMap((o) => (o.caveats ?? []).map((c) => `${o.action}: ${c}`));
        const said = caveats.length > 0 ? { ...current, reasons: [...current.reasons, ...caveats] } : current;
        result.decisions[index] = said;
        // A refusal changed nothing: the decision reads as an alert, with the refusal, no plan and no rollback.
        const refused = outcomes.find((o) => o.status === "refused");
        if (refused) result.decisions[index] = downgrade(said, `${refused.action} refused: ${refused.reason}`);
        if (transientFailure({ applied: [{ assessmentId: assessment.id, outcomes }] })) {
          // Not a verdict: the retry resumes the plan (the earlier actions re-checked, their undo kept by mergeOutcomes).
          checkpoint.partial.push({ assessmentId: assessment.id, outcomes });
        } else {
          // A permanent failure after earlier actions applied: the functions undo nothing (runPlaybook, PlaybookOptions),
          // so what stays applied, and the command that undoes it, is a reason of the decision: audited and notified.
          const notice = halfDoneNotice(assessment.id, outcomes, deps.auditTable);
          const decided = result.decisions[index] ?? said;
          if (notice) result.decisions[index] = { ...decided, reasons: [...decided.reasons, notice] };
          checkpoint.done.push({ decision: result.decisions[index] ?? said, outcomes });
        }
      } else if (current.mode === "approve") {
        if (!deps.startApproval) {
          result.decisions[index] = downgrade(current, "no approval workflow is configured");
          continue;
        }
        let started: { executionArn: string };
        try {
          started = await deps.startApproval({
            assessment,
            decision: current,
            ...(processed.eventId ? { eventId: processed.eventId } : {}),
            ...(processed.signal?.time ? { eventTime: processed.signal.time } : {}),
          });
        } catch (error) {
          // A request that cannot be put to an approver (too large for Step Functions even with no plan step shown)
          // is not a reason to lose the event: it alerts, with why. Anything else goes to the retry policy.
          if (!(error instanceof Error && "code" in error && error.code === "APPROVAL.INPUT_TOO_LARGE")) throw error;
          result.decisions[index] = downgrade(current, error.message);
          continue;
        }
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
      const halfDone = result.applied.flatMap((a) => halfDoneNotice(a.assessmentId, a.outcomes, deps.auditTable) ?? []);
      result.reason = failed
        ? // What stays applied first: the notifications cut a long reason, and this part must be read.
          [...halfDone, `${failed.action} failed: ${failed.reason}`].join("; ")
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

/** Gives up a claim taken for an event this invocation will not handle (its policy could not be read). */
async function giveBack(claiming: Promise<Settled<ClaimAnswer>>, key: string, deps: RespondDeps): Promise<void> {
  const claim = await claiming;
  if (claim.ok && claim.value.claimed && deps.release) await deps.release(key);
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

/** The account an assessment's actions change, and the assessment their member session is named after. */
function actingFor(assessment: Assessment): ActingFor {
  return { account: assessment.account, assessmentId: assessment.id };
}
