/**
 * The StartExecution input of the approval workflow, built in one place (respond's `startApproval` calls it) and
 * checked against its contract (contract.ts `approvalExecutionInputSchema`) before it leaves.
 *
 * Size: Step Functions refuses an execution input, and fails an execution whose state grows, beyond 256 KiB of UTF-8
 * ("Maximum input or output size for a task, state, or execution: 256 KiB of data as a UTF-8 encoded string",
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html). The state carries the input under
 * `$.Payload` and then gains the approver's answer, the apply result (one outcome per action, with its calls and the
 * state before the change) and any caught error, and the Record task receives all of it. So the input keeps to half
 * the quota: an oversize one shows fewer plan steps, and says so in its reasons ("… N more steps not shown").
 */
import type { Assessment } from "../detectors/types.ts";
import { EksResponderError } from "../errors.ts";
import type { Decision } from "../pipeline/types.ts";
import { toInputIssues } from "../signals/zod-issues.ts";
import { type ApprovalExecutionInput, ApprovalTaskInputError, approvalExecutionInputSchema } from "./contract.ts";

/** The Step Functions quota on an execution's input and state, in bytes of UTF-8. */
export const STEP_FUNCTIONS_MAX_PAYLOAD_BYTES = 256 * 1024;

/** The most the execution input may take: half the quota, the rest is for what the workflow adds to its state. */
export const APPROVAL_INPUT_MAX_BYTES = STEP_FUNCTIONS_MAX_PAYLOAD_BYTES / 2;

export interface ApprovalStartRequest {
  assessment: Assessment;
  decision: Decision;
  approvers: { slackUserIds: readonly string[]; emails: readonly string[] };
  timeoutSeconds: number;
  /** The signal's time and the time of the request (for time to remediate and time waiting for approval). */
  eventTime?: string;
  requestedAt?: string;
}

/** An approval request too large for Step Functions even with no plan step shown: it is not started. */
export class ApprovalInputTooLargeError extends EksResponderError {
  override name = "ApprovalInputTooLargeError";

  constructor(bytes: number, limit: number) {
    super(
      "APPROVAL.INPUT_TOO_LARGE",
      `the approval request is ${bytes} bytes without any plan step; at most ${limit} fit in a Step Functions execution input`,
    );
  }
}

function bytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), "utf8");
}

/** The note that stands for the plan steps left out. */
export function omittedStepsNote(omitted: number, total: number, maxBytes: number): string {
  return (
    `… ${omitted} more step${omitted === 1 ? "" : "s"} not shown (${total} in all): the approval request is kept ` +
    `to ${Math.floor(maxBytes / 1024)} KiB for Step Functions; approving carries out the whole playbook`
  );
}

/**
 * The execution input for one approve-mode decision: the assessment, the exact plan, the decision's reasons, who may
 * decide and how long to wait. Throws ApprovalTaskInputError when it does not match the contract, and
 * ApprovalInputTooLargeError when it cannot be made to fit `maxBytes`.
 */
export function approvalExecutionInput(
  request: ApprovalStartRequest,
  maxBytes: number = APPROVAL_INPUT_MAX_BYTES,
): ApprovalExecutionInput {
  const built = {
    assessment: request.assessment,
    plan: request.decision.plan,
    reasons: request.decision.reasons,
    approvers: { slackUserIds: [...request.approvers.slackUserIds], emails: [...request.approvers.emails] },
    timeoutSeconds: request.timeoutSeconds,
    ...(request.eventTime ? { eventTime: request.eventTime } : {}),
    ...(request.requestedAt ? { requestedAt: request.requestedAt } : {}),
  };
  const parsed = approvalExecutionInputSchema.safeParse(built);
  if (!parsed.success) throw new ApprovalTaskInputError("StartExecution", toInputIssues(parsed.error, built));
  const input = parsed.data;
  if (bytes(input) <= maxBytes) return input;

  // Keep the longest prefix of the plan that fits with the note (each kept step costs its JSON and a comma).
  const total = input.plan.length;
  const withNote = (kept: number) => ({
    ...input,
    plan: input.plan.slice(0, kept),
    reasons: [...input.reasons, omittedStepsNote(total - kept, total, maxBytes)],
  });
  const empty = bytes(withNote(0));
  if (empty > maxBytes) throw new ApprovalInputTooLargeError(empty, maxBytes);
  let size = empty;
  let kept = 0;
  for (const step of input.plan) {
    const cost = bytes(step) + (kept === 0 ? 0 : 1);
    if (size + cost > maxBytes) break;
    size += cost;
    kept += 1;
  }
  // The note's count changes with `kept`; step back until the whole input fits.
  let trimmed = withNote(kept);
  while (kept > 0 && bytes(trimmed) > maxBytes) {
    kept -= 1;
    trimmed = withNote(kept);
  }
  return trimmed;
}
