/**
 * Signed approval links for approvers reached by email or SNS, and the server-side store they point into.
 *
 * A link carries a compact token: `base64url(JSON payload) "." base64url(HMAC-SHA256(secret, "eks-responder.link.v1."
 * + payload part))`. The payload names the approval (its id in the store), a reference to the Step Functions task
 * token (its SHA-256, never the token itself), the approver the link was sent to, the decisions it allows and when it
 * expires. The task token stays in the `ApprovalStore`; a leaked link never leaks it.
 *
 * Verification checks the signature first (constant-time), then the payload, then the expiry; both parts must be
 * canonical base64url (re-encoding the decoded bytes gives the same text), so no two texts carry the same signature.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { Assessment } from "../detectors/types.ts";
import type { Decision, SignalSummary } from "../pipeline/types.ts";

export type ApprovalDecision = "approve" | "reject";
export const APPROVAL_DECISIONS: readonly ApprovalDecision[] = ["approve", "reject"];

/** Approval ids: what the store keys on, and what Slack buttons and links carry. */
export const APPROVAL_ID = /^[A-Za-z0-9_-]{8,128}$/;

/** The shortest secret accepted for signing links, in bytes (the HMAC-SHA256 output size). */
export const MIN_LINK_SECRET_BYTES = 32;

/** Tokens longer than this are refused before any work (a real one is a few hundred characters). */
export const MAX_LINK_TOKEN_LENGTH = 4096;

const LINK_DOMAIN = "eks-responder.link.v1.";

/** What a pending approval keeps server-side: the task token, and what the approver is shown. */
export interface ApprovalRecord {
  approvalId: string;
  /** The Step Functions task token (`waitForTaskToken`). Only ever sent to Step Functions. */
  taskToken: string;
  /** The assessment and the decision (with its exact plan) the approval is about. */
  assessment: Assessment;
  decision: Decision;
  signal?: SignalSummary;
  /** ISO 8601: after this, nothing is decided through this approval (Slack or link). */
  expiresAt?: string;
}

/** Where pending approvals live (DynamoDB in the deployment; in memory in the tests). */
export interface ApprovalStore {
  get(approvalId: string): Promise<ApprovalRecord | undefined>;
  /**
   * Marks the approval decided, atomically: true for the first call for an id, false for every later one (a
   * conditional write). `nonce` identifies the request that used it.
   */
  markUsed(approvalId: string, nonce: string): Promise<boolean>;
}

/** The signed content of a link. */
export interface ApprovalLinkPayload {
  v: 1;
  /** Approval id: the key in the `ApprovalStore`. */
  aid: string;
  /** `taskTokenRef(taskToken)`: binds the link to the one task token stored under `aid`. */
  ref: string;
  /** The approver the link was sent to (an email address). */
  sub: string;
  /** The decisions this link may make. */
  dec: ApprovalDecision[];
  /** Expiry, Unix seconds. */
  exp: number;
}

export interface SignApprovalInput {
  secret: string;
  approvalId: string;
  taskTokenRef: string;
  approver: string;
  decisionAllowed: readonly ApprovalDecision[];
  expiresAt: Date;
}

export type ApprovalLinkFailure = "malformed" | "expired" | "mismatch";
export type ApprovalLinkResult =
  | { ok: true; payload: ApprovalLinkPayload }
  | { ok: false; reason: ApprovalLinkFailure };

/** The reference to a task token a link carries: its SHA-256, base64url. */
export function taskTokenRef(taskToken: string): string {
  return createHash("sha256").update(taskToken, "utf8").digest("base64url");
}

/** Whether `ref` is the reference of `taskToken` (constant-time). */
export function matchesTaskToken(ref: string, taskToken: string): boolean {
  return safeEqual(ref, taskTokenRef(taskToken));
}

/** Constant-time equality of two strings (lengths are not secret). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && timingSafeEqual(left, right);
}

/** HMAC-SHA256 under `secret`, base64url. */
export function hmac(secret: string, text: string): string {
  return createHmac("sha256", secret).update(text, "utf8").digest("base64url");
}

function secretUsable(secret: string): boolean {
  return Buffer.byteLength(secret, "utf8") >= MIN_LINK_SECRET_BYTES;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The bytes of canonical base64url text, or undefined. */
function decodeBase64url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64url");
  return bytes.toString("base64url") === text ? bytes : undefined;
}

/** The last second a JavaScript Date can hold. */
const MAX_DATE_SECONDS = 8_640_000_000_000;

const EMAIL = /^[^\s@<>"'&]{1,64}@[A-Za-z0-9.-]{1,255}$/;

function isPayload(value: unknown): value is ApprovalLinkPayload {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const p = value as Record<string, unknown>;
  return (
    p.v === 1 &&
    typeof p.aid === "string" &&
    APPROVAL_ID.test(p.aid) &&
    typeof p.ref === "string" &&
    p.ref.length > 0 &&
    p.ref.length <= 128 &&
    typeof p.sub === "string" &&
    EMAIL.test(p.sub) &&
    Array.isArray(p.dec) &&
    p.dec.length > 0 &&
    p.dec.every((d) => d === "approve" || d === "reject") &&
    typeof p.exp === "number" &&
    Number.isSafeInteger(p.exp) &&
    p.exp > 0 &&
    p.exp <= MAX_DATE_SECONDS
  );
}

/** A signed link token. Throws on a secret shorter than 32 bytes or invalid content (a programming error). */
export function signApproval(input: SignApprovalInput): string {
  if (!secretUsable(input.secret)) throw new Error(`the link secret must be at least ${MIN_LINK_SECRET_BYTES} bytes`);
  const payload: ApprovalLinkPayload = {
    v: 1,
    aid: input.approvalId,
    ref: input.taskTokenRef,
    sub: input.approver,
    dec: [...new Set(input.decisionAllowed)],
    exp: Math.floor(input.expiresAt.getTime() / 1000),
  };
  if (!isPayload(payload))
    throw new Error("invalid approval link content (approval id, approver, decisions or expiry)");
  const body = Buffer.from(JSON.stringify(payload), "utf8").toString("base64url");
  return `${body}.${hmac(input.secret, LINK_DOMAIN + body)}`;
}

/**
 * The payload of a token signed with `secret`, when it has not expired at `now`. `malformed`: not a token;
 * `mismatch`: not signed with this secret (forged or altered); `expired`: signed, but past its expiry.
 */
export function verifyApproval(token: string, options: { secret: string; now: Date }): ApprovalLinkResult {
  if (token.length === 0 || token.length > MAX_LINK_TOKEN_LENGTH) return { ok: false, reason: "malformed" };
  const parts = token.split(".");
  const [body, signature] = parts;
  if (parts.length !== 2 || body === undefined || signature === undefined) return { ok: false, reason: "malformed" };
  const bodyBytes = decodeBase64url(body);
  const signatureBytes = decodeBase64url(signature);
  if (bodyBytes === undefined || signatureBytes === undefined) return { ok: false, reason: "malformed" };

  if (!secretUsable(options.secret)) return { ok: false, reason: "mismatch" };
  const expected = createHmac("sha256", options.secret)
    .update(LINK_DOMAIN + body, "utf8")
    .digest();
  if (signatureBytes.length !== expected.length || !timingSafeEqual(signatureBytes, expected))
    return { ok: false, reason: "mismatch" };

  let payload: unknown;
  try {
    payload = JSON.parse(bodyBytes.toString("utf8"));
  } catch {
    return { ok: false, reason: "malformed" };
  }
  if (!isPayload(payload)) return { ok: false, reason: "malformed" };
  if (Math.floor(options.now.getTime() / 1000) >= payload.exp) return { ok: false, reason: "expired" };
  return { ok: true, payload };
}
