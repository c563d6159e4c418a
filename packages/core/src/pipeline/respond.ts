import { type ActionOutcome, runPlaybook } from "../actions/run.ts";
import type { AwsClients } from "../aws/clients.ts";
import type { Assessment } from "../detectors/types.ts";
import { TransientActionError, transientFailure } from "../guardrails/faults.ts";
import type { Policy } from "../policy/schema.ts";
import { processEvent } from "./process.ts";
import type { Decision, EventResult } from "./types.ts";

/** What an approval needs: the assessment, the decision with its exact plan, and who may decide. */
export interface ApprovalStart {
  assessment: Assessment;
  decision: Decision;
  eventId?: string;
}

/**
 * The ports of the respond path. Every one is passed in, so the Lambda wires AWS and the tests wire fakes or local
 * servers. A missing `startApproval` makes approve-mode decisions fail closed (alert only).
 */
export interface RespondDeps {
  policy: Policy;
  clients(region: string): AwsClients;
  sleep(ms: number): Promise<void>;
  /** Claims the event for this invocation; false when another delivery of the same event already has it. */
  claim?(key: string): Promise<boolean>;
  complete?(key: string, result: RespondResult): Promise<void>;
  release?(key: string): Promise<void>;
  /** When true, every mode is downgraded to alert (the kill switch). */
  killSwitch?(): Promise<boolean>;
  /**
   * Takes one automatic-action slot of the account's blast-radius limit. Refused: the decision asks for approval
   * instead (or alerts, when no approval workflow is configured), with the reason.
   */
  takeAutomaticSlot?(account: string): Promise<{ allowed: true } | { allowed: false; reason: string }>;
  startApproval?(request: ApprovalStart): Promise<{ executionArn: string }>;
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
}

function downgrade(decision: Decision, reason: string): Decision {
  return { ...decision, mode: "alert", plan: [], reasons: [...decision.reasons, `fail closed, alert only: ${reason}`] };
}

/**
 * The respond path of the Lambda: parse → assess → decide → (apply | ask approval | alert) → record → notify.
 * Invalid and skipped events are recorded too: nothing is dropped silently.
 */
export async function respond(event: unknown, deps: RespondDeps): Promise<RespondResult> {
  const processed = processEvent(event, deps.policy, { forceDryRun: false });
  const result: RespondResult = { ...processed, applied: [], approvals: [] };
  const key = processed.signal?.key;
  if (key && deps.claim && !(await deps.claim(key))) {
    return {
      ...result,
      outcome: "skipped",
      skipped: "duplicate",
      duplicate: true,
      reason: `duplicate delivery of ${key}: already handled or in hand`,
    };
  }
  try {
    // Read only when something could be acted on: an alert or a skipped event does not wait on the parameter.
    const atStake = result.decisions.some((d) => d.mode === "auto" || d.mode === "approve");
    if (atStake && deps.killSwitch && (await deps.killSwitch())) {
      result.decisions = result.decisions.map((d) =>
        d.mode === "auto" || d.mode === "approve" ? downgrade(d, "the kill switch is on") : d,
      );
      result.plan = [];
    }
    for (const [index, decision] of result.decisions.entries()) {
      if (decision.dryRun || decision.plan.length === 0) continue;
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
        const outcomes = await runPlaybook(assessment, {
          clients: deps.clients(assessment.region),
          dryRun: false,
          assessmentId: assessment.id,
          account: assessment.account,
          region: assessment.region,
          sleep: deps.sleep,
          exemptTags: deps.policy.exemptions.tags,
        });
        result.applied.push({ assessmentId: assessment.id, outcomes });
        // A refusal changed nothing: the decision reads as an alert, with the refusal, no plan and no rollback.
        const refused = outcomes.find((o) => o.status === "refused");
        if (refused) {
          result.decisions[index] = downgrade(current, `${refused.action} refused: ${refused.reason}`);
          result.plan = result.decisions.flatMap((d) => d.plan);
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
      }
    }
    // A throttled or timed-out AWS call is not a verdict: send the event back to its retry policy (the claim is
    // released below; the retry re-checks live state, so what was already done is reported as already done).
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
    // The event goes back to its retry policy and, in the end, to the dead-letter queue: release the claim.
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
