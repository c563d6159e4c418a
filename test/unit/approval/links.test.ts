import { describe, expect, it } from "vitest";
import {
  type ApprovalLinkPayload,
  matchesTaskToken,
  type SignApprovalInput,
  signApproval,
  taskTokenRef,
  verifyApproval,
} from "../../../packages/core/src/approval/links.ts";

const SECRET = "link-secret-0123456789abcdef0123456789";
const OTHER_SECRET = "another-secret-0123456789abcdef012345678";
const TASK_TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAfake-task-token-for-tests";
const NOW = new Date("2025-05-06T09:00:00Z");
const IN_ONE_HOUR = new Date("2025-05-06T10:00:00Z");

const input: SignApprovalInput = {
  secret: SECRET,
  approvalId: "apr-0123456789abcdef",
  taskTokenRef: taskTokenRef(TASK_TOKEN),
  approver: "alice@example.com",
  decisionAllowed: ["approve", "reject"],
  expiresAt: IN_ONE_HOUR,
};

function parts(token: string): { body: string; signature: string } {
  const [body = "", signature = ""] = token.split(".");
  return { body, signature };
}

function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(parts(token).body, "base64url").toString("utf8")) as Record<string, unknown>;
}

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** The same text with its last base64url digit moved by `step` in the alphabet. */
function bumpLast(text: string, step: number): string {
  const index = BASE64URL.indexOf(text.at(-1) ?? "A");
  return text.slice(0, -1) + (BASE64URL[(index + step) % 64] ?? "A");
}

describe("signApproval and verifyApproval", () => {
  it("round-trips: a fresh token verifies and gives back exactly what was signed", () => {
    const token = signApproval(input);

    const result = verifyApproval(token, { secret: SECRET, now: NOW });

    const expected: ApprovalLinkPayload = {
      v: 1,
      aid: "apr-0123456789abcdef",
      ref: taskTokenRef(TASK_TOKEN),
      sub: "alice@example.com",
      dec: ["approve", "reject"],
      exp: IN_ONE_HOUR.getTime() / 1000,
    };
    expect(result).toEqual({ ok: true, payload: expected });
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  });

  it("never carries the task token, only a reference that matches it", () => {
    const token = signApproval(input);

    const decoded = JSON.stringify(payloadOf(token));

    expect(decoded).not.toContain(TASK_TOKEN);
    expect(token).not.toContain(TASK_TOKEN);
    expect(matchesTaskToken(String(payloadOf(token).ref), TASK_TOKEN)).toBe(true);
    expect(matchesTaskToken(String(payloadOf(token).ref), `${TASK_TOKEN}x`)).toBe(false);
  });

  it("refuses a token at and after its expiry (expired), and accepts it one second before", () => {
    const token = signApproval(input);

    const atExpiry = verifyApproval(token, { secret: SECRET, now: IN_ONE_HOUR });
    const later = verifyApproval(token, { secret: SECRET, now: new Date("2025-05-07T09:00:00Z") });
    const before = verifyApproval(token, { secret: SECRET, now: new Date(IN_ONE_HOUR.getTime() - 1000) });

    expect(atExpiry).toEqual({ ok: false, reason: "expired" });
    expect(later).toEqual({ ok: false, reason: "expired" });
    expect(before.ok).toBe(true);
  });

  it.each([
    ["the approval id", { aid: "apr-ffffffffffffffff" }],
    ["the approver", { sub: "mallory@example.com" }],
    ["the allowed decisions", { dec: ["approve"] }],
    ["the expiry", { exp: IN_ONE_HOUR.getTime() / 1000 + 86_400 }],
  ])("refuses a token whose payload was changed: %s (mismatch)", (_what, change) => {
    const token = signApproval(input);
    const { signature } = parts(token);
    const body = Buffer.from(JSON.stringify({ ...payloadOf(token), ...change }), "utf8").toString("base64url");

    const result = verifyApproval(`${body}.${signature}`, { secret: SECRET, now: NOW });

    expect(result).toEqual({ ok: false, reason: "mismatch" });
  });

  it("refuses a token whose signature was changed (mismatch)", () => {
    const token = signApproval(input);
    const { body, signature } = parts(token);
    const first = signature[0] === "A" ? "B" : "A";

    const result = verifyApproval(`${body}.${first}${signature.slice(1)}`, { secret: SECRET, now: NOW });

    expect(result).toEqual({ ok: false, reason: "mismatch" });
  });

  it("refuses another spelling of the same signature bytes (non-canonical base64url)", () => {
    const token = signApproval(input);
    const { body, signature } = parts(token);
    // 32 bytes are 43 digits: the last digit carries 2 unused bits, so +1 decodes to the same bytes.
    const respelled = bumpLast(signature, 1);

    const result = verifyApproval(`${body}.${respelled}`, { secret: SECRET, now: NOW });

    expect(respelled).not.toBe(signature);
    expect(Buffer.from(respelled, "base64url").equals(Buffer.from(signature, "base64url"))).toBe(true);
    expect(result).toEqual({ ok: false, reason: "malformed" });
  });

  it("refuses a token signed with another secret (mismatch)", () => {
    const token = signApproval({ ...input, secret: OTHER_SECRET });

    const result = verifyApproval(token, { secret: SECRET, now: NOW });

    expect(result).toEqual({ ok: false, reason: "mismatch" });
  });

  it("refuses every token when the verifying secret is too short to be a real one (mismatch)", () => {
    const token = signApproval(input);

    const result = verifyApproval(token, { secret: "", now: NOW });

    expect(result).toEqual({ ok: false, reason: "mismatch" });
  });

  it.each([
    ["an empty token", ""],
    ["no signature part", "eyJ2IjoxfQ"],
    ["three parts", "a.b.c"],
    ["characters outside base64url", "eyJ2IjoxfQ==.c2ln"],
    ["a token over the size limit", `${"A".repeat(5000)}.AAAA`],
  ])("refuses %s (malformed)", (_what, token) => {
    const result = verifyApproval(token, { secret: SECRET, now: NOW });

    expect(result).toEqual({ ok: false, reason: "malformed" });
  });

  it("refuses a correctly signed payload that is not a link payload (malformed)", async () => {
    const { createHmac } = await import("node:crypto");
    const body = Buffer.from(JSON.stringify({ v: 1, aid: "x" }), "utf8").toString("base64url");
    const signature = createHmac("sha256", SECRET).update(`eks-responder.link.v1.${body}`).digest("base64url");

    const result = verifyApproval(`${body}.${signature}`, { secret: SECRET, now: NOW });

    expect(result).toEqual({ ok: false, reason: "malformed" });
  });

  it.each([
    ["a secret shorter than 32 bytes", { secret: "short" }],
    ["an approval id with a slash", { approvalId: "apr/0123456789" }],
    ["an approver that is not an email address", { approver: "<script>@x" }],
    ["no allowed decision", { decisionAllowed: [] }],
  ])("will not sign with %s", (_what, change) => {
    const bad = { ...input, ...change };

    const sign = () => signApproval(bad);

    expect(sign).toThrow();
  });
});
