/**
 * Flapping: a rule revoked and re-added again and again (an IaC run, a controller, a person re-adding it) would be
 * revoked forever. Each automatic revoke of a rule is counted in one item per group and rule (pk
 * `FLAP#<account/region/group>`, sk `RULE#<fingerprint>`, rule-targets.ts) with who added it and by which event; when
 * `limit` revocations of the same rule fall within `windowSeconds`, the next one is refused and the event becomes an
 * alert naming who keeps re-adding it.
 *
 * What is counted is an automatic revoke this guard lets through, before it is sent (an attempt, not a confirmed
 * revoke):
 * - counted first, on the condition that the item is still the one read: each revoke is then preceded by its own
 *   successful write, so Lambdas handling re-adds of the same rule at once can never pass the limit together.
 *   Counting after the revoke would let every Lambda that read the counter under the limit at the same moment revoke;
 * - a revoke that then fails, is refused (an exemption tag on the live group) or is never sent (the blast-radius slot
 *   refused, a rollback's hold) stays counted: the alert comes sooner, never later (fail closed). It is not taken back:
 *   that write could fail in turn, and a counter that counts too few is the unsafe side;
 * - a redelivery of an event already counted (its idempotency key is in the item) is not counted again, whether or not
 *   the first delivery's revoke was made.
 *
 * The respond path reads the group's items ahead, with the claim (readGroupCounters: one strongly consistent Query of
 * the group's partition, since the rules the assessment will name are not known before the policy), and the
 * conditional write then goes out with the blast-radius slot: one round trip before the revoke, not two. A read another
 * Lambda has overtaken loses its write, and the next attempt reads again. The item is written whole on the condition
 * that its `version` (a random token) is the one read. A damaged item or a counter contended MAX_ATTEMPTS times
 * refuses (fail closed: alert, don't act).
 *
 * Not one atomic UpdateItem (`ADD` with `ReturnValues: ALL_NEW`): the limit holds over any span of `windowSeconds`
 * (the revocations' own times, with who re-added each), and an update expression can neither drop the revocations
 * that left the window nor count only the recent ones in its condition. One UpdateItem would either turn the limit
 * into fixed windows (up to twice the limit across a window's end) or count refused attempts as well (a rule re-added
 * steadily would then never be revoked again), and after a failed condition "counted already" and "limit reached"
 * could not be told apart without reading the item anyway.
 *
 * Hand-written, like the blast-radius counter: the count must be shared by every Lambda, which only the table gives.
 */
import { randomUUID } from "node:crypto";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { documentCommands } from "../store/document-commands.ts";
import { isConditionFailure } from "../store/idempotency.ts";
import { epochSeconds, TTL_ATTRIBUTE, wellFormed } from "../store/table.ts";
import { describeFingerprint, type RuleGroup, type RuleTarget, ruleKey, rulePartition } from "./rule-targets.ts";

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
  /**
   * The target's group as read ahead (readGroupCounters), for the first attempt instead of a read of its own. A failed
   * read, or a rule the read did not reach, is read on its own.
   */
  read?: Promise<GroupCounters>;
}

/** The flapping counters of one group, read ahead. */
export interface GroupCounters {
  /** The items found, by sort key. */
  items: ReadonlyMap<string, Record<string, unknown>>;
  /** True when the whole partition was read: a rule with no item here has no counter. */
  complete: boolean;
}

/**
 * Reads every flapping counter of a group: one Query of its partition, strongly consistent. A partition over the
 * Query's 1 MB page comes back incomplete (LastEvaluatedKey set), and the rules it did not reach are read one by one.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html
 */
export async function readGroupCounters(
  client: DynamoDBDocumentClient,
  table: string,
  group: RuleGroup,
): Promise<GroupCounters> {
  const { QueryCommand } = await documentCommands();
  const { Items, LastEvaluatedKey } = await client.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": rulePartition("FLAP", group) },
      ConsistentRead: true,
    }),
  );
  const items = new Map<string, Record<string, unknown>>();
  for (const item of Items ?? []) if (typeof item.sk === "string") items.set(item.sk, item);
  return { items, complete: LastEvaluatedKey === undefined };
}

/** The item of `sk` as read ahead (`item` undefined: known to have none), or undefined when the read did not tell. */
async function readAhead(
  read: Promise<GroupCounters> | undefined,
  sk: string,
): Promise<{ item: Record<string, unknown> | undefined } | undefined> {
  const counters = await read?.catch(() => undefined);
  if (!counters) return undefined;
  const item = counters.items.get(sk);
  return item !== undefined || counters.complete ? { item } : undefined;
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
    const ahead = attempt === 1 ? await readAhead(options.read, Key.sk) : undefined;
    const Item = ahead
      ? ahead.item
      : (await client.send(new GetCommand({ TableName: table, Key, ConsistentRead: true }))).Item;
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
 * Counts one automatic revocation of every rule of `target`, or refuses with the reason naming who re-adds it (the
 * first refused rule's, in the target's order). The rules are counted side by side, so that a revoke of several rules
 * waits for one write, not one per rule: when one is refused, the others stay counted for a revoke that is then not
 * made, which only brings their alert sooner (see the module comment). Only a DynamoDB error other than a lost write
 * throws (the invocation fails and is retried: nothing is revoked meanwhile).
 */
export async function takeRevocation(
  client: DynamoDBDocumentClient,
  table: string,
  target: RuleTarget,
  options: FlappingOptions,
): Promise<RevocationSlot> {
  const slots = await Promise.all(
    target.fingerprints.map((fingerprint) => takeOne(client, table, target, fingerprint, options)),
  );
  let count = 0;
  for (const slot of slots) {
    if (!slot.allowed) return slot;
    count = Math.max(count, slot.count);
  }
  return { allowed: true, count };
}
