import { describe, expect, it } from "vitest";
import {
  createKillSwitch,
  DEFAULT_KILL_SWITCH_CACHE_MS,
  KillSwitchError,
  killSwitchValue,
} from "../../../packages/core/src/guardrails/kill-switch.ts";

/** A reader that answers from a list, one value (or error) per read, and counts its reads. */
function reader(answers: (string | undefined | Error)[]) {
  let reads = 0;
  const read = async (): Promise<string | undefined> => {
    const answer = answers[Math.min(reads, answers.length - 1)];
    reads++;
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { read, reads: () => reads };
}

function clock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number): void {
      t += ms;
    },
  };
}

describe("killSwitchValue", () => {
  it("reads on, true and 1 as on and off, false, 0 and empty as off, trimmed and in any case", () => {
    // prepare
    const on = ["on", "ON", " True ", "1", "\ton\n"];
    const off = ["off", "OFF", "false", " 0 ", ""];

    // act
    const read = [...on, ...off].map(killSwitchValue);

    // assess
    expect(read).toEqual([true, true, true, true, true, false, false, false, false, false]);
  });

  it("knows no other value", () => {
    // prepare
    const values = ["yes", "enabled", "2", "o n"];

    // act
    const read = values.map(killSwitchValue);

    // assess
    expect(read).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe("createKillSwitch", () => {
  it("is on when the parameter says on, off when it says off", async () => {
    // prepare
    const on = createKillSwitch(async () => " On ");
    const off = createKillSwitch(async () => "false");

    // act
    const states = [await on(), await off()];

    // assess
    expect(states).toEqual([true, false]);
  });

  it("reads the parameter once per cache period", async () => {
    // prepare
    const r = reader(["off", "on"]);
    const c = clock();
    const killSwitch = createKillSwitch(r.read, { cacheMs: 5000, now: c.now });

    // act
    const first = await killSwitch();
    c.advance(4999);
    const cached = await killSwitch();
    c.advance(1);
    const reread = await killSwitch();

    // assess
    expect([first, cached, reread]).toEqual([false, false, true]);
    expect(r.reads()).toBe(2);
  });

  it("caches for 30 s by default", async () => {
    // prepare
    const r = reader(["off", "on"]);
    const c = clock();
    const killSwitch = createKillSwitch(r.read, { now: c.now });

    // act
    await killSwitch();
    c.advance(DEFAULT_KILL_SWITCH_CACHE_MS - 1);
    const cached = await killSwitch();
    c.advance(1);
    const reread = await killSwitch();

    // assess
    expect(DEFAULT_KILL_SWITCH_CACHE_MS).toBe(30_000);
    expect([cached, reread]).toEqual([false, true]);
  });

  it("shares one read between concurrent callers", async () => {
    // prepare
    const r = reader(["off"]);
    const killSwitch = createKillSwitch(r.read);

    // act
    const states = await Promise.all([killSwitch(), killSwitch(), killSwitch()]);

    // assess
    expect(states).toEqual([false, false, false]);
    expect(r.reads()).toBe(1);
  });

  it("fails closed on a read error, reports it, and reads again on the next call", async () => {
    // prepare
    const errors: Error[] = [];
    const r = reader([new Error("ThrottlingException: Rate exceeded"), "off"]);
    const killSwitch = createKillSwitch(r.read, { onError: (e) => errors.push(e) });

    // act
    const during = await killSwitch();
    const after = await killSwitch();

    // assess
    expect([during, after]).toEqual([true, false]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(KillSwitchError);
    expect(errors[0]?.message).toBe("kill switch unreadable, acting as if on: ThrottlingException: Rate exceeded");
    expect((errors[0]?.cause as Error | undefined)?.message).toBe("ThrottlingException: Rate exceeded");
  });

  it("fails closed when the parameter is missing, and reports it", async () => {
    // prepare
    const errors: Error[] = [];
    const killSwitch = createKillSwitch(async () => undefined, { onError: (e) => errors.push(e) });

    // act
    const state = await killSwitch();

    // assess
    expect(state).toBe(true);
    expect(errors.map((e) => e.message)).toEqual(["kill switch parameter missing, acting as if on"]);
  });

  it("fails closed on a value that is neither on nor off, and reports it", async () => {
    // prepare
    const errors: Error[] = [];
    const killSwitch = createKillSwitch(async () => "disabled", { onError: (e) => errors.push(e) });

    // act
    const state = await killSwitch();

    // assess
    expect(state).toBe(true);
    expect(errors.map((e) => e.message)).toEqual([
      'kill switch value "disabled" is neither on, off nor a list of account ids, acting as if on',
    ]);
  });

  it("fails closed even when the error reporter throws", async () => {
    // prepare
    const killSwitch = createKillSwitch(async () => Promise.reject(new Error("AccessDeniedException")), {
      onError: () => {
        throw new Error("logger down");
      },
    });

    // act
    const state = await killSwitch();

    // assess
    expect(state).toBe(true);
  });

  it("reports a thrown value that is not an Error by its text", async () => {
    // prepare
    const errors: Error[] = [];
    const killSwitch = createKillSwitch(async () => Promise.reject("socket hang up"), {
      onError: (e) => errors.push(e),
    });

    // act
    const state = await killSwitch();

    // assess
    expect(state).toBe(true);
    expect(errors.map((e) => e.message)).toEqual(["kill switch unreadable, acting as if on: socket hang up"]);
  });

  it("refuses a negative cache period", () => {
    // prepare
    const read = async () => "off";

    // act
    const create = () => createKillSwitch(read, { cacheMs: -1 });

    // assess
    expect(create).toThrow("cacheMs must be 0 or more, got -1");
  });
});

describe("createKillSwitch per account", () => {
  it("pauses only the accounts a value lists; a caller that names no account reads it as on", async () => {
    const killSwitch = createKillSwitch(async () => "111122223333, 444455556666");
    expect(await killSwitch("111122223333")).toBe(true);
    expect(await killSwitch("444455556666")).toBe(true);
    expect(await killSwitch("777788889999")).toBe(false);
    expect(await killSwitch()).toBe(true);
  });

  it("fails closed on a list with anything but account ids", async () => {
    const errors: Error[] = [];
    const killSwitch = createKillSwitch(async () => "111122223333,prod", { onError: (e) => errors.push(e) });
    expect(await killSwitch("777788889999")).toBe(true);
    expect(errors).toHaveLength(1);
  });

  it("keeps on and off as they were, for every account", async () => {
    expect(await createKillSwitch(async () => "on")("777788889999")).toBe(true);
    expect(await createKillSwitch(async () => "off")("777788889999")).toBe(false);
  });
});
