export { ACTIONS, actionIds, getAction, planAction } from "./actions/registry.ts";
export {
  type ActionOutcome,
  halfDoneNotice,
  isUndone,
  type PlaybookOptions,
  rollbackCommandFor,
  runPlaybook,
  stillApplied,
  type UndoRecord,
} from "./actions/run.ts";
export type {
  ActionDefinition,
  ApplyContext,
  ApplyResult,
  ApplyStatus,
  CallRecord,
  CheckResult,
  PlanContext,
  PlannedCall,
  PlanResult,
} from "./actions/types.ts";
export { APPROVER_ATTRIBUTE, approverChannelKey, approverFilterPolicy } from "./approval/approver-channel.ts";
export { type ApprovalAuditEntry, type ApprovalDeps, handleApprovalRequest } from "./approval/callback.ts";
export {
  APPROVAL_OUTCOMES,
  APPROVAL_TASK_SCHEMAS,
  type ApplyTaskInput,
  type ApprovalTask,
  ApprovalTaskInputError,
  type NotifyTaskInput,
  parseApprovalTaskInput,
  type RecordTaskInput,
} from "./approval/contract.ts";
export {
  APPROVAL_INPUT_MAX_BYTES,
  ApprovalInputTooLargeError,
  approvalExecutionInput,
} from "./approval/execution-input.ts";
export type { ApprovalRecord, ApprovalStore } from "./approval/links.ts";
export {
  ApprovalChannelMissingError,
  type ApprovalExecutionInput,
  applyApproved,
  type RequestApprovalInput,
  requestApproval,
  type SlackBlock,
} from "./approval/tasks.ts";
export { type AwsClients, type ClientOptions, createAwsClients } from "./aws/clients.ts";
export { DETECTORS, detectorIds } from "./detectors/registry.ts";
export type { ActionRequest, Assessment, DetectorDefinition, Mode, Severity } from "./detectors/types.ts";
export { MODES, SEVERITIES } from "./detectors/types.ts";
export * from "./errors.ts";
export { takeAutomaticSlot } from "./guardrails/blast-radius.ts";
export { isTransient, TransientActionError } from "./guardrails/faults.ts";
export { createKillSwitch } from "./guardrails/kill-switch.ts";
export { createNotifier, type Delivery, DeliveryError } from "./notify/deliver.ts";
export { flushDigests, slackDigest, slackPoster } from "./notify/digest.ts";
export {
  escapeEmailText,
  escapeHtml,
  escapeMrkdwn,
  escapePlainText,
  escapeSnsSubject,
  escapeTerminal,
  terminalSafeJson,
} from "./notify/escape.ts";
export { fitSlackMessage, fitSnsPublish, SLACK_LIMITS, SNS_LIMITS } from "./notify/limits.ts";
export { slackMessage } from "./notify/slack.ts";
export { snsMessage } from "./notify/sns.ts";
export { fitCheckpoint, parseCheckpoint, type RespondCheckpoint } from "./pipeline/checkpoint.ts";
export { type DecideOptions, decide } from "./pipeline/decide.ts";
export { processEvent, processParsed } from "./pipeline/process.ts";
export {
  type ApprovalStart,
  type ClaimAnswer,
  ClaimHeldError,
  type RespondDeps,
  type RespondResult,
  respond,
} from "./pipeline/respond.ts";
export type { Decision, EventResult, OutcomeStatus, PlanStep, SignalSummary, SkipCode } from "./pipeline/types.ts";
export { OUTCOME_STATUSES } from "./pipeline/types.ts";
export { defaultPolicy, loadPolicyFile, parsePolicy } from "./policy/load.ts";
export { type Policy, type PolicyInput, policySchema } from "./policy/schema.ts";
export { CLOUDTRAIL_EVENTS } from "./signals/cloudtrail.ts";
export { MAX_EVENT_BYTES } from "./signals/envelope.schema.ts";
export { CLOUDTRAIL_DETAIL_TYPE, type ParsedEvent, parseEvent, parseEventText } from "./signals/parse.ts";
export type * from "./signals/types.ts";
export { dynamoApprovalStore } from "./store/approvals.ts";
export { type AuditEntry, type AuditRecord, getAudit, listAudit, recordAudit } from "./store/audit.ts";
export { toAuditEntries } from "./store/audit-entries.ts";
export { claimTtlSeconds, idempotencyKey, idempotencyStore } from "./store/idempotency.ts";
export { tableDefinition } from "./store/table.ts";
