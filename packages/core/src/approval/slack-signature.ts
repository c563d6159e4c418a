/**
 * Slack request signatures, version `v0` ("Verifying requests from Slack",
 * https://docs.slack.dev/authentication/verifying-requests-from-slack/, formerly
 * https://api.slack.com/authentication/verifying-requests-from-slack):
 *
 * 1. the base string is `v0:{X-Slack-Request-Timestamp}:{raw request body}`;
 * 2. its HMAC-SHA256 under the app's signing secret, in hex, prefixed with `v0=`, is the `X-Slack-Signature` header;
 * 3. a request whose timestamp is more than five minutes away from the local clock is refused (replay window).
 *
 * The body must be the raw bytes Slack sent, before any parsing. The comparison is constant-time
 * (`crypto.timingSafeEqual` on two 32-byte digests). Pure: the clock is passed in.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** Slack's replay window: five minutes, either direction. */
export const SLACK_MAX_SKEW_SECONDS = 5 * 60;

export interface SlackSignatureInput {
  signingSecret: string;
  /** The `X-Slack-Request-Timestamp` header: Unix time in seconds. */
  timestamp: string | undefined;
  /** The `X-Slack-Signature` header: `v0=` and 64 hex digits. */
  signature: string | undefined;
  /** The request body exactly as received (UTF-8 text, not parsed). */
  rawBody: string;
  now: Date;
}

export type SlackSignatureFailure = "stale" | "malformed" | "mismatch";
export type SlackSignatureResult = { ok: true } | { ok: false; reason: SlackSignatureFailure };

const TIMESTAMP = /^\d{1,12}$/;
const SIGNATURE = /^v0=([0-9a-f]{64})$/i;

/** `v0=` and the hex HMAC-SHA256 of `v0:{timestamp}:{rawBody}`: the signature Slack would send. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac("sha256", signingSecret).update(`v0:${timestamp}:${rawBody}`, "utf8").digest("hex")}`;
}

/**
 * Whether a request was signed by Slack with this signing secret within the last five minutes. Headers that are
 * missing or not in Slack's format are `malformed`; a timestamp more than five minutes from `now` (past or future) is
 * `stale`; a signature that does not match the body is `mismatch`. An empty signing secret never verifies.
 */
export function verifySlackSignature(input: SlackSignatureInput): SlackSignatureResult {
  const { signingSecret, timestamp, signature, rawBody, now } = input;
  if (timestamp === undefined || !TIMESTAMP.test(timestamp)) return { ok: false, reason: "malformed" };
  const hex = signature === undefined ? undefined : SIGNATURE.exec(signature)?.[1];
  if (hex === undefined) return { ok: false, reason: "malformed" };

  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (!Number.isFinite(nowSeconds) || Math.abs(nowSeconds - Number(timestamp)) > SLACK_MAX_SKEW_SECONDS)
    return { ok: false, reason: "stale" };

  if (signingSecret.length === 0) return { ok: false, reason: "mismatch" };
  const expected = createHmac("sha256", signingSecret).update(`v0:${timestamp}:${rawBody}`, "utf8").digest();
  const given = Buffer.from(hex, "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: "mismatch" };
  return { ok: true };
}
