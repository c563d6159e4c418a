import type { LogSetup } from "@aws-sdk/client-eks";
import { DescribeClusterCommand, EKSClient, UpdateClusterConfigCommand } from "@aws-sdk/client-eks";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { UPDATE_RETRY_WAIT_MS } from "../../../../packages/core/src/actions/eks-calls.ts";
import { enableLogging } from "../../../../packages/core/src/actions/enable-logging.action.ts";
import { must } from "../../../helpers/fixtures.ts";
import { applyContext, commandsSent, eksError } from "./helpers.ts";

const eks = mockClient(EKSClient);
const stubs = { eks };

const CLUSTER = "prod-eks";
const params = enableLogging.params.parse({ clusterName: CLUSTER, logTypes: ["api", "audit", "authenticator"] });

/** api on; audit and authenticator (and the others) off. */
const PARTLY_ON: LogSetup[] = [
  { types: ["api"], enabled: true },
  { types: ["audit", "authenticator", "controllerManager", "scheduler"], enabled: false },
];
const ENABLE = {
  name: CLUSTER,
  logging: { clusterLogging: [{ types: ["audit", "authenticator"], enabled: true }] },
};

function cluster(clusterLogging: LogSetup[]) {
  return { cluster: { name: CLUSTER, logging: { clusterLogging } } };
}

beforeEach(() => {
  eks.reset();
});

afterAll(() => {
  eks.restore();
});

describe("eks:enable-logging", () => {
  it("refuses, changing nothing, when the live cluster carries an exemption tag (any value)", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves({
      cluster: { name: CLUSTER, logging: { clusterLogging: PARTLY_ON }, tags: { "no-guardrails": "" } },
    });
    const result = await enableLogging.apply(params, { ...ctx, exemptTags: [{ key: "no-guardrails" }] });
    expect(result.status).toBe("refused");
    expect(result.reason).toBe(`cluster ${CLUSTER} carries the exemption tag no-guardrails`);
    expect(commandsSent(stubs)).toEqual([["DescribeCluster", { name: CLUSTER }]]);
  });

  it("reads the cluster, then turns on only the required log types that are off", async () => {
    const { ctx, waits } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(PARTLY_ON));
    eks.on(UpdateClusterConfigCommand).resolves({ update: { id: "upd-1" } });

    const result = await enableLogging.apply(params, ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ["DescribeCluster", { name: CLUSTER }],
      ["UpdateClusterConfig", ENABLE],
    ]);
    expect(result.undo).toEqual({ clusterName: CLUSTER, logTypes: ["audit", "authenticator"] });
    expect(waits).toEqual([]);
  });

  it("is already done when every required type is on, and sends no update", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster([{ types: ["api", "audit", "authenticator"], enabled: true }]));

    const result = await enableLogging.apply(params, ctx);

    expect(result.status).toBe("already-done");
    expect(commandsSent(stubs)).toEqual([["DescribeCluster", { name: CLUSTER }]]);
    expect(result.undo).toBeUndefined();
  });

  it("is already done when the cluster no longer exists (ResourceNotFoundException)", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).rejects(eksError("ResourceNotFoundException", 404));

    const result = await enableLogging.apply(params, ctx);

    expect(result.status).toBe("already-done");
    expect(eks.commandCalls(UpdateClusterConfigCommand)).toHaveLength(0);
  });

  it("fails on AccessDeniedException with the error code, after exactly one update attempt", async () => {
    const { ctx, waits } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(PARTLY_ON));
    eks.on(UpdateClusterConfigCommand).rejects(eksError("AccessDeniedException", 403));

    const result = await enableLogging.apply(params, ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("AccessDeniedException");
    expect(eks.commandCalls(UpdateClusterConfigCommand)).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("fails on AccessDeniedException when reading the cluster, and sends no update", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).rejects(eksError("AccessDeniedException", 403));

    const result = await enableLogging.apply(params, ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("AccessDeniedException");
    expect(commandsSent(stubs)).toEqual([["DescribeCluster", { name: CLUSTER }]]);
  });

  it("in dry-run, only reads the cluster and reports would-succeed with the missing types", async () => {
    const { ctx } = applyContext(true);
    eks.on(DescribeClusterCommand).resolves(cluster(PARTLY_ON));

    const result = await enableLogging.apply(params, ctx);

    expect(result.status).toBe("would-succeed");
    expect(result.reason).toContain("audit, authenticator");
    expect(commandsSent(stubs)).toEqual([["DescribeCluster", { name: CLUSTER }]]);
  });

  it("waits and retries once while another update is in progress", async () => {
    const { ctx, waits } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(PARTLY_ON));
    eks
      .on(UpdateClusterConfigCommand)
      .rejectsOnce(eksError("ResourceInUseException", 409))
      .resolves({ update: { id: "upd-2" } });

    const result = await enableLogging.apply(params, ctx);

    expect(result.status).toBe("applied");
    expect(eks.commandCalls(UpdateClusterConfigCommand).map((c) => c.args[0].input)).toEqual([ENABLE, ENABLE]);
    expect(waits).toEqual([UPDATE_RETRY_WAIT_MS]);
  });

  it("is idempotent: a second apply after the types were turned on is already done", async () => {
    const { ctx } = applyContext(false);
    let live: LogSetup[] = PARTLY_ON;
    eks.on(DescribeClusterCommand).callsFake(() => cluster(live));
    eks.on(UpdateClusterConfigCommand).callsFake((input: { logging?: { clusterLogging?: LogSetup[] } }) => {
      live = [...live, ...(input.logging?.clusterLogging ?? [])];
      return { update: { id: "upd-3" } };
    });

    const first = await enableLogging.apply(params, ctx);
    const second = await enableLogging.apply(params, ctx);

    expect(first.status).toBe("applied");
    expect(second.status).toBe("already-done");
    expect(eks.commandCalls(UpdateClusterConfigCommand)).toHaveLength(1);
  });

  it("rolls back by turning off exactly the types it turned on", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(PARTLY_ON));
    eks.on(UpdateClusterConfigCommand).resolves({ update: { id: "upd-4" } });
    const applied = await enableLogging.apply(params, ctx);
    eks.resetHistory();

    const rollback = must(enableLogging.rollback, "rollback");
    const result = await rollback(must(applied.undo, "undo"), ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      [
        "UpdateClusterConfig",
        { name: CLUSTER, logging: { clusterLogging: [{ types: ["audit", "authenticator"], enabled: false }] } },
      ],
    ]);
  });
});
