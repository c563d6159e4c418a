import type { PlannedCall } from "../actions/types.ts";
import type { Assessment, Mode, Severity } from "../detectors/types.ts";
import type { InputIssue } from "../errors.ts";

/**
 * What happened to one event. `dry-run`: a fix was planned and not carried out; `apply`: a fix is due now;
 * `applied` / `failed`: the fix was carried out / failed (the respond path); `pending-approval`: a fix waits for a
 * human; `alert`: only a notification; `skipped`: nothing to do, with the reason; `invalid`: the event was malformed
 * and refused.
 */
export type OutcomeStatus =
  | "dry-run"
  | "apply"
  | "applied"
  | "failed"
  | "pending-approval"
  | "alert"
  | "skipped"
  | "invalid";
export const OUTCOME_STATUSES: readonly OutcomeStatus[] = [
  "applied",
  "failed",
  "apply",
  "pending-approval",
  "dry-run",
  "alert",
  "skipped",
  "invalid",
];

export type SkipCode =
  | "unsupported-event"
  | "failed-call"
  | "no-finding"
  | "detector-off"
  | "out-of-scope"
  | "sample-finding"
  | "exempt"
  /** The call was made by one of the responder's own roles (policy responder.roleArns): its own change, or an undo. */
  | "own-call"
  | "duplicate";

/** A planned call, with the action and assessment it serves. */
export interface PlanStep extends PlannedCall {
  action: string;
  assessmentId: string;
}

/** Assessment + policy → what to do and why. */
export interface Decision {
  assessmentId: string;
  detectorId: string;
  severity: Severity;
  /** The mode in effect after every downgrade. */
  mode: Mode;
  dryRun: boolean;
  skipped?: SkipCode;
  /** Why: every rule that shaped the decision, in order. Always at least one. */
  reasons: string[];
  plan: PlanStep[];
  /** The notification routes of the policy this decision goes to. */
  notify: string[];
}

export interface SignalSummary {
  family: "cloudtrail" | "guardduty";
  /** aws.ec2, aws.eks, aws.guardduty */
  source: string;
  /** The API operation, or the GuardDuty finding type. */
  name: string;
  account: string;
  region: string;
  time: string;
  /** CloudTrail eventID or GuardDuty finding id. */
  id: string;
  /** The identity of the event for idempotency: CloudTrail eventID, or GuardDuty finding id + updatedAt. */
  key: string;
  actor?: string;
  sample?: boolean;
  /** GuardDuty: the paths of the finding that could not be read, when it was read only in part. */
  unreadable?: string[];
  /** GuardDuty: this version of the finding (a repeat has the same id, a later updatedAt and a higher count). */
  finding?: { severity: number; updatedAt: string; count?: number };
}

export interface EventResult {
  /** The EventBridge envelope id, when the envelope could be read. */
  eventId?: string;
  outcome: OutcomeStatus;
  /** One line: why this outcome. */
  reason: string;
  skipped?: SkipCode;
  signal?: SignalSummary;
  assessments: Assessment[];
  decisions: Decision[];
  plan: PlanStep[];
  error?: { code: string; message: string; issues: readonly InputIssue[] };
}
