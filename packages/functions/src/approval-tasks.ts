import {
  type ApplyTaskInput,
  type ApprovalExecutionInput,
  type ApprovalTask,
  applyApproved,
  createKillSwitch,
  dynamoApprovalStore,
  type EventResult,
  type NotifyTaskInput,
  parseApprovalTaskInput,
  type RecordTaskInput,
  type RequestApprovalInput,
  recordAudit,
  requestApproval,
  type SlackBlock,
} from "@eks-responder/core";
import { approvalWaitMs, remediationMs } from "@eks-responder/core/metrics/time-to-remediate.ts";
import { scopedSettings } from "@eks-responder/core/policy/scopes.ts";
import { metrics } from "./metrics.ts";
import { logger, type Runtime, sleep } from "./runtime.ts";

/** RequestApproval: store the token, ask the approvers (email approvers through the approvals topic only). */
export async function handleRequest(input: RequestApprovalInput, rt: Runtime) {
  const policy = await rt.policy();
  const token = await rt.secret(rt.config.slackTokenParameterName);
  const channel = policy.approvals.slackChannel;
  const linkSecret = await rt.secret(rt.config.approvalLinkSecretParameterName);
  return requestApproval(input, {
    store: dynamoApprovalStore(await rt.dynamo(), rt.config.tableName),
    ...(token && channel
      ? {
          async postSlack(message: { text: string; blocks: SlackBlock[] }) {
            const { WebClient } = await import("@slack/web-api");
            const client = new WebClient(token, { retryConfig: { retries: 3 } });
            await client.chat.postMessage({ channel, text: message.text, blocks: message.blocks });
          },
        }
      : {}),
    // Never the alerts topic (rt.config.snsTopicArn): its subscribers would get every approver's link.
    ...(rt.config.approvalsTopicArn
      ? {
          email: {
            client: await rt.sns(),
            topicArn: rt.config.approvalsTopicArn,
            subscribed: rt.config.approverEmails ?? [],
          },
        }
      : {}),
    ...(linkSecret ? { linkSecret } : {}),
    ...(rt.config.approvalCallbackUrl ? { callbackUrl: rt.config.approvalCallbackUrl } : {}),
    now: () => new Date(),
  });
}

/**
 * Apply: carry the approved plan out (a failure throws, so the workflow takes its failure path). The kill switch is
 * read again first: an approval given before it was turned on does not run while it is on.
 */
export async function handleApply(input: ApplyTaskInput, rt: Runtime) {
  const name = rt.killSwitchParameter();
  // Read past every cache: an approval given before the switch was turned on does not run while it is on.
  const on = await createKillSwitch(() => rt.freshParameter(name), {
    cacheMs: 0,
    onError: (error) => logger.error("kill switch unreadable or unknown: not applying", { error }),
  })(input.assessment.account);
  if (on)
    throw Object.assign(new Error("the kill switch is on: the approved plan was not applied"), {
      name: "KillSwitchOn",
    });
  const policy = await rt.policy();
  // The approver the callback verified and the workflow passed on (`$.approval`): a disruptive step (a patch reboot)
  // runs only with it.
  const decider = deciderOf(input.approval);
  return applyApproved(input, {
    clients: (region, target) => rt.clients(region, target),
    kubernetes: (region, target) => rt.kubernetes(region, target),
    sleep,
    exemptTags: scopedSettings(policy, input.assessment.account, input.assessment.region).exemptions.tags,
    auditTable: rt.config.tableName,
    ...(decider?.decision === "approved" ? { approvedBy: decider.approver } : {}),
  });
}

interface NotifyInput {
  outcome: string;
  executionId: string;
  assessment: ApprovalExecutionInput["assessment"];
  plan: ApprovalExecutionInput["plan"];
  error?: string;
  cause?: string;
}

/**
 * What the notice of an approval's end says. Only an applied change shows its plan (and so a rollback); a refused,
 * failed, rejected or timed-out one changed nothing that can be undone. The failure is read as in the audit
 * (failureOf): its message, not the raw Lambda error.
 */
export function approvalNotice(input: NotifyInput, routes: string[]): EventResult {
  const a = input.assessment;
  const reason = [`approval ${input.outcome}`, ...failureOf({ Error: input.error, Cause: input.cause })].join(": ");
  const plan = input.outcome === "applied" ? input.plan : [];
  return {
    eventId: input.executionId,
    // A refused apply (apply-refused) changed nothing: an alert, like rejected and timed out.
    outcome: input.outcome === "applied" ? "applied" : input.outcome === "apply-failed" ? "failed" : "alert",
    reason,
    assessments: [a],
    decisions: [
      {
        assessmentId: a.id,
        detectorId: a.detectorId,
        severity: a.severity,
        mode: "approve",
        dryRun: false,
        reasons: [reason],
        plan,
        notify: routes,
      },
    ],
    plan,
  };
}

/** Notify: tell people how the approval ended, through the routes of the policy. */
export async function handleNotify(input: NotifyTaskInput, rt: Runtime) {
  const policy = await rt.policy();
  const notifier = await rt.notifier(policy);
  return notifier.notify(
    approvalNotice(
      input,
      policy.notify.routes.map((r) => r.name),
    ),
  );
}

const APPROVER = /^(slack|email):[^\s]{1,320}$/;

/**
 * Who decided, from the execution state: `$.approval` is the callback's SendTaskSuccess output
 * (`{decision, approver}`) or, for a rejection, the caught error whose Cause is `{decision, approver}` as JSON. The
 * state is our own, but it is read as untrusted: anything else gives no name.
 */
export function deciderOf(approval: unknown): { decision: string; approver: string; decidedAt?: string } | undefined {
  if (approval === null || typeof approval !== "object") return undefined;
  let body: unknown = approval;
  const cause = (approval as { Cause?: unknown }).Cause;
  if (typeof cause === "string") {
    try {
      body = JSON.parse(cause);
    } catch {
      return undefined;
    }
  }
  const { decision, approver, decidedAt } = (body ?? {}) as {
    decision?: unknown;
    approver?: unknown;
    decidedAt?: unknown;
  };
  if ((decision !== "approved" && decision !== "rejected") || typeof approver !== "string") return undefined;
  if (!APPROVER.test(approver)) return undefined;
  // When the callback decided (ISO): the end of the approval's wait. Anything else is left out.
  const at = typeof decidedAt === "string" ? Date.parse(decidedAt) : Number.NaN;
  return { decision, approver, ...(Number.isNaN(at) ? {} : { decidedAt: new Date(at).toISOString() }) };
}

/**
 * The failure the workflow caught, as one reason (`ActionRefused: ec2:revoke-ingress refused: …`): a refused or
 * failed apply carries no outcomes, so this is what the audit keeps of why. Read as untrusted: strings only, cut short.
 */
function failureOf(error: unknown): string[] {
  if (error === null || typeof error !== "object") return [];
  const { Error: name, Cause: cause } = error as { Error?: unknown; Cause?: unknown };
  // Rejected and timed out are decisions, said by the outcome itself (a timeout arrives as States.Timeout).
  if (typeof name !== "string" || name === "" || ["Rejected", "TimedOut", "States.Timeout"].includes(name)) return [];
  let why = typeof cause === "string" ? cause : "";
  try {
    // A Lambda's error arrives as JSON ({errorType, errorMessage, …}): keep its message.
    const parsed: unknown = JSON.parse(why);
    if (
      parsed !== null &&
      typeof parsed === "object" &&
      typeof (parsed as { errorMessage?: unknown }).errorMessage === "string"
    ) {
      why = (parsed as { errorMessage: string }).errorMessage;
    }
  } catch {
    // Not JSON: the cause as it is.
  }
  return [`${name.slice(0, 100)}${why ? `: ${why.slice(0, 500)}` : ""}`];
}

/** Record: the audit record of the approval's end, naming who decided. */
export async function handleRecord(input: RecordTaskInput, rt: Runtime) {
  const payload = input.state.Payload;
  const a = payload.assessment;
  const outcomes = input.state.apply?.result?.outcomes;
  const decider = deciderOf(input.state.approval);
  const now = new Date().toISOString();
  const outcome =
    input.outcome === "applied"
      ? "applied"
      : input.outcome === "apply-failed"
        ? "failed"
        : input.outcome === "apply-refused"
          ? "alert"
          : "skipped";
  const times = {
    ...(payload.eventTime ? { eventTime: payload.eventTime } : {}),
    ...(outcome === "applied" ? { appliedAt: now } : {}),
    ...(payload.requestedAt ? { approvalRequestedAt: payload.requestedAt } : {}),
    ...(decider?.decidedAt ? { approvalDecidedAt: decider.decidedAt } : {}),
  };
  const stored = await recordAudit(await rt.dynamo(), rt.config.tableName, {
    assessmentId: a.id,
    eventId: input.executionId,
    detectorId: a.detectorId,
    ...(a.cluster ? { cluster: a.cluster } : {}),
    account: a.account,
    region: a.region,
    severity: a.severity,
    mode: "approve",
    outcome,
    reasons: [
      `approval ${input.outcome}`,
      ...(decider ? [`${decider.decision} by ${decider.approver}`] : []),
      ...failureOf(input.state.error),
    ],
    plan: payload.plan,
    ...(Array.isArray(outcomes) ? { results: outcomes } : {}),
    recordedAt: now,
    ...times,
  });
  // The same figures as the record and `eks-responder report`: Outcomes, TimeToRemediate, ApprovalWait.
  const metadata = { account: a.account, region: a.region, assessmentId: a.id, approval: input.outcome };
  metrics.add("outcomes", 1, { detector: a.detectorId, outcome }, metadata);
  const remediated = remediationMs(stored);
  if (remediated !== undefined) metrics.add("timeToRemediate", remediated, { detector: a.detectorId }, metadata);
  const waited = approvalWaitMs(stored);
  if (waited !== undefined) metrics.add("approvalWait", waited, { detector: a.detectorId }, metadata);
  return { recorded: true };
}

/**
 * The four task functions as the state machine invokes them, by approvalDefinition key: each parses its input with
 * its contract (contract.ts) first, so a mismatch fails the task with ApprovalTaskInputError, naming every bad path,
 * before anything is read, sent or changed.
 */
export const approvalTasks = {
  requestApproval: async (input: unknown, rt: Runtime) =>
    handleRequest(parseApprovalTaskInput("requestApproval", input), rt),
  apply: async (input: unknown, rt: Runtime) => handleApply(parseApprovalTaskInput("apply", input), rt),
  notify: async (input: unknown, rt: Runtime) => handleNotify(parseApprovalTaskInput("notify", input), rt),
  record: async (input: unknown, rt: Runtime) => handleRecord(parseApprovalTaskInput("record", input), rt),
} satisfies Record<ApprovalTask, (input: unknown, rt: Runtime) => Promise<unknown>>;
