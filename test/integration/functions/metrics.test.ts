import { DescribeSecurityGroupsCommand, EC2Client, RevokeSecurityGroupIngressCommand } from "@aws-sdk/client-ec2";
import { SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { METRICS } from "../../../packages/core/src/metrics/catalogue.ts";
import { handler } from "../../../packages/functions/src/respond.handler.ts";
import { resetRuntime } from "../../../packages/functions/src/runtime.ts";
import { liveGroups } from "../../helpers/ec2-groups.ts";
import { localTable, openIngressEvent, respondEnv, setPolicy } from "../../helpers/respond-harness.ts";

const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const context = { functionName: "respond", awsRequestId: "req-m", getRemainingTimeInMillis: () => 60_000 } as const;
const local = localTable();
const saved = { ...process.env };

/** The EMF records Powertools printed to standard output while `run` ran. */
async function emfOf(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await run();
  } finally {
    write.mockRestore();
  }
  return lines
    .flatMap((l) => l.split("\n"))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

beforeEach(() => {
  process.env = { ...saved, ...respondEnv(local.dynamo().endpoint, local.table()) };
  resetRuntime();
  ec2.reset();
  ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups());
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  setPolicy(ssm, { dryRun: false });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("the respond function's metrics", () => {
  it("prints, for an applied revoke, EventsReceived, Outcomes and TimeToRemediate in EMF with their units and dimensions, the account only in metadata", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const applied = Date.parse("2026-11-02T08:00:00Z");
    vi.setSystemTime(applied);
    const event = openIngressEvent(1, "444455556666", "2026-11-02T07:58:30Z");
    const emf = await emfOf(() => handler(event, context));
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
    const common = { account: "444455556666", region: "us-east-1" };
    const asm = { ...common, assessmentId: expect.stringMatching(/^asm-[0-9a-f]{20}$/) };
    const aws = (name: string, unit: string, dimensions: string[]) => ({
      Timestamp: applied,
      CloudWatchMetrics: [
        { Namespace: "EksResponder", Dimensions: [dimensions], Metrics: [{ Name: name, Unit: unit }] },
      ],
    });
    expect(emf).toEqual([
      {
        _aws: aws("EventsReceived", "Count", ["service", "source", "detailType"]),
        service: "eks-responder",
        source: "aws.ec2",
        detailType: "AWS API Call via CloudTrail",
        EventsReceived: 1,
        ...common,
        eventId: "e7f3c1a2-0b9d-4c8e-a1f2-000000000001",
        type: "AuthorizeSecurityGroupIngress",
      },
      {
        _aws: aws("Outcomes", "Count", ["service", "detector", "outcome"]),
        service: "eks-responder",
        detector: "ec2-open-ingress",
        outcome: "applied",
        Outcomes: 1,
        ...asm,
      },
      {
        _aws: aws("TimeToRemediate", "Milliseconds", ["service", "detector"]),
        service: "eks-responder",
        detector: "ec2-open-ingress",
        // 07:58:30 → 08:00:00
        TimeToRemediate: 90_000,
        ...asm,
      },
    ]);
    // Every metric printed is in the catalogue the dashboard draws, with the catalogue's unit and dimensions.
    for (const record of emf) {
      const [directive] = (
        record._aws as { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] }
      ).CloudWatchMetrics;
      const metric = Object.values(METRICS).find((m) => m.name === directive?.Metrics[0]?.Name);
      expect(directive?.Metrics[0]?.Unit).toBe(metric?.unit);
      expect(directive?.Dimensions).toEqual([["service", ...(metric?.dimensions ?? [])]]);
    }
  });

  it("counts a redelivery as received but not as a second outcome, and a malformed event under source 'other'", async () => {
    const event = openIngressEvent(2, "444455556666", new Date(Date.now() - 5000).toISOString());
    await handler(event, context);
    const again = await emfOf(() => handler(event, context));
    expect(
      again.map((r) => Object.keys(r).filter((k) => k in { EventsReceived: 1, Outcomes: 1, TimeToRemediate: 1 })),
    ).toEqual([["EventsReceived"]]);
    const forged = await emfOf(() =>
      handler({ source: "attacker.example", "detail-type": "x".repeat(300), detail: {} }, context),
    );
    expect(forged[0]).toMatchObject({ source: "other", detailType: "other", EventsReceived: 1 });
    expect(forged.find((r) => "Outcomes" in r)).toMatchObject({ detector: "none", outcome: "invalid" });
  });

  it("answers the invocation even when the metrics cannot be printed (the failure is logged)", async () => {
    const { metrics } = await import("../../../packages/functions/src/metrics.ts");
    const flush = vi.spyOn(metrics, "flush").mockRejectedValueOnce(new Error("stdout closed"));
    const event = openIngressEvent(3, "444455556666", new Date(Date.now() - 1000).toISOString());
    await expect(handler(event, context)).resolves.toEqual({
      outcome: "applied",
      eventId: "e7f3c1a2-0b9d-4c8e-a1f2-000000000003",
      duplicate: false,
    });
    expect(flush).toHaveBeenCalledTimes(1);
    flush.mockRestore();
    await metrics.flush(); // what the failed flush left
  });
});
