/** The idempotency store against a real local DynamoDB (dynalite): conditional writes, not mocks. */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventResult } from "../../../packages/core/src/pipeline/types.ts";
import { parseEvent } from "../../../packages/core/src/signals/parse.ts";
import {
  type ClaimOptions,
  compactResult,
  type IdempotencyStore,
  idempotencyKey,
  idempotencyStore,
  MAX_PROGRESS_BYTES,
} from "../../../packages/core/src/store/idempotency.ts";
import { type LocalDynamo, startDynalite } from "../../helpers/dynalite.ts";
import { loadFixture } from "../../helpers/fixtures.ts";

const T0 = new Date("2025-06-15T10:00:00.000Z");
const T0_SECONDS = T0.getTime() / 1000;
const OPTIONS: ClaimOptions = { now: T0, inProgressTtlSeconds: 300, recordTtlSeconds: 86_400 };
const later = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

const RESULT: EventResult = {
  eventId: "envelope-1",
  outcome: "dry-run",
  reason: "would apply 1 call (dry-run: nothing is changed)",
  assessments: [],
  decisions: [
    {
      assessmentId: "asm-0123456789abcdef0123",
      detectorId: "ec2-open-ingress",
      severity: "high",
      mode: "auto",
      dryRun: true,
      reasons: ["mode auto set in the policy for ec2-open-ingress"],
      plan: [],
      notify: [],
    },
  ],
  plan: [
    {
      service: "ec2",
      operation: "RevokeSecurityGroupIngress",
      params: { GroupId: "sg-1" },
      action: "ec2:revoke-ingress",
      assessmentId: "asm-0123456789abcdef0123",
    },
  ],
};

let dynamo: LocalDynamo;
let table: string;
let keys = 0;
const freshKey = (): string => `ct:test-event-${++keys}`;

beforeAll(async () => {
  dynamo = await startDynalite();
  table = await dynamo.createTable();
});

afterAll(async () => {
  await dynamo.stop();
});

describe("idempotencyKey", () => {
  it("is the account, region and CloudTrail eventID for a CloudTrail event", () => {
    // prepare
    const parsed = parseEvent(loadFixture("cloudtrail/authorize-security-group-ingress/ssh-ipv4-open-real.json"));
    if (parsed.status !== "signal" || parsed.signal.family !== "cloudtrail") throw new Error("fixture did not parse");

    // act
    const fromParsed = idempotencyKey(parsed);
    const fromSignal = idempotencyKey(parsed.signal);

    // assess
    expect(fromParsed).toBe(`ct:${parsed.signal.account}:${parsed.signal.region}:${parsed.signal.eventId}`);
    expect(fromSignal).toBe(fromParsed);
  });

  it("tells the same event id in two accounts or two regions apart: two events, neither a duplicate", () => {
    // prepare
    const parsed = parseEvent(loadFixture("cloudtrail/authorize-security-group-ingress/ssh-ipv4-open-real.json"));
    if (parsed.status !== "signal") throw new Error("fixture did not parse");
    const otherAccount = { ...parsed.signal, account: "111122223333" };
    const otherRegion = { ...parsed.signal, region: "eu-west-1" };

    // act
    const keys = [parsed.signal, otherAccount, otherRegion].map((s) => idempotencyKey(s));

    // assess
    expect(new Set(keys).size).toBe(3);
  });

  it("is the account, region, finding id and updatedAt for a GuardDuty finding, so an updated finding is a new event", () => {
    // prepare
    const raw = loadFixture(
      "guardduty/execution-kubernetes-execinkubesystempod/exec-aws-node-by-ci-serviceaccount.json",
    );
    const parsed = parseEvent(raw);
    if (parsed.status !== "signal" || parsed.signal.family !== "guardduty") throw new Error("fixture did not parse");
    const updated = { ...parsed.signal, updatedAt: "2030-01-01T00:00:00.000Z" };

    // act
    const key = idempotencyKey(parsed.signal);
    const updatedKey = idempotencyKey(updated);

    // assess
    expect(key).toBe(
      `gd:${parsed.signal.account}:${parsed.signal.region}:${parsed.signal.findingId}@${parsed.signal.updatedAt}`,
    );
    expect(updatedKey).not.toBe(key);
  });

  it("is undefined for an unsupported event: nothing is acted on, nothing to deduplicate", () => {
    // prepare
    const parsed = { status: "unsupported", event: { source: "aws.s3", detailType: "x", reason: "not read" } } as const;

    // act
    const key = idempotencyKey(parsed);

    // assess
    expect(key).toBeUndefined();
  });
});

describe("idempotencyStore", () => {
  let store: IdempotencyStore;
  beforeAll(() => {
    store = idempotencyStore(dynamo.docClient, table);
  });

  it("gives the same event claimed three times at once to exactly one claimer", async () => {
    // prepare
    const key = freshKey();
    const stores = [1, 2, 3].map(() => idempotencyStore(dynamo.docClient, table));

    // act
    const results = await Promise.all(stores.map((s) => s.claim(key, OPTIONS)));

    // assess
    expect(results.filter((r) => r.claimed)).toHaveLength(1);
    expect(results.filter((r) => !r.claimed && r.status === "IN_PROGRESS")).toHaveLength(2);
  });

  it("stores the claim with its expiries in epoch seconds", async () => {
    // prepare
    const key = freshKey();

    // act
    const claim = await store.claim(key, OPTIONS);
    const record = await store.get(key);

    // assess
    expect(claim.claimed).toBe(true);
    expect(record).toMatchObject({
      key,
      status: "IN_PROGRESS",
      inProgressExpiry: T0_SECONDS + 300,
      expiresAt: T0_SECONDS + 86_400,
      claimedAt: T0.toISOString(),
    });
  });

  it("lets a claim left IN_PROGRESS past its expiry be taken again", async () => {
    // prepare
    const key = freshKey();
    await store.claim(key, OPTIONS);
    const other = idempotencyStore(dynamo.docClient, table);

    // act
    const result = await other.claim(key, { ...OPTIONS, now: later(301) });

    // assess
    expect(result.claimed).toBe(true);
  });

  it("refuses a claim that is IN_PROGRESS and not yet expired, even at its last second", async () => {
    // prepare
    const key = freshKey();
    await store.claim(key, OPTIONS);
    const other = idempotencyStore(dynamo.docClient, table);

    // act
    const result = await other.claim(key, { ...OPTIONS, now: later(300) });

    // assess
    expect(result).toMatchObject({ claimed: false, status: "IN_PROGRESS", record: { key, status: "IN_PROGRESS" } });
  });

  it("answers a claim after complete with COMPLETED and the stored compact result", async () => {
    // prepare
    const key = freshKey();
    await store.claim(key, OPTIONS);
    const completed = await store.complete(key, RESULT);

    // act
    const again = await idempotencyStore(dynamo.docClient, table).claim(key, { ...OPTIONS, now: later(3600) });

    // assess
    expect(completed).toEqual({ completed: true });
    expect(again).toMatchObject({ claimed: false, status: "COMPLETED" });
    expect(again.claimed ? undefined : again.record?.result).toEqual({
      outcome: "dry-run",
      reason: RESULT.reason,
      eventId: "envelope-1",
      decisions: [{ assessmentId: "asm-0123456789abcdef0123", mode: "auto", dryRun: true }],
      plannedCalls: 1,
    });
  });

  it("lets a completed record be claimed again once it is past its TTL but not yet deleted", async () => {
    // prepare
    const key = freshKey();
    await store.claim(key, OPTIONS);
    await store.complete(key, RESULT);

    // act
    const result = await store.claim(key, { ...OPTIONS, now: later(86_401) });

    // assess
    expect(result.claimed).toBe(true);
  });

  it("makes the event claimable again after release", async () => {
    // prepare
    const key = freshKey();
    await store.claim(key, OPTIONS);
    const released = await store.release(key);

    // act
    const result = await idempotencyStore(dynamo.docClient, table).claim(key, OPTIONS);

    // assess
    expect(released).toBe(true);
    expect(result.claimed).toBe(true);
  });

  it("hands the checkpoint, the claim count and the first claim's time to whoever takes a dead holder's claim over", async () => {
    // prepare: a holder saves how far it got, then dies (no release, no completion)
    const key = freshKey();
    const dead = idempotencyStore(dynamo.docClient, table);
    await dead.claim(key, OPTIONS);
    expect(await dead.checkpoint(key, '{"version":1,"done":[],"partial":[]}')).toBe(true);

    // act
    const held = await idempotencyStore(dynamo.docClient, table).claim(key, { ...OPTIONS, now: later(60) });
    const taken = await idempotencyStore(dynamo.docClient, table).claim(key, { ...OPTIONS, now: later(301) });

    // assess
    expect(held).toMatchObject({ claimed: false, status: "IN_PROGRESS" });
    expect(taken).toMatchObject({
      claimed: true,
      attempt: 2,
      firstClaimedAt: T0.toISOString(),
      progress: '{"version":1,"done":[],"partial":[]}',
    });
  });

  it("keeps the checkpoint through a release, so the retry resumes where the failed invocation stopped", async () => {
    // prepare
    const key = freshKey();
    await store.claim(key, OPTIONS);
    await store.checkpoint(key, "step-1");
    await store.release(key);

    // act: the retry comes at once (a released claim needs no expiry)
    const retry = await idempotencyStore(dynamo.docClient, table).claim(key, { ...OPTIONS, now: later(1) });

    // assess
    expect(retry).toMatchObject({ claimed: true, attempt: 2, progress: "step-1" });
  });

  it("lets only the holder save a checkpoint, refuses one too large for the item, and forgets it on completion", async () => {
    // prepare
    const key = freshKey();
    await store.claim(key, OPTIONS);

    // act
    const foreign = await idempotencyStore(dynamo.docClient, table).checkpoint(key, "x", "not-the-token");
    // The refusal is awaited below; its handler is attached now, so the rejection is never unhandled meanwhile.
    const tooLarge = expect(store.checkpoint(key, "x".repeat(MAX_PROGRESS_BYTES + 1))).rejects.toThrow(
      /over 307200: shrink it first/,
    );
    await store.checkpoint(key, "kept-until-completion");
    await store.complete(key, RESULT);
    const { Item } = await dynamo.docClient.send(
      new GetCommand({ TableName: table, Key: { pk: `IDEM#k:${key}`, sk: "IDEM" } }),
    );

    // assess
    expect(foreign).toBe(false);
    await tooLarge;
    expect(Item?.status).toBe("COMPLETED");
    expect(Item?.progress).toBeUndefined();
  });

  it("starts a record past its TTL afresh: claim 1, no checkpoint of the old one", async () => {
    // prepare
    const key = freshKey();
    await store.claim(key, OPTIONS);
    await store.checkpoint(key, "old");

    // act
    const fresh = await idempotencyStore(dynamo.docClient, table).claim(key, { ...OPTIONS, now: later(86_401) });

    // assess
    expect(fresh).toMatchObject({ claimed: true, attempt: 1, firstClaimedAt: later(86_401).toISOString() });
    expect(fresh.claimed && fresh.progress).toBeUndefined();
  });

  it("lets only the current holder complete or release, not one whose claim expired and was taken", async () => {
    // prepare
    const key = freshKey();
    const first = idempotencyStore(dynamo.docClient, table);
    const second = idempotencyStore(dynamo.docClient, table);
    await first.claim(key, OPTIONS);
    await second.claim(key, { ...OPTIONS, now: later(301) });

    // act
    const lateComplete = await first.complete(key, RESULT);
    const lateRelease = await first.release(key);
    const record = await second.get(key);

    // assess
    expect(lateComplete.completed).toBe(false);
    expect(lateRelease).toBe(false);
    expect(record?.status).toBe("IN_PROGRESS");
  });

  it("refuses to complete a key it never claimed", async () => {
    // prepare
    const key = freshKey();

    // act
    const result = await store.complete(key, RESULT);
    const raw = await dynamo.docClient.send(
      new GetCommand({ TableName: table, Key: { pk: `IDEM#k:${key}`, sk: "IDEM" } }),
    );

    // assess
    expect(result.completed).toBe(false);
    expect(raw.Item).toBeUndefined();
  });

  it("refuses a record TTL shorter than the in-progress TTL", async () => {
    // prepare
    const key = freshKey();

    // act
    const claiming = store.claim(key, { now: T0, inProgressTtlSeconds: 600, recordTtlSeconds: 60 });

    // assess
    await expect(claiming).rejects.toThrow(RangeError);
  });
});

describe("compactResult", () => {
  it("keeps the outcome and decisions and caps a long reason", () => {
    // prepare
    const long = { ...RESULT, reason: "x".repeat(5000) };

    // act
    const compact = compactResult(long);

    // assess
    expect(compact.reason.length).toBeLessThanOrEqual(1025);
    expect(compact.plannedCalls).toBe(1);
    expect(compact).not.toHaveProperty("assessments");
  });
});
