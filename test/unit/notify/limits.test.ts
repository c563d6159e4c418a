import { describe, expect, it } from "vitest";
import {
  fitSlackMessage,
  fitSnsPublish,
  SLACK_LIMITS,
  SNS_LIMITS,
  snsPublishBytes,
  utf8Bytes,
} from "../../../packages/core/src/notify/limits.ts";
import type { Block, MrkdwnTextObject, SlackMessage } from "../../../packages/core/src/notify/slack.ts";

const NOTE = /\u2026 \(trimmed: [\d,]+ more (?:characters?|fields?|elements?|blocks?)\)$/;
const SMILE = "\ud83d\ude00"; // one character, two UTF-16 code units, four UTF-8 bytes

function mrkdwn(text: string): MrkdwnTextObject {
  return { type: "mrkdwn", text, verbatim: true };
}

function message(blocks: Block[], text = "fallback"): SlackMessage {
  return { text, blocks };
}

function sectionText(m: SlackMessage, index = 0): string {
  const block = m.blocks[index];
  return block?.type === "section" ? (block.text?.text ?? "") : "";
}

describe("fitSlackMessage", () => {
  it("keeps a section text of exactly 3000 characters and trims 3001 with the note", () => {
    const at = "a".repeat(SLACK_LIMITS.sectionText);
    expect(sectionText(fitSlackMessage(message([{ type: "section", text: mrkdwn(at) }])))).toBe(at);
    const over = sectionText(fitSlackMessage(message([{ type: "section", text: mrkdwn(`${at}b`) }])));
    expect(over.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(over).toMatch(NOTE);
  });

  it("counts a multi-byte character as the code units it takes, never cutting it", () => {
    const at = SMILE.repeat(SLACK_LIMITS.sectionText / 2);
    expect(sectionText(fitSlackMessage(message([{ type: "section", text: mrkdwn(at) }])))).toBe(at);
    const over = sectionText(fitSlackMessage(message([{ type: "section", text: mrkdwn(`${at}x`) }])));
    expect(over.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(over.replace(NOTE, "")).toBe(SMILE.repeat(over.replace(NOTE, "").length / 2));
  });

  it("keeps a 150-character header and trims 151", () => {
    const header = (text: string): Block => ({ type: "header", text: { type: "plain_text", text, emoji: true } });
    const at = "h".repeat(SLACK_LIMITS.headerText);
    expect(fitSlackMessage(message([header(at)])).blocks[0]).toEqual(header(at));
    const fitted = fitSlackMessage(message([header(`${at}h`)])).blocks[0];
    const text = fitted?.type === "header" ? fitted.text.text : "";
    expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
    expect(text).toMatch(NOTE);
  });

  it("keeps 10 fields of 2000 characters and trims an 11th field and a 2001st character", () => {
    const ten = Array.from({ length: SLACK_LIMITS.fields }, () => mrkdwn("f".repeat(SLACK_LIMITS.fieldText)));
    const kept = fitSlackMessage(message([{ type: "section", fields: ten }])).blocks[0];
    expect(kept).toEqual({ type: "section", fields: ten });
    const eleven = [...ten.slice(0, 9), mrkdwn("g".repeat(SLACK_LIMITS.fieldText + 1)), mrkdwn("last")];
    const fitted = fitSlackMessage(message([{ type: "section", fields: eleven }])).blocks[0];
    const fields = fitted?.type === "section" ? (fitted.fields ?? []) : [];
    expect(fields).toHaveLength(SLACK_LIMITS.fields);
    expect(fields[9]?.text).toBe("\u2026 (trimmed: 2 more fields)");
  });

  it("keeps 10 context elements and replaces the 10th and 11th with a note", () => {
    const elements = Array.from({ length: SLACK_LIMITS.contextElements + 1 }, (_, i) => mrkdwn(`e${i}`));
    const fitted = fitSlackMessage(message([{ type: "context", elements }])).blocks[0];
    const shown = fitted?.type === "context" ? fitted.elements : [];
    expect(shown).toHaveLength(SLACK_LIMITS.contextElements);
    expect(shown[9]?.text).toBe("\u2026 (trimmed: 2 more elements)");
    const ten = elements.slice(0, SLACK_LIMITS.contextElements);
    expect(fitSlackMessage(message([{ type: "context", elements: ten }])).blocks[0]).toEqual({
      type: "context",
      elements: ten,
    });
  });

  it("keeps 50 blocks and turns a 51st into a note in the 50th place", () => {
    const fifty: Block[] = Array.from({ length: SLACK_LIMITS.blocks }, () => ({ type: "divider" }));
    expect(fitSlackMessage(message(fifty)).blocks).toEqual(fifty);
    const fitted = fitSlackMessage(message([...fifty, { type: "divider" }])).blocks;
    expect(fitted).toHaveLength(SLACK_LIMITS.blocks);
    expect(fitted[49]).toEqual({
      type: "context",
      elements: [mrkdwn("\u2026 (trimmed: 2 more blocks)")],
    });
  });

  it("keeps a 40,000-character text and trims 40,001, never inside an entity", () => {
    const at = "t".repeat(SLACK_LIMITS.text);
    expect(fitSlackMessage(message([], at)).text).toBe(at);
    const over = fitSlackMessage(message([], `${"t".repeat(SLACK_LIMITS.text - 3)}&amp;`)).text;
    expect(over.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
    expect(over).toMatch(NOTE);
    expect(over.replace(NOTE, "")).toMatch(/^t+$/);
  });
});

describe("fitSnsPublish", () => {
  const attributes = { severity: { DataType: "String", StringValue: "critical" } };
  /** The bytes the fields other than the message take: subject, attribute name, type and value. */
  const overhead = snsPublishBytes({ Subject: "subject", Message: "", MessageAttributes: attributes });

  it("counts the message, the attributes' names, types and values, and the subject, in UTF-8 bytes", () => {
    expect(overhead).toBe(7 + "severity".length + "String".length + "critical".length);
    expect(snsPublishBytes({ Subject: "s", Message: "€", MessageAttributes: {} })).toBe(1 + 3);
  });

  it("keeps a request of exactly 262,144 bytes and trims one of 262,145, by bytes, not characters", () => {
    const at = {
      Subject: "subject",
      Message: "m".repeat(SNS_LIMITS.publishBytes - overhead),
      MessageAttributes: attributes,
    };
    expect(fitSnsPublish(at)).toEqual(at);
    const over = fitSnsPublish({ ...at, Message: `${at.Message}m` });
    expect(snsPublishBytes(over)).toBeLessThanOrEqual(SNS_LIMITS.publishBytes);
    expect(over.Message).toMatch(/\n\u2026 \(trimmed: [\d,]+ more characters\)$/);
  });

  it("trims a message that is short in characters but over in bytes, on a character boundary", () => {
    // 100,000 characters, 300,000 bytes: under the limit in characters, over it in bytes.
    const euros = "€".repeat(100_000);
    const fitted = fitSnsPublish({ Subject: "subject", Message: euros, MessageAttributes: attributes });
    expect(snsPublishBytes(fitted)).toBeLessThanOrEqual(SNS_LIMITS.publishBytes);
    const [kept = "", note = ""] = fitted.Message.split("\n");
    expect(kept).toBe("€".repeat(kept.length));
    expect(utf8Bytes(kept)).toBeGreaterThan(SNS_LIMITS.publishBytes - overhead - 64);
    expect(note).toBe(`\u2026 (trimmed: ${(100_000 - kept.length).toLocaleString("en-US")} more characters)`);
  });

  it("keeps a 99-character subject, cuts a 100-character one with ..., and never lets a line break through", () => {
    const base = { Message: "m", MessageAttributes: {} };
    expect(fitSnsPublish({ ...base, Subject: "s".repeat(99) }).Subject).toBe("s".repeat(99));
    expect(fitSnsPublish({ ...base, Subject: "s".repeat(100) }).Subject).toBe(`${"s".repeat(96)}...`);
    expect(fitSnsPublish({ ...base, Subject: "one\r\ntwo\u202e" }).Subject).toBe("one??two?");
  });
});
