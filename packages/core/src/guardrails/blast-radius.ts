/**
 * The blast-radius limit: at most `limit` automatic actions per account in any span of `windowSeconds` (say 20 in any
 * 10 minutes). Past it, the respond path asks a human instead (approval mode, with the reason), so a flood of events,
 * or a bug, can never change more than a bounded number of resources on its own.
 *
 * One DynamoDB item per account (pk `LIMIT#<account>`, sk `LIMIT`) holds the counts of two fixed windows (aligned on
 * multiples of `windowSeconds` since the epoch): the current one (`count`, the window from `windowStart`) and the one
 * before (`previousCount`). A slot is taken only while both together are below the limit. Any span of `windowSeconds`
 * lies within two consecutive windows, so no span ever holds more than `limit` slots: the limit is strict. Its price:
 * slots taken late in one window still count during the next.
 *
 * The item is read (strongly consistent) and written back on the condition that its `version` is still the one read,
 * so concurrent Lambdas take slots one after another. A Lambda whose write loses reads again: each lost write means
 * another Lambda took a slot in between, so a Lambda loses at most as often as slots are taken around it, and gives up
 * (throws: the caller fails closed) after MAX_ATTEMPTS. The item carries the table's TTL (`expiresAt`), an hour after
 * the window following its own ends: by then neither of its counts can matter any more.
 *
 * Hand-written rather than a rate-limiting library: the count must be shared by every Lambda of the account and
 * atomic against them, which only the table gives here.
 */
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

/** How long a counter is kept after the window following its own ends. */
const COUNTER_GRACE_SECONDS = 3600;
/** Reads and conditional writes one slot may take before giving up (see the module comment). */
export const MAX_ATTEMPTS = 32;
/** The longest pause, in ms, before reading again after a lost write (a random part of it, to spread the Lambdas). */
const RETRY_JITTER_MS = 20;

/** The key of an account's counter item. */
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
  return `blast-radius limit: ${limit} automatic action${limit === 1 ? "" : "s"} per ${windowSeconds} s reached for account ${account}`;
}

interface Counter {
  windowStart: number;
  count: number;
  previousCount: number;
  version: number;
}

/** The stored counter, checked: anything else in its place is refused, so a damaged item can never grant a slot. */
function counterOf(item: Record<string, unknown> | undefined, account: string): Counter | undefined {
  if (item === undefined) return undefined;
  const { windowStart, count, previousCount, version } = item;
  const counter = { windowStart, count, previousCount, version };
  if (!Object.values(counter).every((v) => typeof v === "number" && Number.isInteger(v) && v >= 0)) {
    throw new Error(`the blast-radius counter of account ${account} is malformed: ${JSON.stringify(counter)}`);
  }
  return counter as Counter;
}

/** The counts at window `start`, from the stored counter (read at any earlier or the same window). */
function countsAt(stored: Counter | undefined, start: number, windowSeconds: number) {
  // A counter already in a later window (another Lambda's clock ahead of this one): count in that window.
  if (stored && stored.windowStart >= start) {
    return { windowStart: stored.windowStart, current: stored.count, previous: stored.previousCount };
  }
  const previous = stored?.windowStart === start - windowSeconds ? stored.count : 0;
  return { windowStart: start, current: 0, previous };
}

/**
 * Takes one automatic-action slot for the account, or refuses when `limit` slots were taken in the current window
 * and the one before. Only a DynamoDB error other than a lost write, a damaged counter or too many lost writes throws
 * (then the caller fails closed: no automatic action).
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
  const start = windowStartOf(options.now ?? new Date(), windowSeconds);
  const reason = blastRadiusReason(account, limit, windowSeconds);
  if (limit === 0) return { allowed: false, reason, windowStart: start };
  const { GetCommand, PutCommand } = await documentCommands();
  const Key = blastRadiusKey(account);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const { Item } = await client.send(new GetCommand({ TableName: table, Key, ConsistentRead: true }));
    const stored = counterOf(Item, account);
    const counts = countsAt(stored, start, windowSeconds);
    if (counts.previous + counts.current >= limit) return { allowed: false, reason, windowStart: counts.windowStart };
    try {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: {
            ...Key,
            account,
            windowStart: counts.windowStart,
            count: counts.current + 1,
            previousCount: counts.previous,
            version: (stored?.version ?? 0) + 1,
            [TTL_ATTRIBUTE]: counts.windowStart + 2 * windowSeconds + COUNTER_GRACE_SECONDS,
          },
          // Written over exactly what was read: no slot taken in between is lost or double-counted.
          ...(stored
            ? {
                ConditionExpression: "#version = :version",
                ExpressionAttributeNames: { "#version": "version" },
                ExpressionAttributeValues: { ":version": stored.version },
              }
            : { ConditionExpression: "attribute_not_exists(pk)" }),
        }),
      );
      return { allowed: true, count: counts.previous + counts.current + 1, windowStart: counts.windowStart };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      await sleep(Math.floor(Math.random() * RETRY_JITTER_MS));
    }
  }
  throw new Error(
    `blast-radius limit of account ${account}: ${MAX_ATTEMPTS} writes lost to other Lambdas; no slot taken`,
  );
}
