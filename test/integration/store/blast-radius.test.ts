/** The blast-radius limit against a real local DynamoDB (dynalite): the versioned counter item, not a mock. */
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  blastRadiusKey,
  blastRadiusReason,
  MAX_ATTEMPTS,
  readCounter,
  takeAutomaticSlot,
  windowStartOf,
} from "../../../packages/core/src/guardrails/blast-radius.ts";
import { type LocalDynamo, startDynalite } from "../../helpers/dynalite.ts";

const T0 = new Date("2025-06-15T10:51:12.000Z");
/** 10:50:00, the start of T0's 600 s window. */
const WINDOW_START = Date.parse("2025-06-15T10:50:00.000Z") / 1000;
const later = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

let dynamo: LocalDynamo;
let table: string;
let accounts = 0;
/** A fresh account per test, so tests never share a counter. */
const freshAccount = (): string => String(111122223300 + ++accounts);

beforeAll(async () => {
  dynamo = await startDynalite();
  table = await dynamo.createTable();
});

afterAll(async () => {
  await dynamo.stop();
});

async function counter(account: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await dynamo.docClient.send(
    new GetCommand({ TableName: table, Key: blastRadiusKey(account), ConsistentRead: true }),
  );
  return Item;
}

describe("takeAutomaticSlot", () => {
  it("starts from a counter read ahead, and a read that other Lambdas overtook never lets a slot past the limit", async () => {
    // prepare: two Lambdas read the account's counter ahead (none yet, then one slot taken)
    const account = freshAccount();
    const options = { account, limit: 2, windowSeconds: 600, now: T0 };
    const empty = await readCounter(dynamo.docClient, table, account);
    expect(await takeAutomaticSlot(dynamo.docClient, table, { ...options, read: Promise.resolve(empty) })).toEqual({
      allowed: true,
      count: 1,
      windowStart: WINDOW_START,
    });
    const one = await readCounter(dynamo.docClient, table, account);
    // Another Lambda takes the second slot after both reads.
    expect((await takeAutomaticSlot(dynamo.docClient, table, options)).allowed).toBe(true);

    // act: each stale read loses its conditional write and reads again
    const fromEmpty = await takeAutomaticSlot(dynamo.docClient, table, { ...options, read: Promise.resolve(empty) });
    const fromOne = await takeAutomaticSlot(dynamo.docClient, table, { ...options, read: Promise.resolve(one) });

    // assess
    expect(fromEmpty).toEqual({
      allowed: false,
      reason: blastRadiusReason(account, 2, 600),
      windowStart: WINDOW_START,
    });
    expect(fromOne.allowed).toBe(false);
    expect((await counter(account))?.count).toBe(2);
  });

  it("never allows more than the limit when many Lambdas take slots at once", async () => {
    // prepare
    const account = freshAccount();
    const options = { account, limit: 20, windowSeconds: 600, now: T0 };

    // act
    const results = await Promise.all(
      Array.from({ length: 45 }, () => takeAutomaticSlot(dynamo.docClient, table, options)),
    );

    // assess
    const allowed = results.filter((r) => r.allowed);
    const refused = results.filter((r) => !r.allowed);
    expect(allowed).toHaveLength(20);
    expect(refused).toHaveLength(25);
    expect(new Set(allowed.map((r) => (r.allowed ? r.count : 0)))).toEqual(
      new Set(Array.from({ length: 20 }, (_, i) => i + 1)),
    );
    expect(refused[0]).toEqual({
      allowed: false,
      reason: `blast-radius limit: 20 automatic actions per 600 s reached for account ${account}`,
      windowStart: WINDOW_START,
    });
    expect((await counter(account))?.count).toBe(20);
  });

  it("lets many Lambdas take slots at once within a window without refusing any below the limit", async () => {
    // prepare: the counter of this window exists
    const account = freshAccount();
    const options = { account, limit: 1000, windowSeconds: 600, now: T0 };
    await takeAutomaticSlot(dynamo.docClient, table, options);

    // act: 200 at once (an atomic ADD each: no write is lost to another)
    const results = await Promise.all(
      Array.from({ length: 200 }, () => takeAutomaticSlot(dynamo.docClient, table, options)),
    );

    // assess
    expect(results.filter((r) => !r.allowed)).toEqual([]);
    expect((await counter(account))?.count).toBe(201);
  });

  it("loses no slot when many Lambdas, their clocks up to 10 s apart, take slots at once across a window boundary", async () => {
    // prepare: a counter in the window before; 300 takers around the boundary (seeded spread of their clocks)
    const account = freshAccount();
    const boundary = WINDOW_START + 600;
    await takeAutomaticSlot(dynamo.docClient, table, {
      account,
      limit: 1000,
      windowSeconds: 600,
      now: new Date((boundary - 300) * 1000),
    });
    let seed = 7;
    const spread = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return (seed / 2 ** 31) * 20 - 10;
    };

    // act
    const results = await Promise.all(
      Array.from({ length: 300 }, () =>
        takeAutomaticSlot(dynamo.docClient, table, {
          account,
          limit: 1000,
          windowSeconds: 600,
          now: new Date((boundary + spread()) * 1000),
        }),
      ),
    );

    // assess: every slot granted, and every one of them (and the first) in the stored counts
    expect(results.filter((r) => !r.allowed)).toEqual([]);
    const item = await counter(account);
    expect(Number(item?.count) + Number(item?.previousCount) + Number(item?.olderCount)).toBe(301);
  });

  it("counts the window before too: no span of the window's length ever holds more than the limit", async () => {
    // prepare: 2 slots late in one window
    const account = freshAccount();
    const options = { account, limit: 2, windowSeconds: 600 };
    await takeAutomaticSlot(dynamo.docClient, table, { ...options, now: later(520) });
    await takeAutomaticSlot(dynamo.docClient, table, { ...options, now: later(527) });

    // act: early in the next window (a fixed window would allow 2 more here), then once the full window has passed
    const nextWindow = await takeAutomaticSlot(dynamo.docClient, table, { ...options, now: later(528) });
    const windowAfter = await takeAutomaticSlot(dynamo.docClient, table, { ...options, now: later(1128) });

    // assess
    expect(nextWindow).toEqual({
      allowed: false,
      reason: blastRadiusReason(account, 2, 600),
      windowStart: WINDOW_START + 600,
    });
    expect(windowAfter).toEqual({ allowed: true, count: 1, windowStart: WINDOW_START + 1200 });
  });

  it("holds the limit in every span of the window's length over two hours of slots taken at random times", async () => {
    // prepare: a seeded sequence of attempt times, some in bursts
    const account = freshAccount();
    const limit = 5;
    const windowSeconds = 60;
    let seed = 20261128;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const times: number[] = [];
    for (let t = 0; t < 7_200; t += random() < 0.1 ? 0.5 : Math.floor(random() * 40)) times.push(t);

    // act
    const granted: number[] = [];
    for (const t of times) {
      const slot = await takeAutomaticSlot(dynamo.docClient, table, { account, limit, windowSeconds, now: later(t) });
      if (slot.allowed) granted.push(t);
    }

    // assess: slide a window over every grant; some were refused, and never more than the limit in one span
    expect(granted.length).toBeGreaterThan(50);
    expect(granted.length).toBeLessThan(times.length);
    for (const [i, t] of granted.entries()) {
      const inSpan = granted.slice(i).filter((u) => u < t + windowSeconds).length;
      expect(inSpan, `slots in the ${windowSeconds} s from ${t} s`).toBeLessThanOrEqual(limit);
    }
  });

  it("counts in the stored window when another Lambda's clock is ahead of this one", async () => {
    // prepare: a slot taken by a clock 10 s into the next window
    const account = freshAccount();
    const options = { account, limit: 2, windowSeconds: 600 };
    await takeAutomaticSlot(dynamo.docClient, table, { ...options, now: later(538) });

    // act: this Lambda's clock is still in the window before
    const behind = await takeAutomaticSlot(dynamo.docClient, table, { ...options, now: later(520) });

    // assess
    expect(behind).toEqual({ allowed: true, count: 2, windowStart: WINDOW_START + 600 });
    expect(await counter(account)).toMatchObject({ windowStart: WINDOW_START + 600, count: 2, previousCount: 0 });
  });

  it("takes a policy's window raised many times over (60 s to an hour) as a change of length, not as damage", async () => {
    // prepare: 2 slots under a 60 s window
    const account = freshAccount();
    await takeAutomaticSlot(dynamo.docClient, table, { account, limit: 3, windowSeconds: 60, now: later(100) });
    await takeAutomaticSlot(dynamo.docClient, table, { account, limit: 3, windowSeconds: 60, now: later(110) });

    // act
    const hourly = { account, limit: 3, windowSeconds: 3600 };
    const first = await takeAutomaticSlot(dynamo.docClient, table, { ...hourly, now: later(120) });
    const second = await takeAutomaticSlot(dynamo.docClient, table, { ...hourly, now: later(121) });

    // assess
    expect(first.allowed).toBe(true);
    expect(second.allowed).toBe(false);
    expect(second.allowed ? "" : second.reason).toBe(blastRadiusReason(account, 3, 3600));
  });

  it("counts every recent slot in full when the policy's window length changes", async () => {
    // prepare: 2 slots under a 600 s window
    const account = freshAccount();
    await takeAutomaticSlot(dynamo.docClient, table, { account, limit: 3, windowSeconds: 600, now: later(500) });
    await takeAutomaticSlot(dynamo.docClient, table, { account, limit: 3, windowSeconds: 600, now: later(520) });

    // act: the policy now says 900 s
    const first = await takeAutomaticSlot(dynamo.docClient, table, {
      account,
      limit: 3,
      windowSeconds: 900,
      now: later(540),
    });
    const second = await takeAutomaticSlot(dynamo.docClient, table, {
      account,
      limit: 3,
      windowSeconds: 900,
      now: later(541),
    });

    // assess
    expect(first.allowed).toBe(true);
    expect(second.allowed).toBe(false);
  });

  it.each([
    ["a count that is not a number", { count: "many", windowStart: WINDOW_START }, "unreadable fields"],
    [
      "a window not aligned on its length",
      { windowStart: WINDOW_START + 7, windowSeconds: 600, count: 1, previousCount: 0, olderCount: 0, version: "v" },
      "is not aligned on 600 s",
    ],
  ])("refuses a slot, with the reason, from a damaged counter: %s", async (_, fields, why) => {
    // prepare
    const account = freshAccount();
    await dynamo.docClient.send(new PutCommand({ TableName: table, Item: { ...blastRadiusKey(account), ...fields } }));

    // act
    const slot = await takeAutomaticSlot(dynamo.docClient, table, { account, limit: 20, windowSeconds: 600, now: T0 });

    // assess
    expect(slot.allowed).toBe(false);
    expect(slot.allowed ? "" : slot.reason).toContain(`the blast-radius counter of account ${account} is damaged (`);
    expect(slot.allowed ? "" : slot.reason).toContain(why);
  });

  it("refuses a slot while the counter is more than a window ahead of this clock, saying so", async () => {
    // prepare: a counter two windows ahead
    const account = freshAccount();
    const ahead = { windowStart: WINDOW_START + 1200, windowSeconds: 600, count: 1, previousCount: 0, olderCount: 0 };
    await dynamo.docClient.send(
      new PutCommand({ TableName: table, Item: { ...blastRadiusKey(account), ...ahead, version: "v" } }),
    );

    // act
    const slot = await takeAutomaticSlot(dynamo.docClient, table, { account, limit: 20, windowSeconds: 600, now: T0 });

    // assess
    expect(slot.allowed).toBe(false);
    expect(slot.allowed ? "" : slot.reason).toBe(
      `the blast-radius counter of account ${account} is ahead of this Lambda's clock (its window starts at ${WINDOW_START + 1200}, more than a window after this clock's (${WINDOW_START})): no automatic action until the clocks agree`,
    );
  });

  it("reads a counter of the release before (no window length, a numeric version) in full, then rewrites it", async () => {
    // prepare: 2 slots in this window, written the old way
    const account = freshAccount();
    await dynamo.docClient.send(
      new PutCommand({
        TableName: table,
        Item: { ...blastRadiusKey(account), windowStart: WINDOW_START, count: 2, previousCount: 0, version: 3 },
      }),
    );
    const options = { account, limit: 3, windowSeconds: 600, now: T0 };

    // act
    const third = await takeAutomaticSlot(dynamo.docClient, table, options);
    const fourth = await takeAutomaticSlot(dynamo.docClient, table, options);

    // assess
    expect(third).toEqual({ allowed: true, count: 3, windowStart: WINDOW_START });
    expect(fourth.allowed).toBe(false);
    expect(await counter(account)).toMatchObject({ windowSeconds: 600, count: 3, olderCount: 0 });
  });

  it("keeps the limit when a clock ahead skips a window: a Lambda a window behind still counts the older slots", async () => {
    // prepare: 2 slots at the end of one window, then a Lambda whose clock is 3 s ahead, two windows on
    const account = freshAccount();
    const options = { account, limit: 2, windowSeconds: 600 };
    const fromWindowStart = (seconds: number) => new Date((WINDOW_START + seconds) * 1000);
    await takeAutomaticSlot(dynamo.docClient, table, { ...options, now: fromWindowStart(599) });
    await takeAutomaticSlot(dynamo.docClient, table, { ...options, now: fromWindowStart(599.5) });
    const ahead = await takeAutomaticSlot(dynamo.docClient, table, { ...options, now: fromWindowStart(1198 + 3) });

    // act: a correct clock at 1198 s: the two slots at 599 s are less than a window old
    const behind = await takeAutomaticSlot(dynamo.docClient, table, { ...options, now: fromWindowStart(1198) });

    // assess
    expect(ahead.allowed).toBe(true);
    expect(behind).toEqual({
      allowed: false,
      reason: blastRadiusReason(account, 2, 600),
      windowStart: WINDOW_START + 600,
    });
  });

  it("refuses, with the reason, after MAX_ATTEMPTS writes lost to other Lambdas", async () => {
    // prepare: a table where every conditional write loses (another Lambda always wrote first)
    const account = freshAccount();
    let puts = 0;
    const contended = {
      async send(command: unknown) {
        if (command instanceof PutCommand) {
          puts++;
          throw Object.assign(new Error("The conditional request failed"), { name: "ConditionalCheckFailedException" });
        }
        return { Item: undefined };
      },
    } as unknown as typeof dynamo.docClient;

    // act
    const slot = await takeAutomaticSlot(contended, table, { account, limit: 20, windowSeconds: 600, now: T0 });

    // assess
    expect(slot).toEqual({
      allowed: false,
      reason: `the blast-radius counter of account ${account} is contended: ${MAX_ATTEMPTS} writes lost to other Lambdas, no slot taken`,
      windowStart: WINDOW_START,
    });
    expect(puts).toBe(MAX_ATTEMPTS);
  });

  it("keys the counter by account, with both windows' counts, a version and a TTL an hour after the next window", async () => {
    // prepare
    const account = freshAccount();

    // act
    await takeAutomaticSlot(dynamo.docClient, table, { account, limit: 20, windowSeconds: 600, now: T0 });
    await takeAutomaticSlot(dynamo.docClient, table, { account, limit: 20, windowSeconds: 600, now: later(600) });

    // assess
    expect(await counter(account)).toEqual({
      pk: `LIMIT#k:${account}`,
      sk: "LIMIT",
      account,
      windowStart: WINDOW_START + 600,
      windowSeconds: 600,
      count: 1,
      previousCount: 1,
      olderCount: 0,
      version: expect.stringMatching(/^[0-9a-f-]{36}$/),
      expiresAt: WINDOW_START + 600 + 1200 + 3600,
    });
  });

  it("counts each account on its own", async () => {
    // prepare
    const full = freshAccount();
    const other = freshAccount();
    await takeAutomaticSlot(dynamo.docClient, table, { account: full, limit: 1, windowSeconds: 600, now: T0 });

    // act
    const result = await takeAutomaticSlot(dynamo.docClient, table, {
      account: other,
      limit: 1,
      windowSeconds: 600,
      now: T0,
    });

    // assess
    expect(result.allowed).toBe(true);
  });

  it("refuses every slot with a limit of 0, without writing", async () => {
    // prepare
    const account = freshAccount();

    // act
    const result = await takeAutomaticSlot(dynamo.docClient, table, { account, limit: 0, windowSeconds: 600, now: T0 });

    // assess
    expect(result).toEqual({ allowed: false, reason: blastRadiusReason(account, 0, 600), windowStart: WINDOW_START });
    expect(await counter(account)).toBeUndefined();
  });

  it("rejects a limit or window that is not a whole number", async () => {
    // prepare
    const account = freshAccount();

    // act
    const badLimit = takeAutomaticSlot(dynamo.docClient, table, { account, limit: 2.5, windowSeconds: 600 });
    const badWindow = takeAutomaticSlot(dynamo.docClient, table, { account, limit: 2, windowSeconds: 0 });

    // assess
    await expect(badLimit).rejects.toThrow(RangeError);
    await expect(badWindow).rejects.toThrow("windowSeconds must be a positive integer, got 0");
  });

  it("passes a DynamoDB error that is not the limit on to the caller", async () => {
    // prepare
    const options = { account: freshAccount(), limit: 20, windowSeconds: 600, now: T0 };

    // act
    const taking = takeAutomaticSlot(dynamo.docClient, "no-such-table", options);

    // assess
    await expect(taking).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  });
});

describe("windowStartOf", () => {
  it("aligns a time on the window length since the epoch", () => {
    // prepare
    const onBoundary = new Date("2025-06-15T11:00:00.000Z");

    // act
    const starts = [windowStartOf(T0, 600), windowStartOf(onBoundary, 600), windowStartOf(T0, 3600)];

    // assess
    expect(starts).toEqual([WINDOW_START, onBoundary.getTime() / 1000, Date.parse("2025-06-15T10:00:00Z") / 1000]);
  });
});

describe("blastRadiusReason", () => {
  it("names the limit, the window and the account", () => {
    // prepare
    const account = "776520358045";

    // act
    const reasons = [blastRadiusReason(account, 20, 600), blastRadiusReason(account, 1, 60)];

    // assess
    expect(reasons).toEqual([
      "blast-radius limit: 20 automatic actions per 600 s reached for account 776520358045",
      "blast-radius limit: 1 automatic action per 60 s reached for account 776520358045",
    ]);
  });
});
