/** Slack storm control against a real local DynamoDB (dynalite) and the local Slack stand-in. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parsePolicy, processEvent } from "../../../packages/core/src/index.ts";
import { createNotifier } from "../../../packages/core/src/notify/deliver.ts";
import {
  appendToDigest,
  DIGEST_LIMITS,
  digestLine,
  flushDigests,
  listPendingDigests,
  slackDigest,
  slackPoster,
  slackSlotKey,
  takeSlackSlot,
} from "../../../packages/core/src/notify/digest.ts";
import { SLACK_LIMITS, type SlackMessage } from "../../../packages/core/src/notify/slack.ts";
import type { EventResult } from "../../../packages/core/src/pipeline/types.ts";
import { MAX_ITEM_BYTES } from "../../../packages/core/src/store/table.ts";
import { type LocalDynamo, startDynalite } from "../../helpers/dynalite.ts";
import { type RecordedRequest, startSlackServer } from "../../helpers/slack-server.ts";

const ROOT = join(import.meta.dirname, "../../..");
const EVENT = JSON.parse(
  readFileSync(join(ROOT, "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"), "utf8"),
) as { id: string; detail: { eventID: string } };
const policy = parsePolicy({
  notify: {
    routes: [
      { name: "security", minSeverity: "medium", slack: { channel: "#eks-security" } },
      { name: "oncall", minSeverity: "medium", slack: { channel: "#oncall" } },
    ],
  },
});
const CHANNELS = ["#eks-security", "#oncall"];
const ASSESSMENT_ID = /asm-[0-9a-f]{20}/g;
const OK_JSON = { status: 200, headers: { "content-type": "application/json" }, body: '{"ok":true}' };
/** 2025-06-15T11:00:00Z, on a digest window boundary. */
const T0 = Date.UTC(2025, 5, 15, 11, 0, 0);

/** The outcome of the real event with its own eventID, hence its own assessment id. */
function outcome(n: number): EventResult {
  const event = { ...EVENT, id: `env-${n}`, detail: { ...EVENT.detail, eventID: `burst-${n}` } };
  return processEvent(event, policy);
}

function idsIn(text: string): string[] {
  return text.match(ASSESSMENT_ID) ?? [];
}

/** A chat.postMessage request of the Web API client (form-encoded, blocks as JSON). */
function postedMessage(request: RecordedRequest): { channel: string; message: SlackMessage } {
  const form = new URLSearchParams(request.body);
  return {
    channel: form.get("channel") ?? "",
    message: { text: form.get("text") ?? "", blocks: JSON.parse(form.get("blocks") ?? "[]") as SlackMessage["blocks"] },
  };
}

function sectionTexts(message: SlackMessage): string[] {
  return message.blocks.flatMap((b) => (b.type === "section" && b.text ? [b.text.text] : []));
}

/** Block Kit limits a digest must respect; returns the violations. */
function violations(message: SlackMessage): string[] {
  const found: string[] = [];
  if (message.blocks.length > SLACK_LIMITS.blocks) found.push(`${message.blocks.length} blocks`);
  for (const block of message.blocks) {
    if (block.type === "header" && block.text.text.length > SLACK_LIMITS.headerText) found.push("header too long");
    if (block.type === "section" && (block.text?.text.length ?? 0) > SLACK_LIMITS.sectionText) {
      found.push(`section of ${block.text?.text.length}`);
    }
  }
  return found;
}

let dynamo: LocalDynamo;
let stops: (() => Promise<void>)[] = [];
const noSleep = async () => {};

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});
afterEach(async () => {
  await Promise.all(stops.map((s) => s()));
  stops = [];
});

async function slackServer(replies: Parameters<typeof startSlackServer>[0]) {
  const server = await startSlackServer(replies);
  stops.push(server.stop);
  return server;
}

describe("takeSlackSlot", () => {
  it("allows one message per channel per second, each channel on its own, with a TTL", async () => {
    const table = await dynamo.createTable();
    const at = new Date(T0 + 400);
    const later = new Date(T0 + 900);
    const next = new Date(T0 + 1000);

    const first = await takeSlackSlot(dynamo.docClient, table, { channel: "#a", now: at });
    const again = await takeSlackSlot(dynamo.docClient, table, { channel: "#a", now: later });
    const other = await takeSlackSlot(dynamo.docClient, table, { channel: "#b", now: later });
    const nextSecond = await takeSlackSlot(dynamo.docClient, table, { channel: "#a", now: next });
    const { Item } = await dynamo.docClient.send(
      new GetCommand({ TableName: table, Key: slackSlotKey("#a", T0 / 1000) }),
    );

    expect([first, again, other, nextSecond]).toEqual([true, false, true, true]);
    expect(Item?.expiresAt).toBe(T0 / 1000 + DIGEST_LIMITS.gateTtlSeconds);
  });

  it("gives exactly one of many concurrent callers the slot", async () => {
    const table = await dynamo.createTable();

    const results = await Promise.all(
      Array.from({ length: 20 }, () => takeSlackSlot(dynamo.docClient, table, { channel: "#a", now: new Date(T0) })),
    );

    expect(results.filter(Boolean)).toHaveLength(1);
  });
});

describe("digestLine", () => {
  it("gives severity, title, outcome and assessment id, escaped for mrkdwn and capped", () => {
    const base = outcome(1);
    const [assessment] = base.assessments;
    if (!assessment) throw new Error("the example has no assessment");
    const hostile: EventResult = {
      ...base,
      assessments: [{ ...assessment, title: `<!channel> *pwned* <https://evil.example|click> ${"x".repeat(500)}` }],
    };

    const line = digestLine(base);
    const escaped = digestLine(hostile);

    expect(line).toBe(`*HIGH* · DRY-RUN · ${assessment.title} · \`${assessment.id}\``);
    expect(escaped).toContain("&lt;!channel&gt;");
    expect(escaped).not.toMatch(/<|\*pwned\*/);
    expect(escaped).toContain(`\`${assessment.id}\``);
    expect(escaped.length).toBeLessThanOrEqual(DIGEST_LIMITS.lineChars);
  });
});

describe("appendToDigest", () => {
  it("keeps each pending item below DynamoDB's 400 KB and moves on to the next item", async () => {
    const table = await dynamo.createTable();
    const heavy = "€".repeat(1000); // 3 bytes each in UTF-8; cut to 300 code units

    const results = [];
    for (let i = 0; i <= DIGEST_LIMITS.linesPerItem; i++) {
      results.push(await appendToDigest(dynamo.docClient, table, { channel: "#a", line: heavy, now: new Date(T0) }));
    }
    const pending = await listPendingDigests(dynamo.docClient, table, { now: new Date(T0), all: true });
    const full = await dynamo.docClient.send(new GetCommand({ TableName: table, Key: pending[0]?.key ?? {} }));

    expect(results.map((r) => r.item)).toEqual([...Array(DIGEST_LIMITS.linesPerItem).fill(0), 1]);
    expect(pending.map((p) => p.lines.length)).toEqual([DIGEST_LIMITS.linesPerItem, 1]);
    expect(pending[0]?.lines[0]).toHaveLength(DIGEST_LIMITS.lineChars);
    expect(Buffer.byteLength(JSON.stringify(full.Item), "utf8")).toBeLessThan(MAX_ITEM_BYTES / 2);
  });

  it("counts the lines past the window's cap and the digest says how many are not listed", async () => {
    const table = await dynamo.createTable();
    const slack = await slackServer([OK_JSON]);
    const limits = { linesPerItem: 2, itemsPerWindow: 2 };

    const capped = [];
    for (let i = 0; i < 7; i++) {
      capped.push(
        await appendToDigest(dynamo.docClient, table, { channel: "#a", line: `line ${i}`, now: new Date(T0), limits }),
      );
    }
    const report = await flushDigests(dynamo.docClient, table, {
      post: slackPoster({ token: "xoxb-test", apiUrl: `${slack.url}/api/` }),
      now: new Date(T0 + 60_000),
      sleep: noSleep,
    });
    const posted = slack.requests.map((r) => postedMessage(r).message);
    const left = await listPendingDigests(dynamo.docClient, table, { now: new Date(T0), all: true });

    expect(capped.map((r) => r.kept)).toEqual([true, true, true, true, false, false, false]);
    expect(report.posted).toBe(4);
    expect(posted).toHaveLength(1);
    expect(posted[0]?.text).toBe("7 alerts in the last 60 s");
    expect(JSON.stringify(posted[0]?.blocks)).toContain("3 more alerts not listed");
    expect(sectionTexts(posted[0] ?? { text: "", blocks: [] }).join("\n")).toBe("line 0\nline 1\nline 2\nline 3");
    expect(left).toEqual([]);
  });
});

describe("flushDigests", () => {
  it("leaves a window alone until it has settled, then posts it and deletes it", async () => {
    const table = await dynamo.createTable();
    const slack = await slackServer([OK_JSON]);
    const post = slackPoster({ token: "xoxb-test", apiUrl: `${slack.url}/api/` });
    await appendToDigest(dynamo.docClient, table, { channel: "#a", line: "one", now: new Date(T0 + 9000) });

    const early = await flushDigests(dynamo.docClient, table, { post, now: new Date(T0 + 14_000), sleep: noSleep });
    const settled = await flushDigests(dynamo.docClient, table, { post, now: new Date(T0 + 15_000), sleep: noSleep });
    const left = await listPendingDigests(dynamo.docClient, table, { now: new Date(T0), all: true });

    expect(early.messages).toEqual([]);
    expect(settled.messages.map((m) => [m.channel, m.lines, m.ok])).toEqual([["#a", 1, true]]);
    expect(slack.requests).toHaveLength(1);
    expect(postedMessage(slack.requests[0] ?? { method: "", url: "", headers: {}, body: "" }).channel).toBe("#a");
    expect(left).toEqual([]);
  });

  it("splits a large digest within Block Kit limits, 1 s apart, and a failed message keeps the rest", async () => {
    const table = await dynamo.createTable();
    const ids = Array.from({ length: 1200 }, (_, i) => `asm-${i.toString(16).padStart(20, "0")}`);
    for (const [i, id] of ids.entries()) {
      const line = `*HIGH* · ALERT · ${"w".repeat(240)} · \`${id}\``;
      await appendToDigest(dynamo.docClient, table, { channel: "#a", line, now: new Date(T0 + i * 5) });
    }
    // Message 1 goes through, message 2 fails; the next flush posts the rest.
    const slack = await slackServer([OK_JSON, { status: 500 }, OK_JSON]);
    const post = slackPoster({ token: "xoxb-test", apiUrl: `${slack.url}/api/` });
    let slept = 0;
    const sleep = async (ms: number) => {
      slept += ms;
    };

    const failed = await flushDigests(dynamo.docClient, table, { post, now: new Date(T0 + 60_000), sleep });
    const afterFailure = await listPendingDigests(dynamo.docClient, table, { now: new Date(T0), all: true });
    const retried = await flushDigests(dynamo.docClient, table, { post, now: new Date(T0 + 120_000), sleep });
    const left = await listPendingDigests(dynamo.docClient, table, { now: new Date(T0), all: true });
    const delivered = slack.requests.filter((_, i) => i !== 1).map((r) => postedMessage(r).message);
    const seen = delivered.flatMap((m) => sectionTexts(m).flatMap(idsIn));
    const times = retried.messages.map((m) => m.at.getTime());

    expect(failed.messages.map((m) => m.ok)).toEqual([true, false]);
    expect(failed.kept).toBe(1200 - (failed.messages[0]?.lines ?? 0));
    expect(afterFailure.reduce((n, p) => n + p.lines.length - p.posted, 0)).toBe(failed.kept);
    expect(retried.messages.length).toBeGreaterThanOrEqual(2);
    expect(retried.messages.every((m) => m.ok)).toBe(true);
    expect(times.slice(1).every((t, i) => t - (times[i] ?? 0) >= 1000)).toBe(true);
    expect(slept).toBeGreaterThanOrEqual(1000 * (failed.messages.length - 1 + retried.messages.length - 1));
    expect(delivered.flatMap(violations)).toEqual([]);
    expect(delivered.every((m) => m.blocks.length <= SLACK_LIMITS.blocks)).toBe(true);
    expect(delivered[0]?.text).toMatch(/^1200 alerts in the last \d+ s \(1\/\d\)$/);
    expect(seen).toHaveLength(ids.length);
    expect(new Set(seen)).toEqual(new Set(ids));
    expect(left).toEqual([]);
  }, 60_000);

  it("posts a digest once when two flushes run at the same time", async () => {
    const table = await dynamo.createTable();
    for (let i = 0; i < 30; i++) {
      const line = `line asm-${String(i).padStart(20, "0")}`;
      await appendToDigest(dynamo.docClient, table, { channel: "#a", line, now: new Date(T0) });
    }
    const slack = await slackServer([OK_JSON]);
    const post = slackPoster({ token: "xoxb-test", apiUrl: `${slack.url}/api/` });
    const now = new Date(T0 + 60_000);

    const reports = await Promise.all([
      flushDigests(dynamo.docClient, table, { post, now, sleep: noSleep }),
      flushDigests(dynamo.docClient, table, { post, now, sleep: noSleep }),
    ]);
    const seen = slack.requests.flatMap((r) => sectionTexts(postedMessage(r).message).flatMap(idsIn));

    expect(reports.map((r) => r.posted).sort()).toEqual([0, 30]);
    expect(seen).toHaveLength(30);
    expect(new Set(seen).size).toBe(30);
  });
});

describe("createNotifier with a digest", () => {
  it("under a burst of 500 outcomes in 10 s posts at most once per channel per second and loses none", async () => {
    const table = await dynamo.createTable();
    const live = await slackServer([OK_JSON]);
    let now = new Date(T0);
    const notifier = createNotifier({
      routes: policy.notify.routes,
      slack: { token: "xoxb-test", apiUrl: `${live.url}/api/` },
      digest: slackDigest(dynamo.docClient, table, { clock: () => now }),
      sleep: noSleep,
    });
    const outcomes = Array.from({ length: 500 }, (_, i) => outcome(i));
    const allIds = outcomes.flatMap((o) => o.assessments.map((a) => a.id));
    const liveAt: number[] = [];

    let deferred = 0;
    for (const [i, result] of outcomes.entries()) {
      now = new Date(T0 + i * 20); // 500 outcomes over 10 simulated seconds
      const before = live.requests.length;
      const deliveries = await notifier.notify(result);
      deferred += deliveries.filter((d) => d.deferred).length;
      for (let r = before; r < live.requests.length; r++) liveAt.push(Math.floor(now.getTime() / 1000));
    }
    const livePosts = live.requests.map((r, i) => ({ ...postedMessage(r), second: liveAt[i] }));
    const perChannelSecond = new Map<string, number>();
    for (const p of livePosts) {
      const key = `${p.channel}@${p.second}`;
      perChannelSecond.set(key, (perChannelSecond.get(key) ?? 0) + 1);
    }

    const down = await slackServer([{ status: 500 }]);
    const failed = await flushDigests(dynamo.docClient, table, {
      post: slackPoster({ token: "xoxb-test", apiUrl: `${down.url}/api/` }),
      now: new Date(T0 + 60_000),
      sleep: noSleep,
    });
    const kept = await listPendingDigests(dynamo.docClient, table, { now: new Date(T0 + 60_000) });
    const up = await slackServer([OK_JSON]);
    const flushed = await flushDigests(dynamo.docClient, table, {
      post: slackPoster({ token: "xoxb-test", apiUrl: `${up.url}/api/` }),
      now: new Date(T0 + 120_000),
      sleep: noSleep,
    });
    const digests = up.requests.map(postedMessage);
    const left = await listPendingDigests(dynamo.docClient, table, { now: new Date(T0), all: true });

    expect(allIds).toHaveLength(500);
    expect(new Set(allIds).size).toBe(500);
    expect(Math.max(...perChannelSecond.values())).toBe(1);
    expect(livePosts).toHaveLength(2 * 10);
    expect(deferred).toBe(2 * 490);
    expect(failed.messages.map((m) => m.ok)).toEqual([false, false]);
    expect(failed.kept).toBe(2 * 490);
    expect(down.requests).toHaveLength(2);
    expect(kept.reduce((n, p) => n + p.lines.length, 0)).toBe(2 * 490);
    expect(flushed.errors).toEqual([]);
    expect(digests.flatMap((d) => violations(d.message))).toEqual([]);
    expect(digests[0]?.message.text).toBe("490 alerts in the last 2 min");
    for (const channel of CHANNELS) {
      const fromLive = livePosts
        .filter((p) => p.channel === channel)
        .flatMap((p) => [...new Set(JSON.stringify(p.message.blocks).match(ASSESSMENT_ID) ?? [])]);
      const fromDigests = digests
        .filter((d) => d.channel === channel)
        .flatMap((d) => sectionTexts(d.message).flatMap(idsIn));
      const all = [...fromLive, ...fromDigests];
      expect(fromLive).toHaveLength(10);
      expect(all).toHaveLength(500);
      expect(new Set(all)).toEqual(new Set(allIds));
    }
    expect(left).toEqual([]);
  }, 120_000);

  it("still publishes to SNS when the Slack message of the same route is deferred", async () => {
    const sns = mockClient(SNSClient);
    sns.on(PublishCommand).resolves({ MessageId: "m-1" });
    const table = await dynamo.createTable();
    const slack = await slackServer([OK_JSON]);
    const routes = parsePolicy({
      notify: {
        routes: [
          {
            name: "both",
            slack: { channel: "#a" },
            sns: { topicArn: "arn:aws:sns:us-east-1:111122223333:alerts" },
          },
        ],
      },
    }).notify.routes;
    const notifier = createNotifier({
      routes,
      slack: { token: "xoxb-test", apiUrl: `${slack.url}/api/` },
      sns: new SNSClient({ region: "us-east-1" }),
      digest: slackDigest(dynamo.docClient, table, { clock: () => new Date(T0) }),
      sleep: noSleep,
    });
    const result = processEvent(
      { ...EVENT, detail: { ...EVENT.detail, eventID: "sns-1" } },
      parsePolicy({ notify: { routes } }),
    );

    const first = await notifier.notify(result);
    const second = await notifier.notify(result);
    sns.restore();

    expect(first.map((d) => `${d.target}:${d.deferred === true}`)).toEqual(["slack:false", "sns:false"]);
    expect(second.map((d) => `${d.target}:${d.deferred === true}`)).toEqual(["slack:true", "sns:false"]);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
    expect(slack.requests).toHaveLength(1);
  });

  it("posts right away when the gate cannot be read, rather than lose the message", async () => {
    const slack = await slackServer([OK_JSON]);
    const notifier = createNotifier({
      routes: policy.notify.routes.slice(0, 1),
      slack: { token: "xoxb-test", apiUrl: `${slack.url}/api/` },
      digest: {
        gate: async () => {
          throw new Error("DynamoDB unavailable");
        },
        defer: async () => {},
      },
      sleep: noSleep,
    });

    const deliveries = await notifier.notify(outcome(1));

    expect(deliveries).toEqual([{ route: "security", target: "slack", ok: true, attempts: 1 }]);
    expect(slack.requests).toHaveLength(1);
  });
});
