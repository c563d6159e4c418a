/**
 * One response per event. EventBridge delivers at least once and Lambda retries, so the same CloudTrail event or
 * GuardDuty finding version can arrive twice, even at the same time; only the invocation that claims its key responds.
 *
 * Why this module and not Powertools idempotency (`makeIdempotent` + `DynamoDBPersistenceLayer`): Powertools wraps a
 * whole function and keys on a hash of its payload, reads the clock itself (so an expired in-progress claim can only be
 * tested with fake timers), ties the in-progress expiry to the Lambda context's remaining time, and writes its own item
 * shape (`id`, `expiration`, `status`, `data`). Here the key is the signal key, not the envelope (two envelopes can
 * carry the same CloudTrail event), the claim must sit in the single table next to the audit records with the same
 * `expiresAt` TTL, the respond path needs claim / checkpoint / complete / release as separate steps around its own
 * error handling (a takeover must get the dead holder's checkpoint back), and every test injects `now`. That is a few
 * conditional writes; a library adds more surface than it saves.
 */
import { randomUUID } from "node:crypto";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { signalKey } from "../detectors/common.ts";
import type { Mode } from "../detectors/types.ts";
import { parseCheckpoint } from "../pipeline/checkpoint.ts";
import type { ClaimAnswer } from "../pipeline/respond.ts";
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
  /** How many invocations have claimed the event so far (1 for the first). */
  attempt: number;
  /** When the first of them claimed it (kept across takeovers: the audit's time for this event). */
  firstClaimedAt: string;
  /** Epoch seconds: until then an IN_PROGRESS claim is held. */
  inProgressExpiry: number;
  /** Epoch seconds: the record's TTL. */
  expiresAt: number;
  claimedAt: string;
  completedAt?: string;
  result?: CompactResult;
}

export type ClaimResult =
  | {
      claimed: true;
      token: string;
      /** 1 for the first claim; more when this one takes over from invocations that died or released the claim. */
      attempt: number;
      firstClaimedAt: string;
      /** The last checkpoint an earlier invocation of the same event wrote before it died or released the claim. */
      progress?: string;
    }
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
  /**
   * Saves how far the holder got (an opaque string, the respond path's checkpoint), so an invocation that takes the
   * claim over after this one died resumes there instead of acting again. Only the holder can; false when it no longer
   * held the claim.
   */
  checkpoint(key: string, progress: string, token?: string): Promise<boolean>;
  /**
   * Gives the claim up after a failure so a retry can take it at once; only the holder can. The checkpoint stays, so
   * the retry resumes from it. False when it no longer held the claim.
   */
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
  const { key, status, inProgressExpiry, claimedAt, completedAt, attempt, firstClaimedAt } = item;
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
    attempt: typeof attempt === "number" ? attempt : 1,
    firstClaimedAt: typeof firstClaimedAt === "string" ? firstClaimedAt : claimedAt,
    inProgressExpiry,
    expiresAt,
    claimedAt,
    ...(typeof completedAt === "string" ? { completedAt } : {}),
    ...(result ? { result } : {}),
  };
}

/**
 * How long a claim outlives the invocation that made it, past the time the function has left: Lambda's clock and
 * DynamoDB's need not agree to the second, and a takeover must never happen while the holder can still be running.
 */
export const CLAIM_MARGIN_SECONDS = 30;

/**
 * How long an invocation's claim is held if it dies: longer than it can still run (the Lambda context's remaining
 * time), so a redelivery never takes over from a live holder, and short enough that Lambda's retries (1 and 3 minutes
 * after a failure) find it expired. With the respond function's 60 s timeout: 90 s.
 */
export function claimTtlSeconds(remainingMs: number): number {
  return Math.ceil(Math.max(0, remainingMs) / 1000) + CLAIM_MARGIN_SECONDS;
}

/**
 * What the respond path needs of a claim (pipeline/respond.ts): claimed, with the attempt, the first claim's time and
 * the checkpoint read back; or completed (a duplicate); or in progress, with the time its claim holds until.
 * `onUnreadable` is told of a checkpoint that cannot be read (the event is then handled from the start).
 */
export function claimAnswer(claim: ClaimResult, onUnreadable: () => void = () => {}): ClaimAnswer {
  if (!claim.claimed) {
    if (claim.status === "COMPLETED") {
      const result = claim.record?.result;
      return {
        claimed: false,
        status: "COMPLETED",
        ...(result ? { previous: { outcome: result.outcome, reason: result.reason } } : {}),
      };
    }
    const until = claim.record?.inProgressExpiry;
    return {
      claimed: false,
      status: "IN_PROGRESS",
      ...(until ? { heldUntil: new Date(until * 1000).toISOString() } : {}),
    };
  }
  const resume = parseCheckpoint(claim.progress);
  if (claim.progress !== undefined && !resume) onUnreadable();
  return {
    claimed: true,
    attempt: claim.attempt,
    firstClaimedAt: claim.firstClaimedAt,
    ...(resume ? { resume } : {}),
  };
}

/** DynamoDB's item limit is 400 KB; a checkpoint above this is refused before the call (the caller shrinks it). */
export const MAX_PROGRESS_BYTES = 300 * 1024;

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

  /**
   * A free key, or a claim whose holder died or released it: one conditional UpdateItem that keeps the attempt count,
   * the first claim's time and the checkpoint of the invocations before (ALL_OLD returns them).
   */
  async function takeOver(key: string, token: string, now: Date, options: ClaimOptions): Promise<ClaimResult> {
    const nowSeconds = epochSeconds(now);
    const { Attributes } = await client.send(
      new (await documentCommands()).UpdateCommand({
        TableName: table,
        Key: itemKey(key),
        UpdateExpression:
          "SET #key = :key, #status = :inProgress, #token = :token, claimedAt = :at, inProgressExpiry = :expiry, " +
          "#ttl = if_not_exists(#ttl, :ttl), firstClaimedAt = if_not_exists(firstClaimedAt, :at), " +
          "attempt = if_not_exists(attempt, :zero) + :one",
        // Free, or IN_PROGRESS past its expiry (the holder died, or released it) and not past the record's TTL.
        ConditionExpression:
          "attribute_not_exists(pk) OR (#status = :inProgress AND inProgressExpiry < :now AND #ttl >= :now)",
        ExpressionAttributeNames: { "#key": "key", "#status": "status", "#token": "token", "#ttl": TTL_ATTRIBUTE },
        ExpressionAttributeValues: {
          ":key": wellFormed(key),
          ":inProgress": "IN_PROGRESS",
          ":token": token,
          ":at": now.toISOString(),
          ":expiry": nowSeconds + options.inProgressTtlSeconds,
          ":ttl": nowSeconds + options.recordTtlSeconds,
          ":now": nowSeconds,
          ":zero": 0,
          ":one": 1,
        },
        ReturnValues: "ALL_OLD",
      }),
    );
    const old = toRecord(Attributes);
    const progress = Attributes?.progress;
    return {
      claimed: true,
      token,
      attempt: (old?.attempt ?? 0) + 1,
      firstClaimedAt: old?.firstClaimedAt ?? now.toISOString(),
      ...(typeof progress === "string" ? { progress } : {}),
    };
  }

  /** A record past its TTL that DynamoDB has not deleted yet: a new event as far as duplicates go, so a fresh item. */
  async function replaceExpired(key: string, token: string, now: Date, options: ClaimOptions): Promise<ClaimResult> {
    const nowSeconds = epochSeconds(now);
    await client.send(
      new (await documentCommands()).PutCommand({
        TableName: table,
        Item: {
          ...itemKey(key),
          key: wellFormed(key),
          status: "IN_PROGRESS",
          token,
          claimedAt: now.toISOString(),
          firstClaimedAt: now.toISOString(),
          attempt: 1,
          inProgressExpiry: nowSeconds + options.inProgressTtlSeconds,
          [TTL_ATTRIBUTE]: nowSeconds + options.recordTtlSeconds,
        },
        ConditionExpression: "#ttl < :now",
        ExpressionAttributeNames: { "#ttl": TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ":now": nowSeconds },
      }),
    );
    return { claimed: true, token, attempt: 1, firstClaimedAt: now.toISOString() };
  }

  async function claim(key: string, options: ClaimOptions): Promise<ClaimResult> {
    const { inProgressTtlSeconds, recordTtlSeconds } = options;
    if (!(inProgressTtlSeconds > 0) || !(recordTtlSeconds >= inProgressTtlSeconds)) {
      throw new RangeError(
        `claim needs 0 < inProgressTtlSeconds <= recordTtlSeconds, got ${inProgressTtlSeconds} and ${recordTtlSeconds}`,
      );
    }
    const now = options.now ?? new Date();
    const token = randomUUID();
    // A failed condition followed by a release or an expiry can change what is there: then the claim is tried again.
    for (let attempt = 0; attempt < 3; attempt++) {
      for (const write of [takeOver, replaceExpired]) {
        try {
          const claimed = await write(key, token, now, options);
          held.set(key, token);
          return claimed;
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
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
          UpdateExpression: "SET #status = :completed, #result = :result, completedAt = :at REMOVE #token, progress",
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

  async function checkpoint(key: string, progress: string, token = held.get(key)): Promise<boolean> {
    if (token === undefined) return false;
    const bytes = Buffer.byteLength(progress, "utf8");
    if (bytes > MAX_PROGRESS_BYTES) {
      throw new RangeError(`checkpoint of ${key} is ${bytes} bytes, over ${MAX_PROGRESS_BYTES}: shrink it first`);
    }
    try {
      await client.send(
        new (await documentCommands()).UpdateCommand({
          TableName: table,
          Key: itemKey(key),
          UpdateExpression: "SET progress = :progress",
          ConditionExpression: "#status = :inProgress AND #token = :token",
          ExpressionAttributeNames: { "#status": "status", "#token": "token" },
          ExpressionAttributeValues: { ":progress": progress, ":inProgress": "IN_PROGRESS", ":token": token },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async function release(key: string, token = held.get(key)): Promise<boolean> {
    if (token === undefined) return false;
    held.delete(key);
    try {
      // Not a delete: the checkpoint and the attempt count stay for the retry, which may take the claim at once.
      await client.send(
        new (await documentCommands()).UpdateCommand({
          TableName: table,
          Key: itemKey(key),
          UpdateExpression: "SET inProgressExpiry = :zero REMOVE #token",
          ConditionExpression: "#status = :inProgress AND #token = :token",
          ExpressionAttributeNames: { "#status": "status", "#token": "token" },
          ExpressionAttributeValues: { ":inProgress": "IN_PROGRESS", ":token": token, ":zero": 0 },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  return { claim, complete, checkpoint, release, get };
}
