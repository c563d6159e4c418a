/**
 * The blast-radius limit: at most `limit` automatic actions per account per window (say 20 per 10 minutes). Past it,
 * the respond path asks a human instead (approval mode, with the reason), so a flood of events, or a bug, can never
 * change more than a bounded number of resources on its own.
 *
 * The count is one DynamoDB item per account and window (pk `LIMIT#<account>#<window start>`, sk `LIMIT`), raised by an
 * UpdateItem `ADD` that is conditional on the count being below the limit: the check and the increment are one atomic
 * write, so concurrent Lambdas can never take more than `limit` slots between them. The item carries the table's TTL
 * (`expiresAt`), one hour after its window ends; no reader ever looks at a past window again, so a late deletion is
 * harmless.
 *
 * Windows are fixed (aligned on multiples of `windowSeconds` since the epoch), not sliding: across a window boundary up to
 * twice the limit can run within one window's length. That is the price of one write per slot.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { documentCommands } from "../store/document-commands.ts";
import { isConditionFailure } from "../store/idempotency.ts";
import { epochSeconds, keyPart, TTL_ATTRIBUTE } from "../store/table.ts";

export interface BlastRadiusOptions {
  /** The AWS account the action changes. */
  account: string;
  /** Automatic actions allowed per window (an integer, 0 or more; 0 refuses every one). */
  limit: number;
  /** The window length in seconds (a positive integer). */
  windowSeconds: number;
  /** The clock (default: the current time). */
  now?: Date;
}

export type SlotResult =
  | {
      allowed: true;
      /** Slots taken in this window, this one included. */
      count: number;
      /** Epoch seconds: when the window began. */
      windowStart: number;
    }
  | {
      allowed: false;
      /** One line for the decision's reasons and the approval message. */
      reason: string;
      windowStart: number;
    };

/** How long a counter is kept after its window ends. */
const COUNTER_GRACE_SECONDS = 3600;

/** The key of the counter item of an account's window. */
export function blastRadiusKey(account: string, windowStart: number): { pk: string; sk: string } {
  return { pk: `LIMIT#${keyPart(account)}#${windowStart}`, sk: "LIMIT" };
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

/**
 * Takes one automatic-action slot for the account in the current window, or refuses when the window's `limit` slots are
 * all taken. Only a DynamoDB error other than the limit itself throws (then the caller fails closed: no automatic action).
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
  const windowStart = windowStartOf(options.now ?? new Date(), windowSeconds);
  const refused: SlotResult = { allowed: false, reason: blastRadiusReason(account, limit, windowSeconds), windowStart };
  if (limit === 0) return refused;
  try {
    const { Attributes } = await client.send(
      new (await documentCommands()).UpdateCommand({
        TableName: table,
        Key: blastRadiusKey(account, windowStart),
        UpdateExpression:
          "ADD #count :one SET #ttl = if_not_exists(#ttl, :ttl), account = :account, windowStart = :start",
        // Below the limit before this slot, so at most `limit` after it.
        ConditionExpression: "attribute_not_exists(#count) OR #count < :limit",
        ExpressionAttributeNames: { "#count": "count", "#ttl": TTL_ATTRIBUTE },
        ExpressionAttributeValues: {
          ":one": 1,
          ":limit": limit,
          ":ttl": windowStart + windowSeconds + COUNTER_GRACE_SECONDS,
          ":account": account,
          ":start": windowStart,
        },
        ReturnValues: "UPDATED_NEW",
      }),
    );
    const count = Attributes?.count;
    return { allowed: true, count: typeof count === "number" ? count : limit, windowStart };
  } catch (error) {
    if (isConditionFailure(error)) return refused;
    throw error;
  }
}
