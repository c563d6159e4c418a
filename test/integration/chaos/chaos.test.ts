/**
 * The chaos run in-process (bench/chaos.ts): open-ingress events with duplicates, GuardDuty repeats, and EC2 faults at
 * 30%, through respond() with the idempotency store and audit on a real local DynamoDB (dynalite). A fixed seed makes
 * every fault the same on each run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChaosRun, KILL_POINTS, runChaos } from "../../../bench/chaos.ts";
import { listAudit } from "../../../packages/core/src/store/audit.ts";
import { type LocalDynamo, startDynalite } from "../../helpers/dynalite.ts";

const SEED = 8;
const OPTIONS = { seed: SEED, events: 60, faultRate: 0.3, guardDutyFindings: 3, maxAttempts: 3 };

let dynamo: LocalDynamo;
let run: ChaosRun;

beforeAll(async () => {
  // prepare + act: one run, read by every test below
  dynamo = await startDynalite();
  run = await runChaos(OPTIONS, dynamo);
}, 60_000);

afterAll(async () => {
  await dynamo.stop();
});

describe("runChaos", () => {
  it("loses nothing: every event ends applied, already done, failed and recorded, alerted, or dead-lettered", () => {
    // assess
    const { counts, events } = run;
    expect(counts.eventsIn).toBe(60 + 6);
    expect(counts.lost).toBe(0);
    expect(events.filter((e) => e.final === "lost" || e.final === "other")).toEqual([]);
    expect(
      counts.remediationsApplied + counts.alreadyDone + counts.failedPermanent + counts.alerts + counts.deadLettered,
    ).toBe(counts.eventsIn);
    expect(counts.faultsInjected).not.toEqual({});
    expect(counts.failedPermanent).toBeGreaterThan(0);
    expect(counts.deadLettered).toBeGreaterThan(0);
  });

  it("acts on none of the responder's own events in the stream: its isolations' ingress and its own revokes", () => {
    // assess
    const { counts } = run;
    expect(counts.ownEvents.isolation).toBeGreaterThan(0);
    expect(counts.ownEvents.revokes).toBe(counts.ownEvents.isolation);
    expect(counts.ownActedOn).toBe(0);
    expect(counts.ownSkipped).toEqual({
      "own-call": counts.ownEvents.isolation,
      "unsupported-event": counts.ownEvents.revokes,
    });
  });

  it("half-applies nothing: no rule revoked twice, every revoke in the audit with its undo", () => {
    // assess
    const { counts } = run;
    expect(counts.remediationsApplied).toBeGreaterThan(0);
    expect(counts.rulesRevokedTwice).toBe(0);
    expect(counts.revokesMissingFromAudit).toBe(0);
    expect(counts.appliedButStillOpen).toBe(0);
    expect(counts.halfApplied).toBe(0);
  });

  it("responds to each event at most once, and every duplicate is suppressed or ran only as a retry", () => {
    // assess
    const { counts, events } = run;
    expect(counts.duplicatesInjected).toBeGreaterThan(0);
    expect(counts.respondedTwice).toBe(0);
    expect(counts.lostClaims).toBe(0);
    expect(counts.duplicatesSuppressed + counts.duplicatesTakenOver).toBe(counts.duplicatesInjected);
    for (const e of events) expect(e.suppressed + e.responded + e.deadLettered).toBe(1 + e.duplicatesInjected);
  });

  it("keeps exactly one audit record with a final outcome per event responded to, and none for a dead letter", async () => {
    // act: read the audit back independently of the driver
    const records = (await listAudit(dynamo.docClient, run.table, { limit: 10_000 })).filter((r) =>
      run.events.some((e) => e.key === r.eventId),
    );

    // assess
    for (const e of run.events) {
      const mine = records.filter((r) => r.eventId === e.key);
      if (e.responded === 0) {
        expect(mine, e.key).toEqual([]);
        continue;
      }
      expect(mine, e.key).toHaveLength(1);
      const expected = e.final === "failed" ? "failed" : e.final === "alert" ? "alert" : "applied";
      expect(mine[0]?.outcome, e.key).toBe(expected);
    }
    expect(records).toHaveLength(run.events.filter((e) => e.responded === 1).length);
  });

  it("times each remediation from its event to the delivery that applied it, as eks-responder report computes it", async () => {
    const applied = (await listAudit(dynamo.docClient, run.table, { limit: 10_000 })).filter(
      (r) => r.outcome === "applied" && run.events.some((e) => e.key === r.eventId),
    );
    // Every event happens at the run's start; a delivery runs at Lambda's retry offset (0, 1 min, 3 min).
    const waits = applied
      .map((r) => Date.parse(r.appliedAt ?? "") - Date.parse(r.eventTime ?? ""))
      .sort((a, b) => a - b);
    for (const w of waits) expect([0, 60_000, 180_000]).toContain(w);
    const rank = (p: number) => waits[Math.ceil((p / 100) * waits.length) - 1];
    expect(run.counts.timeToRemediate).toEqual({
      count: applied.length,
      p50: rank(50),
      p95: rank(95),
      max: waits.at(-1),
    });
    expect(waits.at(-1)).toBeGreaterThan(0); // some remediation waited for a redelivery
  });

  it("dead-letters an event with its error after exactly the allowed deliveries", () => {
    // assess
    const dead = run.events.filter((e) => e.final === "dead-lettered");
    expect(dead.length).toBe(run.counts.deadLettered);
    for (const e of dead) {
      expect(e.deadLetter?.attempts).toBe(3);
      // Its reason: a transient failure, or (a chain of a duplicate or a killed invocation) the claim still held.
      expect(e.deadLetter?.error).toMatch(
        /^(ec2:revoke-ingress failed transiently \(\w+: .+\); the event will be retried|ct:\S+ is being handled by another invocation.*)$/,
      );
    }
  });

  it("records a permanent failure as failed and never retries it", () => {
    // assess
    const failed = run.events.filter((e) => e.final === "failed");
    expect(failed.length).toBe(run.counts.failedPermanent);
    for (const e of failed) {
      expect(e.results.at(-1)?.errorCode).toBe("UnauthorizedOperation");
      expect(e.runsAfterPermanentFailure).toBe(0);
      expect(e.runs).toBeLessThanOrEqual(OPTIONS.maxAttempts);
      expect(run.audit.get(e.key)?.[0]?.results?.[0]?.error?.code).toBe("UnauthorizedOperation");
    }
    for (const e of run.events) expect(e.runs).toBeLessThanOrEqual(OPTIONS.maxAttempts * (1 + e.duplicatesInjected));
  });

  it("suppresses GuardDuty repeats of a finding version, and responds again to an updated finding", () => {
    // assess
    const guardDuty = run.events.filter((e) => e.kind === "guardduty");
    expect(guardDuty).toHaveLength(6);
    expect(guardDuty.every((e) => e.final === "alert" && e.responded === 1)).toBe(true);
    expect(guardDuty.reduce((n, e) => n + e.suppressed, 0)).toBe(
      guardDuty.reduce((n, e) => n + e.duplicatesInjected, 0),
    );
    expect(new Set(guardDuty.map((e) => e.key.split("@")[0])).size).toBe(3);
  });

  it("catches a missing idempotency claim: duplicates then revoke again and respond twice", async () => {
    // prepare
    const options = { ...OPTIONS, idempotency: false };

    // act
    const broken = await runChaos(options, dynamo);

    // assess
    expect(broken.counts.respondedTwice).toBeGreaterThan(0);
    expect(broken.counts.rulesRevokedTwice).toBeGreaterThan(0);
    expect(broken.counts.duplicatesSuppressed).toBe(0);
  }, 60_000);
});

describe("runChaos with the SDK's bounded retry", () => {
  it("completes every remediation at 30% transient faults when each call gets 3 attempts: nothing dead-lettered", async () => {
    const run = await runChaos({ ...OPTIONS, permanentShare: 0, sdkAttempts: 3 });
    expect(run.counts.faultRate).toBe(0.3);
    expect(Object.values(run.counts.faultsInjected).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(run.counts.deadLettered).toBe(0);
    expect(run.counts.lost).toBe(0);
    expect(run.counts.halfApplied).toBe(0);
    expect(run.counts.failedPermanent).toBe(0);
  }, 60_000);
});

describe("runChaos with invocations killed at every step boundary", () => {
  it("kills at each point with faults and duplicates: lost 0, double-applied 0, unaudited 0, unnotified 0", () => {
    // assess (the shared run kills 20% of the open-ingress events' first invocations, the points in turn)
    const { counts } = run;
    for (const point of KILL_POINTS) expect(counts.kills[point], point).toBeGreaterThan(0);
    expect(counts.takeovers).toBeGreaterThan(0);
    expect(counts.claimHeld).toBeGreaterThan(0);
    expect(counts.lost).toBe(0);
    expect(counts.rulesRevokedTwice).toBe(0);
    expect(counts.revokesMissingFromAudit).toBe(0);
    expect(counts.unnotified).toBe(0);
    expect(counts.auditMismatches).toBe(0);
  });

  it("without faults, every killed event is taken over on Lambda's third delivery: applied once, audited once, notified", async () => {
    // prepare: 8 events, every first invocation killed, two at each point; no faults, no duplicates
    const options = {
      seed: 21,
      events: 8,
      faultRate: 0,
      duplicateShare: 0,
      alreadyFixedShare: 0,
      guardDutyFindings: 0,
      killShare: 1,
    };

    // act
    const killed = await runChaos(options, dynamo);

    // assess
    expect(killed.counts.kills).toEqual({
      "before-change": 2,
      "after-change": 2,
      "after-audit": 2,
      "after-notification": 2,
    });
    expect(killed.counts.deadLettered).toBe(0);
    expect(killed.counts.rulesRevokedTwice).toBe(0);
    for (const e of killed.events) {
      // Delivery 1 died; delivery 2 (a minute later) found the claim held and failed; delivery 3 took over.
      expect(e.killed, e.key).toBe(true);
      expect(
        e.results.map((r) => r.attempt),
        e.key,
      ).toEqual([3]);
      const records = killed.audit.get(e.key) ?? [];
      expect(records, e.key).toHaveLength(1);
      const result = records[0]?.results?.[0];
      expect(JSON.stringify(result?.undo), e.key).toContain(e.ruleId);
      // The change is made once: after a kill after the change, the retry finds it done and says why.
      expect(result?.status, e.key).toBe(e.killAt === "after-change" ? "already-done" : "applied");
      if (e.killAt === "after-change") {
        expect(records[0]?.reasons.join("\n"), e.key).toMatch(
          /claim 2 of this event: an earlier invocation did not finish/,
        );
      }
      expect(e.notified, e.key).toBe(e.killAt === "after-notification" ? 2 : 1);
    }
  }, 60_000);
});
