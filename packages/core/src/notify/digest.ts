/**
 * Storm control for Slack: at most one message per channel per second (Slack's limit for chat.postMessage and incoming
 * webhooks, https://docs.slack.dev/apis/web-api/rate-limits), with everything refused grouped into a digest that a
 * scheduled function posts later. Every outcome is also in the audit; the digest never drops one silently.
 *
 * Items in the single table (every one carries the `expiresAt` TTL):
 *
 * | item            | pk                                   | sk                                 | TTL                    |
 * | --------------- | ------------------------------------ | ---------------------------------- | ---------------------- |
 * | rate gate       | `SLACKGATE#<channel>#<epoch second>` | `GATE`                             | second + 5 min         |
 * | digest sequence | `DIGESTSEQ#<channel>#<window>`       | `SEQ`                              | window + 1 day         |
 * | pending digest  | `DIGEST`                             | `P#<window>#<channel>#<item 0000>` | window + 7 days        |
 * | flush lease     | `DIGESTLEASE#<channel>`              | `LEASE`                            | lease end + 1 hour     |
 *
 * (`<channel>` is `keyPart(channel)`, `<window>` the 10-digit epoch second a 10-second window starts at.)
 *
 * - The gate is a PutItem conditional on the item not existing: the first caller of a second wins, atomically across
 *   Lambdas (the blast-radius counter, too, writes on a condition). Nobody reads a past second again, so a late TTL
 *   deletion is harmless.
 * - A refused outcome becomes one line (severity, title, outcome, assessment id; mrkdwn-escaped, at most 300 code
 *   units) appended with `list_append` to a pending item. An atomic sequence per channel and window (`ADD`) picks the
 *   item: 200 lines per item, so an item stays under 200 × 300 × 3 bytes ≈ 180 KB, far below DynamoDB's 400 KB. Past
 *   50 items in one window (10,000 lines in 10 s for one channel) a line is not kept but counted (`omitted`) and the
 *   digest says how many are missing from it: never silently.
 * - All pending items share the partition `DIGEST`, sorted by window, so the flush finds every ready window of every
 *   channel with one Query. A burst of hundreds of events a minute is a few writes per second, far below a partition's
 *   1,000.
 * - The flush posts the lines of windows that ended at least 5 s ago, per channel, under a lease (a second scheduled
 *   invocation skips a channel being flushed). Each message takes the channel's gate slot first and messages are
 *   spaced ≥ 1 s apart. After a successful post the lines it carried are committed: an item fully posted is deleted
 *   (conditional on its size, so a line appended meanwhile is never deleted unposted), else its `posted` cursor moves.
 *   A failed post commits nothing: the next flush posts those lines. A crash between a post and its commit can post
 *   lines twice, never lose them.
 * - The pending TTL (7 days) is only a backstop against a Slack that stays unreachable; the audit holds every event.
 */
import { randomUUID } from "node:crypto";
import type { DynamoDBDocumentClient, QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import type { EventResult } from "../pipeline/types.ts";
import { documentCommands } from "../store/document-commands.ts";
import { isConditionFailure } from "../store/idempotency.ts";
import { epochSeconds, keyPart, PK, SK, TTL_ATTRIBUTE, wellFormed } from "../store/table.ts";
import { escapeMrkdwn, trimEscaped } from "./escape.ts";
import { fitSlackMessage } from "./limits.ts";
import { type Block, bySeverity, OUTCOME_LABELS, SLACK_LIMITS, type SlackMessage } from "./slack.ts";

export const DIGEST_LIMITS = {
  /** One digest line, in UTF-16 code units (≤ 900 bytes in UTF-8). */
  lineChars: 300,
  /** Lines per pending item: 200 × 900 bytes ≈ 180 KB, below DynamoDB's 400 KB item limit. */
  linesPerItem: 200,
  /** Pending items per channel and window; lines past them are counted, not kept. */
  itemsPerWindow: 50,
  /** Digest windows, in seconds. */
  windowSeconds: 10,
  /** A window is flushed once it ended this many seconds ago, so late appenders are not split from their digest. */
  settleSeconds: 5,
  gateTtlSeconds: 300,
  sequenceTtlSeconds: 86_400,
  pendingTtlSeconds: 7 * 86_400,
  /** Section blocks per message: 50 blocks minus the header and one context block. */
  sectionsPerMessage: SLACK_LIMITS.blocks - 2,
  /** Messages per channel in one flush (spaced 1 s apart); the rest waits for the next flush. */
  messagesPerFlush: 10,
  /** How long a flush holds a channel. */
  leaseSeconds: 120,
  /** Seconds a flush waits for a gate slot taken by a live alert before leaving the rest for the next flush. */
  slotAttempts: 3,
} as const;

const DIGEST_PARTITION = "DIGEST";
const PART_PREFIX = "P#";
const SECOND_MS = 1000;

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

function windowOf(second: number): number {
  const w = DIGEST_LIMITS.windowSeconds;
  return second - (((second % w) + w) % w);
}

export function slackSlotKey(channel: string, second: number): { pk: string; sk: string } {
  return { pk: `SLACKGATE#${keyPart(channel)}#${second}`, sk: "GATE" };
}

function sequenceKey(channel: string, window: number): { pk: string; sk: string } {
  return { pk: `DIGESTSEQ#${keyPart(channel)}#${window}`, sk: "SEQ" };
}

function pendingKey(channel: string, window: number, item: number): { pk: string; sk: string } {
  return { pk: DIGEST_PARTITION, sk: `${PART_PREFIX}${pad(window, 10)}#${keyPart(channel)}#${pad(item, 4)}` };
}

function leaseKey(channel: string): { pk: string; sk: string } {
  return { pk: `DIGESTLEASE#${keyPart(channel)}`, sk: "LEASE" };
}

// ---------------------------------------------------------------------------------------------------------------
// The gate

/**
 * Takes the channel's Slack slot for the second `now` falls in: true for the first caller of that second, false for
 * every other. Only a DynamoDB error other than the refusal throws.
 */
export async function takeSlackSlot(
  client: DynamoDBDocumentClient,
  table: string,
  options: { channel: string; now: Date },
): Promise<boolean> {
  const second = epochSeconds(options.now);
  try {
    await client.send(
      new (await documentCommands()).PutCommand({
        TableName: table,
        Item: {
          ...slackSlotKey(options.channel, second),
          channel: wellFormed(options.channel),
          second,
          [TTL_ATTRIBUTE]: second + DIGEST_LIMITS.gateTtlSeconds,
        },
        ConditionExpression: "attribute_not_exists(#pk)",
        ExpressionAttributeNames: { "#pk": PK },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Appending

/** The digest line of one outcome: severity, title, outcome and assessment id, mrkdwn-escaped, ≤ 300 code units. */
export function digestLine(result: EventResult): string {
  const [top, ...others] = bySeverity(result);
  const outcome = OUTCOME_LABELS[result.outcome];
  if (!top) {
    const id = result.signal?.id ?? result.eventId;
    const what = `*${outcome}* · ${escapeMrkdwn(result.reason, 150)}`;
    return trimEscaped(id ? `${what} · event \`${escapeMrkdwn(id, 80)}\`` : what, DIGEST_LIMITS.lineChars);
  }
  const more = others.length > 0 ? ` (+${others.length} more)` : "";
  return trimEscaped(
    `*${top.severity.toUpperCase()}* · ${outcome} · ${escapeMrkdwn(top.title, 150)}${more} · \`${escapeMrkdwn(top.id, 80)}\``,
    DIGEST_LIMITS.lineChars,
  );
}

export interface AppendOptions {
  channel: string;
  /** One line, mrkdwn-safe (see `digestLine`); cut at 300 code units. */
  line: string;
  now: Date;
  /** Overrides for tests; the defaults keep every item below 400 KB. */
  limits?: { linesPerItem?: number; itemsPerWindow?: number };
}

export interface AppendResult {
  /** false: the window's items were full, the line was counted in `omitted` instead. */
  kept: boolean;
  window: number;
  item: number;
}

/** Appends one line to the channel's pending digest of the window `now` falls in. */
export async function appendToDigest(
  client: DynamoDBDocumentClient,
  table: string,
  options: AppendOptions,
): Promise<AppendResult> {
  const linesPerItem = options.limits?.linesPerItem ?? DIGEST_LIMITS.linesPerItem;
  const itemsPerWindow = options.limits?.itemsPerWindow ?? DIGEST_LIMITS.itemsPerWindow;
  const at = epochSeconds(options.now);
  const window = windowOf(at);
  const { Attributes } = await client.send(
    new (await documentCommands()).UpdateCommand({
      TableName: table,
      Key: sequenceKey(options.channel, window),
      UpdateExpression: "ADD #seq :one SET #ttl = if_not_exists(#ttl, :ttl)",
      ExpressionAttributeNames: { "#seq": "seq", "#ttl": TTL_ATTRIBUTE },
      ExpressionAttributeValues: { ":one": 1, ":ttl": window + DIGEST_LIMITS.sequenceTtlSeconds },
      ReturnValues: "UPDATED_NEW",
    }),
  );
  const seq = typeof Attributes?.seq === "number" ? Attributes.seq - 1 : 0;
  const index = Math.floor(seq / linesPerItem);
  const kept = index < itemsPerWindow;
  const item = kept ? index : itemsPerWindow - 1;
  const common =
    "#channel = :channel, #window = :window, #firstAt = if_not_exists(#firstAt, :at), #ttl = if_not_exists(#ttl, :ttl)";
  const names = {
    "#channel": "channel",
    "#window": "window",
    "#firstAt": "firstAt",
    "#ttl": TTL_ATTRIBUTE,
  };
  const values = {
    ":channel": wellFormed(options.channel),
    ":window": window,
    ":at": at,
    ":ttl": window + DIGEST_LIMITS.pendingTtlSeconds,
  };
  await client.send(
    new (await documentCommands()).UpdateCommand({
      TableName: table,
      Key: pendingKey(options.channel, window, item),
      ...(kept
        ? {
            UpdateExpression: `SET #lines = list_append(if_not_exists(#lines, :empty), :line), ${common}`,
            ExpressionAttributeNames: { ...names, "#lines": "lines" },
            ExpressionAttributeValues: {
              ...values,
              ":empty": [],
              ":line": [trimEscaped(wellFormed(options.line), DIGEST_LIMITS.lineChars)],
            },
          }
        : {
            UpdateExpression: `ADD #omitted :one SET ${common}`,
            ExpressionAttributeNames: { ...names, "#omitted": "omitted" },
            ExpressionAttributeValues: { ...values, ":one": 1 },
          }),
    }),
  );
  return { kept, window, item };
}

/** The `digest` option of `createNotifier`: the gate on the injected clock, and deferral of the outcome's line. */
export function slackDigest(
  client: DynamoDBDocumentClient,
  table: string,
  options: { clock?: () => Date } = {},
): { gate(channel: string): Promise<boolean>; defer(channel: string, result: EventResult): Promise<void> } {
  const clock = options.clock ?? (() => new Date());
  return {
    gate: (channel) => takeSlackSlot(client, table, { channel, now: clock() }),
    async defer(channel, result) {
      await appendToDigest(client, table, { channel, line: digestLine(result), now: clock() });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Flushing

export interface PendingDigest {
  key: { pk: string; sk: string };
  channel: string;
  window: number;
  lines: string[];
  /** Lines already posted (a cursor into `lines`). */
  posted: number;
  /** Lines counted but not kept. */
  omitted: number;
  /** Epoch seconds of the first line. */
  firstAt: number;
}

function toPending(item: Record<string, unknown>): PendingDigest | undefined {
  const { pk, sk, channel, window, lines, posted, omitted, firstAt } = item;
  if (typeof pk !== "string" || typeof sk !== "string" || typeof channel !== "string") return undefined;
  const text = Array.isArray(lines) ? lines.filter((l): l is string => typeof l === "string") : [];
  return {
    key: { pk, sk },
    channel,
    window: typeof window === "number" ? window : 0,
    lines: text,
    posted: typeof posted === "number" ? Math.min(posted, text.length) : 0,
    omitted: typeof omitted === "number" ? Math.max(0, omitted) : 0,
    firstAt: typeof firstAt === "number" ? firstAt : 0,
  };
}

/** Pending digest items whose window ended at least `settleSeconds` before `now` (all of them with `all`). */
export async function listPendingDigests(
  client: DynamoDBDocumentClient,
  table: string,
  options: { now: Date; all?: boolean },
): Promise<PendingDigest[]> {
  const lastReady = options.all
    ? 9_999_999_999
    : epochSeconds(options.now) - DIGEST_LIMITS.windowSeconds - DIGEST_LIMITS.settleSeconds;
  const out: PendingDigest[] = [];
  let start: QueryCommandInput["ExclusiveStartKey"];
  do {
    const page = await client.send(
      new (await documentCommands()).QueryCommand({
        TableName: table,
        KeyConditionExpression: "#pk = :pk AND #sk BETWEEN :lo AND :hi",
        ExpressionAttributeNames: { "#pk": PK, "#sk": SK },
        ExpressionAttributeValues: {
          ":pk": DIGEST_PARTITION,
          ":lo": PART_PREFIX,
          // `~` sorts after `k:` and `h:`, so every channel of the last ready window is included.
          ":hi": `${PART_PREFIX}${pad(Math.max(0, lastReady), 10)}#~`,
        },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const pending = toPending(item);
      if (pending) out.push(pending);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

export interface FlushOptions {
  /** Posts one message to one channel; throws when Slack did not take it (see `slackPoster`). */
  post(channel: string, message: SlackMessage): Promise<void>;
  /** The clock at the start of the flush; it advances by what the flush sleeps. */
  now: Date;
  /** Waits between two messages to one channel (default: a real timer). */
  sleep?(ms: number): Promise<void>;
}

export interface FlushedMessage {
  channel: string;
  /** The injected clock when the message was posted (or tried). */
  at: Date;
  /** Alert lines the message carried. */
  lines: number;
  ok: boolean;
  error?: string;
}

export interface FlushReport {
  messages: FlushedMessage[];
  /** Lines posted and committed. */
  posted: number;
  /** Lines still pending after this flush (failed post, no slot, message cap, or a channel held by another flush). */
  kept: number;
  /** Problems that did not stop the flush: a failed post, a lost lease, a cursor moved by someone else. */
  errors: string[];
}

interface Entry {
  item: PendingDigest;
  /** Index of the line in `item.lines`. */
  index: number;
}

interface PlannedMessage {
  message: SlackMessage;
  entries: Entry[];
  /** The first message reports the counted-but-not-kept lines. */
  reportsOmitted: boolean;
}

function duration(seconds: number): string {
  const s = Math.max(1, Math.round(seconds));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The Block Kit messages for one channel's pending items: ≤ 50 blocks each, section text ≤ 3000 characters. */
export function digestMessages(items: readonly PendingDigest[], now: Date): PlannedMessage[] {
  const entries: Entry[] = items.flatMap((item) =>
    item.lines.slice(item.posted).map((_, offset) => ({ item, index: item.posted + offset })),
  );
  const omitted = items.reduce((sum, item) => sum + item.omitted, 0);
  if (entries.length === 0 && omitted === 0) return [];

  const sections: Entry[][] = [];
  let current: Entry[] = [];
  let length = 0;
  for (const entry of entries) {
    const line = entry.item.lines[entry.index] ?? "";
    const added = (current.length > 0 ? 1 : 0) + line.length;
    if (current.length > 0 && length + added > SLACK_LIMITS.sectionText) {
      sections.push(current);
      current = [];
      length = 0;
    }
    current.push(entry);
    length += (current.length > 1 ? 1 : 0) + line.length;
  }
  if (current.length > 0) sections.push(current);

  const groups: Entry[][][] = [];
  for (let i = 0; i < sections.length; i += DIGEST_LIMITS.sectionsPerMessage) {
    groups.push(sections.slice(i, i + DIGEST_LIMITS.sectionsPerMessage));
  }
  if (groups.length === 0) groups.push([]);

  const total = entries.length + omitted;
  const oldest = Math.min(...items.map((i) => i.firstAt));
  const since = duration(epochSeconds(now) - oldest);
  return groups.map((group, n) => {
    const part = groups.length > 1 ? ` (${n + 1}/${groups.length})` : "";
    const title = trimEscaped(`${plural(total, "alert")} in the last ${since}${part}`, SLACK_LIMITS.headerText);
    const blocks: Block[] = [{ type: "header", text: { type: "plain_text", text: title, emoji: true } }];
    for (const section of group) {
      const text = section.map((e) => e.item.lines[e.index] ?? "").join("\n");
      blocks.push({
        type: "section",
        text: { type: "mrkdwn", text: trimEscaped(text, SLACK_LIMITS.sectionText), verbatim: true },
      });
    }
    const notes: string[] = [];
    if (n === 0 && omitted > 0) {
      notes.push(`${plural(omitted, "more alert")} not listed (over the digest's cap): see \`eks-responder audit\``);
    }
    if (n < groups.length - 1) notes.push("continued in the next message");
    if (notes.length > 0) {
      blocks.push({ type: "context", elements: notes.map((text) => ({ type: "mrkdwn", text, verbatim: true })) });
    }
    return {
      message: { text: title, blocks: blocks.slice(0, SLACK_LIMITS.blocks) },
      entries: group.flat(),
      reportsOmitted: n === 0,
    };
  });
}

async function takeLease(
  client: DynamoDBDocumentClient,
  table: string,
  channel: string,
  owner: string,
  nowMs: number,
): Promise<boolean> {
  const until = nowMs + DIGEST_LIMITS.leaseSeconds * SECOND_MS;
  try {
    await client.send(
      new (await documentCommands()).PutCommand({
        TableName: table,
        Item: {
          ...leaseKey(channel),
          owner,
          until,
          [TTL_ATTRIBUTE]: Math.floor(until / SECOND_MS) + 3600,
        },
        ConditionExpression: "attribute_not_exists(#pk) OR #until < :now",
        ExpressionAttributeNames: { "#pk": PK, "#until": "until" },
        ExpressionAttributeValues: { ":now": nowMs },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

async function releaseLease(client: DynamoDBDocumentClient, table: string, channel: string, owner: string) {
  try {
    await client.send(
      new (await documentCommands()).DeleteCommand({
        TableName: table,
        Key: leaseKey(channel),
        ConditionExpression: "#owner = :owner",
        ExpressionAttributeNames: { "#owner": "owner" },
        ExpressionAttributeValues: { ":owner": owner },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/**
 * Records that an item's lines up to `to` were posted, and `reported` of its omitted count: deletes the item when
 * nothing of it is left (and nothing was appended since it was read), else moves its cursor. False when someone else
 * moved the cursor.
 */
async function commit(
  client: DynamoDBDocumentClient,
  table: string,
  item: PendingDigest,
  to: number,
  reported: number,
): Promise<boolean> {
  const length = item.lines.length;
  if (to === length && item.omitted - reported === 0) {
    try {
      await client.send(
        new (await documentCommands()).DeleteCommand({
          TableName: table,
          Key: item.key,
          ConditionExpression: `${length === 0 ? "attribute_not_exists(#lines)" : "size(#lines) = :length"} AND ${
            item.omitted === 0 ? "attribute_not_exists(#omitted)" : "#omitted = :omitted"
          }`,
          ExpressionAttributeNames: { "#lines": "lines", "#omitted": "omitted" },
          ...(length > 0 || item.omitted > 0
            ? {
                ExpressionAttributeValues: {
                  ...(length > 0 ? { ":length": length } : {}),
                  ...(item.omitted > 0 ? { ":omitted": item.omitted } : {}),
                },
              }
            : {}),
        }),
      );
      item.posted = to;
      item.omitted = 0;
      return true;
    } catch (error) {
      // Appended to since it was read: keep it, move the cursor.
      if (!isConditionFailure(error)) throw error;
    }
  }
  try {
    await client.send(
      new (await documentCommands()).UpdateCommand({
        TableName: table,
        Key: item.key,
        UpdateExpression: `SET #posted = :to${reported > 0 ? " ADD #omitted :minus" : ""}`,
        ConditionExpression: item.posted === 0 ? "attribute_not_exists(#posted) OR #posted = :from" : "#posted = :from",
        ExpressionAttributeNames: { "#posted": "posted", ...(reported > 0 ? { "#omitted": "omitted" } : {}) },
        ExpressionAttributeValues: {
          ":to": to,
          ":from": item.posted,
          ...(reported > 0 ? { ":minus": -reported } : {}),
        },
      }),
    );
    item.posted = to;
    item.omitted -= reported;
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Posts every ready digest, one channel after the other: up to 10 messages per channel, each after taking the
 * channel's gate slot, ≥ 1 s apart on the clock. What was posted is committed; what failed or did not fit stays for
 * the next flush. Run it every minute.
 */
export async function flushDigests(
  client: DynamoDBDocumentClient,
  table: string,
  options: FlushOptions,
): Promise<FlushReport> {
  const sleep = options.sleep ?? realSleep;
  let clock = options.now.getTime();
  const wait = async (ms: number) => {
    await sleep(ms);
    clock += ms;
  };
  const report: FlushReport = { messages: [], posted: 0, kept: 0, errors: [] };
  const pending = await listPendingDigests(client, table, { now: options.now });
  const byChannel = new Map<string, PendingDigest[]>();
  for (const item of pending) byChannel.set(item.channel, [...(byChannel.get(item.channel) ?? []), item]);
  const owner = randomUUID();
  const pendingLines = (items: readonly PendingDigest[]) =>
    items.reduce((sum, i) => sum + i.lines.length - i.posted + i.omitted, 0);

  for (const [channel, items] of [...byChannel].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!(await takeLease(client, table, channel, owner, clock))) {
      report.errors.push(`${channel}: flushed by another invocation`);
      report.kept += pendingLines(items);
      continue;
    }
    try {
      const messages = digestMessages(items, new Date(clock));
      // Items with nothing left (a commit interrupted earlier) are removed without a message.
      for (const item of items) {
        if (item.posted === item.lines.length && item.omitted === 0) await commit(client, table, item, item.posted, 0);
      }
      for (const [n, planned] of messages.slice(0, DIGEST_LIMITS.messagesPerFlush).entries()) {
        if (n > 0) await wait(SECOND_MS);
        let slot = false;
        for (let attempt = 0; attempt < DIGEST_LIMITS.slotAttempts; attempt++) {
          if (attempt > 0) await wait(SECOND_MS);
          slot = await takeSlackSlot(client, table, { channel, now: new Date(clock) });
          if (slot) break;
        }
        const at = new Date(clock);
        if (!slot) {
          report.errors.push(`${channel}: no Slack slot free, left for the next flush`);
          break;
        }
        try {
          await options.post(channel, planned.message);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          report.messages.push({ channel, at, lines: planned.entries.length, ok: false, error: message });
          report.errors.push(`${channel}: ${message}`);
          break;
        }
        report.messages.push({ channel, at, lines: planned.entries.length, ok: true });
        report.posted += planned.entries.length;
        const touched = new Map<PendingDigest, number>();
        for (const entry of planned.entries) touched.set(entry.item, entry.index + 1);
        if (planned.reportsOmitted) {
          for (const item of items) if (item.omitted > 0 && !touched.has(item)) touched.set(item, item.posted);
        }
        for (const [item, to] of touched) {
          const reported = planned.reportsOmitted ? item.omitted : 0;
          if (!(await commit(client, table, item, to, reported))) {
            report.errors.push(`${channel}: ${item.key.sk} was committed by someone else`);
          }
        }
      }
    } finally {
      await releaseLease(client, table, channel, owner);
    }
    report.kept += pendingLines(items);
  }
  return report;
}

// ---------------------------------------------------------------------------------------------------------------
// Posting

/**
 * A `post` for `flushDigests`: chat.postMessage with a bot token (to the channel), else the incoming webhook (its own
 * channel). No retries and no waiting on 429: a refused message stays pending for the next flush.
 */
export function slackPoster(config: {
  token?: string;
  webhookUrl?: string;
  apiUrl?: string;
}): (channel: string, message: SlackMessage) => Promise<void> {
  return async (channel, planned) => {
    const message = fitSlackMessage(planned);
    if (config.token) {
      const { WebClient } = await import("@slack/web-api");
      const client = new WebClient(config.token, {
        ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}),
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
      });
      await client.chat.postMessage({ channel, text: message.text, blocks: message.blocks });
      return;
    }
    if (!config.webhookUrl) throw new Error("no Slack webhook or token configured");
    const response = await fetch(config.webhookUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(message),
    });
    if (!response.ok) throw new Error(`Slack webhook answered ${response.status}`);
  };
}
