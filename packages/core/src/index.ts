export { ACTIONS, actionIds, getAction, planAction } from "./actions/registry.ts";
export { type ActionOutcome, runPlaybook } from "./actions/run.ts";
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
export { type AwsClients, type ClientOptions, createAwsClients } from "./aws/clients.ts";
export { DETECTORS, detectorIds } from "./detectors/registry.ts";
export type { ActionRequest, Assessment, DetectorDefinition, Mode, Severity } from "./detectors/types.ts";
export { MODES, SEVERITIES } from "./detectors/types.ts";
export * from "./errors.ts";
export { type DecideOptions, decide } from "./pipeline/decide.ts";
export { processEvent, processParsed } from "./pipeline/process.ts";
export { type ApprovalRequest, type RespondDeps, type RespondResult, respond } from "./pipeline/respond.ts";
export type { Decision, EventResult, OutcomeStatus, PlanStep, SignalSummary, SkipCode } from "./pipeline/types.ts";
export { OUTCOME_STATUSES } from "./pipeline/types.ts";
export { defaultPolicy, loadPolicyFile, parsePolicy } from "./policy/load.ts";
export { type Policy, type PolicyInput, policySchema } from "./policy/schema.ts";
export { CLOUDTRAIL_EVENTS } from "./signals/cloudtrail.ts";
export { MAX_EVENT_BYTES } from "./signals/envelope.schema.ts";
export { CLOUDTRAIL_DETAIL_TYPE, type ParsedEvent, parseEvent, parseEventText } from "./signals/parse.ts";
export type * from "./signals/types.ts";
