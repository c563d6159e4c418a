import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DescribeSecurityGroupsCommand, EC2Client, RevokeSecurityGroupIngressCommand } from "@aws-sdk/client-ec2";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { approverFilterPolicy } from "../../../packages/core/src/approval/approver-channel.ts";
import { type ApprovalRecord, verifyApproval } from "../../../packages/core/src/approval/links.ts";
import {
  ApprovalChannelMissingError,
  applyApproved,
  createAwsClients,
  defaultPolicy,
  dynamoApprovalStore,
  processEvent,
  requestApproval,
} from "../../../packages/core/src/index.ts";
import { type LocalDynamo, startDynalite } from "../../helpers/dynalite.ts";
import { liveGroups } from "../../helpers/ec2-groups.ts";
import { deliveries, type ModelSubscription } from "../../helpers/sns-filter.ts";

const ROOT = join(import.meta.dirname, "../../..");
const result = processEvent(
  readFileSync(join(ROOT, "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"), "utf8"),
  defaultPolicy(),
);
const assessment = result.assessments[0];
const sns = mockClient(SNSClient);
const ec2 = mockClient(EC2Client);
const LINK_SECRET = "a-link-secret-of-at-least-32-bytes-long!";
const APPROVALS_TOPIC = "arn:aws:sns:eu-west-1:111122223333:eks-responder-prod-approvals";
const ALERTS_TOPIC = "arn:aws:sns:eu-west-1:111122223333:eks-responder-prod-alerts";
const CALLBACK = "https://abc.lambda-url.eu-west-1.on.aws";
let dynamo: LocalDynamo;
let table: string;

beforeAll(async () => {
  dynamo = await startDynalite();
  table = await dynamo.createTable();
});
afterAll(async () => {
  await dynamo.stop();
});
beforeEach(() => {
  sns.reset();
  ec2.reset();
  sns.on(PublishCommand).resolves({ MessageId: "m-1" });
});

function input(approvers: { slackUserIds: string[]; emails: string[] }) {
  if (!assessment) throw new Error("the sample must assess");
  return {
    taskToken: "AQCEAAAAKgAAAAMAAAAAAAAAAT-task-token",
    executionId: "arn:aws:states:eu-west-1:111122223333:execution:approval:asm-1",
    assessment,
    plan: result.plan,
    reasons: ["mode approve"],
    approvers,
    timeoutSeconds: 3600,
  };
}

describe("requestApproval", () => {
  it("keeps the task token server-side and sends each email approver a signed single-use link", async () => {
    const store = dynamoApprovalStore(dynamo.docClient, table);
    const now = new Date("2026-11-27T10:00:00Z");
    const out = await requestApproval(input({ slackUserIds: [], emails: ["oncall@example.com"] }), {
      store,
      email: {
        client: new SNSClient({ region: "eu-west-1" }),
        topicArn: APPROVALS_TOPIC,
        subscribed: ["oncall@example.com"],
      },
      linkSecret: LINK_SECRET,
      callbackUrl: CALLBACK,
      now: () => now,
    });
    expect(out.asked).toEqual(["email:oncall@example.com"]);
    const stored = await store.get(out.approvalId);
    expect(stored?.taskToken).toBe("AQCEAAAAKgAAAAMAAAAAAAAAAT-task-token");
    expect(stored?.expiresAt).toBe("2026-11-27T11:00:00.000Z");
    expect(stored?.decision.reasons).toEqual(["mode approve"]);
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? "";
    expect(message).not.toContain("task-token");
    expect(message).toContain("ec2:RevokeSecurityGroupIngress");
    expect(message).toContain("- mode approve");
    const token = /approve\?token=(\S+)/.exec(message)?.[1] ?? "";
    const verified = verifyApproval(token, { secret: LINK_SECRET, now });
    expect(verified.ok && verified.payload.sub).toBe("oncall@example.com");
    // Single use: the first mark wins, the second is refused.
    expect(await store.markUsed(out.approvalId, "n1")).toBe(true);
    expect(await store.markUsed(out.approvalId, "n2")).toBe(false);
  });

  it("sends each email approver one message with only their own link, which no other subscriber receives", async () => {
    const approvers = ["Alice@Example.com", "bob@example.com"];
    const out = await requestApproval(input({ slackUserIds: [], emails: approvers }), {
      store: dynamoApprovalStore(dynamo.docClient, table),
      email: { client: new SNSClient({ region: "eu-west-1" }), topicArn: APPROVALS_TOPIC, subscribed: approvers },
      linkSecret: LINK_SECRET,
      callbackUrl: CALLBACK,
      now: () => new Date(),
    });

    const published = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(out.asked).toEqual(["email:Alice@Example.com", "email:bob@example.com"]);
    expect(published.map((p) => [p.TopicArn, p.MessageAttributes?.approver])).toEqual([
      [APPROVALS_TOPIC, { DataType: "String", StringValue: "alice@example.com" }],
      [APPROVALS_TOPIC, { DataType: "String", StringValue: "bob@example.com" }],
    ]);
    // What SNS delivers: the deploy's filtered subscriptions, the alert e-mail on the alerts topic, and (were the
    // topic policy not there) an unfiltered subscription to the approvals topic.
    const subscriptions: ModelSubscription[] = [
      ...approvers.map((e) => ({
        name: e,
        topicArn: APPROVALS_TOPIC,
        filterPolicy: JSON.stringify(approverFilterPolicy(e)),
      })),
      { name: "alert e-mail", topicArn: ALERTS_TOPIC },
      { name: "bob with alice's case", topicArn: APPROVALS_TOPIC, filterPolicy: '{"approver":["Alice@Example.com"]}' },
    ];
    const received = deliveries(subscriptions, published);
    const subjects = (name: string) =>
      (received.get(name) ?? []).map((m) => {
        const token = /approve\?token=(\S+)/.exec(m.Message ?? "")?.[1] ?? "";
        const verified = verifyApproval(token, { secret: LINK_SECRET, now: new Date() });
        return verified.ok ? verified.payload.sub : "no valid link";
      });
    expect(subjects("Alice@Example.com")).toEqual(["Alice@Example.com"]);
    expect(subjects("bob@example.com")).toEqual(["bob@example.com"]);
    expect(subjects("alert e-mail")).toEqual([]);
    expect(subjects("bob with alice's case")).toEqual([]);
    for (const p of published) expect((p.Message ?? "").match(/approve\?token=/g)).toHaveLength(1);
  });

  it.each([
    ["an approver with no subscription", { subscribed: ["oncall@example.com"] }, "bob@example.com", /no subscription/],
    [
      "no approvals topic at all",
      undefined,
      "oncall@example.com, bob@example.com",
      /approvals topic is not configured/,
    ],
  ])(
    "fails closed for %s: nothing stored, nothing published, never the alerts topic",
    async (_label, email, who, why) => {
      const puts: ApprovalRecord[] = [];
      const request = requestApproval(
        input({ slackUserIds: ["U0123ABCD"], emails: ["oncall@example.com", "bob@example.com"] }),
        {
          store: { put: async (record) => void puts.push(record) },
          postSlack: async () => {},
          ...(email
            ? { email: { client: new SNSClient({ region: "eu-west-1" }), topicArn: APPROVALS_TOPIC, ...email } }
            : {}),
          linkSecret: LINK_SECRET,
          callbackUrl: CALLBACK,
          now: () => new Date(),
        },
      );
      await expect(request).rejects.toBeInstanceOf(ApprovalChannelMissingError);
      await expect(request).rejects.toMatchObject({
        name: "ApprovalChannelMissingError",
        code: "APPROVAL.NO_CHANNEL",
        message: expect.stringContaining(`email approver${who.includes(",") ? "s" : ""} ${who}`),
      });
      await expect(request).rejects.toThrow(why);
      expect(puts).toEqual([]);
      expect(sns.commandCalls(PublishCommand)).toEqual([]);
    },
  );

  it("posts Slack buttons that carry the approval id, never the task token", async () => {
    const posted: { text: string; blocks: unknown[] }[] = [];
    const out = await requestApproval(input({ slackUserIds: ["U0123ABCD"], emails: [] }), {
      store: dynamoApprovalStore(dynamo.docClient, table),
      postSlack: async (m) => {
        posted.push(m);
      },
      now: () => new Date(),
    });
    const json = JSON.stringify(posted[0]);
    expect(json).toContain(`approve:${out.approvalId}`);
    expect(json).toContain(`reject:${out.approvalId}`);
    expect(json).not.toContain("task-token");
  });

  it("fails when nobody can be asked, instead of waiting for an answer that cannot come", async () => {
    await expect(
      requestApproval(input({ slackUserIds: [], emails: [] }), {
        store: dynamoApprovalStore(dynamo.docClient, table),
        now: () => new Date(),
      }),
    ).rejects.toThrow(/no approver could be asked/);
  });
});

describe("applyApproved", () => {
  it("carries the approved plan out, and throws on a failed action so the workflow takes its failure path", async () => {
    if (!assessment) throw new Error("the sample must assess");
    ec2
      .on(RevokeSecurityGroupIngressCommand)
      .resolvesOnce({ Return: true })
      .rejects(Object.assign(new Error("no"), { name: "UnauthorizedOperation" }));
    const deps = { clients: (region: string) => createAwsClients(region), sleep: async () => {}, exemptTags: [] };
    const ok = await applyApproved({ assessment }, deps);
    expect(ok.outcomes[0]?.status).toBe("applied");
    await expect(applyApproved({ assessment }, deps)).rejects.toThrow(/ec2:revoke-ingress: UnauthorizedOperation/);
  });

  it("throws when an action refuses (an exemption tag on the live group), so an approval never reads as applied", async () => {
    if (!assessment) throw new Error("the sample must assess");
    ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups({ "eks-responder:exempt": "true" }));
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
    const deps = {
      clients: (region: string) => createAwsClients(region),
      sleep: async () => {},
      exemptTags: [{ key: "eks-responder:exempt", value: "true" }],
    };
    const refusal = applyApproved({ assessment }, deps);
    await expect(refusal).rejects.toMatchObject({
      name: "ActionRefused",
      message: expect.stringMatching(/^ec2:revoke-ingress refused: security group sg-\w+ carries the exemption tag/),
    });
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
  });

  it("calls a refusal after another action of the plan was applied a failure (something did change)", async () => {
    if (!assessment) throw new Error("the sample must assess");
    const [request] = assessment.actions;
    if (!request) throw new Error("the sample must call for an action");
    // Two groups: the first untagged (revoked), the second exempt (refused).
    const exemptGroup = "sg-0fedcba9876543210";
    const second = { ...request, params: { ...request.params, groupId: exemptGroup } };
    const twoActions = { ...assessment, actions: [request, second] };
    ec2.on(DescribeSecurityGroupsCommand).callsFake((input: { GroupIds?: string[] }) => ({
      SecurityGroups: (input.GroupIds ?? []).map((GroupId) => ({
        GroupId,
        Tags: GroupId === exemptGroup ? [{ Key: "eks-responder:exempt", Value: "true" }] : [],
      })),
    }));
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
    const deps = {
      clients: (region: string) => createAwsClients(region),
      sleep: async () => {},
      exemptTags: [{ key: "eks-responder:exempt", value: "true" }],
    };
    await expect(applyApproved({ assessment: twoActions }, deps)).rejects.toMatchObject({
      name: "ActionFailed",
      message: expect.stringMatching(
        /^ec2:revoke-ingress refused after others applied: security group sg-0fedcba9876543210/,
      ),
    });
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
  });
});
