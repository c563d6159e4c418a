import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  type ApprovalAuditEntry,
  type ApprovalDeps,
  type ApprovalRequest,
  type ApprovalResponse,
  handleApprovalRequest,
  MAX_BODY_BYTES,
  SLACK_ACTION_IDS,
  slackActionValue,
} from "../../../packages/core/src/approval/callback.ts";
import {
  type ApprovalDecision,
  type ApprovalRecord,
  type SignApprovalInput,
  signApproval,
  taskTokenRef,
} from "../../../packages/core/src/approval/links.ts";
import { slackSignature } from "../../../packages/core/src/approval/slack-signature.ts";
import { parsePolicy, processEvent } from "../../../packages/core/src/index.ts";
import { fixtureText, must } from "../../helpers/fixtures.ts";
import { MemoryApprovalStore } from "./memory-store.ts";

const sfn = mockClient(SFNClient);

const SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const LINK_SECRET = "link-secret-0123456789abcdef0123456789";
const TASK_TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAfake-task-token-for-tests";
const APPROVAL_ID = "apr-0123456789abcdef";
const APPROVER_SLACK = "U0APPROVER";
const APPROVER_EMAIL = "alice@example.com";
const NOW = new Date("2025-05-06T09:00:00Z");
const NOW_SECONDS = String(NOW.getTime() / 1000);

/** A realistic pending approval: the hostile fixture through the pipeline, with ec2-open-ingress in approve mode. */
function hostileRecord(): ApprovalRecord {
  const policy = parsePolicy({ dryRun: false, detectors: { "ec2-open-ingress": { mode: "approve" } } });
  const result = processEvent(fixtureText("hostile/useragent-control-chars-slack-injection.json"), policy, {
    forceDryRun: false,
  });
  const assessment = must(result.assessments[0], "assessment");
  const decision = must(result.decisions[0], "decision");
  const record: ApprovalRecord = { approvalId: APPROVAL_ID, taskToken: TASK_TOKEN, assessment, decision };
  if (result.signal) record.signal = result.signal;
  return record;
}

interface Setup {
  deps: ApprovalDeps;
  store: MemoryApprovalStore;
  audit: ApprovalAuditEntry[];
  record: ApprovalRecord;
}

function setup(): Setup {
  const store = new MemoryApprovalStore();
  const record = hostileRecord();
  store.put(record);
  const audit: ApprovalAuditEntry[] = [];
  const deps: ApprovalDeps = {
    sfn: async () => new SFNClient({ region: "eu-west-1" }),
    store,
    slackSigningSecret: SLACK_SECRET,
    linkSecret: LINK_SECRET,
    approvers: { slackUserIds: [APPROVER_SLACK], emails: ["Alice@Example.com", "bob@example.com"] },
    now: () => NOW,
    audit: async (entry) => {
      audit.push(entry);
    },
  };
  return { deps, store, audit, record };
}

// ---------------------------------------------------------------------------------------------------------------
// Slack requests

function blockActions(userId: string, actionId: string, value: string): unknown {
  return {
    type: "block_actions",
    user: { id: userId, username: "someone", team_id: "T1DC2JH3J" },
    team: { id: "T1DC2JH3J", domain: "example" },
    api_app_id: "A0F7YS25R",
    actions: [{ type: "button", block_id: "approval", action_id: actionId, value, action_ts: "1746522000.000100" }],
  };
}

function slackBody(payload: unknown): string {
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

function slackRequest(
  rawBody: string,
  options: { secret?: string; timestamp?: string; headers?: Record<string, string | undefined> } = {},
): ApprovalRequest {
  const timestamp = options.timestamp ?? NOW_SECONDS;
  return {
    method: "POST",
    path: "/slack",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": timestamp,
      "x-slack-signature": slackSignature(options.secret ?? SLACK_SECRET, timestamp, rawBody),
      ...options.headers,
    },
    rawBody,
    query: {},
  };
}

function slackDecision(decision: ApprovalDecision, userId = APPROVER_SLACK, approvalId = APPROVAL_ID): string {
  return slackBody(blockActions(userId, SLACK_ACTION_IDS[decision], slackActionValue(decision, approvalId)));
}

// ---------------------------------------------------------------------------------------------------------------
// Link requests

function link(change: Partial<SignApprovalInput> = {}): string {
  return signApproval({
    secret: LINK_SECRET,
    approvalId: APPROVAL_ID,
    taskTokenRef: taskTokenRef(TASK_TOKEN),
    approver: APPROVER_EMAIL,
    decisionAllowed: ["approve", "reject"],
    expiresAt: new Date(NOW.getTime() + 3_600_000),
    ...change,
  });
}

function getPage(token: string | undefined): ApprovalRequest {
  return { method: "GET", path: "/approve", headers: {}, rawBody: "", query: token === undefined ? {} : { token } };
}

function postDecide(fields: Record<string, string>, headers: Record<string, string> = {}): ApprovalRequest {
  return {
    method: "POST",
    path: "/decide",
    headers: { "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin", ...headers },
    rawBody: new URLSearchParams(fields).toString(),
    query: {},
  };
}

function nonceIn(page: ApprovalResponse): string {
  return must(/name="nonce" value="([^"]+)"/.exec(page.body)?.[1], "nonce in the page");
}

/** The page for `token`, and its nonce (a GET the test relies on, asserted elsewhere). */
async function openPage(s: Setup, token: string): Promise<string> {
  const page = await handleApprovalRequest(getPage(token), s.deps);
  expect(page.statusCode).toBe(200);
  return nonceIn(page);
}

/** The same text with the first character after its dot (the MAC) changed. */
function tamperAfterDot(text: string): string {
  const at = text.indexOf(".") + 1;
  return `${text.slice(0, at)}${text[at] === "A" ? "B" : "A"}${text.slice(at + 1)}`;
}

/** Control (except newline), bidi-override and isolate characters in `text`, as code points. */
function hiddenCharacters(text: string): number[] {
  return [...text]
    .map((c) => c.codePointAt(0) ?? 0)
    .filter(
      (c) => (c < 0x20 && c !== 0x0a) || c === 0x7f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069),
    );
}

const SECURITY_HEADERS = {
  "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
  "X-Frame-Options": "DENY",
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
};

const HTML_TAGS = new Set([
  "!doctype",
  "html",
  "head",
  "meta",
  "title",
  "style",
  "body",
  "main",
  "h1",
  "h2",
  "p",
  "strong",
  "ul",
  "ol",
  "li",
  "dl",
  "dt",
  "dd",
  "code",
  "pre",
  "form",
  "input",
  "button",
]);

beforeEach(() => {
  sfn.reset();
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
});

afterAll(() => {
  sfn.restore();
});

describe("handleApprovalRequest", () => {
  // ----- Slack

  it("Slack approve: sends exactly one SendTaskSuccess with the decision and the approver", async () => {
    const s = setup();

    const response = await handleApprovalRequest(slackRequest(slackDecision("approve")), s.deps);

    expect(response.statusCode).toBe(200);
    expect(sfn.calls()).toHaveLength(1);
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input).toEqual({
      taskToken: TASK_TOKEN,
      output: JSON.stringify({ decision: "approved", approver: "slack:U0APPROVER", decidedAt: NOW.toISOString() }),
    });
    expect(s.audit).toEqual([
      {
        time: NOW.toISOString(),
        channel: "slack",
        event: "decided",
        statusCode: 200,
        reason: "approved",
        approvalId: APPROVAL_ID,
        approver: "slack:U0APPROVER",
        decision: "approve",
      },
    ]);
  });

  it("Slack reject: sends exactly one SendTaskFailure with error Rejected and the approver in the cause", async () => {
    const s = setup();

    const response = await handleApprovalRequest(slackRequest(slackDecision("reject")), s.deps);

    expect(response.statusCode).toBe(200);
    expect(sfn.calls()).toHaveLength(1);
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input).toEqual({
      taskToken: TASK_TOKEN,
      error: "Rejected",
      cause: JSON.stringify({ decision: "rejected", approver: "slack:U0APPROVER", decidedAt: NOW.toISOString() }),
    });
  });

  it.each<[string, () => ApprovalRequest, number, string]>([
    [
      "signed with another secret",
      () => slackRequest(slackDecision("approve"), { secret: "not-the-signing-secret-000000000" }),
      401,
      "slack-signature-mismatch",
    ],
    [
      "a body byte changed after signing",
      () => {
        const request = slackRequest(slackDecision("approve"));
        return { ...request, rawBody: request.rawBody.replace("approve", "apprevo") };
      },
      401,
      "slack-signature-mismatch",
    ],
    [
      "a signature byte changed",
      () => {
        const request = slackRequest(slackDecision("approve"));
        const signature = String(request.headers["x-slack-signature"]);
        const flipped = `${signature.slice(0, -1)}${signature.endsWith("0") ? "1" : "0"}`;
        return { ...request, headers: { ...request.headers, "x-slack-signature": flipped } };
      },
      401,
      "slack-signature-mismatch",
    ],
    [
      "a timestamp over 5 minutes old",
      () => slackRequest(slackDecision("approve"), { timestamp: String(Number(NOW_SECONDS) - 301) }),
      401,
      "slack-signature-stale",
    ],
    [
      "a timestamp over 5 minutes in the future",
      () => slackRequest(slackDecision("approve"), { timestamp: String(Number(NOW_SECONDS) + 301) }),
      401,
      "slack-signature-stale",
    ],
    [
      "no signature header",
      () => slackRequest(slackDecision("approve"), { headers: { "x-slack-signature": undefined } }),
      401,
      "slack-signature-malformed",
    ],
    [
      "no timestamp header",
      () => slackRequest(slackDecision("approve"), { headers: { "x-slack-request-timestamp": undefined } }),
      401,
      "slack-signature-malformed",
    ],
    [
      "a user not in the approver allowlist",
      () => slackRequest(slackDecision("approve", "U0MALLORY")),
      403,
      "approver-not-allowed",
    ],
    [
      "an action value that is not approve|reject:<id>",
      () => slackRequest(slackBody(blockActions(APPROVER_SLACK, SLACK_ACTION_IDS.approve, `yes:${APPROVAL_ID}`))),
      400,
      "malformed-slack-action",
    ],
    [
      "an action id that does not match the value",
      () =>
        slackRequest(
          slackBody(blockActions(APPROVER_SLACK, SLACK_ACTION_IDS.reject, slackActionValue("approve", APPROVAL_ID))),
        ),
      400,
      "malformed-slack-action",
    ],
    [
      "a payload that is not block_actions",
      () => slackRequest(slackBody({ type: "view_submission", user: { id: APPROVER_SLACK } })),
      400,
      "malformed-slack-payload",
    ],
    ["a body without a payload field", () => slackRequest("token=abc&team_id=T1"), 400, "malformed-slack-payload"],
    [
      "an unknown approval id",
      () => slackRequest(slackDecision("approve", APPROVER_SLACK, "apr-ffffffffffffffff")),
      404,
      "unknown-approval",
    ],
    [
      "a JSON content type",
      () => slackRequest(slackDecision("approve"), { headers: { "content-type": "application/json" } }),
      415,
      "unsupported-content-type",
    ],
  ])("Slack: refuses a request with %s, audits why, sends nothing", async (_what, request, status, reason) => {
    const s = setup();

    const response = await handleApprovalRequest(request(), s.deps);

    expect(response.statusCode).toBe(status);
    expect(sfn.calls()).toEqual([]);
    expect(s.audit).toHaveLength(1);
    expect(s.audit[0]).toMatchObject({ event: "refused", channel: "slack", statusCode: status, reason });
    expect(s.store.used.size).toBe(0);
  });

  it("Slack: a replay of an already-decided approval is refused with 409, and Step Functions hears once", async () => {
    const s = setup();
    const request = slackRequest(slackDecision("approve"));
    const first = await handleApprovalRequest(request, s.deps);

    const replay = await handleApprovalRequest(request, s.deps);
    const reject = await handleApprovalRequest(slackRequest(slackDecision("reject")), s.deps);

    expect(first.statusCode).toBe(200);
    expect(replay.statusCode).toBe(409);
    expect(reject.statusCode).toBe(409);
    expect(sfn.calls()).toHaveLength(1);
    expect(s.audit.map((e) => e.reason)).toEqual(["approved", "already-decided", "already-decided"]);
  });

  it("Slack: an expired approval record is refused with 410 and sends nothing", async () => {
    const s = setup();
    s.store.put({ ...s.record, expiresAt: "2025-05-06T08:59:59Z" });

    const response = await handleApprovalRequest(slackRequest(slackDecision("approve")), s.deps);

    expect(response.statusCode).toBe(410);
    expect(sfn.calls()).toEqual([]);
    expect(s.audit[0]?.reason).toBe("approval-expired");
  });

  it("Slack: a Step Functions error is a 502, audited, and the approval cannot be retried into a second call", async () => {
    const s = setup();
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error("expired"), { name: "TaskTimedOut" }));

    const response = await handleApprovalRequest(slackRequest(slackDecision("approve")), s.deps);
    const retry = await handleApprovalRequest(slackRequest(slackDecision("approve")), s.deps);

    expect(response.statusCode).toBe(502);
    expect(retry.statusCode).toBe(409);
    expect(sfn.calls()).toHaveLength(1);
    expect(s.audit[0]).toMatchObject({ event: "failed", reason: "step-functions-TaskTimedOut" });
  });

  // ----- Size and routing

  it("refuses a body over 64 KB with 413 before verifying anything", async () => {
    const s = setup();
    const request = slackRequest(`payload=${"a".repeat(MAX_BODY_BYTES)}`);

    const response = await handleApprovalRequest(request, s.deps);

    expect(response.statusCode).toBe(413);
    expect(sfn.calls()).toEqual([]);
    expect(s.audit[0]).toMatchObject({ event: "refused", reason: "body-too-large" });
  });

  it.each([
    ["GET /decide", { method: "GET", path: "/decide" }, 405],
    ["POST /approve", { method: "POST", path: "/approve" }, 405],
    ["GET /slack", { method: "GET", path: "/slack" }, 405],
    ["an unknown path", { method: "GET", path: "/admin" }, 404],
  ])("refuses %s", async (_what, route, status) => {
    const s = setup();

    const response = await handleApprovalRequest({ ...route, headers: {}, rawBody: "", query: {} }, s.deps);

    expect(response.statusCode).toBe(status);
    expect(sfn.calls()).toEqual([]);
    expect(s.audit[0]?.event).toBe("refused");
  });

  // ----- GET /approve

  it("GET /approve renders the page with the security headers and a form, and never calls Step Functions", async () => {
    const s = setup();
    const token = link();
    let clientsAskedFor = 0;
    const deps: ApprovalDeps = {
      ...s.deps,
      sfn: async () => {
        clientsAskedFor++;
        return new SFNClient({ region: "eu-west-1" });
      },
    };

    const page = await handleApprovalRequest(getPage(token), deps);
    // A page view does not even load the Step Functions client.
    expect(clientsAskedFor).toBe(0);

    expect(page.statusCode).toBe(200);
    expect(page.headers).toMatchObject({ "Content-Type": "text/html; charset=utf-8", ...SECURITY_HEADERS });
    expect(page.body).toContain('<form method="post" action="/decide">');
    expect(page.body).toContain(`name="token" value="${token}"`);
    expect(page.body).toContain('<button type="submit" name="decision" value="approve">Approve</button>');
    expect(page.body).toContain('<button type="submit" name="decision" value="reject">Reject</button>');
    expect(page.body).toContain("ec2:RevokeSecurityGroupIngress");
    expect(page.body).toContain("{&quot;GroupId&quot;:&quot;sg-0a1b2c3d4e5f60718&quot;");
    expect(page.body).toContain("alice@example.com");
    expect(page.body).not.toContain(TASK_TOKEN);
    expect(sfn.calls()).toEqual([]);
    expect(s.store.used.size).toBe(0);
    expect(s.audit).toEqual([expect.objectContaining({ event: "viewed", approvalId: APPROVAL_ID })]);
  });

  it("GET /approve shows only the decisions the link allows", async () => {
    const s = setup();

    const page = await handleApprovalRequest(getPage(link({ decisionAllowed: ["reject"] })), s.deps);

    expect(page.body).toContain('value="reject"');
    expect(page.body).not.toContain('value="approve"');
  });

  it("GET /approve HTML-escapes the hostile event text: no raw tags, mentions, links, controls or bidi", async () => {
    const s = setup();
    s.store.put({
      ...s.record,
      assessment: { ...s.record.assessment, title: `"><script>alert(1)</script><img src=x onerror=alert(2)>` },
    });

    const page = await handleApprovalRequest(getPage(link()), s.deps);

    const tags = [...page.body.matchAll(/<\/?([A-Za-z0-9!]+)/g)].map((m) => (m[1] ?? "").toLowerCase());
    expect(tags.filter((t) => !HTML_TAGS.has(t))).toEqual([]);
    for (const raw of ["<script", "<img", "<!channel>", "<!here>", "<@U0123ABCD>", "<https://evil.example"])
      expect(page.body).not.toContain(raw);
    expect(page.body).toContain("&lt;!channel&gt; &lt;@U0123ABCD&gt;");
    expect(page.body).toContain("&lt;hxxps://evil[.]example|click&gt;");
    expect(page.body).toContain("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
    // The escape sequence is shown, not run and not hidden: the ESC as [U+001B], the rest as the text it is.
    expect(page.body).toContain("[U+001B][31mALERT RESOLVED[U+001B][0m");
    expect(page.body).not.toContain("\u001b");
    expect(hiddenCharacters(page.body)).toEqual([]);
  });

  it.each<[string, () => string | undefined, number, string]>([
    ["an expired link", () => link({ expiresAt: new Date(NOW.getTime() - 1000) }), 401, "link-expired"],
    ["a link signed with another secret", () => link({ secret: "x".repeat(40) }), 401, "link-mismatch"],
    ["a tampered link", () => tamperAfterDot(link()), 401, "link-mismatch"],
    ["no token", () => undefined, 401, "link-malformed"],
    ["a link to a removed approver", () => link({ approver: "carol@example.com" }), 403, "approver-not-allowed"],
    ["a link to an unknown approval", () => link({ approvalId: "apr-ffffffffffffffff" }), 404, "unknown-approval"],
    [
      "a link for another task token",
      () => link({ taskTokenRef: taskTokenRef("other-token") }),
      401,
      "link-task-token-mismatch",
    ],
  ])("GET /approve refuses %s and renders nothing", async (_what, token, status, reason) => {
    const s = setup();

    const response = await handleApprovalRequest(getPage(token()), s.deps);

    expect(response.statusCode).toBe(status);
    expect(response.body).not.toContain("<form");
    expect(sfn.calls()).toEqual([]);
    expect(s.audit).toEqual([expect.objectContaining({ event: "refused", channel: "link", reason })]);
  });

  // ----- POST /decide

  it("POST /decide approve: sends exactly one SendTaskSuccess with the link's approver", async () => {
    const s = setup();
    const token = link();
    const nonce = await openPage(s, token);

    const response = await handleApprovalRequest(postDecide({ token, nonce, decision: "approve" }), s.deps);

    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject(SECURITY_HEADERS);
    expect(sfn.calls()).toHaveLength(1);
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input).toEqual({
      taskToken: TASK_TOKEN,
      output: JSON.stringify({
        decision: "approved",
        approver: "email:alice@example.com",
        decidedAt: NOW.toISOString(),
      }),
    });
    expect(s.store.used.get(APPROVAL_ID)).toBe(nonce);
  });

  it("POST /decide reject: sends exactly one SendTaskFailure", async () => {
    const s = setup();
    const token = link();
    const nonce = await openPage(s, token);

    const response = await handleApprovalRequest(postDecide({ token, nonce, decision: "reject" }), s.deps);

    expect(response.statusCode).toBe(200);
    expect(sfn.calls()).toHaveLength(1);
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input).toEqual({
      taskToken: TASK_TOKEN,
      error: "Rejected",
      cause: JSON.stringify({
        decision: "rejected",
        approver: "email:alice@example.com",
        decidedAt: NOW.toISOString(),
      }),
    });
  });

  it("POST /decide: a replayed form is refused with 409 and Step Functions hears once", async () => {
    const s = setup();
    const token = link();
    const nonce = await openPage(s, token);
    const form = postDecide({ token, nonce, decision: "approve" });
    await handleApprovalRequest(form, s.deps);

    const replay = await handleApprovalRequest(form, s.deps);

    expect(replay.statusCode).toBe(409);
    expect(sfn.calls()).toHaveLength(1);
    expect(s.audit.at(-1)).toMatchObject({ event: "refused", reason: "already-decided" });
  });

  it.each<[string, (token: string, nonce: string) => ApprovalRequest, number, string]>([
    ["no nonce", (token) => postDecide({ token, decision: "approve" }), 400, "malformed-form"],
    [
      "a forged nonce",
      (token, nonce) => postDecide({ token, nonce: tamperAfterDot(nonce), decision: "approve" }),
      403,
      "csrf-nonce-invalid",
    ],
    [
      "the nonce of another link's page",
      (_token, nonce) => postDecide({ token: link({ decisionAllowed: ["approve"] }), nonce, decision: "approve" }),
      403,
      "csrf-nonce-invalid",
    ],
    [
      "a token signed with another secret",
      (_token, nonce) => postDecide({ token: link({ secret: "y".repeat(40) }), nonce, decision: "approve" }),
      401,
      "link-mismatch",
    ],
    [
      "an expired token",
      (_token, nonce) =>
        postDecide({ token: link({ expiresAt: new Date(NOW.getTime() - 1) }), nonce, decision: "approve" }),
      401,
      "link-expired",
    ],
    [
      "an unknown decision",
      (token, nonce) => postDecide({ token, nonce, decision: "maybe" }),
      400,
      "malformed-decision",
    ],
    [
      "two decisions",
      (token, nonce) => ({
        ...postDecide({ token, nonce, decision: "approve" }),
        rawBody: `${new URLSearchParams({ token, nonce, decision: "approve" })}&decision=reject`,
      }),
      400,
      "malformed-form",
    ],
    [
      "a cross-site POST",
      (token, nonce) => postDecide({ token, nonce, decision: "approve" }, { "sec-fetch-site": "cross-site" }),
      403,
      "cross-site-request",
    ],
    [
      "a JSON body",
      (token, nonce) => postDecide({ token, nonce, decision: "approve" }, { "content-type": "application/json" }),
      415,
      "unsupported-content-type",
    ],
  ])("POST /decide refuses %s, audits why, sends nothing", async (_what, build, status, reason) => {
    const s = setup();
    const token = link();
    const nonce = await openPage(s, token);
    s.audit.length = 0;

    const response = await handleApprovalRequest(build(token, nonce), s.deps);

    expect(response.statusCode).toBe(status);
    expect(sfn.calls()).toEqual([]);
    expect(s.store.used.size).toBe(0);
    expect(s.audit).toEqual([
      expect.objectContaining({ event: "refused", channel: "link", statusCode: status, reason }),
    ]);
  });

  it("POST /decide refuses a decision the link does not allow, even with that link's own nonce", async () => {
    const s = setup();
    const token = link({ decisionAllowed: ["reject"] });
    const nonce = await openPage(s, token);

    const response = await handleApprovalRequest(postDecide({ token, nonce, decision: "approve" }), s.deps);

    expect(response.statusCode).toBe(403);
    expect(sfn.calls()).toEqual([]);
    expect(s.audit.at(-1)).toMatchObject({ reason: "decision-not-allowed-by-link", decision: "approve" });
  });

  it("POST /decide refuses an approver removed from the allowlist after the page was rendered", async () => {
    const s = setup();
    const token = link();
    const nonce = await openPage(s, token);
    const deps = { ...s.deps, approvers: { slackUserIds: [APPROVER_SLACK], emails: ["bob@example.com"] } };

    const response = await handleApprovalRequest(postDecide({ token, nonce, decision: "approve" }), deps);

    expect(response.statusCode).toBe(403);
    expect(sfn.calls()).toEqual([]);
    expect(s.audit.at(-1)).toMatchObject({ reason: "approver-not-allowed", approver: "email:alice@example.com" });
  });

  it("never writes a task token, link token or nonce into the audit", async () => {
    const s = setup();
    const token = link();
    const nonce = await openPage(s, token);
    await handleApprovalRequest(postDecide({ token, nonce, decision: "approve" }), s.deps);
    await handleApprovalRequest(postDecide({ token, nonce, decision: "approve" }), s.deps);

    const written = JSON.stringify(s.audit);

    expect(s.audit.map((e) => e.event)).toEqual(["viewed", "decided", "refused"]);
    expect(written).not.toContain(TASK_TOKEN);
    expect(written).not.toContain(token);
    expect(written).not.toContain(nonce);
  });
});
