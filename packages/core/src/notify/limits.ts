/**
 * The size limits Slack and Amazon SNS enforce, checked on the finished message right before the call. A message over
 * a limit is trimmed with a visible note (`… (trimmed: 12,345 more characters)`), never refused at run time: the
 * renderers already stay inside these limits, so this is the guarantee, not the layout.
 *
 * Slack (Block Kit reference, https://docs.slack.dev/reference/block-kit/blocks/, and chat.postMessage,
 * https://docs.slack.dev/reference/methods/chat.postMessage):
 * - at most 50 blocks per message;
 * - header block: plain_text of at most 150 characters;
 * - section block: text of at most 3000 characters; at most 10 fields of at most 2000 characters each;
 * - context block: at most 10 elements (text objects, at most 3000 characters each);
 * - `text`: Slack truncates it past 40,000 characters.
 * Characters are counted here in UTF-16 code units, which is never fewer than the characters Slack counts.
 *
 * Amazon SNS (Publish, https://docs.aws.amazon.com/sns/latest/api/API_Publish.html; message attributes,
 * https://docs.aws.amazon.com/sns/latest/api/API_MessageAttributeValue.html; quotas,
 * https://docs.aws.amazon.com/general/latest/gr/sns.html):
 * - Subject: no line breaks or control characters, less than 100 characters;
 * - Message: UTF-8, at most 256 KiB = 262,144 bytes (bytes, not characters) by default (a topic's
 *   `MaximumMessageSize` can raise it, https://docs.aws.amazon.com/sns/latest/dg/large-message-payloads.html), and
 *   "all parts of the message attribute, including name, type, and value, are included in the message size
 *   restriction". The subject is counted here too, to be on the safe side.
 */
import { cutPlain, SNS_SUBJECT_MAX, trimEscaped, trimNote } from "./escape.ts";
import type { Block, ContextBlock, MrkdwnTextObject, SectionBlock, SlackMessage } from "./slack.ts";

export const SLACK_LIMITS = {
  headerText: 150,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
  contextText: 3000,
  blocks: 50,
  /** chat.postMessage: "Slack will truncate messages containing more than 40,000 characters". */
  text: 40_000,
} as const;

export const SNS_LIMITS = {
  /** "less than 100 characters". */
  subject: SNS_SUBJECT_MAX,
  /** 256 KiB: message, attribute names, types and values together (and the subject, here). */
  publishBytes: 262_144,
} as const;

function plural(n: number, word: string): string {
  return `${n.toLocaleString("en-US")} more ${word}${n === 1 ? "" : "s"}`;
}

/** At most `max` items; past that, the last place holds a note that says how many were trimmed. */
function capped(items: MrkdwnTextObject[], max: number, word: string): MrkdwnTextObject[] {
  if (items.length <= max) return items;
  const note = `\u2026 (trimmed: ${plural(items.length - (max - 1), word)})`;
  return [...items.slice(0, max - 1), { type: "mrkdwn", text: note, verbatim: true }];
}

function fitText(object: MrkdwnTextObject, max: number): MrkdwnTextObject {
  return { ...object, text: trimEscaped(object.text, max) };
}

function fitSection(block: SectionBlock): SectionBlock {
  const out: SectionBlock = { ...block };
  if (block.text) out.text = fitText(block.text, SLACK_LIMITS.sectionText);
  if (block.fields)
    out.fields = capped(
      block.fields.map((f) => fitText(f, SLACK_LIMITS.fieldText)),
      SLACK_LIMITS.fields,
      "field",
    );
  return out;
}

function fitContext(block: ContextBlock): ContextBlock {
  const elements = block.elements.map((e) => fitText(e, SLACK_LIMITS.contextText));
  return { ...block, elements: capped(elements, SLACK_LIMITS.contextElements, "element") };
}

function fitBlock(block: Block): Block {
  switch (block.type) {
    case "header":
      return { ...block, text: { ...block.text, text: trimEscaped(block.text.text, SLACK_LIMITS.headerText) } };
    case "section":
      return fitSection(block);
    case "context":
      return fitContext(block);
    case "divider":
      return block;
  }
}

/** The message within every Slack limit above: each text trimmed with a note, extra blocks replaced by a note. */
export function fitSlackMessage(message: SlackMessage): SlackMessage {
  const blocks = message.blocks.map(fitBlock);
  if (blocks.length > SLACK_LIMITS.blocks) {
    const hidden = blocks.length - (SLACK_LIMITS.blocks - 1);
    blocks.splice(SLACK_LIMITS.blocks - 1, blocks.length, {
      type: "context",
      elements: [{ type: "mrkdwn", text: `\u2026 (trimmed: ${plural(hidden, "block")})`, verbatim: true }],
    });
  }
  return { text: trimEscaped(message.text, SLACK_LIMITS.text), blocks };
}

export interface SnsPublishFields {
  Subject: string;
  Message: string;
  MessageAttributes: Record<string, { DataType: string; StringValue?: string }>;
}

const encoder = new TextEncoder();

export function utf8Bytes(text: string): number {
  return encoder.encode(text).length;
}

/** The bytes SNS counts against its limit: the message, each attribute's name, type and value, and the subject. */
export function snsPublishBytes(fields: SnsPublishFields): number {
  let total = utf8Bytes(fields.Message) + utf8Bytes(fields.Subject);
  for (const [name, attribute] of Object.entries(fields.MessageAttributes)) {
    total += utf8Bytes(name) + utf8Bytes(attribute.DataType) + utf8Bytes(attribute.StringValue ?? "");
  }
  return total;
}

function utf8Length(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  if (codePoint < 0x10000) return 3;
  return 4;
}

/**
 * The longest start of `text` of at most `budget` UTF-8 bytes, cut on a character boundary and never inside a dotted
 * name (`cutPlain`), and how many characters are left.
 */
function startWithinBytes(text: string, budget: number): { start: string; left: number } {
  let bytes = 0;
  let units = 0;
  for (const char of text) {
    const size = utf8Length(char.codePointAt(0) ?? 0);
    if (bytes + size > budget) break;
    bytes += size;
    units += char.length;
  }
  const start = cutPlain(text, units, "");
  return { start, left: Array.from(text).length - Array.from(start).length };
}

/**
 * The Publish fields within SNS's limits: a subject that is not one printable-ASCII line under 100 characters is
 * made one (any other character as `?`, cut with `...`), and a message that would take the request past `maxBytes`
 * (default 262,144) is cut on a character boundary and ends with the trim note.
 */
export function fitSnsPublish<T extends SnsPublishFields>(fields: T, maxBytes: number = SNS_LIMITS.publishBytes): T {
  const subject = cutPlain(fields.Subject.replace(/[^\x20-\x7e]/g, "?"), SNS_LIMITS.subject, "...");
  const fitted: T = { ...fields, Subject: subject };
  const over = snsPublishBytes(fitted) - maxBytes;
  if (over <= 0) return fitted;
  const others = snsPublishBytes({ ...fitted, Message: "" });
  // The note for the largest possible count is the longest: reserve it, then write the real one.
  const reserve = utf8Bytes(`\n${trimNote(fields.Message.length)}`);
  const { start, left } = startWithinBytes(fields.Message, Math.max(0, maxBytes - others - reserve));
  return { ...fitted, Message: `${start}\n${trimNote(left)}` };
}
