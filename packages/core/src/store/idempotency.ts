/**
 * One response per event. EventBridge delivers at least once and Lambda retries, so the same CloudTrail event or
 * GuardDuty finding version can arrive twice, even at the same time; only the invocation that claims its key responds.
 *
 * Why this module and not Powertools idempotency (`makeIdempotent` + `DynamoDBPersistenceLayer`): Powertools wraps a
 * whole function and keys on a hash of its payload, reads the clock itself (so an expired in-progress claim can only be
 * tested with fake timers), ties the in-progress expiry to the Lambda context's remaining time, and writes its own item
 * shape (`id`, `expiration`, `status`, `data`). Here the key is the signal key, not the envelope (two envelopes can
 * carry the same CloudTrail event), the claim must sit in the single table next to the audit records with the same
 * `expiresAt` TTL, the respond path needs claim / complete / release as separate steps around its own error handling,
 * and every test injects `now`. That is three conditional writes; a library adds more surface than it saves.
 */
import { randomUUID } from "node:crypto";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { signalKey } from "../detectors/common.ts";
import type { Mode } from "../detectors/types.ts";
import type { EventResult, OutcomeStatus, SkipCode } from "../pipeline/types.ts";
import type { ParsedEvent } from "../signals/parse.ts";
import type { Signal } from "../signals/types.ts";
import { documentCommands } from "./document-commands.ts";
import { epochSeconds, keyPart, TTL_ATTRIBUTE, wellFormed } from "./table.ts";

export type IdempotencyStatus = "IN_PROGRESS" | "COMPLETED";

/** What is kept of a finished response: enough to answer a duplicate delivery, small enough for every event. */
export interface CompactResult {
  outcome: OutcomeStatus;
  reason: string;
  eventId?: string;
  skipped?: SkipCode;
  decisions: { assessmentId: string; mode: Mode; dryRun: boolean }[];
  plannedCalls: number;
}

export interface IdempotencyRecord {
  /** The key as given (lone surrogates replaced by U+FFFD). */
  key: string;
  status: IdempotencyStatus;
  /** Epoch seconds: until then an IN_PROGRESS claim is held. */
  inProgressExpiry: number;
  /** Epoch seconds: the record's TTL. */
  expiresAt: number;
  claimedAt: string;
  completedAt?: string;
  result?: CompactResult;
}

export type ClaimResult =
  | { claimed: true; token: string }
  | { claimed: false; status: IdempotencyStatus; record?: IdempotencyRecord };

export interface ClaimOptions {
  now?: Date;
  /** How long a claim stays held if its holder dies without completing or releasing (the Lambda timeout or more). */
  inProgressTtlSeconds: number;
  /** How long the record is kept, and duplicates recognised (at least `inProgressTtlSeconds`). */
  recordTtlSeconds: number;
}

export type CompleteResult = { completed: true } | { completed: false; reason: string };

export interface IdempotencyStore {
  claim(key: string, options: ClaimOptions): Promise<ClaimResult>;
  /** Stores the compact result; only the holder of the claim can (the token defaults to the one this store got). */
  complete(key: string, result: EventResult | CompactResult, token?: string): Promise<CompleteResult>;
  /** Deletes the claim after a failure so a retry can run; only the holder can. False when it no longer held it. */
  release(key: string, token?: string): Promise<boolean>;
  get(key: string): Promise<IdempotencyRecord | undefined>;
}

const MAX_REASON_CHARS = 1024;
const MAX_DECISIONS = 50;

/**
 * The idempotency key of an event: the signal key (CloudTrail `eventID`, or GuardDuty finding id + `updatedAt`, so an
 * updated finding is a new event). Undefined for an unsupported event: it is never acted on, so nothing to deduplicate.
 */
export function idempotencyKey(input: Signal): string;
export function idempotencyKey(input: Signal | ParsedEvent): string | undefined;
export function idempotencyKey(input: Signal | ParsedEvent): string | undefined {
  if ("family" in input) return signalKey(input);
  return input.status === "signal" ? signalKey(input.signal) : undefined;
}

/** At most `max` UTF-16 units and an ellipsis, never splitting a surrogate pair. */
function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}…`;
}

function isCompact(result: EventResult | CompactResult): result is CompactResult {
  return "plannedCalls" in result;
}

/** The compact form of an event result (reason and decisions capped). */
export function compactResult(result: EventResult | CompactResult): CompactResult {
  const decisions = isCompact(result)
    ? result.decisions
    : result.decisions.map((d) => ({ assessmentId: d.assessmentId, mode: d.mode, dryRun: d.dryRun }));
  return {
    outcome: result.outcome,
    reason: capText(result.reason, MAX_REASON_CHARS),
    ...(result.eventId === undefined ? {} : { eventId: result.eventId }),
    ...(result.skipped === undefined ? {} : { skipped: result.skipped }),
    decisions: decisions.slice(0, MAX_DECISIONS),
    plannedCalls: isCompact(result) ? result.plannedCalls : result.plan.length,
  };
}

/** By name, not `instanceof`: the error class may come from another copy of the SDK. */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

function itemKey(key: string): { pk: string; sk: string } {
  return { pk: `IDEM#${keyPart(key)}`, sk: "IDEM" };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseResult(text: unknown): CompactResult | undefined {
  if (typeof text !== "string") return undefined;
  const value: unknown = JSON.parse(text);
  if (!isObject(value) || typeof value.outcome !== "string" || !Array.isArray(value.decisions)) return undefined;
  return value as unknown as CompactResult;
}

function toRecord(item: Record<string, unknown> | undefined): IdempotencyRecord | undefined {
  if (!item) return undefined;
  const { key, status, inProgressExpiry, claimedAt, completedAt } = item;
  const expiresAt = item[TTL_ATTRIBUTE];
  if (
    typeof key !== "string" ||
    (status !== "IN_PROGRESS" && status !== "COMPLETED") ||
    typeof inProgressExpiry !== "number" ||
    typeof expiresAt !== "number" ||
    typeof claimedAt !== "string"
  ) {
    return undefined;
  }
  const result = parseResult(item.result);
  return {
    key,
    status,
    inProgressExpiry,
    expiresAt,
    claimedAt,
    ...(typeof completedAt === "string" ? { completedAt } : {}),
    ...(result ? { result } : {}),
  };
}

/** The idempotency store on `table`, through a client the caller created (never one made at module load). */
export function idempotencyStore(client: DynamoDBDocumentClient, table: string): IdempotencyStore {
  /** The tokens of the claims this store holds. */
  const held = new Map<string, string>();

  async function get(key: string): Promise<IdempotencyRecord | undefined> {
    const { Item } = await client.send(
      new (await documentCommands()).GetCommand({ TableName: table, Key: itemKey(key), ConsistentRead: true }),
    );
    return toRecord(Item);
  }

  async function claim(key: string, options: ClaimOptions): Promise<ClaimResult> {
    const { inProgressTtlSeconds, recordTtlSeconds } = options;
    if (!(inProgressTtlSeconds > 0) || !(recordTtlSeconds >= inProgressTtlSeconds)) {
      throw new RangeError(
        `claim needs 0 < inProgressTtlSeconds <= recordTtlSeconds, got ${inProgressTtlSeconds} and ${recordTtlSeconds}`,
      );
    }
    const now = options.now ?? new Date();
    const nowSeconds = epochSeconds(now);
    const token = randomUUID();
    // A failed condition followed by a release can leave nothing to read: then the claim is tried again.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await client.send(
          new (await documentCommands()).PutCommand({
            TableName: table,
            Item: {
              ...itemKey(key),
              key: wellFormed(key),
              status: "IN_PROGRESS",
              token,
              claimedAt: now.toISOString(),
              inProgressExpiry: nowSeconds + inProgressTtlSeconds,
              [TTL_ATTRIBUTE]: nowSeconds + recordTtlSeconds,
            },
            // Free, a holder that died (its claim expired), or a record past its TTL that DynamoDB has not deleted yet.
            ConditionExpression:
              "attribute_not_exists(pk) OR (#status = :inProgress AND inProgressExpiry < :now) OR #ttl < :now",
            ExpressionAttributeNames: { "#status": "status", "#ttl": TTL_ATTRIBUTE },
            ExpressionAttributeValues: { ":inProgress": "IN_PROGRESS", ":now": nowSeconds },
          }),
        );
        held.set(key, token);
        return { claimed: true, token };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      const record = await get(key);
      if (record) return { claimed: false, status: record.status, record };
    }
    // Still contended after three tries: someone else is working on it.
    return { claimed: false, status: "IN_PROGRESS" };
  }

  async function complete(
    key: string,
    result: EventResult | CompactResult,
    token = held.get(key),
  ): Promise<CompleteResult> {
    if (token === undefined) return { completed: false, reason: `no claim held on ${key}` };
    try {
      await client.send(
        new (await documentCommands()).UpdateCommand({
          TableName: table,
          Key: itemKey(key),
          UpdateExpression: "SET #status = :completed, #result = :result, completedAt = :at REMOVE #token",
          ConditionExpression: "#status = :inProgress AND #token = :token",
          ExpressionAttributeNames: { "#status": "status", "#result": "result", "#token": "token" },
          ExpressionAttributeValues: {
            ":completed": "COMPLETED",
            ":inProgress": "IN_PROGRESS",
            ":result": JSON.stringify(compactResult(result)),
            ":at": new Date().toISOString(),
            ":token": token,
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      held.delete(key);
      return { completed: false, reason: `the claim on ${key} was lost (expired and taken, released, or completed)` };
    }
    held.delete(key);
    return { completed: true };
  }

  async function release(key: string, token = held.get(key)): Promise<boolean> {
    if (token === undefined) return false;
    held.delete(key);
    try {
      await client.send(
        new (await documentCommands()).DeleteCommand({
          TableName: table,
          Key: itemKey(key),
          ConditionExpression: "#status = :inProgress AND #token = :token",
          ExpressionAttributeNames: { "#status": "status", "#token": "token" },
          ExpressionAttributeValues: { ":inProgress": "IN_PROGRESS", ":token": token },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  return { claim, complete, release, get };
}
