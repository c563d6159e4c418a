/**
 * The contracts of the approval workflow's seams, one zod schema each: the StartExecution input respond builds, and
 * the input of every Task state of infra/approval.asl.json. The task handlers parse their input with these schemas
 * (a mismatch is an ApprovalTaskInputError naming the task and every bad path), and a test checks that the ASL
 * `Parameters` of each Task state pass every field its schema requires (test/unit/approval/contract.test.ts).
 */
import { EksResponderError, type InputIssue } from "../errors.ts";
import { toInputIssues } from "../signals/zod-issues.ts";
import * as z from "../zod.ts";

const text = z.string();
const texts = z.array(z.string());
const nonEmpty = z.string().check(z.minLength(1));

/** An assessment as it travels through the workflow (detectors/types.ts `Assessment`). */
export const assessmentSchema = z.object({
  id: nonEmpty,
  detectorId: nonEmpty,
  severity: z.enum(["low", "medium", "high", "critical"]),
  title: text,
  account: text,
  region: nonEmpty,
  cluster: z.optional(text),
  resources: z.object({
    securityGroupId: z.optional(text),
    ruleIds: z.optional(texts),
    instanceId: z.optional(text),
    nodegroup: z.optional(text),
    pod: z.optional(z.object({ namespace: z.optional(text), name: z.optional(text) })),
    principalArn: z.optional(text),
  }),
  evidence: texts,
  actions: z.array(z.object({ action: nonEmpty, params: z.record(z.string(), z.unknown()) })),
  notes: texts,
  doubts: texts,
  subject: z.object({
    tags: z.optional(z.array(z.record(z.string(), z.string()))),
    namespace: z.optional(text),
  }),
});

/** One step of the exact plan (pipeline/types.ts `PlanStep`). */
export const planStepSchema = z.object({
  action: nonEmpty,
  assessmentId: nonEmpty,
  service: z.enum(["ec2", "eks", "ssm", "autoscaling", "kubernetes"]),
  operation: nonEmpty,
  params: z.record(z.string(), z.unknown()),
  note: z.optional(text),
});

export const approversSchema = z.object({ slackUserIds: texts, emails: texts });

const timeoutSeconds = z.number().check(z.int(), z.positive());

const executionFields = {
  assessment: assessmentSchema,
  plan: z.array(planStepSchema),
  /** Why approval is needed: the decision's reasons (shown on the approval page and in the Slack message). */
  reasons: z.array(z.string()).check(z.minLength(1)),
  approvers: approversSchema,
  /**
   * When the event happened and when approval was asked for (ISO): the Record task reports time to remediate and
   * time waiting for approval from them. Optional: an execution started before they were passed still runs.
   */
  eventTime: z.optional(text),
  requestedAt: z.optional(text),
};

/**
 * The StartExecution input (infra/APPROVAL.md). `timeoutSeconds` may be left out: the workflow then waits
 * APPROVAL_DEFAULT_TIMEOUT_SECONDS (its first two Pass states merge the default under the input, into `$.Payload`).
 */
export const approvalExecutionInputSchema = z.object({
  ...executionFields,
  timeoutSeconds: z.optional(timeoutSeconds),
});

/** `$.Payload` of the execution state: the execution input with its defaults merged in. */
export const approvalPayloadSchema = z.object({ ...executionFields, timeoutSeconds });

/** The RequestApproval task (lambda:invoke.waitForTaskToken): the payload plus the task token and execution id. */
export const requestTaskInputSchema = z.object({
  ...executionFields,
  timeoutSeconds,
  taskToken: nonEmpty,
  executionId: nonEmpty,
});

/** The Apply task. `approval` is the callback's SendTaskSuccess output, passed on for the record; never trusted. */
export const applyTaskInputSchema = z.object({
  executionId: nonEmpty,
  assessment: assessmentSchema,
  plan: z.array(planStepSchema),
  approval: z.optional(z.unknown()),
});

/** The outcomes the workflow's Pass states set (`$.outcome.status`). */
export const APPROVAL_OUTCOMES = [
  "applied",
  "rejected",
  "timed-out",
  "apply-failed",
  "apply-refused",
  "request-failed",
] as const;
export type ApprovalOutcome = (typeof APPROVAL_OUTCOMES)[number];

/** Every Notify* task: how the approval ended. Which optional fields are set depends on the path. */
export const notifyTaskInputSchema = z.object({
  outcome: z.enum(APPROVAL_OUTCOMES),
  executionId: nonEmpty,
  assessment: assessmentSchema,
  plan: z.array(planStepSchema),
  approval: z.optional(z.unknown()),
  result: z.optional(z.unknown()),
  timeoutSeconds: z.optional(timeoutSeconds),
  /** The caught error's name and cause, on the failure and refusal paths. */
  error: z.optional(z.string()),
  cause: z.optional(z.string()),
});

/** The Record task: the outcome and the whole execution state. */
export const recordTaskInputSchema = z.object({
  outcome: z.enum(APPROVAL_OUTCOMES),
  executionId: nonEmpty,
  state: z.object({
    Payload: approvalPayloadSchema,
    approval: z.optional(z.unknown()),
    apply: z.optional(z.object({ result: z.optional(z.object({ outcomes: z.optional(z.unknown()) })) })),
    /** The failure the workflow caught (Error, Cause), on the failure paths. */
    error: z.optional(z.unknown()),
    notifyError: z.optional(z.unknown()),
  }),
});

/** The schema of each task, by `approvalDefinition` key (infra/approval.ts APPROVAL_PLACEHOLDERS). */
export const APPROVAL_TASK_SCHEMAS = {
  requestApproval: requestTaskInputSchema,
  apply: applyTaskInputSchema,
  notify: notifyTaskInputSchema,
  record: recordTaskInputSchema,
} as const;
export type ApprovalTask = keyof typeof APPROVAL_TASK_SCHEMAS;

export type ApprovalExecutionInput = z.output<typeof approvalExecutionInputSchema>;
export type ApprovalPayload = z.output<typeof approvalPayloadSchema>;
export type RequestTaskInput = z.output<typeof requestTaskInputSchema>;
export type ApplyTaskInput = z.output<typeof applyTaskInputSchema>;
export type NotifyTaskInput = z.output<typeof notifyTaskInputSchema>;
export type RecordTaskInput = z.output<typeof recordTaskInputSchema>;
export type ApprovalTaskInput<T extends ApprovalTask> = z.output<(typeof APPROVAL_TASK_SCHEMAS)[T]>;

/** A task input (or StartExecution input) that does not match its contract. Nothing was done with it. */
export class ApprovalTaskInputError extends EksResponderError {
  override name = "ApprovalTaskInputError";
  readonly task: string;
  readonly issues: readonly InputIssue[];

  constructor(task: string, issues: readonly InputIssue[]) {
    super(
      "APPROVAL.TASK_INPUT_INVALID",
      `approval task ${task}: input does not match its contract: ${issues.map((i) => `${i.path || "(input)"}: ${i.message}`).join("; ")}`,
    );
    this.task = task;
    this.issues = issues;
  }
}

/** The input of `task`, parsed by its schema; throws ApprovalTaskInputError on a mismatch. */
export function parseApprovalTaskInput<T extends ApprovalTask>(task: T, input: unknown): ApprovalTaskInput<T> {
  const parsed = APPROVAL_TASK_SCHEMAS[task].safeParse(input);
  if (!parsed.success) throw new ApprovalTaskInputError(task, toInputIssues(parsed.error, input));
  return parsed.data as ApprovalTaskInput<T>;
}

/**
 * The top-level fields a schema requires (neither optional nor defaulted): what a caller must always pass. The
 * contract test checks the ASL passes each of them.
 */
export function requiredFields(schema: z.ZodMiniObject): string[] {
  return Object.entries(schema.shape)
    .filter(([, field]) => field._zod.optin !== "optional" && field._zod.optin !== "defaulted")
    .map(([key]) => key);
}
