import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  SLACK_MAX_SKEW_SECONDS,
  slackSignature,
  verifySlackSignature,
} from "../../../packages/core/src/approval/slack-signature.ts";

/**
 * Slack's documented example, "Verifying requests from Slack":
 * https://api.slack.com/authentication/verifying-requests-from-slack (now https://docs.slack.dev/authentication/verifying-requests-from-slack/).
 */
const DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const DOC_TIMESTAMP = "1531420618";
const DOC_BODY =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
const DOC_NOW = new Date(Number(DOC_TIMESTAMP) * 1000);

function at(secondsFromDoc: number): Date {
  return new Date((Number(DOC_TIMESTAMP) + secondsFromDoc) * 1000);
}

/** `text` with the character at `index` replaced by a different one of the same kind. */
function flip(text: string, index: number): string {
  const char = text[index];
  const other = char === "a" ? "b" : "a";
  return text.slice(0, index) + other + text.slice(index + 1);
}

const documented = { signingSecret: DOC_SECRET, timestamp: DOC_TIMESTAMP, signature: DOC_SIGNATURE, rawBody: DOC_BODY };

describe("verifySlackSignature", () => {
  it("verifies Slack's documented example", () => {
    const input = { ...documented, now: DOC_NOW };

    const result = verifySlackSignature(input);

    expect(result).toEqual({ ok: true });
    expect(slackSignature(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY)).toBe(DOC_SIGNATURE);
  });

  it.each([
    ["the first byte of the body", { rawBody: flip(DOC_BODY, 0) }],
    ["a byte in the middle of the body", { rawBody: flip(DOC_BODY, 100) }],
    ["one byte more of body", { rawBody: `${DOC_BODY}&` }],
    ["a hex digit of the signature", { signature: flip(DOC_SIGNATURE, 10) }],
    ["the last hex digit of the signature", { signature: flip(DOC_SIGNATURE, DOC_SIGNATURE.length - 1) }],
    ["the signing secret", { signingSecret: flip(DOC_SECRET, 0) }],
  ])("refuses the documented example with %s changed (mismatch)", (_what, change) => {
    const input = { ...documented, ...change, now: DOC_NOW };

    const result = verifySlackSignature(input);

    expect(result).toEqual({ ok: false, reason: "mismatch" });
  });

  it.each([
    ["more than 5 minutes old", SLACK_MAX_SKEW_SECONDS + 1],
    ["a day old", 86_400],
    ["more than 5 minutes in the future", -(SLACK_MAX_SKEW_SECONDS + 1)],
    ["a day in the future", -86_400],
  ])("refuses a correctly signed request whose timestamp is %s (stale)", (_what, age) => {
    const input = { ...documented, now: at(age) };

    const result = verifySlackSignature(input);

    expect(result).toEqual({ ok: false, reason: "stale" });
  });

  it("accepts a timestamp exactly 5 minutes away, either direction", () => {
    const past = { ...documented, now: at(SLACK_MAX_SKEW_SECONDS) };
    const future = { ...documented, now: at(-SLACK_MAX_SKEW_SECONDS) };

    const results = [verifySlackSignature(past), verifySlackSignature(future)];

    expect(results).toEqual([{ ok: true }, { ok: true }]);
  });

  it.each([
    ["a missing timestamp header", { timestamp: undefined }],
    ["a missing signature header", { signature: undefined }],
    ["an empty timestamp", { timestamp: "" }],
    ["a timestamp that is not a number", { timestamp: "1531420618.5" }],
    ["a timestamp with a sign", { timestamp: "-1531420618" }],
    ["a v1= signature", { signature: DOC_SIGNATURE.replace("v0=", "v1=") }],
    ["a signature without a version", { signature: DOC_SIGNATURE.slice(3) }],
    ["a truncated signature", { signature: DOC_SIGNATURE.slice(0, -2) }],
    ["a signature with a non-hex digit", { signature: `${DOC_SIGNATURE.slice(0, -1)}g` }],
    ["two signatures", { signature: `${DOC_SIGNATURE},${DOC_SIGNATURE}` }],
  ])("refuses %s (malformed)", (_what, change) => {
    const input = { ...documented, ...change, now: DOC_NOW };

    const result = verifySlackSignature(input);

    expect(result).toEqual({ ok: false, reason: "malformed" });
  });

  it("never verifies with an empty signing secret", () => {
    const signature = slackSignature("", DOC_TIMESTAMP, DOC_BODY);

    const result = verifySlackSignature({ ...documented, signingSecret: "", signature, now: DOC_NOW });

    expect(result).toEqual({ ok: false, reason: "mismatch" });
  });

  it("verifies any body signed with the same secret, and never one signed with a different secret", () => {
    const now = new Date("2025-05-06T08:15:00Z");
    const timestamp = String(Math.floor(now.getTime() / 1000));
    const property = fc.property(
      fc.string({ maxLength: 2000, unit: "binary" }),
      fc.string({ minLength: 1, maxLength: 64 }),
      fc.string({ minLength: 1, maxLength: 64 }),
      (rawBody, secret, otherSecret) => {
        fc.pre(secret !== otherSecret);
        const forged = slackSignature(otherSecret, timestamp, rawBody);
        const genuine = slackSignature(secret, timestamp, rawBody);

        const refused = verifySlackSignature({ signingSecret: secret, timestamp, signature: forged, rawBody, now });
        const accepted = verifySlackSignature({ signingSecret: secret, timestamp, signature: genuine, rawBody, now });

        expect(refused).toEqual({ ok: false, reason: "mismatch" });
        expect(accepted).toEqual({ ok: true });
      },
    );

    fc.assert(property, { numRuns: 300 });
  });
});
