/**
 * The blast-radius limit: at most `limit` automatic actions per account in any span of `windowSeconds` (say 20 in any
 * 10 minutes). Past it, the respond path asks a human instead (approval mode, with the reason), so a flood of events,
 * or a bug, can never change more than a bounded number of resources on its own. Every delivery that reaches an
 * automatic action takes a slot, a redelivery after a transient failure too.
 *
 * One DynamoDB item per account (pk `LIMIT#<account>`, sk `LIMIT`) holds the counts of the last three fixed windows
 * (aligned on multiples of `windowSeconds` since the epoch): `count` for the window from `windowStart`,
 * `previousCount` and `olderCount` for the two before. A Lambda grants a slot only while the windows that start at
 * most one window before its own add up to less than the limit. Any span of `windowSeconds` lies within two
 * consecutive windows, so with clocks that agree no span holds more than `limit` slots; the third window keeps that
 * true for a Lambda whose clock is up to a window behind another's (a clock further off makes the counter look
 * damaged, and slots are refused).
 *
 * The item is read (strongly consistent). Within the stored window a slot is an atomic ADD, conditional on the window
 * and the older counts being those read and on the slot still fitting: Lambdas taking slots at once do not conflict.
 * A new counter, or a window moving on, is written whole on the condition that its `version`, a random token written
 * with each update, is still the one read (a token is never reused, so a counter expired by its TTL and made again
 * cannot be mistaken for the one read). A Lambda whose write loses reads again, at most MAX_ATTEMPTS times; then, and
 * for a damaged counter, it refuses the slot with the reason (the decision then asks for approval or alerts), so a
 * contended or broken counter never lets an action through and never hides a finding. The item carries the table's TTL (`expiresAt`), an hour after its newest count stops
 * mattering.
 *
 * Hand-written rather than a rate-limiting library: the count must be shared by every Lambda of the account and
 * atomic against them, which only the table gives here.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { documentCommands } from "../store/document-commands.ts";
import { isConditionFailure } from "../store/idempotency.ts";
import { epochSeconds, keyPart, TTL_ATTRIBUTE } from "../store/table.ts";

export interface BlastRadiusOptions {
  /** The AWS account the action changes. */
  account: string;
  /** Automatic actions allowed in any span of `windowSeconds` (an integer, 0 or more; 0 refuses every one). */
  limit: number;
  /** The window length in seconds (a positive integer). */
  windowSeconds: number;
  /** The clock (default: the current time). */
  now?: Date;
  /**
   * The counter item as the caller read it ahead (readCounter, strongly consistent), for the first attempt instead of a
   * read of its own: the respond path reads it while the claim and the policy are in flight. It is only where the first
   * attempt starts: every write is conditional on what was read, so a read that another Lambda has overtaken loses its
   * write and the next attempt reads again.
   */
  read?: Promise<Record<string, unknown> | undefined>;
}

/** The account's counter item, read strongly consistent (what takeAutomaticSlot's `read` option takes). */
export async function readCounter(
  client: DynamoDBDocumentClient,
  table: string,
  account: string,
): Promise<Record<string, unknown> | undefined> {
  const { GetCommand } = await documentCommands();
  const { Item } = await client.send(
    new GetCommand({ TableName: table, Key: blastRadiusKey(account), ConsistentRead: true }),
  );
  return Item;
}

export type SlotResult =
  | {
      allowed: true;
      /** Slots counted against the limit now (this window's and the one before), this one included. */
      count: number;
      /** Epoch seconds: when the current window began. */
      windowStart: number;
    }
  | {
      allowed: false;
      /** One line for the decision's reasons and the approval message. */
      reason: string;
      windowStart: number;
    };

/** How long a counter is kept after its newest window stops counting. */
const COUNTER_GRACE_SECONDS = 3600;
/** Reads and conditional writes one slot may take before giving up (see the module comment). */
export const MAX_ATTEMPTS = 32;
/** The longest pause, in ms, before reading again after a lost write (a random part of it, to spread the Lambdas). */
const RETRY_JITTER_MS = 20;

/**
 * The counter of every account together (`limits.automaticActionsTotal`, hub mode): a second counter, taken after the
 * account's. A slot of the account's counter taken when the total then refuses stays taken (it only brings the
 * account's limit sooner: fail closed).
 */
export const ALL_ACCOUNTS = "*";

/** The key of an account's counter item (ALL_ACCOUNTS: the total's). */
export function blastRadiusKey(account: string): { pk: string; sk: string } {
  return { pk: `LIMIT#${keyPart(account)}`, sk: "LIMIT" };
}

/** The start (epoch seconds) of the fixed window `now` falls in. */
export function windowStartOf(now: Date, windowSeconds: number): number {
  const seconds = epochSeconds(now);
  return seconds - (((seconds % windowSeconds) + windowSeconds) % windowSeconds);
}

/** The refusal reason, e.g. `blast-radius limit: 20 automatic actions per 600 s reached for account 111122223333`. */
export function blastRadiusReason(account: string, limit: number, windowSeconds: number): string {
  const whose = account === ALL_ACCOUNTS ? "all accounts together" : `account ${account}`;
  return `blast-radius limit: ${limit} automatic action${limit === 1 ? "" : "s"} per ${windowSeconds} s reached for ${whose}`;
}

interface Counter {
  windowStart: number;
  /** Undefined for a counter written before the window length was stored: read as if the length had changed. */
  windowSeconds: number | undefined;
  /** Slots of the window from windowStart, of the one before, and of the one before that. */
  counts: [number, number, number];
  /** A random token (a number in a counter written before tokens were random). */
  version: string | number;
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;

type Read = Counter | { damaged: string } | { ahead: string } | undefined;

/**
 * The stored counter, checked. A damaged one (a field of the wrong type, a window not aligned to its length) comes
 * back as the reason to refuse: it can never grant a slot. A window more than one of the policy's windows ahead of
 * this Lambda's clock is refused too, until the clocks agree.
 */
function counterOf(item: Record<string, unknown> | undefined, start: number, windowSeconds: number): Read {
  if (item === undefined) return undefined;
  const { windowStart, windowSeconds: stored, count, previousCount, olderCount, version } = item;
  // The counter of the release before: no window length, no third window, a numeric version.
  const legacy = stored === undefined && olderCount === undefined && isCount(version);
  const fields = legacy
    ? { windowStart, count, previousCount }
    : { windowStart, windowSeconds: stored, count, previousCount, olderCount };
  const versionOk = legacy || (typeof version === "string" && version !== "");
  if (!Object.values(fields).every(isCount) || !versionOk) {
    return { damaged: `unreadable fields ${JSON.stringify({ ...fields, version })}` };
  }
  const counter: Counter = {
    windowStart: windowStart as number,
    windowSeconds: legacy ? undefined : (stored as number),
    counts: [count as number, previousCount as number, legacy ? 0 : (olderCount as number)],
    version: version as string | number,
  };
  if (
    counter.windowSeconds !== undefined &&
    (counter.windowSeconds === 0 || counter.windowStart % counter.windowSeconds !== 0)
  ) {
    return { damaged: `window start ${counter.windowStart} is not aligned on ${counter.windowSeconds} s` };
  }
  if (counter.windowStart > start + windowSeconds) {
    return { ahead: `its window starts at ${counter.windowStart}, more than a window after this clock's (${start})` };
  }
  return counter;
}

/** The slots per window start, as stored; for a stored window length other than the policy's, all in one window. */
function windowsOf(stored: Counter | undefined, start: number, windowSeconds: number): Map<number, number> {
  const windows = new Map<number, number>();
  if (!stored) return windows;
  if (stored.windowSeconds !== windowSeconds) {
    // The policy's window changed (or the counter predates stored lengths): every stored slot that may still be
    // recent counts in full, in this window.
    const total = stored.counts.reduce((a, b) => a + b, 0);
    const newest = stored.windowStart + (stored.windowSeconds ?? windowSeconds);
    if (newest + windowSeconds > start) windows.set(start, total);
    return windows;
  }
  stored.counts.forEach((n, i) => {
    windows.set(stored.windowStart - i * windowSeconds, n);
  });
  return windows;
}

/**
 * Takes one automatic-action slot for the account, or refuses: when `limit` slots were taken in the current window and
 * the one before, when the counter is damaged, or when MAX_ATTEMPTS writes were lost to other Lambdas. Only a DynamoDB
 * error other than a lost write throws (then the caller fails closed: no automatic action).
 */
export async function takeAutomaticSlot(
  client: DynamoDBDocumentClient,
  table: string,
  options: BlastRadiusOptions,
): Promise<SlotResult> {
  const { account, limit, windowSeconds } = options;
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be an integer >= 0, got ${limit}`);
  if (!Number.isInteger(windowSeconds) || windowSeconds <= 0) {
    throw new RangeError(`windowSeconds must be a positive integer, got ${windowSeconds}`);
  }
  const reason = blastRadiusReason(account, limit, windowSeconds);
  const firstStart = windowStartOf(options.now ?? new Date(), windowSeconds);
  if (limit === 0) return { allowed: false, reason, windowStart: firstStart };
  const { PutCommand, UpdateCommand } = await documentCommands();
  const Key = blastRadiusKey(account);
  let start = firstStart;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    // The clock is read again on every attempt: a slot is counted in the window it is granted in.
    if (attempt > 1) start = windowStartOf(options.now ?? new Date(), windowSeconds);
    const Item = attempt === 1 && options.read ? await options.read : await readCounter(client, table, account);
    const read = counterOf(Item, start, windowSeconds);
    if (read && "damaged" in read) {
      return {
        allowed: false,
        reason: `the blast-radius counter of account ${account} is damaged (${read.damaged}): no automatic action until it is deleted`,
        windowStart: start,
      };
    }
    if (read && "ahead" in read) {
      return {
        allowed: false,
        reason: `the blast-radius counter of account ${account} is ahead of this Lambda's clock (${read.ahead}): no automatic action until the clocks agree`,
        windowStart: start,
      };
    }
    const windows = windowsOf(read, start, windowSeconds);
    // This Lambda's span: the windows from the one before its own on (a newer stored window, from a clock ahead, too).
    const taken = [...windows].reduce((n, [w, c]) => (w >= start - windowSeconds ? n + c : n), 0);
    if (taken >= limit) return { allowed: false, reason, windowStart: start };
    try {
      if (read && read.windowSeconds === windowSeconds && read.windowStart >= start) {
        // The stored window is current (or ahead of this clock): add the slot in place. Concurrent Lambdas do not
        // conflict here: each ADD is atomic, on the condition that the window is still the one read and the slot
        // still fits, so only the limit itself, or a window moving on, sends a Lambda back to read again.
        const others = taken - (read.counts[0] ?? 0);
        const { Attributes } = await client.send(
          new UpdateCommand({
            TableName: table,
            Key,
            UpdateExpression: "ADD #count :one SET #version = :version",
            ConditionExpression:
              "windowStart = :start AND windowSeconds = :seconds AND previousCount = :previous AND olderCount = :older AND #count < :capacity",
            ExpressionAttributeNames: { "#count": "count", "#version": "version" },
            ExpressionAttributeValues: {
              ":one": 1,
              ":version": randomUUID(),
              ":start": read.windowStart,
              ":seconds": windowSeconds,
              ":previous": read.counts[1],
              ":older": read.counts[2],
              ":capacity": limit - others,
            },
            ReturnValues: "UPDATED_NEW",
          }),
        );
        const count = Attributes?.count;
        return {
          allowed: true,
          count: (typeof count === "number" ? count : read.counts[0] + 1) + others,
          windowStart: read.windowStart,
        };
      }
      // A new counter, a window moving on, or a changed window length: the item is written whole, over exactly what
      // was read (its version), so no slot taken in between is lost or double-counted.
      const newest = Math.max(start, read && read.windowSeconds === windowSeconds ? read.windowStart : start);
      windows.set(newest, (windows.get(newest) ?? 0) + 1);
      const counts = [0, 1, 2].map((i) => windows.get(newest - i * windowSeconds) ?? 0);
      await client.send(
        new PutCommand({
          TableName: table,
          Item: {
            ...Key,
            account,
            windowStart: newest,
            windowSeconds,
            count: counts[0],
            previousCount: counts[1],
            olderCount: counts[2],
            version: randomUUID(),
            [TTL_ATTRIBUTE]: newest + 2 * windowSeconds + COUNTER_GRACE_SECONDS,
          },
          ...(read
            ? {
                ConditionExpression: "#version = :version",
                ExpressionAttributeNames: { "#version": "version" },
                ExpressionAttributeValues: { ":version": read.version },
              }
            : { ConditionExpression: "attribute_not_exists(pk)" }),
        }),
      );
      return { allowed: true, count: taken + 1, windowStart: newest };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      await sleep(Math.floor(Math.random() * RETRY_JITTER_MS));
    }
  }
  return {
    allowed: false,
    reason: `the blast-radius counter of account ${account} is contended: ${MAX_ATTEMPTS} writes lost to other Lambdas, no slot taken`,
    windowStart: start,
  };
}
