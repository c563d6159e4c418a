/**
 * The approval page in a real headless Chromium: `handleApprovalRequest` served over HTTP on 127.0.0.1, an in-memory
 * approval store, Step Functions mocked. What a person (or a mail scanner) does with the signed link, click by click.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import type { Browser, BrowserContext, Page, Response as PageResponse } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type ApprovalAuditEntry,
  type ApprovalDeps,
  type ApprovalRequest,
  handleApprovalRequest,
} from "../../packages/core/src/approval/callback.ts";
import { type ApprovalRecord, signApproval, taskTokenRef } from "../../packages/core/src/approval/links.ts";
import { parsePolicy, processEvent } from "../../packages/core/src/index.ts";
import { launchChromium } from "../helpers/browser.ts";
import { must } from "../helpers/fixtures.ts";
import { MemoryApprovalStore } from "../unit/approval/memory-store.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const EVENT = join(ROOT, "examples", "events", "ct-10-eks-associate-access-policy-cluster-admin.json");
const POLICY = join(ROOT, "examples", "policy.json");
const SCREENSHOT = "/tmp/approval-page.png";

const LINK_SECRET = "link-secret-0123456789abcdef0123456789";
const SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const APPROVER_EMAIL = "alice@example.com";
const APPROVER = `email:${APPROVER_EMAIL}`;
const NOW = new Date("2025-04-02T10:30:00Z");
const BROWSER_TIMEOUT = 30_000;

const PLAN_PARAMS = {
  clusterName: "prod-eks",
  principalArn: "arn:aws:iam::111122223333:role/external-ci-deployer",
  policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
};

const sfn = mockClient(SFNClient);
const store = new MemoryApprovalStore();
const audit: ApprovalAuditEntry[] = [];
const deps: ApprovalDeps = {
  sfn: async () => new SFNClient({ region: "eu-west-1" }),
  store,
  slackSigningSecret: SLACK_SECRET,
  linkSecret: LINK_SECRET,
  approvers: { slackUserIds: ["U0APPROVER"], emails: [APPROVER_EMAIL, "bob@example.com"] },
  now: () => NOW,
  audit: async (entry) => {
    audit.push(entry);
  },
};

/** The cluster-admin grant through the pipeline with the example policy (approve mode), not in dry-run. */
function approvalRecord(approvalId: string, taskToken: string): ApprovalRecord {
  const policy = parsePolicy({ ...JSON.parse(readFileSync(POLICY, "utf8")), dryRun: false });
  const result = processEvent(readFileSync(EVENT, "utf8"), policy, { forceDryRun: false });
  const record: ApprovalRecord = {
    approvalId,
    taskToken,
    assessment: must(result.assessments[0], "assessment"),
    decision: must(result.decisions[0], "decision"),
  };
  if (result.signal) record.signal = result.signal;
  return record;
}

/** A stored approval and the path of its signed link (expiring an hour after NOW unless told). */
function addApproval(name: string, expiresInMs = 3_600_000): { record: ApprovalRecord; path: string } {
  const record = approvalRecord(`apr-e2e-${name}`, `AQCEAAAAKgAAAAMAAAAAAAAAAfake-task-token-${name}`);
  store.put(record);
  const token = signApproval({
    secret: LINK_SECRET,
    approvalId: record.approvalId,
    taskTokenRef: taskTokenRef(record.taskToken),
    approver: APPROVER_EMAIL,
    decisionAllowed: ["approve", "reject"],
    expiresAt: new Date(NOW.getTime() + expiresInMs),
  });
  return { record, path: `/approve?token=${encodeURIComponent(token)}` };
}

// ---------------------------------------------------------------------------------------------------------------
// The HTTP server: node requests → ApprovalRequest → handleApprovalRequest → node response.

async function toApprovalRequest(req: IncomingMessage): Promise<ApprovalRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers))
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  return {
    method: req.method ?? "GET",
    path: url.pathname,
    headers,
    rawBody: Buffer.concat(chunks).toString("utf8"),
    query: Object.fromEntries(url.searchParams),
  };
}

async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const response = await handleApprovalRequest(await toApprovalRequest(req), deps);
    res.writeHead(response.statusCode, response.headers).end(response.body);
  } catch (error) {
    res.writeHead(500, { "Content-Type": "text/plain" }).end(String(error));
  }
}

async function startServer(): Promise<Server> {
  const server = createServer((req, res) => void serve(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return server;
}

async function stopServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}

// ---------------------------------------------------------------------------------------------------------------
// The page

/** Clicks a decision button and waits for the page the POST /decide returned. */
async function decideBy(page: Page, button: "Approve" | "Reject"): Promise<PageResponse> {
  const response = page.waitForResponse(
    (r) => new URL(r.url()).pathname === "/decide" && r.request().method() === "POST",
  );
  await page.getByRole("button", { name: button }).click();
  const decided = await response;
  await page.waitForURL((url) => url.pathname === "/decide");
  return decided;
}

async function mainText(page: Page): Promise<string> {
  return (await page.locator("body").textContent()) ?? "";
}

let server: Server | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let origin = "";

beforeAll(async () => {
  server = await startServer();
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, BROWSER_TIMEOUT);

afterAll(async () => {
  try {
    await browser?.close();
  } finally {
    if (server) await stopServer(server);
    sfn.restore();
  }
}, BROWSER_TIMEOUT);

beforeEach(() => {
  sfn.reset();
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  audit.length = 0;
});

afterEach(async () => {
  await context?.close();
  context = undefined;
});

async function newPage(): Promise<Page> {
  context = await must(browser, "browser").newContext();
  return context.newPage();
}

describe("approval page in headless Chromium", { timeout: BROWSER_TIMEOUT }, () => {
  it("opening the signed link (twice, like a mail scanner) shows the assessment and exact plan, and decides nothing", async () => {
    const { record, path } = addApproval("view");
    const page = await newPage();

    const first = await page.goto(`${origin}${path}`);
    const second = await page.goto(`${origin}${path}`);
    const screenshot = await page.screenshot({ path: SCREENSHOT, fullPage: true });

    expect(first?.status()).toBe(200);
    expect(second?.status()).toBe(200);
    expect(await page.title()).toBe(`Approval needed: ${record.assessment.title}`);
    const text = await mainText(page);
    expect(text).toContain(record.assessment.title);
    expect(text).toContain(APPROVER_EMAIL);
    expect(await page.locator("ol > li code").allInnerTexts()).toEqual(["eks:DisassociateAccessPolicy"]);
    expect(JSON.parse(must(await page.locator("ol > li pre").textContent(), "plan parameters"))).toEqual(PLAN_PARAMS);
    expect(await page.getByRole("button").allInnerTexts()).toEqual(["Approve", "Reject"]);
    expect(await page.content()).not.toContain(record.taskToken);
    expect(screenshot.length).toBeGreaterThan(0);
    expect(sfn.calls()).toEqual([]);
    expect(store.used.has(record.approvalId)).toBe(false);
    expect(audit.map((e) => e.reason)).toEqual(["page-rendered", "page-rendered"]);
  });

  it("clicking Approve sends exactly one SendTaskSuccess with the stored task token and the approver", async () => {
    const { record, path } = addApproval("approve");
    const page = await newPage();
    await page.goto(`${origin}${path}`);

    const response = await decideBy(page, "Approve");

    expect(response.status()).toBe(200);
    expect(sfn.calls()).toHaveLength(1);
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input).toEqual({
      taskToken: record.taskToken,
      output: JSON.stringify({ decision: "approved", approver: APPROVER, decidedAt: NOW.toISOString() }),
    });
    expect(await page.locator("h1").textContent()).toBe("Decision recorded");
    expect(await mainText(page)).toContain("Approved. eks-responder goes on with the plan (1 AWS call).");
  });

  it("going back and submitting again, with a fresh page or the first nonce, is refused with 409; Step Functions hears once", async () => {
    const { record, path } = addApproval("replay");
    const page = await newPage();
    await page.goto(`${origin}${path}`);
    const firstNonce = await page.locator('input[name="nonce"]').inputValue();
    const approved = await decideBy(page, "Approve");

    await page.goBack();
    const again = await decideBy(page, "Approve");
    const againText = await mainText(page);
    await page.goBack();
    await page
      .locator('input[name="nonce"]')
      .evaluate((input, nonce) => input.setAttribute("value", nonce), firstNonce);
    const sameForm = await decideBy(page, "Reject");
    const sameFormText = await mainText(page);

    expect(approved.status()).toBe(200);
    expect(again.status()).toBe(409);
    expect(againText).toContain("This approval has already been decided.");
    expect(sameForm.status()).toBe(409);
    expect(sameForm.request().postData()).toContain(`nonce=${encodeURIComponent(firstNonce)}`);
    expect(sameFormText).toContain("This approval has already been decided.");
    expect(sfn.calls()).toHaveLength(1);
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.taskToken).toBe(record.taskToken);
    expect(audit.filter((e) => e.event === "refused").map((e) => [e.statusCode, e.reason])).toEqual([
      [409, "already-decided"],
      [409, "already-decided"],
    ]);
  });

  it("clicking Reject on another approval sends exactly one SendTaskFailure with error Rejected", async () => {
    const { record, path } = addApproval("reject");
    const page = await newPage();
    await page.goto(`${origin}${path}`);

    const response = await decideBy(page, "Reject");

    expect(response.status()).toBe(200);
    expect(sfn.calls()).toHaveLength(1);
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input).toEqual({
      taskToken: record.taskToken,
      error: "Rejected",
      cause: JSON.stringify({ decision: "rejected", approver: APPROVER, decidedAt: NOW.toISOString() }),
    });
    expect(await mainText(page)).toContain("Rejected. eks-responder makes no change for this assessment.");
  });

  it("an expired link shows a refusal page without buttons and sends nothing", async () => {
    const { record, path } = addApproval("expired", -60_000);
    const page = await newPage();

    const response = await page.goto(`${origin}${path}`);

    expect(response?.status()).toBe(401);
    expect(await mainText(page)).toContain("the link or signature is invalid or has expired");
    expect(await page.getByRole("button").count()).toBe(0);
    expect(sfn.calls()).toEqual([]);
    expect(store.used.has(record.approvalId)).toBe(false);
    expect(audit.map((e) => [e.event, e.statusCode, e.reason])).toEqual([["refused", 401, "link-expired"]]);
  });
});
