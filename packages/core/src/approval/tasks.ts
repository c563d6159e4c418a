import { randomBytes } from "node:crypto";
import type { SNSClient } from "@aws-sdk/client-sns";
import { type ActionOutcome, halfDoneNotice, runPlaybook } from "../actions/run.ts";
import { LONG_UPDATE_WAIT_MS } from "../actions/types.ts";
import type { ActingFor, AwsClients } from "../aws/clients.ts";
import type { Assessment } from "../detectors/types.ts";
import { EksResponderError } from "../errors.ts";
import type { KubernetesAccess } from "../kubernetes/api.ts";
import { escapeEmailText, escapeMrkdwn, truncate } from "../notify/escape.ts";
import { fitSnsPublish, SLACK_LIMITS } from "../notify/limits.ts";
import type { Decision, PlanStep } from "../pipeline/types.ts";
import type { ExemptTag } from "../policy/exempt-tags.ts";
import { APPROVER_ATTRIBUTE, approverChannelKey } from "./approver-channel.ts";
import { SLACK_ACTION_IDS, slackActionValue } from "./callback.ts";
import type { ApprovalPayload, RequestTaskInput } from "./contract.ts";
import { type ApprovalRecord, signApproval, taskTokenRef } from "./links.ts";

/** A Block Kit block as Slack's SDK takes it: a `type` and its fields. */
export type SlackBlock = { type: string } & Record<string, unknown>;

/** The execution state's `$.Payload`: the execution input with its defaults (contract.ts, infra/APPROVAL.md). */
export type ApprovalExecutionInput = ApprovalPayload;

/** What the RequestApproval task receives (the payload plus the task token): contract.ts `requestTaskInputSchema`. */
export type RequestApprovalInput = RequestTaskInput;

/**
 * Email approvers in the policy that no delivery channel reaches (no subscription on the approvals topic, or no
 * topic, link secret or callback URL at all). The request fails closed: nothing is stored or sent, and the workflow
 * notifies and records the failure; a link is never sent anywhere else (the alerts topic has other subscribers).
 */
export class ApprovalChannelMissingError extends EksResponderError {
  override name = "ApprovalChannelMissingError";
  readonly emails: readonly string[];

  constructor(emails: readonly string[], why: string) {
    super(
      "APPROVAL.NO_CHANNEL",
      `no delivery channel for email approver${emails.length === 1 ? "" : "s"} ${emails.join(", ")}: ${why}; nothing was sent`,
    );
    this.emails = emails;
  }
}

export interface RequestApprovalDeps {
  store: { put(record: ApprovalRecord): Promise<void> };
  /** Posts the Slack approval message; absent when Slack is not configured. */
  postSlack?: (message: { text: string; blocks: SlackBlock[] }) => Promise<void>;
  /**
   * The approvals topic (never the alerts topic) and the approver addresses it has a subscription for, each filtered
   * on the `approver` attribute (approver-channel.ts).
   */
  email?: { client: SNSClient; topicArn: string; subscribed: readonly string[] };
  linkSecret?: string;
  callbackUrl?: string;
  now: () => Date;
}

/** As many whole lines as fit in `max` characters, then a line that says how many more there are. */
export function stepsWithin(lines: readonly string[], max: number): string {
  const note = (n: number) => `… ${n} more step${n === 1 ? "" : "s"}: the approval page lists them all`;
  let out = "";
  for (const [index, line] of lines.entries()) {
    const next = out === "" ? line : `${out}\n${line}`;
    const rest = lines.length - index - 1;
    if (next.length + (rest > 0 ? note(rest).length + 1 : 0) > max) {
      const more = lines.length - index;
      return out === "" ? note(more) : `${out}\n${note(more)}`;
    }
    out = next;
  }
  return out;
}

/** One plan step as a line of text (not yet escaped: each format escapes it once, line by line). */
function planLine(s: PlanStep): string {
  return `• ${s.service}:${s.operation} ${truncate(JSON.stringify(s.params), 300)}`;
}

function decisionOf(input: ApprovalExecutionInput): Decision {
  return {
    assessmentId: input.assessment.id,
    detectorId: input.assessment.detectorId,
    severity: input.assessment.severity,
    mode: "approve",
    dryRun: false,
    reasons: input.reasons,
    plan: input.plan,
    notify: [],
  };
}

/** The Slack approval request: what is wrong, the exact plan, who may decide, and the two buttons. */
export function approvalSlackMessage(
  input: ApprovalExecutionInput,
  approvalId: string,
  expiresAt: Date,
): { text: string; blocks: SlackBlock[] } {
  const title = escapeMrkdwn(input.assessment.title, 300);
  // Each step escaped on its own, so the line breaks between steps stay line breaks; the section keeps to Slack's
  // 3,000 characters (notify/limits.ts) by showing the first steps and how many more the approval page lists.
  const plan = stepsWithin(
    input.plan.map((step) => escapeMrkdwn(planLine(step), 400)),
    SLACK_LIMITS.sectionText - "The exact plan:\n".length,
  );
  const mentions = input.approvers.slackUserIds.map((u) => `<@${u}>`).join(" ");
  return {
    text: `Approval needed: ${title}`,
    blocks: [
      { type: "header", text: { type: "plain_text", text: "eks-responder: approval needed", emoji: false } },
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `*${title}*\nSeverity ${input.assessment.severity} · ${escapeMrkdwn(input.assessment.account)} ${escapeMrkdwn(input.assessment.region)}`,
          verbatim: true,
        },
      },
      { type: "section", text: { type: "mrkdwn", text: `The exact plan:\n${plan}`, verbatim: true } },
      {
        type: "context",
        elements: [
          {
            type: "mrkdwn",
            text: `Approvers: ${mentions} · expires ${expiresAt.toISOString()} · ${escapeMrkdwn(input.assessment.id)}`,
            verbatim: true,
          },
        ],
      },
      {
        type: "actions",
        elements: [
          {
            type: "button",
            style: "danger",
            text: { type: "plain_text", text: "Approve and apply" },
            action_id: SLACK_ACTION_IDS.approve,
            value: slackActionValue("approve", approvalId),
          },
          {
            type: "button",
            text: { type: "plain_text", text: "Reject" },
            action_id: SLACK_ACTION_IDS.reject,
            value: slackActionValue("reject", approvalId),
          },
        ],
      },
    ],
  };
}

/** The email approval request of one approver: the plan, why, and the link signed for them alone. */
export function approvalEmailMessage(
  input: ApprovalExecutionInput,
  approver: string,
  link: string,
  expiresAt: Date,
): string {
  // Event text is escaped for e-mail once, line by line (hiding characters shown, links defanged); the link, which
  // this function signs, comes before anything that a size limit could cut.
  const title = escapeEmailText(input.assessment.title, 300);
  const plan = input.plan.map((step) => escapeEmailText(planLine(step), 400)).join("\n");
  const why = input.reasons.map((r) => `- ${escapeEmailText(r, 300)}`).join("\n");
  return `Approval needed: ${title}\n\nThis link is for ${approver} only, works once, and expires ${expiresAt.toISOString()}. Opening it shows the plan; nothing is decided until you press a button there.\n\n${link}\n\nThe exact plan:\n${plan}\n\nWhy:\n${why}\n`;
}

/** Why the email approvers cannot be reached, or undefined when every one of them can. */
function missingChannel(
  input: RequestApprovalInput,
  deps: RequestApprovalDeps,
): ApprovalChannelMissingError | undefined {
  const emails = input.approvers.emails;
  if (emails.length === 0) return undefined;
  if (!deps.email) return new ApprovalChannelMissingError(emails, "the approvals topic is not configured");
  if (!deps.linkSecret || !deps.callbackUrl)
    return new ApprovalChannelMissingError(emails, "the link secret or the callback URL is not configured");
  const subscribed = new Set(deps.email.subscribed.map(approverChannelKey));
  const missing = emails.filter((e) => !subscribed.has(approverChannelKey(e)));
  return missing.length > 0
    ? new ApprovalChannelMissingError(
        missing,
        "the approvals topic has no subscription for them (add them to EKS_RESPONDER_APPROVER_EMAILS and deploy)",
      )
    : undefined;
}

/**
 * The RequestApproval task: keeps the task token server-side under a new approval id, then asks the approvers —
 * Slack buttons for the Slack approvers, and for each email approver one message on the approvals topic with the link
 * signed for them, delivered only to their subscription. An email approver with no channel fails the request before
 * anything is stored or sent (ApprovalChannelMissingError). Returns the approval id; the workflow then waits for the
 * callback.
 */
export async function requestApproval(
  input: RequestApprovalInput,
  deps: RequestApprovalDeps,
): Promise<{ approvalId: string; asked: string[] }> {
  const missing = missingChannel(input, deps);
  if (missing) throw missing;
  const approvalId = randomBytes(18).toString("base64url");
  const now = deps.now();
  const expiresAt = new Date(now.getTime() + input.timeoutSeconds * 1000);
  await deps.store.put({
    approvalId,
    taskToken: input.taskToken,
    assessment: input.assessment,
    decision: decisionOf(input),
    expiresAt: expiresAt.toISOString(),
  });
  const asked: string[] = [];
  if (deps.postSlack && input.approvers.slackUserIds.length > 0) {
    await deps.postSlack(approvalSlackMessage(input, approvalId, expiresAt));
    asked.push(...input.approvers.slackUserIds.map((u) => `slack:${u}`));
  }
  const { email, linkSecret, callbackUrl } = deps;
  if (email && linkSecret && callbackUrl && input.approvers.emails.length > 0) {
    const ref = taskTokenRef(input.taskToken);
    const { PublishCommand } = await import("../aws/sns.ts");
    // One message per approver, with only their own link, delivered only to their subscription (the filter policy
    // on the `approver` attribute): no subscriber ever sees another approver's link.
    for (const approver of input.approvers.emails) {
      const token = signApproval({
        secret: linkSecret,
        approvalId,
        taskTokenRef: ref,
        approver,
        decisionAllowed: ["approve", "reject"],
        expiresAt,
      });
      // SNS's size limits checked before the call (notify/limits.ts): a long plan is cut at its end, after the link.
      const fields = fitSnsPublish({
        Subject: "eks-responder: approval needed",
        Message: approvalEmailMessage(input, approver, `${callbackUrl}/approve?token=${token}`, expiresAt),
        MessageAttributes: {
          [APPROVER_ATTRIBUTE]: { DataType: "String", StringValue: approverChannelKey(approver) },
          kind: { DataType: "String", StringValue: "approval-request" },
        },
      });
      await email.client.send(new PublishCommand({ TopicArn: email.topicArn, ...fields }));
      asked.push(`email:${approver}`);
    }
  }
  if (asked.length === 0) {
    // Nobody could be asked: fail the task so the workflow records and notifies it, instead of waiting for nothing.
    throw Object.assign(new Error("no approver could be asked: configure approvals.approvers and Slack or email"), {
      name: "NoApprovers",
    });
  }
  return { approvalId, asked };
}

/** The Apply task: carries the approved playbook out. A failed action throws, so the workflow takes its failure path. */
export async function applyApproved(
  input: { assessment: Assessment },
  deps: {
    /** The clients of the region, acting in the assessment's account (hub mode: through its member role). */
    clients(region: string, target: ActingFor): AwsClients;
    /** The Kubernetes API of the region's clusters, for the `k8s:*` actions (see ApplyContext.kubernetes). */
    kubernetes?(region: string, target: ActingFor): KubernetesAccess;
    sleep(ms: number): Promise<void>;
    /** The policy's exemption tags, checked on the live resource (see ApplyContext). */
    exemptTags: readonly ExemptTag[];
    /** Who approved the plan (`email:…`, `slack:…`, as the callback verified it): actions that disrupt need it. */
    approvedBy?: string;
    /** The deployment's audit table, named in the rollback command of a plan left half done. */
    auditTable?: string;
  },
): Promise<{ outcomes: ActionOutcome[] }> {
  const a = input.assessment;
  const target: ActingFor = { account: a.account, assessmentId: a.id };
  const outcomes = await runPlaybook(a, {
    clients: deps.clients(a.region, target),
    dryRun: false,
    assessmentId: a.id,
    account: a.account,
    region: a.region,
    sleep: deps.sleep,
    exemptTags: deps.exemptTags,
    // The Apply task has 900 s, not respond's 60: an EKS update in progress is waited out here, not handed back.
    updateWaitMs: LONG_UPDATE_WAIT_MS,
    ...(deps.approvedBy ? { approvedBy: deps.approvedBy } : {}),
    kubernetes: deps.kubernetes?.(a.region, target),
  });
  const failed = outcomes.find((o) => o.status === "failed");
  if (failed) {
    // The Apply role holds no rollback permission (runPlaybook, PlaybookOptions): what stays applied, and how to undo
    // it, is said in the failure the workflow records and notifies.
    const notice = halfDoneNotice(a.id, outcomes, deps.auditTable);
    throw Object.assign(new Error([...(notice ? [notice] : []), `${failed.action}: ${failed.reason}`].join("; ")), {
      name: "ActionFailed",
      outcomes,
    });
  }
  // A refusal (an exemption tag on the live resource, a precondition) changed nothing: the workflow catches
  // ActionRefused into its refused path (infra/APPROVAL.md), so the approved change is never reported as applied.
  const refused = outcomes.find((o) => o.status === "refused");
  if (refused) {
    // With another action of the plan applied, something did change: a partial apply is a failure to look at.
    const partial = outcomes.some((o) => o.status === "applied");
    throw Object.assign(
      new Error(`${refused.action} refused${partial ? " after others applied" : ""}: ${refused.reason}`),
      {
        name: partial ? "ActionFailed" : "ActionRefused",
        outcomes,
      },
    );
  }
  return { outcomes };
}
