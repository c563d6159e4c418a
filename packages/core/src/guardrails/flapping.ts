/**
 * Flapping: a rule revoked and re-added again and again (an IaC run, a controller, a person re-adding it) would be
 * revoked forever. Each automatic revoke of a rule is counted in one item per group and rule (pk
 * `FLAP#<account/region/group>`, sk `RULE#<fingerprint>`, rule-targets.ts) with who added it and by which event; when
 * `limit` revocations of the same rule fall within `windowSeconds`, the next one is refused and the event becomes an
 * alert naming who keeps re-adding it.
 *
 * The item is read (strongly consistent) and written whole on the condition that its `version` (a random token) is
 * the one read, so Lambdas counting at once never lose a count; a redelivery of an event already counted is not
 * counted again. A damaged item or a counter contended MAX_ATTEMPTS times refuses (fail closed: alert, don't act).
 * Hand-written, like the blast-radius counter: the count must be shared by every Lambda, which only the table gives.
 */
import { randomUUID } from "node:crypto";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { documentCommands } from "../store/document-commands.ts";
import { isConditionFailure } from "../store/idempotency.ts";
import { epochSeconds, TTL_ATTRIBUTE, wellFormed } from "../store/table.ts";
import { describeFingerprint, type RuleTarget, ruleKey } from "./rule-targets.ts";

export const MAX_ATTEMPTS = 8;
/** An actor as stored: ARNs are 2,048 characters at most. */
const MAX_ACTOR_LENGTH = 2048;

export interface Revocation {
  /** Epoch seconds. */
  at: number;
  /** The event (signal key) that triggered it. */
  event: string;
  /** Who added the rule that was revoked (the event's caller). */
  by: string;
}

export type RevocationSlot = { allowed: true; count: number } | { allowed: false; reason: string };

export interface FlappingOptions {
  /** The event's idempotency key: a redelivery counts once. */
  eventKey: string;
  actor: string;
  limit: number;
  windowSeconds: number;
  now?: Date;
}

function revocationsOf(value: unknown): Revocation[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const ok = value.every(
    (r) =>
      r !== null &&
      typeof r === "object" &&
      Number.isInteger((r as Revocation).at) &&
      typeof (r as Revocation).event === "string" &&
      typeof (r as Revocation).by === "string",
  );
  return ok ? (value as Revocation[]) : undefined;
}

function names(revocations: readonly Revocation[], actor: string): string {
  return [...new Set([...revocations.map((r) => r.by), actor])].join(", ");
}

async function takeOne(
  client: DynamoDBDocumentClient,
  table: string,
  target: RuleTarget,
  fingerprint: string,
  options: FlappingOptions,
): Promise<RevocationSlot> {
  const { GetCommand, PutCommand } = await documentCommands();
  const Key = ruleKey("FLAP", target, fingerprint);
  const rule = `${describeFingerprint(fingerprint)} on ${target.groupId}`;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const now = epochSeconds(options.now ?? new Date());
    const { Item } = await client.send(new GetCommand({ TableName: table, Key, ConsistentRead: true }));
    const stored = Item === undefined ? [] : revocationsOf(Item.revocations);
    if (stored === undefined || (Item !== undefined && typeof Item.version !== "string")) {
      return {
        allowed: false,
        reason: `the flapping counter of ${rule} is damaged: not revoked automatically until it is deleted`,
      };
    }
    const recent = stored.filter((r) => r.at > now - options.windowSeconds);
    const counted = recent.find((r) => r.event === options.eventKey);
    if (counted) return { allowed: true, count: recent.length };
    if (recent.length >= options.limit) {
      return {
        allowed: false,
        reason: `flapping: ${rule} was revoked ${recent.length} time${recent.length === 1 ? "" : "s"} in the last ${options.windowSeconds} s and re-added each time, by ${names(recent, options.actor)}: not revoked again (stop what re-adds it, or exempt the group)`,
      };
    }
    const revocations = [...recent, { at: now, event: options.eventKey, by: options.actor.slice(0, MAX_ACTOR_LENGTH) }];
    try {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: {
            ...Key,
            groupId: target.groupId,
            fingerprint,
            revocations: revocations.map((r) => ({ ...r, by: wellFormed(r.by) })),
            version: randomUUID(),
            [TTL_ATTRIBUTE]: now + options.windowSeconds,
          },
          ...(Item
            ? {
                ConditionExpression: "#version = :version",
                ExpressionAttributeNames: { "#version": "version" },
                ExpressionAttributeValues: { ":version": Item.version },
              }
            : { ConditionExpression: "attribute_not_exists(pk)" }),
        }),
      );
      return { allowed: true, count: revocations.length };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
  return {
    allowed: false,
    reason: `the flapping counter of ${rule} is contended: ${MAX_ATTEMPTS} writes lost to other Lambdas, not revoked automatically`,
  };
}

/**
 * Counts one automatic revocation of every rule of `target`, or refuses with the reason naming who re-adds it. Only a
 * DynamoDB error other than a lost write throws (the invocation fails and is retried: nothing is revoked meanwhile).
 */
export async function takeRevocation(
  client: DynamoDBDocumentClient,
  table: string,
  target: RuleTarget,
  options: FlappingOptions,
): Promise<RevocationSlot> {
  let count = 0;
  for (const fingerprint of target.fingerprints) {
    const slot = await takeOne(client, table, target, fingerprint, options);
    if (!slot.allowed) return slot;
    count = Math.max(count, slot.count);
  }
  return { allowed: true, count };
}
