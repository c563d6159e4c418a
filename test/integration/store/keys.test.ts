/**
 * Keys from events are attacker-influenced: odd unicode, lone surrogates, `__proto__`, ids longer than a DynamoDB key
 * may be. Every one must be stored and read back, through the real local DynamoDB (dynalite), without colliding.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PlanStep } from "../../../packages/core/src/pipeline/types.ts";
import { getAudit, listAudit, recordAudit } from "../../../packages/core/src/store/audit.ts";
import { idempotencyStore } from "../../../packages/core/src/store/idempotency.ts";
import { keyPart, wellFormed } from "../../../packages/core/src/store/table.ts";
import { type LocalDynamo, startDynalite } from "../../helpers/dynalite.ts";

const NOW = new Date("2025-06-15T10:00:00.000Z");
const CLAIM = { now: NOW, inProgressTtlSeconds: 60, recordTtlSeconds: 3600 };

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
const oddKey = fc.oneof(
  fc.constantFrom("__proto__", "constructor", "prototype", "toString", "", " ", "#", "IDEM#k:x", "h:abc", "k:"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 40 }),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }),
  fc.string({ unit: fc.oneof(loneSurrogate, fc.constantFrom("a", "😀", "\u0000", "\u202e")), maxLength: 20 }),
  fc.string({ unit: "binary", minLength: 600, maxLength: 5000 }),
);

let dynamo: LocalDynamo;
let table: string;

beforeAll(async () => {
  dynamo = await startDynalite();
  table = await dynamo.createTable();
});

afterAll(async () => {
  await dynamo.stop();
});

describe("keyPart", () => {
  it("never maps two different strings to the same key", () => {
    // prepare
    const pairs = fc.tuple(oddKey, oddKey).filter(([a, b]) => a !== b);

    // act, assess
    fc.assert(
      fc.property(pairs, ([a, b]) => {
        expect(keyPart(a)).not.toBe(keyPart(b));
      }),
    );
  });

  it("keeps every key within DynamoDB's sort key limit, with room for a prefix", () => {
    // prepare
    const keys = oddKey;

    // act, assess
    fc.assert(
      fc.property(keys, (key) => {
        expect(Buffer.byteLength(keyPart(key), "utf8")).toBeLessThanOrEqual(514);
      }),
    );
  });

  it("lets odd idempotency keys be claimed once, completed and read back", async () => {
    // prepare
    const store = idempotencyStore(dynamo.docClient, table);
    const seen = new Set<string>();

    // act, assess
    await fc.assert(
      fc.asyncProperty(oddKey, async (key) => {
        fc.pre(!seen.has(key));
        seen.add(key);
        const first = await store.claim(key, CLAIM);
        const second = await store.claim(key, CLAIM);
        const completed = await store.complete(key, { outcome: "alert", reason: key, decisions: [], plannedCalls: 0 });
        const record = await store.get(key);
        expect(first.claimed).toBe(true);
        expect(second).toMatchObject({ claimed: false, status: "IN_PROGRESS" });
        expect(completed.completed).toBe(true);
        expect(record?.key).toBe(wellFormed(key));
        expect(record?.result?.reason).toEqual(key.length > 1024 ? expect.stringMatching(/…$/) : key);
      }),
      // No shrinking: each run is a few network round trips, and the first counterexample is reported as it is.
      { numRuns: 40, endOnFailure: true },
    );
  }, 60_000);

  it("stores and reads back audit records whose ids, cluster and plan keys are odd", async () => {
    // prepare
    let minute = 0;

    // act, assess
    await fc.assert(
      fc.asyncProperty(oddKey, async (key) => {
        const recordedAt = new Date(NOW.getTime() + ++minute * 60_000).toISOString();
        const params: unknown = JSON.parse(`{"__proto__": {"polluted": true}, ${JSON.stringify(key)}: 1}`);
        const step = { service: "ec2", operation: "X", params, action: "a", assessmentId: key } as PlanStep;
        await recordAudit(dynamo.docClient, table, {
          assessmentId: key,
          eventId: key,
          detectorId: "d",
          cluster: key,
          account: "123456789012",
          region: "eu-west-1",
          severity: "low",
          mode: "alert",
          outcome: "alert",
          reasons: [key],
          plan: [step],
          recordedAt,
        });
        const read = await getAudit(dynamo.docClient, table, key);
        const byCluster = await listAudit(dynamo.docClient, table, { cluster: key, limit: 1 });
        const readParams = read?.plan[0]?.params ?? {};
        expect(read?.recordedAt).toBe(recordedAt);
        expect(read?.reasons).toEqual([key]);
        expect(read?.assessmentId).toBe(wellFormed(key));
        expect(Object.getPrototypeOf(readParams)).toBe(Object.prototype);
        expect(Object.hasOwn(readParams, "__proto__")).toBe(true);
        expect(readParams[key]).toBe(1);
        expect(byCluster[0]?.recordedAt).toBe(recordedAt);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      // No shrinking: each run is a few network round trips, and the first counterexample is reported as it is.
      { numRuns: 40, endOnFailure: true },
    );
  }, 60_000);
});
