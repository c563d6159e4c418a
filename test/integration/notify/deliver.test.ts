import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parsePolicy, processEvent } from "../../../packages/core/src/index.ts";
import { createNotifier, DeliveryError } from "../../../packages/core/src/notify/deliver.ts";
import { SLACK_LIMITS, SNS_LIMITS, snsPublishBytes } from "../../../packages/core/src/notify/limits.ts";
import { startSlackServer } from "../../helpers/slack-server.ts";

const ROOT = join(import.meta.dirname, "../../..");
const policy = parsePolicy({
  notify: {
    routes: [
      { name: "security", minSeverity: "medium", slack: { channel: "#eks-security" } },
      { name: "pager", minSeverity: "critical", sns: { topicArn: "arn:aws:sns:eu-west-1:111122223333:pager" } },
    ],
  },
});
const sshOpen = processEvent(
  readFileSync(join(ROOT, "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"), "utf8"),
  policy,
);
const adminGrant = processEvent(
  readFileSync(join(ROOT, "examples/events/ct-10-eks-associate-access-policy-cluster-admin.json"), "utf8"),
  policy,
);
const sns = mockClient(SNSClient);
const waits: number[] = [];
const sleep = async (ms: number) => {
  waits.push(ms);
};
let stops: (() => Promise<void>)[] = [];

beforeEach(() => {
  sns.reset();
  waits.length = 0;
});
afterEach(async () => {
  await Promise.all(stops.map((s) => s()));
  stops = [];
});

describe("createNotifier", () => {
  it("posts the Block Kit message to the webhook of the route, and only to the routes the decision names", async () => {
    const slack = await startSlackServer([{ status: 200 }]);
    stops.push(slack.stop);
    const notifier = createNotifier({
      routes: policy.notify.routes,
      slack: { webhookUrl: `${slack.url}/services/T0/B0/x` },
      sns: new SNSClient({ region: "eu-west-1" }),
      sleep,
    });
    const deliveries = await notifier.notify(sshOpen);
    expect(deliveries).toEqual([{ route: "security", target: "slack", ok: true, attempts: 1 }]);
    expect(slack.requests).toHaveLength(1);
    const body = JSON.parse(slack.requests[0]?.body ?? "{}") as { text: string; blocks: { type: string }[] };
    expect(body.blocks[0]?.type).toBe("header");
    expect(body.text).toContain("sg-0632fa4ee8a8468a4");
    expect(sns.calls()).toHaveLength(0);
  });

  it("retries a 429 after Retry-After and a 5xx with backoff, then delivers", async () => {
    const slack = await startSlackServer([
      { status: 429, headers: { "retry-after": "2" } },
      { status: 503 },
      { status: 200 },
    ]);
    stops.push(slack.stop);
    const notifier = createNotifier({
      routes: policy.notify.routes,
      slack: { webhookUrl: `${slack.url}/hook` },
      sleep,
    });
    const deliveries = await notifier.notify(sshOpen);
    expect(deliveries[0]).toMatchObject({ ok: true, attempts: 3 });
    expect(waits).toEqual([2000, 1000]);
  });

  it("gives up after its attempts and reports the failure without throwing anything else", async () => {
    const slack = await startSlackServer([{ status: 500 }]);
    stops.push(slack.stop);
    const notifier = createNotifier({
      routes: policy.notify.routes,
      slack: { webhookUrl: `${slack.url}/hook` },
      sleep,
    });
    const error = await notifier.notify(sshOpen).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).deliveries[0]).toMatchObject({
      ok: false,
      attempts: 4,
      error: "Slack webhook answered 500",
    });
    expect(slack.requests).toHaveLength(4);
  });

  it("does not retry a 4xx other than 429", async () => {
    const slack = await startSlackServer([{ status: 404 }]);
    stops.push(slack.stop);
    const notifier = createNotifier({
      routes: policy.notify.routes,
      slack: { webhookUrl: `${slack.url}/hook` },
      sleep,
    });
    await expect(notifier.notify(sshOpen)).rejects.toThrow(/answered 404/);
    expect(slack.requests).toHaveLength(1);
  });

  it("posts with a bot token through Slack's Web API client to the route's channel", async () => {
    const slack = await startSlackServer([
      { status: 200, headers: { "content-type": "application/json" }, body: '{"ok":true}' },
    ]);
    stops.push(slack.stop);
    const notifier = createNotifier({
      routes: policy.notify.routes,
      slack: { token: "xoxb-test", apiUrl: `${slack.url}/api/` },
      sleep,
    });
    await notifier.notify(sshOpen);
    expect(slack.requests[0]?.url).toBe("/api/chat.postMessage");
    expect(slack.requests[0]?.headers.authorization).toBe("Bearer xoxb-test");
    expect(slack.requests[0]?.body).toContain("eks-security");
  });

  it("publishes critical outcomes to SNS with a short subject and filterable attributes", async () => {
    sns.on(PublishCommand).resolves({ MessageId: "m-1" });
    const slack = await startSlackServer([{ status: 200 }]);
    stops.push(slack.stop);
    const notifier = createNotifier({
      routes: policy.notify.routes,
      slack: { webhookUrl: `${slack.url}/hook` },
      sns: new SNSClient({ region: "eu-west-1" }),
      sleep,
    });
    const deliveries = await notifier.notify(adminGrant);
    expect(deliveries.map((d) => `${d.route}:${d.target}`)).toEqual(["security:slack", "pager:sns"]);
    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.TopicArn).toBe("arn:aws:sns:eu-west-1:111122223333:pager");
    expect((input?.Subject ?? "").length).toBeLessThanOrEqual(100);
    expect(input?.MessageAttributes?.severity).toEqual({ DataType: "String", StringValue: "critical" });
    expect(input?.MessageAttributes?.cluster).toEqual({ DataType: "String", StringValue: "prod-eks" });
  });

  it("sends only what fits Slack's and SNS's limits, for an event with huge, multi-byte, hostile text", async () => {
    // Publish answers a MessageId (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html, Response Elements).
    sns.on(PublishCommand).resolves({ MessageId: "m-2" });
    const slack = await startSlackServer([{ status: 200 }]);
    stops.push(slack.stop);
    const huge = structuredClone(adminGrant);
    const a = huge.assessments[0];
    if (!a) throw new Error("the admin grant must assess");
    a.title = `<!channel> https://evil.example.com \u202e${"\u20ac".repeat(200_000)}`;
    a.evidence = Array.from({ length: 50 }, (_, i) => `${i} user agent ${"\ud83d\ude00".repeat(20_000)}`);
    huge.reason = "R".repeat(100_000);
    const notifier = createNotifier({
      routes: policy.notify.routes,
      slack: { webhookUrl: `${slack.url}/hook` },
      sns: new SNSClient({ region: "eu-west-1" }),
      sleep,
    });
    await notifier.notify(huge);

    const body = JSON.parse(slack.requests[0]?.body ?? "{}") as { text: string; blocks: { type: string }[] };
    expect(body.text.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
    expect(body.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    expect(slack.requests[0]?.body).not.toContain("https://evil.example.com");
    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    const sent = {
      Subject: input?.Subject ?? "",
      Message: input?.Message ?? "",
      MessageAttributes: Object.fromEntries(
        Object.entries(input?.MessageAttributes ?? {}).map(([k, v]) => [
          k,
          { DataType: v.DataType ?? "", StringValue: v.StringValue ?? "" },
        ]),
      ),
    };
    expect(snsPublishBytes(sent)).toBeLessThanOrEqual(SNS_LIMITS.publishBytes);
    expect(sent.Subject).toMatch(/^[\x20-\x7e]{1,99}$/);
    expect(sent.Message).not.toContain("https://evil.example.com");
  });
});
