/**
 * One GuardDuty finding is one incident across its repeats: the respond path with the finding responses in a real
 * local DynamoDB (dynalite). GuardDuty publishes the same finding id again as later occurrences are aggregated into
 * it, every 6 hours by default, with a new updatedAt and a higher service.count:
 * https://docs.aws.amazon.com/guardduty/latest/ug/finding-aggregation.html
 * https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsClients } from "../../../packages/core/src/aws/clients.ts";
import { parsePolicy } from "../../../packages/core/src/index.ts";
import { type ApprovalStart, type RespondDeps, respond } from "../../../packages/core/src/pipeline/respond.ts";
import { findingResponseStore } from "../../../packages/core/src/store/finding-responses.ts";
import { type LocalDynamo, startDynalite } from "../../helpers/dynalite.ts";
import { must } from "../../helpers/fixtures.ts";

const ROOT = join(import.meta.dirname, "../../..");
const FINDING = "f5b1d7e64a3c42d8f0b6e2c4a8d0f2b4";
const INSTANCE = "i-0f1e2d3c4b5a69788";

/** gd-11 (a Runtime Monitoring finding on an EKS pod), as GuardDuty publishes it again: same id, later, counted. */
function version(change: (detail: Record<string, unknown>) => void = () => {}): unknown {
  const event = JSON.parse(
    readFileSync(join(ROOT, "examples/events/gd-11-runtime-bitcointool-b-eks-pod.json"), "utf8"),
  ) as { id: string; detail: Record<string, unknown> };
  change(event.detail);
  event.id = `${event.id}-${String(event.detail.updatedAt)}`;
  return event;
}

function repeat(updatedAt: string, count: number, more: (detail: Record<string, unknown>) => void = () => {}) {
  return version((detail) => {
    detail.updatedAt = updatedAt;
    (detail.service as { count: number }).count = count;
    more(detail);
  });
}

let dynamo: LocalDynamo;
let table: string;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

async function deps(): Promise<{ deps: RespondDeps; approvals: ApprovalStart[] }> {
  table = await dynamo.createTable();
  const store = findingResponseStore(dynamo.docClient, table);
  const approvals: ApprovalStart[] = [];
  return {
    approvals,
    deps: {
      policy: parsePolicy({ dryRun: false }),
      clients: (region) => createAwsClients(region),
      sleep: async () => {},
      findingResponses: {
        get: (account, region, findingId) => store.get(account, region, findingId),
        put: (response) => store.put(response),
      },
      startApproval: async (request) => {
        approvals.push(request);
        return { executionArn: `arn:aws:states:eu-west-1:111122223333:execution:approval:${approvals.length}` };
      },
      record: async () => {},
      notify: async () => {},
    },
  };
}

describe("GuardDuty repeats of one finding", () => {
  it("asks once: the repeat 6 hours later is an alert naming the first response, with no second approval", async () => {
    // prepare
    const { deps: d, approvals } = await deps();
    const first = await respond(version(), d);

    // act
    const again = await respond(repeat("2025-03-17T12:02:31.222Z", 9), d);

    // assess
    expect(first.outcome).toBe("pending-approval");
    const firstId = must(first.assessments[0], "assessment").id;
    expect(again.outcome).toBe("alert");
    expect(again.plan).toEqual([]);
    expect(approvals).toHaveLength(1);
    const reason = must(again.decisions[0], "decision").reasons.at(-1) ?? "";
    expect(reason).toMatch(
      new RegExp(
        `^alert only: repeat of finding ${FINDING} \\(seen 9 times, updated 2025-03-17T12:02:31\\.222Z\\), already answered by ${firstId} \\(approval asked \\d{4}-[^)]+\\): no second response$`,
      ),
    );
  });

  it("a repeat with a higher severity is still an alert, saying the severity rose, for a human to decide", async () => {
    // prepare
    const { deps: d, approvals } = await deps();
    const first = await respond(version(), d);

    // act
    const worse = await respond(
      repeat("2025-03-17T12:02:31.222Z", 12, (detail) => (detail.severity = 9.5)),
      d,
    );

    // assess
    expect(worse.outcome).toBe("alert");
    expect(approvals).toHaveLength(1);
    expect(must(worse.decisions[0], "decision").reasons.at(-1)).toContain(
      `with a higher severity, 9.5 (was 8), already answered by ${must(first.assessments[0], "a").id}`,
    );
  });

  it("a repeat naming another instance is an alert naming it, never a second isolation", async () => {
    // prepare
    const { deps: d, approvals } = await deps();
    await respond(version(), d);

    // act
    const moved = await respond(
      repeat("2025-03-17T12:02:31.222Z", 5, (detail) => {
        const resource = detail.resource as { instanceDetails: { instanceId: string } };
        resource.instanceDetails.instanceId = "i-0aaaabbbbccccdddd";
      }),
      d,
    );

    // assess
    expect(moved.outcome).toBe("alert");
    expect(approvals).toHaveLength(1);
    const reason = must(moved.decisions[0], "decision").reasons.at(-1) ?? "";
    expect(reason).toContain("naming resources the first response did not cover (instance:i-0aaaabbbbccccdddd)");
    expect(reason).toContain("a human decides");
  });

  it("keeps the response in the table by finding id, for 90 days (GuardDuty's retention)", async () => {
    // prepare
    const { deps: d } = await deps();
    const first = await respond(version(), d);

    // act
    const stored = await findingResponseStore(dynamo.docClient, table).get("111122223333", "eu-west-1", FINDING);
    const later = await findingResponseStore(dynamo.docClient, table).get(
      "123456789012",
      "us-east-1",
      FINDING,
      new Date(Date.now() + 91 * 24 * 3600 * 1000),
    );

    // assess
    expect(stored).toMatchObject({
      findingId: FINDING,
      assessmentId: must(first.assessments[0], "a").id,
      how: "approval",
      severity: 8,
      resources: [`instance:${INSTANCE}`, "pod:shop/web-6d9f7c8b5-x2kqz"],
    });
    expect(later).toBeUndefined();
  });

  it("another finding id on the same node is its own incident: it is answered", async () => {
    // prepare
    const { deps: d, approvals } = await deps();
    await respond(version(), d);

    // act
    const other = await respond(
      version((detail) => {
        detail.id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
      }),
      d,
    );

    // assess
    expect(other.outcome).toBe("pending-approval");
    expect(approvals).toHaveLength(2);
  });
});
