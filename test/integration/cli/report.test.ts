import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeSecurityGroupsCommand, EC2Client, RevokeSecurityGroupIngressCommand } from "@aws-sdk/client-ec2";
import { SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { writeEntry } from "../../../packages/cli/src/journal.ts";
import { main } from "../../../packages/cli/src/main.ts";
import { defaultPolicy, processEvent } from "../../../packages/core/src/index.ts";
import { handleRecord } from "../../../packages/functions/src/approval-tasks.ts";
import { handler } from "../../../packages/functions/src/respond.handler.ts";
import { Runtime, resetRuntime } from "../../../packages/functions/src/runtime.ts";
import { captureIo } from "../../helpers/cli-io.ts";
import { type LocalDynamo, startDynalite } from "../../helpers/dynalite.ts";
import { liveGroups } from "../../helpers/ec2-groups.ts";
import { openIngressEvent, respondEnv, setPolicy } from "../../helpers/respond-harness.ts";

const ROOT = join(import.meta.dirname, "../../..");
const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const context = { functionName: "respond", awsRequestId: "req-r", getRemainingTimeInMillis: () => 60_000 } as const;
const A = "111122223333";
const B = "444455556666";
const DAY1 = Date.parse("2026-11-02T08:00:00Z");
const DAY2 = Date.parse("2026-11-09T08:00:00Z");
let dynamo: LocalDynamo;
let table: string;
const saved = { ...process.env };

/** One event through the deployed respond handler, `delayMs` after its event time, at `appliedAt` on the clock. */
async function respondAt(n: number, account: string, appliedAt: number, delayMs: number) {
  vi.setSystemTime(appliedAt);
  const out = await handler(openIngressEvent(n, account, new Date(appliedAt - delayMs).toISOString()), {
    ...context,
  });
  expect(out.outcome).toBe("applied");
}

const grant = processEvent(
  readFileSync(join(ROOT, "examples/events/ct-10-eks-associate-access-policy-cluster-admin.json"), "utf8"),
  defaultPolicy(),
);

/** One approval's end through the workflow's Record task, at `at` on the clock. */
async function approvalAt(
  id: string,
  at: number,
  outcome: "applied" | "rejected" | "timed-out",
  times: {
    eventTime: number;
    requestedAt: number;
    decidedAt?: number;
  },
) {
  const assessment = grant.assessments[0];
  if (!assessment) throw new Error("the sample must assess");
  vi.setSystemTime(at);
  const iso = (t: number) => new Date(t).toISOString();
  const decision = outcome === "rejected" ? "rejected" : "approved";
  const answer = { decision, approver: "slack:U1", ...(times.decidedAt ? { decidedAt: iso(times.decidedAt) } : {}) };
  await handleRecord(
    {
      outcome,
      executionId: `exec-${id}`,
      state: {
        Payload: {
          assessment: { ...assessment, id },
          plan: grant.plan,
          reasons: ["mode approve"],
          approvers: { slackUserIds: ["U1"], emails: [] },
          timeoutSeconds: 3600,
          eventTime: iso(times.eventTime),
          requestedAt: iso(times.requestedAt),
        },
        ...(outcome === "timed-out"
          ? {}
          : outcome === "rejected"
            ? { approval: { Error: "Rejected", Cause: JSON.stringify(answer) } }
            : { approval: answer }),
      },
    },
    new Runtime({ TABLE_NAME: table, POLICY_PARAMETER_NAME: "/eks-responder/policy" }),
  );
}

async function report(args: string[], env: Record<string, string> = {}) {
  const cli = captureIo({ EKS_RESPONDER_TABLE: table, ...env });
  const code = await main(["report", ...args], cli.io);
  return { code, out: cli.out(), err: cli.err() };
}

const MIN = 60_000;

beforeAll(async () => {
  dynamo = await startDynalite();
  table = await dynamo.createTable();
  process.env = { ...saved, ...respondEnv(dynamo.endpoint, table) };
  resetRuntime();
  ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups());
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  setPolicy(ssm, { dryRun: false });
  vi.useFakeTimers({ toFake: ["Date"] });
  // Day 1, account A: four revokes 10, 20, 30 and 40 s after their events.
  for (const [i, delay] of [10_000, 20_000, 30_000, 40_000].entries()) await respondAt(i + 1, A, DAY1 + i * MIN, delay);
  // Day 2, account B: two revokes, 60 and 120 s after their events.
  await respondAt(5, B, DAY2, 60_000);
  await respondAt(6, B, DAY2 + MIN, 120_000);
  // A dry-run is recorded and is no remediation.
  setPolicy(ssm, { dryRun: true });
  vi.setSystemTime(DAY2 + 2 * MIN);
  expect((await handler(openIngressEvent(7, B, new Date(DAY2).toISOString()), context)).outcome).toBe("dry-run");
  // Approvals of a cluster-admin grant (account A, day 1): applied after 20 min (5 min waiting); rejected after
  // 15 min waiting; timed out (no decision).
  const t = DAY1 + 60 * MIN;
  await approvalAt("asm-00000000000000000a01", t, "applied", {
    eventTime: t - 20 * MIN,
    requestedAt: t - 19 * MIN,
    decidedAt: t - 14 * MIN,
  });
  await approvalAt("asm-00000000000000000a02", t + MIN, "rejected", {
    eventTime: t - 40 * MIN,
    requestedAt: t - 30 * MIN,
    decidedAt: t - 15 * MIN,
  });
  await approvalAt("asm-00000000000000000a03", t + 2 * MIN, "timed-out", {
    eventTime: t - 90 * MIN,
    requestedAt: t - 80 * MIN,
  });
  vi.useRealTimers();
});
afterAll(async () => {
  vi.useRealTimers();
  await dynamo.stop();
  process.env = saved;
});

const stats = (count: number, p50: number, p95: number, max: number) => ({ count, p50, p95, max });

describe("eks-responder report", () => {
  it("reads the DynamoDB audit the functions wrote and gives nearest-rank p50, p95 and max per detector and account", async () => {
    const { code, out, err } = await report(["--json"]);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({
      source: { table },
      window: {},
      percentiles: "nearest-rank",
      unit: "ms",
      // 7 respond records, 3 approval ends
      records: 10,
      unmeasured: 0,
      timeToRemediate: {
        // [10 s, 20 s, 30 s, 40 s, 60 s, 120 s, 20 min]: rank ⌈0.5·7⌉ = 4, ⌈0.95·7⌉ = 7
        all: stats(7, 40_000, 1_200_000, 1_200_000),
        byDetector: {
          "ec2-open-ingress": stats(6, 30_000, 120_000, 120_000),
          "eks-cluster-admin-granted": stats(1, 1_200_000, 1_200_000, 1_200_000),
        },
        byAccount: {
          [A]: stats(5, 30_000, 1_200_000, 1_200_000),
          [B]: stats(2, 60_000, 120_000, 120_000),
        },
      },
      approvalWait: {
        all: stats(2, 5 * MIN, 15 * MIN, 15 * MIN),
        byDetector: { "eks-cluster-admin-granted": stats(2, 5 * MIN, 15 * MIN, 15 * MIN) },
      },
    });
  });

  it("picks a window with --since and --until (a duration back from now or an ISO time)", async () => {
    const day2 = await report(["--json", "--since", "2026-11-09T00:00:00Z"]);
    expect(JSON.parse(day2.out)).toMatchObject({
      window: { since: "2026-11-09T00:00:00.000Z" },
      records: 3,
      timeToRemediate: {
        all: stats(2, 60_000, 120_000, 120_000),
        byAccount: { [B]: stats(2, 60_000, 120_000, 120_000) },
      },
      approvalWait: { all: stats(0, 0, 0, 0) },
    });
    const day1 = await report(["--json", "--since", "2026-11-01T00:00:00Z", "--until", "2026-11-02T08:02:00Z"]);
    // The first three revokes (08:00, 08:01; 08:02 is out: --until is exclusive).
    expect(JSON.parse(day1.out).timeToRemediate.all).toEqual(stats(2, 10_000, 20_000, 20_000));
    const recent = await report(["--json", "--since", "1h"]);
    expect(JSON.parse(recent.out).records).toBe(0);
  });

  it("prints the figures for people, and refuses a window it cannot read", async () => {
    const { code, out } = await report([]);
    expect(code).toBe(0);
    expect(out).toContain("time to remediate (event time → change applied; nearest-rank percentiles)");
    expect(out).toContain(
      [
        "  all                                count     7  p50 40.0 s  p95 20.0 min  max 20.0 min",
        "  by detector",
        "    ec2-open-ingress                 count     6  p50 30.0 s  p95 2.0 min  max 2.0 min",
      ].join("\n"),
    );
    expect(out).toContain("time waiting for approval (request → decision)");
    expect(out).toContain("10 records read\n");
    for (const [flag, value] of [
      ["--since", "last tuesday"],
      ["--until", "March 7"],
    ] as const) {
      const bad = await report([flag, value]);
      expect(bad.code).toBe(2);
      expect(bad.err).toContain(`${flag} "${value}" is neither a duration`);
    }
    const reversed = await report(["--since", "2026-11-09T00:00:00Z", "--until", "2026-11-01T00:00:00Z"]);
    expect([reversed.code, reversed.err]).toEqual([2, "eks-responder: --since must be before --until\n"]);
  });

  it("reads the local record of replay --apply without --table", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "eks-report-"));
    const entry = (n: number, account: string, eventTime: string, recordedAt: string, status: "applied" | "failed") =>
      writeEntry(stateDir, {
        assessmentId: `asm-0000000000000000000${n}`,
        detectorId: "ec2-open-ingress",
        title: "open",
        account,
        region: "eu-west-1",
        source: "e.json",
        eventTime,
        recordedAt,
        results: [{ action: "ec2:revoke-ingress", status, reason: status, calls: [], params: {} }],
        rollbacks: [],
      });
    await entry(1, A, "2026-11-02T08:00:00Z", "2026-11-02T08:05:00Z", "applied");
    await entry(2, B, "2026-11-02T08:00:00Z", "2026-11-02T08:01:30Z", "applied");
    await entry(3, B, "2026-11-02T08:00:00Z", "2026-11-02T08:00:10Z", "failed");
    const cli = captureIo({ EKS_RESPONDER_STATE_DIR: stateDir });
    expect(await main(["report", "--json"], cli.io)).toBe(0);
    const shown = JSON.parse(cli.out());
    expect(shown.source).toEqual({ stateDir });
    expect(shown.timeToRemediate).toEqual({
      all: stats(2, 90_000, 300_000, 300_000),
      byDetector: { "ec2-open-ingress": stats(2, 90_000, 300_000, 300_000) },
      byAccount: { [A]: stats(1, 300_000, 300_000, 300_000), [B]: stats(1, 90_000, 90_000, 90_000) },
    });
  });
});
