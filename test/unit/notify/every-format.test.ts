/**
 * Every fixture under test/fixtures and every bundled example event, through the real pipeline and every formatter a
 * person reads: Slack (as posted, after the limit check), the SNS subject and body (text and JSON), the terminal
 * (the CLI's replay output) and the approval page's HTML. No output may hold a hidden character, a raw `<` `>` `&`
 * from event text, a line break in a subject, or a link a client would make clickable other than the console links the
 * code builds from validated ids.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatResult } from "../../../packages/cli/src/format.ts";
import { type ApprovalDeps, handleApprovalRequest } from "../../../packages/core/src/approval/callback.ts";
import { signApproval, taskTokenRef } from "../../../packages/core/src/approval/links.ts";
import { defaultPolicy, type EventResult, parsePolicy, processEvent } from "../../../packages/core/src/index.ts";
import { fitSlackMessage, fitSnsPublish } from "../../../packages/core/src/notify/limits.ts";
import { type SlackMessage, slackMessage } from "../../../packages/core/src/notify/slack.ts";
import { JSON_SEPARATOR, snsMessage } from "../../../packages/core/src/notify/sns.ts";
import { fixtureText, listFixtures } from "../../helpers/fixtures.ts";
import { hiddenCharacters, linksIn } from "../../helpers/texts.ts";
import { MemoryApprovalStore } from "../approval/memory-store.ts";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const EXAMPLES_DIR = join(ROOT, "examples", "events");
const examplePolicyDoc = JSON.parse(readFileSync(join(ROOT, "examples", "policy.json"), "utf8")) as Record<
  string,
  unknown
>;
const policies = {
  default: defaultPolicy(),
  example: parsePolicy(examplePolicyDoc),
  live: parsePolicy({ ...examplePolicyDoc, dryRun: false }),
};

/** Every input, through the default, the example and a live policy. */
function allResults(): { name: string; result: EventResult }[] {
  const inputs = [
    ...listFixtures().map((f) => ({ name: `test/fixtures/${f}`, text: fixtureText(f) })),
    ...readdirSync(EXAMPLES_DIR)
      .filter((f) => f.endsWith(".json"))
      .map((f) => ({ name: `examples/events/${f}`, text: readFileSync(join(EXAMPLES_DIR, f), "utf8") })),
  ];
  return inputs.flatMap(({ name, text }) =>
    Object.entries(policies).map(([policy, p]) => ({
      name: `${name} (${policy})`,
      result: policy === "live" ? processEvent(text, p, { forceDryRun: false }) : processEvent(text, p),
    })),
  );
}

/** The AWS console links the code builds: `<url|label>` in Slack, the bare URL in the e-mail body. */
const CONSOLE_URL =
  /https:\/\/[a-z]{2}(?:-[a-z]+){1,2}-\d{1,2}\.console\.aws\.amazon\.com\/(?:ec2|eks)\/home\?region=[a-z0-9-]+#[A-Za-z0-9:=/_-]+/g;
const SLACK_CONSOLE_LINK = new RegExp(`<${CONSOLE_URL.source}\\|[^<>|]+>`, "g");

function slackTexts(message: SlackMessage): string[] {
  const out = [message.text];
  for (const block of message.blocks) {
    if (block.type === "header") out.push(block.text.text);
    if (block.type === "section") {
      if (block.text) out.push(block.text.text);
      for (const f of block.fields ?? []) out.push(f.text);
    }
    if (block.type === "context") for (const e of block.elements) out.push(e.text);
  }
  return out;
}

/** What a person could be fooled by in one output; `allowed` line breaks are the format's own. */
function problems(text: string, options: { allowed?: string; softHyphenBeforeQuote?: boolean } = {}): string[] {
  const found = hiddenCharacters(text, options).map((c) => `hidden ${c}`);
  for (const link of linksIn(text)) found.push(`link ${link}`);
  return found;
}

const APPROVER = "oncall@example.com";
const LINK_SECRET = "link-secret-0123456789abcdef0123456789";
const NOW = new Date("2025-06-15T12:00:00Z");
const PAGE_TAGS = new Set(
  "!doctype html head meta title style body main h1 h2 p strong ul li dl dt dd ol code pre form input button".split(
    " ",
  ),
);

/** The approval page of the result's first assessment, as the callback renders it for an e-mail approver. */
async function approvalPage(result: EventResult): Promise<string | undefined> {
  const assessment = result.assessments[0];
  const decision = result.decisions.find((d) => d.assessmentId === assessment?.id);
  if (!assessment || !decision) return undefined;
  const store = new MemoryApprovalStore();
  const taskToken = "AQCEAAAAKgAAAAMAAAAAAAAAAfake-task-token-for-tests";
  store.put({
    approvalId: "apr-0123456789abcdef",
    taskToken,
    assessment,
    decision,
    ...(result.signal ? { signal: result.signal } : {}),
  });
  const token = signApproval({
    secret: LINK_SECRET,
    approvalId: "apr-0123456789abcdef",
    taskTokenRef: taskTokenRef(taskToken),
    approver: APPROVER,
    decisionAllowed: ["approve", "reject"],
    expiresAt: new Date(NOW.getTime() + 3_600_000),
  });
  const deps: ApprovalDeps = {
    sfn: async () => {
      throw new Error("a GET never calls Step Functions");
    },
    store,
    slackSigningSecret: "8f742231b10e8888abcd99yyyzzz85a5",
    linkSecret: LINK_SECRET,
    approvers: { slackUserIds: [], emails: [APPROVER] },
    now: () => NOW,
    audit: async () => {},
  };
  const page = await handleApprovalRequest(
    { method: "GET", path: "/approve", headers: {}, rawBody: "", query: { token } },
    deps,
  );
  expect(page.statusCode).toBe(200);
  return page.body;
}

describe("every fixture and example through every formatter", () => {
  const results = allResults();

  it("covers every fixture and example, with the hostile ones among them", () => {
    expect(results.length).toBeGreaterThanOrEqual(3 * 60);
    expect(results.some((r) => r.name.includes("useragent-control-chars-slack-injection"))).toBe(true);
  });

  it("Slack: no hidden character, raw < > &, or link other than the console links", () => {
    const found: string[] = [];
    for (const { name, result } of results) {
      for (const text of slackTexts(fitSlackMessage(slackMessage(result)))) {
        const rest = text.replace(SLACK_CONSOLE_LINK, "");
        if (/[<>]/.test(rest)) found.push(`${name}: raw < or > in ${text}`);
        if (/&(?!amp;|lt;|gt;)/.test(rest)) found.push(`${name}: raw & in ${text}`);
        for (const p of problems(rest, { allowed: "\n", softHyphenBeforeQuote: true })) found.push(`${name}: ${p}`);
      }
    }
    expect(found).toEqual([]);
  });

  it("SNS: a one-line ASCII subject, and a body and JSON part with nothing hidden and no link from event text", () => {
    const found: string[] = [];
    for (const { name, result } of results) {
      const message = fitSnsPublish(snsMessage(result));
      if (!/^[\x20-\x7e]{1,99}$/.test(message.Subject)) found.push(`${name}: subject ${message.Subject}`);
      for (const p of problems(message.Subject)) found.push(`${name}: subject ${p}`);
      const [text = "", json = ""] = message.Message.split(`\n${JSON_SEPARATOR}\n`);
      for (const p of problems(text.replace(CONSOLE_URL, ""), { allowed: "\n" })) found.push(`${name}: body ${p}`);
      if (/[<>&]/.test(json)) found.push(`${name}: raw < > & in the JSON`);
      for (const p of problems(json, { allowed: "\n" })) found.push(`${name}: JSON ${p}`);
      expect(JSON.parse(json), name).toEqual(JSON.parse(JSON.stringify(result)));
    }
    expect(found).toEqual([]);
  });

  it("terminal: the replay output holds no control character (no ANSI escape from an event) and no link", () => {
    const found: string[] = [];
    for (const { name, result } of results) {
      const printed = formatResult({ ...result, file: name.replace(/ \(.*\)$/, "") }, (_style, text) => text);
      for (const p of problems(printed, { allowed: "\n" })) found.push(`${name}: ${p}`);
    }
    expect(found).toEqual([]);
  });

  it("approval page: only the page's own tags, entities for < > & from events, nothing hidden, no link", async () => {
    const found: string[] = [];
    let pages = 0;
    for (const { name, result } of results) {
      const body = await approvalPage(result);
      if (body === undefined) continue;
      pages++;
      const text = body.replace(/<\/?([A-Za-z0-9!]+)(?:\s[^<>]*)?>/g, (tag, tagName: string) =>
        PAGE_TAGS.has(tagName.toLowerCase()) ? "\n" : tag,
      );
      if (/[<>]/.test(text)) found.push(`${name}: raw < or > in the page`);
      if (/&(?!amp;|lt;|gt;|quot;|#39;)/.test(text)) found.push(`${name}: raw & in the page`);
      const withoutApprover = text.replaceAll(APPROVER, "");
      for (const p of problems(withoutApprover, { allowed: "\n" })) found.push(`${name}: ${p}`);
    }
    expect(pages).toBeGreaterThan(30);
    expect(found).toEqual([]);
  });
});
