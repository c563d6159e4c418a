import { randomBytes } from "node:crypto";
import type { SNSClient } from "@aws-sdk/client-sns";
import { type ActionOutcome, runPlaybook } from "../actions/run.ts";
import type { AwsClients } from "../aws/clients.ts";
import type { Assessment } from "../detectors/types.ts";
import { escapeMrkdwn, truncate } from "../notify/escape.ts";
import type { Decision, PlanStep } from "../pipeline/types.ts";
import type { ExemptTag } from "../policy/exempt-tags.ts";
import { SLACK_ACTION_IDS, slackActionValue } from "./callback.ts";
import { type ApprovalRecord, signApproval, taskTokenRef } from "./links.ts";

/** A Block Kit block as Slack's SDK takes it: a `type` and its fields. */
export type SlackBlock = { type: string } & Record<string, unknown>;

/** The execution input of the approval workflow, as the respond path starts it (see infra/APPROVAL.md). */
export interface ApprovalExecutionInput {
  assessment: Assessment;
  plan: PlanStep[];
  approvers: { slackUserIds: string[]; emails: string[] };
  timeoutSeconds: number;
  /** Why approval is needed: the decision's reasons. */
  reasons: string[];
}

/** What the RequestApproval task receives (the execution input plus the task token). */
export interface RequestApprovalInput extends ApprovalExecutionInput {
  taskToken: string;
  executionId: string;
}

export interface RequestApprovalDeps {
  store: { put(record: ApprovalRecord): Promise<void> };
  /** Posts the Slack approval message; absent when Slack is not configured. */
  postSlack?: (message: { text: string; blocks: SlackBlock[] }) => Promise<void>;
  sns?: { client: SNSClient; topicArn: string };
  linkSecret?: string;
  callbackUrl?: string;
  now: () => Date;
}

function planLines(plan: readonly PlanStep[]): string {
  return plan.map((s) => `• ${s.service}:${s.operation} ${truncate(JSON.stringify(s.params), 300)}`).join("\n");
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
  const plan = escapeMrkdwn(planLines(input.plan), 2500);
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
            text: `Approvers: ${mentions} · expires ${expiresAt.toISOString()} · ${input.assessment.id}`,
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

/** The email/SNS approval request: the plan and one signed link per approver. */
export function approvalEmailMessage(input: ApprovalExecutionInput, links: readonly string[], expiresAt: Date): string {
  return `Approval needed: ${input.assessment.title}\n\nThe exact plan:\n${planLines(input.plan)}\n\nEach link is for one approver, works once, and expires ${expiresAt.toISOString()}. Opening it shows the plan; nothing is decided until you press a button there.\n\n${links.join("\n")}\n`;
}

/**
 * The RequestApproval task: keeps the task token server-side under a new approval id, then asks the approvers —
 * Slack buttons for the Slack approvers, a signed single-use link per email approver (through SNS). The message
 * shows the exact plan. Returns the approval id; the workflow then waits for the callback.
 */
export async function requestApproval(
  input: RequestApprovalInput,
  deps: RequestApprovalDeps,
): Promise<{ approvalId: string; asked: string[] }> {
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
  if (deps.sns && deps.linkSecret && deps.callbackUrl && input.approvers.emails.length > 0) {
    const ref = taskTokenRef(input.taskToken);
    const links = input.approvers.emails.map((email) => {
      const token = signApproval({
        secret: deps.linkSecret ?? "",
        approvalId,
        taskTokenRef: ref,
        approver: email,
        decisionAllowed: ["approve", "reject"],
        expiresAt,
      });
      return `${email}: ${deps.callbackUrl}/approve?token=${token}`;
    });
    const { PublishCommand } = await import("@aws-sdk/client-sns");
    await deps.sns.client.send(
      new PublishCommand({
        TopicArn: deps.sns.topicArn,
        Subject: "eks-responder: approval needed",
        Message: approvalEmailMessage(input, links, expiresAt),
        MessageAttributes: { kind: { DataType: "String", StringValue: "approval-request" } },
      }),
    );
    asked.push(...input.approvers.emails.map((e) => `email:${e}`));
  }
  if (asked.length === 0) {
    // Nobody could be asked: fail the task so the workflow records and notifies it, instead of waiting for nothing.
    throw Object.assign(new Error("no approver could be asked: configure approvals.approvers and Slack or SNS"), {
      name: "NoApprovers",
    });
  }
  return { approvalId, asked };
}

/** The Apply task: carries the approved playbook out. A failed action throws, so the workflow takes its failure path. */
export async function applyApproved(
  input: { assessment: Assessment },
  deps: {
    clients(region: string): AwsClients;
    sleep(ms: number): Promise<void>;
    /** The policy's exemption tags, checked on the live resource (see ApplyContext). */
    exemptTags: readonly ExemptTag[];
  },
): Promise<{ outcomes: ActionOutcome[] }> {
  const a = input.assessment;
  const outcomes = await runPlaybook(a, {
    clients: deps.clients(a.region),
    dryRun: false,
    assessmentId: a.id,
    account: a.account,
    region: a.region,
    sleep: deps.sleep,
    exemptTags: deps.exemptTags,
  });
  const failed = outcomes.find((o) => o.status === "failed");
  if (failed) {
    throw Object.assign(new Error(`${failed.action}: ${failed.reason}`), { name: "ActionFailed", outcomes });
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
