/**
 * The one DynamoDB table of eks-responder, as plain data: the tests create it from {@link tableDefinition} on a local
 * server, and the infra mirrors the same object, so the two cannot drift.
 *
 * | item                | pk                     | sk                | gsi1 (all audit, by time)      | gsi2 (audit by cluster)          |
 * | ------------------- | ---------------------- | ----------------- | ------------------------------ | -------------------------------- |
 * | idempotency record  | `IDEM#<key>`           | `IDEM`            | -                              | -                                |
 * | audit record        | `AUDIT#<assessmentId>` | `AT#<recordedAt>` | `AUDIT`, `<recordedAt>#<id>`   | `CLUSTER#<cluster>`, same as gsi1 |
 * | finding response    | `FINDING#<finding>`    | `FINDING`         | -                              | -                                |
 *
 * Every item carries `expiresAt` (epoch seconds), the table's TTL attribute. DynamoDB deletes expired items lazily
 * (often within days, not at the second), so readers treat an item past `expiresAt` as absent themselves.
 *
 * `gsi1pk = "AUDIT"` is a single partition: audit records are written a few per minute at most (one per decision on a
 * security event), far below a partition's 1,000 writes per second. gsi2 is sparse: only records with a cluster.
 */
import { createHash } from "node:crypto";

export const PK = "pk";
export const SK = "sk";
export const TTL_ATTRIBUTE = "expiresAt";
export const GSI_BY_TIME = "gsi1";
export const GSI_BY_CLUSTER = "gsi2";
export const AUDIT_PARTITION = "AUDIT";

/** DynamoDB's limits: partition key 2,048 bytes, sort key 1,024 bytes, item 400 KB (names and values, UTF-8). */
export const MAX_SORT_KEY_BYTES = 1024;
export const MAX_ITEM_BYTES = 400 * 1024;

/** The CreateTable input: PAY_PER_REQUEST, string keys, both GSIs projecting every attribute. */
export function tableDefinition(name: string) {
  return {
    TableName: name,
    BillingMode: "PAY_PER_REQUEST" as const,
    AttributeDefinitions: [
      { AttributeName: PK, AttributeType: "S" as const },
      { AttributeName: SK, AttributeType: "S" as const },
      { AttributeName: "gsi1pk", AttributeType: "S" as const },
      { AttributeName: "gsi1sk", AttributeType: "S" as const },
      { AttributeName: "gsi2pk", AttributeType: "S" as const },
      { AttributeName: "gsi2sk", AttributeType: "S" as const },
    ],
    KeySchema: [
      { AttributeName: PK, KeyType: "HASH" as const },
      { AttributeName: SK, KeyType: "RANGE" as const },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: GSI_BY_TIME,
        KeySchema: [
          { AttributeName: "gsi1pk", KeyType: "HASH" as const },
          { AttributeName: "gsi1sk", KeyType: "RANGE" as const },
        ],
        Projection: { ProjectionType: "ALL" as const },
      },
      {
        IndexName: GSI_BY_CLUSTER,
        KeySchema: [
          { AttributeName: "gsi2pk", KeyType: "HASH" as const },
          { AttributeName: "gsi2sk", KeyType: "RANGE" as const },
        ],
        Projection: { ProjectionType: "ALL" as const },
      },
    ],
  };
}

/** The UpdateTimeToLive input (CreateTable cannot set TTL; the infra sets it on the table, tests need not). */
export function ttlSpecification(name: string) {
  return { TableName: name, TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true } };
}

/** Longest key part stored as is; longer parts are hashed, so any id fits in a sort key with its prefix and suffix. */
const MAX_RAW_KEY_PART_BYTES = 512;
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * A key part safe for DynamoDB keys: `k:<value>` when short and valid UTF-16, otherwise `h:<sha256>` of its JSON form
 * (JSON escapes lone surrogates, so two different strings never share a hash input). The prefixes keep the two forms
 * from ever colliding.
 */
export function keyPart(value: string): string {
  if (Buffer.byteLength(value, "utf8") <= MAX_RAW_KEY_PART_BYTES && !LONE_SURROGATE.test(value)) return `k:${value}`;
  return `h:${createHash("sha256").update(JSON.stringify(value)).digest("hex")}`;
}

/**
 * The string with lone surrogates (invalid UTF-16, not encodable as UTF-8) replaced by U+FFFD, for attribute values
 * DynamoDB stores as UTF-8. Keys never rely on this: {@link keyPart} hashes such strings instead.
 */
export function wellFormed(value: string): string {
  return value.replace(/\p{Cs}/gu, "\uFFFD");
}

/** Epoch seconds of a date, as DynamoDB TTL wants them. */
export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
