/**
 * The approval callback: one HTTP request (a Lambda Function URL event, already reduced to method, path, lower-cased
 * headers, raw body and query) → at most one Step Functions `SendTaskSuccess` / `SendTaskFailure`. Pure apart from the
 * clients passed in: no handler code, no environment, the clock injected.
 *
 * Routes:
 * - `POST /slack`: Slack interactivity (`block_actions`, https://docs.slack.dev/reference/interaction-payloads/block_actions-payload).
 *   Signature first (401), then the approver allowlist (403), then the action (approval id + approve|reject), then
 *   single use (409), then Step Functions.
 * - `GET /approve?token=…`: verifies the link (401) and renders a page with the exact plan and a form. A GET never
 *   decides: mail scanners fetch links.
 * - `POST /decide` (form: token, decision, nonce): link + per-page CSRF nonce + approver allowlist + single use, then
 *   Step Functions.
 *
 * Every refusal is audited with its reason and sends nothing to Step Functions. The task token never leaves the store
 * except towards Step Functions, and is never audited or rendered.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { SFNClient } from "@aws-sdk/client-sfn";
import { escapeHtml, escapeHtmlAttribute } from "../notify/escape.ts";
import { callsPhrase } from "../pipeline/plan-text.ts";
import * as z from "../zod.ts";
import {
  APPROVAL_DECISIONS,
  type ApprovalDecision,
  type ApprovalLinkPayload,
  type ApprovalRecord,
  type ApprovalStore,
  hmac,
  matchesTaskToken,
  safeEqual,
  verifyApproval,
} from "./links.ts";
import { verifySlackSignature } from "./slack-signature.ts";

/** Bodies larger than this are refused (413) before anything is parsed or verified. */
export const MAX_BODY_BYTES = 64 * 1024;

export const APPROVAL_PATHS = { slack: "/slack", approve: "/approve", decide: "/decide" } as const;

/** The `action_id` of the Slack buttons; their `value` is `slackActionValue(decision, approvalId)`. */
export const SLACK_ACTION_IDS: Readonly<Record<ApprovalDecision, string>> = {
  approve: "eks-responder-approve",
  reject: "eks-responder-reject",
};

/** The `value` of a Slack approval button: `approve:<approval id>` or `reject:<approval id>`. */
export function slackActionValue(decision: ApprovalDecision, approvalId: string): string {
  return `${decision}:${approvalId}`;
}

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
  "X-Frame-Options": "DENY",
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
};

export interface ApprovalRequest {
  method: string;
  path: string;
  /** Header names lower-cased. */
  headers: Readonly<Record<string, string | undefined>>;
  /** The body exactly as received (decoded from base64 by the handler when the event says so). */
  rawBody: string;
  query: Readonly<Record<string, string | undefined>>;
}

export interface ApprovalResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export type ApprovalChannel = "slack" | "link" | "http";

/** One audit record. Holds no secret: no task token, link token, signature or nonce. */
export interface ApprovalAuditEntry {
  time: string;
  channel: ApprovalChannel;
  /** `decided`: Step Functions was told; `viewed`: an approval page was rendered; `refused`: nothing was sent. */
  event: "decided" | "viewed" | "refused" | "failed";
  statusCode: number;
  /** Why: a refusal code (`slack-signature-stale`, `link-expired`, `already-decided`, …), or the decision. */
  reason: string;
  approvalId?: string;
  /** `slack:<user id>` or `email:<address>`, only once established by a verified signature or link. */
  approver?: string;
  decision?: ApprovalDecision;
}

export interface ApprovalDeps {
  /** The Step Functions client, asked for only when a decision is sent (a page view or a refusal needs none). */
  sfn(): Promise<SFNClient>;
  store: ApprovalStore;
  slackSigningSecret: string;
  linkSecret: string;
  approvers: { slackUserIds: readonly string[]; emails: readonly string[] };
  now: () => Date;
  audit: (entry: ApprovalAuditEntry) => Promise<void>;
}

interface Context {
  request: ApprovalRequest;
  deps: ApprovalDeps;
  now: Date;
}

type AuditDetails = Pick<ApprovalAuditEntry, "approvalId" | "approver" | "decision">;

// ---------------------------------------------------------------------------------------------------------------
// Responses

function respond(statusCode: number, contentType: string, body: string): ApprovalResponse {
  return { statusCode, headers: { "Content-Type": contentType, ...SECURITY_HEADERS }, body };
}

function text(statusCode: number, body: string): ApprovalResponse {
  return respond(statusCode, "text/plain; charset=utf-8", `${body}\n`);
}

function html(statusCode: number, body: string): ApprovalResponse {
  return respond(statusCode, "text/html; charset=utf-8", body);
}

/** What a refused caller is told: the status's meaning, never the detail (that goes to the audit). */
const REFUSAL_TEXT: Readonly<Record<number, string>> = {
  400: "Bad request.",
  401: "This request could not be verified: the link or signature is invalid or has expired.",
  403: "You are not allowed to make this decision.",
  404: "Not found.",
  405: "Method not allowed.",
  409: "This approval has already been decided.",
  410: "This approval has expired.",
  413: "Request body too large.",
  415: "Unsupported content type.",
};

async function refuse(
  ctx: Context,
  channel: ApprovalChannel,
  statusCode: number,
  reason: string,
  details: AuditDetails = {},
): Promise<ApprovalResponse> {
  await ctx.deps.audit({ time: ctx.now.toISOString(), channel, event: "refused", statusCode, reason, ...details });
  const response = text(statusCode, REFUSAL_TEXT[statusCode] ?? "Refused.");
  if (statusCode === 405) response.headers.Allow = ctx.request.path === APPROVAL_PATHS.approve ? "GET" : "POST";
  return response;
}

// ---------------------------------------------------------------------------------------------------------------
// HTML

// Event text goes through `escapeHtml` (escape.ts) once, where it enters the page; the verified token and the nonce
// through `escapeHtmlAttribute`, which changes nothing but the five HTML characters, so they come back byte for byte.

const STYLE = [
  "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}",
  "code,pre{font-family:ui-monospace,monospace;font-size:.9em}",
  "pre{background:#f4f4f4;padding:.5rem;white-space:pre-wrap;word-break:break-all}",
  ".sev{font-weight:bold;text-transform:uppercase}",
  "button{font-size:1rem;padding:.5rem 1.5rem;margin-right:1rem}",
  "dt{font-weight:bold}",
].join("");

function page(title: string, main: string): string {
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(title, 200)}</title><style>${STYLE}</style></head>`,
    `<body><main>${main}</main></body></html>`,
  ].join("\n");
}

/** A list of event text, or of configured text (`links: "keep"`: the approvers' addresses are not defanged). */
function list(items: readonly string[], max = 500, links: "defang" | "keep" = "defang"): string {
  return items.length === 0 ? "" : `<ul>${items.map((i) => `<li>${escapeHtml(i, max, { links })}</li>`).join("")}</ul>`;
}

function approvalPage(
  record: ApprovalRecord,
  link: ApprovalLinkPayload,
  token: string,
  nonce: string,
  deps: ApprovalDeps,
) {
  const { assessment, decision, signal } = record;
  const where: [string, string][] = [
    ["Account", assessment.account],
    ["Region", assessment.region],
  ];
  if (assessment.cluster) where.push(["Cluster", assessment.cluster]);
  if (signal) where.push(["Event", `${signal.source} ${signal.name} at ${signal.time} (${signal.id})`]);
  where.push(["Assessment", assessment.id]);

  const steps = decision.plan
    .map(
      (step) =>
        `<li><code>${escapeHtml(`${step.service}:${step.operation}`, 200)}</code>` +
        `<pre>${escapeHtml(JSON.stringify(step.params) ?? "", 8000)}</pre>` +
        (step.note ? `<p>${escapeHtml(step.note, 500)}</p>` : "") +
        "</li>",
    )
    .join("");
  const buttons = APPROVAL_DECISIONS.filter((d) => link.dec.includes(d))
    .map((d) => `<button type="submit" name="decision" value="${d}">${d === "approve" ? "Approve" : "Reject"}</button>`)
    .join("");

  const main = [
    "<h1>Approval needed</h1>",
    `<p class="sev">${escapeHtml(assessment.severity, 20)} · ${escapeHtml(assessment.detectorId, 80)}</p>`,
    "<h2>What happened</h2>",
    `<p><strong>${escapeHtml(assessment.title, 300)}</strong></p>`,
    list(assessment.evidence),
    `<dl>${where.map(([k, v]) => `<dt>${escapeHtml(k, 40)}</dt><dd>${escapeHtml(v, 500)}</dd>`).join("")}</dl>`,
    "<h2>The exact plan</h2>",
    `<p>If approved, eks-responder makes ${escapeHtml(callsPhrase(decision.plan), 80)}${decision.dryRun ? " in dry-run (nothing is changed)" : ""}:</p>`,
    `<ol>${steps}</ol>`,
    "<h2>Why</h2>",
    list(decision.reasons),
    assessment.notes.length > 0 ? `<h2>Notes</h2>${list(assessment.notes)}` : "",
    "<h2>Who may decide</h2>",
    `<p>This link was sent to <strong>${escapeHtml(link.sub, 320, { links: "keep" })}</strong> and expires at ${escapeHtml(new Date(link.exp * 1000).toISOString(), 40)}.</p>`,
    `<p>Decisions are accepted from:</p>${list(deps.approvers.emails, 320, "keep")}`,
    "<p>The first decision counts; the link cannot be used again.</p>",
    `<form method="post" action="${APPROVAL_PATHS.decide}">`,
    `<input type="hidden" name="token" value="${escapeHtmlAttribute(token)}">`,
    `<input type="hidden" name="nonce" value="${escapeHtmlAttribute(nonce)}">`,
    buttons,
    "</form>",
  ].join("\n");
  return page(`Approval needed: ${assessment.title}`, main);
}

function decidedPage(decision: ApprovalDecision, record: ApprovalRecord): string {
  const what =
    decision === "approve"
      ? `Approved. eks-responder goes on with the plan (${callsPhrase(record.decision.plan)}).`
      : "Rejected. eks-responder makes no change for this assessment.";
  return page("Decision recorded", `<h1>Decision recorded</h1><p>${escapeHtml(what, 300)}</p>`);
}

// ---------------------------------------------------------------------------------------------------------------
// CSRF nonces: per page, bound to the link token, stateless.

const CSRF_DOMAIN = "eks-responder.csrf.v1.";
const NONCE = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/** A fresh nonce for one rendering of the page for `token`: random part + HMAC(random part, token). */
export function csrfNonce(secret: string, token: string): string {
  const random = randomBytes(16).toString("base64url");
  return `${random}.${hmac(secret, `${CSRF_DOMAIN}${random}.${token}`)}`;
}

/** Whether `nonce` was made by `csrfNonce(secret, token)` (constant-time). */
export function verifyCsrfNonce(secret: string, token: string, nonce: string): boolean {
  const match = NONCE.exec(nonce);
  const random = match?.[1];
  const mac = match?.[2];
  if (random === undefined || mac === undefined) return false;
  return safeEqual(mac, hmac(secret, `${CSRF_DOMAIN}${random}.${token}`));
}

// ---------------------------------------------------------------------------------------------------------------
// Deciding

function isFormEncoded(contentType: string | undefined): boolean {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() === "application/x-www-form-urlencoded";
}

function emailAllowed(deps: ApprovalDeps, email: string): boolean {
  const wanted = email.toLowerCase();
  return deps.approvers.emails.some((e) => e.toLowerCase() === wanted);
}

function recordExpired(record: ApprovalRecord, now: Date): boolean {
  if (record.expiresAt === undefined) return false;
  const at = Date.parse(record.expiresAt);
  return !Number.isFinite(at) || now.getTime() >= at;
}

/** The error name of a rejected Step Functions call (TaskDoesNotExist, TaskTimedOut, InvalidToken, …). */
function errorName(error: unknown): string {
  const name = error instanceof Error ? error.name : "UnknownError";
  return /^[A-Za-z0-9.:_-]{1,100}$/.test(name) ? name : "UnknownError";
}

interface DecisionInput {
  channel: "slack" | "link";
  approvalId: string;
  decision: ApprovalDecision;
  approver: string;
  nonce: string;
  /** Links only: the task token reference the link was signed with. */
  taskTokenRef?: string;
}

/** The common end of both channels: the record, its task token, single use, then exactly one Step Functions call. */
async function decide(ctx: Context, input: DecisionInput): Promise<ApprovalResponse> {
  const { channel, approvalId, decision, approver } = input;
  const details: AuditDetails = { approvalId, approver, decision };
  const record = await ctx.deps.store.get(approvalId);
  if (record === undefined) return refuse(ctx, channel, 404, "unknown-approval", details);
  if (input.taskTokenRef !== undefined && !matchesTaskToken(input.taskTokenRef, record.taskToken))
    return refuse(ctx, channel, 401, "link-task-token-mismatch", details);
  if (recordExpired(record, ctx.now)) return refuse(ctx, channel, 410, "approval-expired", details);
  if (!(await ctx.deps.store.markUsed(approvalId, input.nonce)))
    return refuse(ctx, channel, 409, "already-decided", details);

  try {
    // Loaded here, not at the top: the SFN client stays out of every bundle that imports core but never decides.
    const { SendTaskFailureCommand, SendTaskSuccessCommand } = await import("../aws/sfn.ts");
    const sfn = await ctx.deps.sfn();
    if (decision === "approve")
      await sfn.send(
        new SendTaskSuccessCommand({
          taskToken: record.taskToken,
          // decidedAt: the end of the approval's wait, for its record and metric (functions approval-tasks.ts).
          output: JSON.stringify({ decision: "approved", approver, decidedAt: ctx.now.toISOString() }),
        }),
      );
    else
      await sfn.send(
        new SendTaskFailureCommand({
          taskToken: record.taskToken,
          error: "Rejected",
          cause: JSON.stringify({ decision: "rejected", approver, decidedAt: ctx.now.toISOString() }),
        }),
      );
  } catch (error) {
    // The approval stays used: nothing runs without a fresh approval, and the state machine's timeout ends the wait.
    await ctx.deps.audit({
      time: ctx.now.toISOString(),
      channel,
      event: "failed",
      statusCode: 502,
      reason: `step-functions-${errorName(error)}`,
      ...details,
    });
    return text(502, "The decision could not be delivered to Step Functions.");
  }
  await ctx.deps.audit({
    time: ctx.now.toISOString(),
    channel,
    event: "decided",
    statusCode: 200,
    reason: decision === "approve" ? "approved" : "rejected",
    ...details,
  });
  return channel === "slack"
    ? text(200, decision === "approve" ? "Approved." : "Rejected.")
    : html(200, decidedPage(decision, record));
}

// ---------------------------------------------------------------------------------------------------------------
// Slack

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,32}$/;
const SLACK_VALUE = /^(approve|reject):([A-Za-z0-9_-]{8,128})$/;

const blockActionsSchema = z.object({
  type: z.literal("block_actions"),
  user: z.object({ id: z.string().check(z.regex(SLACK_USER_ID)) }),
  actions: z
    .array(z.object({ action_id: z.string().check(z.maxLength(255)), value: z.string().check(z.maxLength(2000)) }))
    .check(z.minLength(1)),
});

function slackPayload(rawBody: string): z.output<typeof blockActionsSchema> | undefined {
  const values = new URLSearchParams(rawBody).getAll("payload");
  const [json] = values;
  if (values.length !== 1 || json === undefined) return undefined;
  try {
    const parsed = blockActionsSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function handleSlack(ctx: Context): Promise<ApprovalResponse> {
  const { request, deps } = ctx;
  const verified = verifySlackSignature({
    signingSecret: deps.slackSigningSecret,
    timestamp: request.headers["x-slack-request-timestamp"],
    signature: request.headers["x-slack-signature"],
    rawBody: request.rawBody,
    now: ctx.now,
  });
  if (!verified.ok) return refuse(ctx, "slack", 401, `slack-signature-${verified.reason}`);
  if (!isFormEncoded(request.headers["content-type"])) return refuse(ctx, "slack", 415, "unsupported-content-type");
  const payload = slackPayload(request.rawBody);
  if (payload === undefined) return refuse(ctx, "slack", 400, "malformed-slack-payload");

  const approver = `slack:${payload.user.id}`;
  if (!deps.approvers.slackUserIds.includes(payload.user.id))
    return refuse(ctx, "slack", 403, "approver-not-allowed", { approver });

  const action = payload.actions[0];
  const match = action === undefined ? null : SLACK_VALUE.exec(action.value);
  const decision = match?.[1] === "approve" || match?.[1] === "reject" ? match[1] : undefined;
  const approvalId = match?.[2];
  if (decision === undefined || approvalId === undefined || action?.action_id !== SLACK_ACTION_IDS[decision])
    return refuse(ctx, "slack", 400, "malformed-slack-action", { approver });

  return decide(ctx, { channel: "slack", approvalId, decision, approver, nonce: `slack:${randomUUID()}` });
}

// ---------------------------------------------------------------------------------------------------------------
// Links

async function handleApprovePage(ctx: Context): Promise<ApprovalResponse> {
  const { request, deps } = ctx;
  const token = request.query.token ?? "";
  const verified = verifyApproval(token, { secret: deps.linkSecret, now: ctx.now });
  if (!verified.ok) return refuse(ctx, "link", 401, `link-${verified.reason}`);
  const link = verified.payload;
  const details: AuditDetails = { approvalId: link.aid, approver: `email:${link.sub}` };
  if (!emailAllowed(deps, link.sub)) return refuse(ctx, "link", 403, "approver-not-allowed", details);
  const record = await deps.store.get(link.aid);
  if (record === undefined) return refuse(ctx, "link", 404, "unknown-approval", details);
  if (!matchesTaskToken(link.ref, record.taskToken))
    return refuse(ctx, "link", 401, "link-task-token-mismatch", details);
  if (recordExpired(record, ctx.now)) return refuse(ctx, "link", 410, "approval-expired", details);

  const body = approvalPage(record, link, token, csrfNonce(deps.linkSecret, token), deps);
  await deps.audit({
    time: ctx.now.toISOString(),
    channel: "link",
    event: "viewed",
    statusCode: 200,
    reason: "page-rendered",
    ...details,
  });
  return html(200, body);
}

/** The one value of a form field, or undefined when it is missing or repeated. */
function single(form: URLSearchParams, name: string): string | undefined {
  const values = form.getAll(name);
  return values.length === 1 ? values[0] : undefined;
}

async function handleDecide(ctx: Context): Promise<ApprovalResponse> {
  const { request, deps } = ctx;
  if (!isFormEncoded(request.headers["content-type"])) return refuse(ctx, "link", 415, "unsupported-content-type");
  if (request.headers["sec-fetch-site"] === "cross-site") return refuse(ctx, "link", 403, "cross-site-request");
  const form = new URLSearchParams(request.rawBody);
  const token = single(form, "token");
  const nonce = single(form, "nonce");
  const decisionText = single(form, "decision");
  if (token === undefined || nonce === undefined || decisionText === undefined)
    return refuse(ctx, "link", 400, "malformed-form");

  const verified = verifyApproval(token, { secret: deps.linkSecret, now: ctx.now });
  if (!verified.ok) return refuse(ctx, "link", 401, `link-${verified.reason}`);
  const link = verified.payload;
  const approver = `email:${link.sub}`;
  const details: AuditDetails = { approvalId: link.aid, approver };
  if (!verifyCsrfNonce(deps.linkSecret, token, nonce)) return refuse(ctx, "link", 403, "csrf-nonce-invalid", details);
  const decision = APPROVAL_DECISIONS.find((d) => d === decisionText);
  if (decision === undefined) return refuse(ctx, "link", 400, "malformed-decision", details);
  if (!link.dec.includes(decision))
    return refuse(ctx, "link", 403, "decision-not-allowed-by-link", { ...details, decision });
  if (!emailAllowed(deps, link.sub)) return refuse(ctx, "link", 403, "approver-not-allowed", { ...details, decision });

  return decide(ctx, { channel: "link", approvalId: link.aid, decision, approver, nonce, taskTokenRef: link.ref });
}

// ---------------------------------------------------------------------------------------------------------------

/** One approval callback request → its response, with at most one Step Functions call. */
export async function handleApprovalRequest(request: ApprovalRequest, deps: ApprovalDeps): Promise<ApprovalResponse> {
  const ctx: Context = { request, deps, now: deps.now() };
  if (Buffer.byteLength(request.rawBody, "utf8") > MAX_BODY_BYTES) return refuse(ctx, "http", 413, "body-too-large");
  const method = request.method.toUpperCase();
  switch (request.path) {
    case APPROVAL_PATHS.slack:
      return method === "POST" ? handleSlack(ctx) : refuse(ctx, "slack", 405, "method-not-allowed");
    case APPROVAL_PATHS.approve:
      return method === "GET" ? handleApprovePage(ctx) : refuse(ctx, "link", 405, "method-not-allowed");
    case APPROVAL_PATHS.decide:
      return method === "POST" ? handleDecide(ctx) : refuse(ctx, "link", 405, "method-not-allowed");
    default:
      return refuse(ctx, "http", 404, "unknown-path");
  }
}
