import type { LogSetup } from "@aws-sdk/client-eks";
import {
  DescribeClusterCommand,
  DescribeUpdateCommand,
  EKSClient,
  UpdateClusterConfigCommand,
} from "@aws-sdk/client-eks";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  UPDATE_FAILED,
  UPDATE_POLL_MS,
  UPDATE_STILL_IN_PROGRESS,
} from "../../../../packages/core/src/actions/eks-calls.ts";
import { enableLogging } from "../../../../packages/core/src/actions/enable-logging.action.ts";
import { LONG_UPDATE_WAIT_MS, RESPOND_UPDATE_WAIT_MS } from "../../../../packages/core/src/actions/types.ts";
import { isTransient } from "../../../../packages/core/src/guardrails/faults.ts";
import { must } from "../../../helpers/fixtures.ts";
import { eksMessageError, inUse, update } from "./eks-update-answers.ts";
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

/** UpdateClusterConfig starts a LoggingUpdate (InProgress); DescribeUpdate then says Successful. */
function updateSucceeds(id: string): void {
  eks.on(UpdateClusterConfigCommand).resolves({ update: update(id, "LoggingUpdate", "InProgress") });
  eks.on(DescribeUpdateCommand).resolves({ update: update(id, "LoggingUpdate", "Successful") });
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

  it("turns on only the required types that are off, and is applied once DescribeUpdate says Successful", async () => {
    const { ctx, waits } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(PARTLY_ON));
    updateSucceeds("upd-1");

    const result = await enableLogging.apply(params, ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ["DescribeCluster", { name: CLUSTER }],
      ["UpdateClusterConfig", ENABLE],
      ["DescribeUpdate", { name: CLUSTER, updateId: "upd-1" }],
    ]);
    expect(result.undo).toEqual({ clusterName: CLUSTER, logTypes: ["audit", "authenticator"] });
    expect(result.reason).toContain("update upd-1 Successful");
    expect(waits).toEqual([UPDATE_POLL_MS]);
  });

  it("says what the logs cost and recommends a retention on the log group, in the plan and the outcome", async () => {
    const plan = enableLogging.plan(params, { dryRun: false, assessmentId: "asm-1", account: "1", region: "x" });
    const note = "calls" in plan ? (plan.calls[0]?.note ?? "") : "";
    expect(note).toContain("CloudWatch Logs charges ingestion and storage");
    expect(note).toContain("https://aws.amazon.com/cloudwatch/pricing/");
    expect(note).toContain(`aws logs put-retention-policy --log-group-name /aws/eks/${CLUSTER}/cluster`);
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(PARTLY_ON));
    updateSucceeds("upd-1");
    const result = await enableLogging.apply(params, ctx);
    expect(result.reason).toContain(`/aws/eks/${CLUSTER}/cluster`);
    expect(result.reason).toContain("without a retention period");
  });

  it("waits while another update is in progress: ResourceInUseException, then the update starts and succeeds", async () => {
    const { ctx, waits } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(PARTLY_ON));
    eks
      .on(UpdateClusterConfigCommand)
      .rejectsOnce(inUse(CLUSTER, "LoggingUpdate"))
      .resolves({ update: update("upd-2", "LoggingUpdate", "InProgress") });
    eks
      .on(DescribeUpdateCommand)
      .resolvesOnce({ update: update("upd-2", "LoggingUpdate", "InProgress") })
      .resolves({ update: update("upd-2", "LoggingUpdate", "Successful") });

    const result = await enableLogging.apply(params, ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ["DescribeCluster", { name: CLUSTER }],
      ["UpdateClusterConfig", ENABLE],
      ["UpdateClusterConfig", ENABLE],
      ["DescribeUpdate", { name: CLUSTER, updateId: "upd-2" }],
      ["DescribeUpdate", { name: CLUSTER, updateId: "upd-2" }],
    ]);
    expect(waits).toEqual([UPDATE_POLL_MS, UPDATE_POLL_MS, UPDATE_POLL_MS]);
  });

  it("is already done when EKS answers that no change is needed (a retry of a change already made)", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(PARTLY_ON));
    eks
      .on(UpdateClusterConfigCommand)
      .rejects(eksMessageError("InvalidParameterException", 400, "No changes needed for the logging config provided"));

    const result = await enableLogging.apply(params, ctx);

    expect(result.status).toBe("already-done");
    expect(result.reason).toContain("No changes needed for the logging config provided");
    expect(result.undo).toBeUndefined();
    expect(result.error).toBeUndefined();
  });

  it("another InvalidParameterException is a failure, not already done", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(PARTLY_ON));
    eks
      .on(UpdateClusterConfigCommand)
      .rejects(eksMessageError("InvalidParameterException", 400, "Only one type of update can be allowed."));

    const result = await enableLogging.apply(params, ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("InvalidParameterException");
  });

  it("fails with EKS's errors when the update fails after it started (IpNotAvailable), permanently and without undo", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(PARTLY_ON));
    eks.on(UpdateClusterConfigCommand).resolves({ update: update("upd-5", "LoggingUpdate", "InProgress") });
    eks.on(DescribeUpdateCommand).resolves({
      update: update("upd-5", "LoggingUpdate", "Failed", [
        {
          errorCode: "IpNotAvailable",
          errorMessage: "Subnet subnet-0a1b2c3d does not have enough free IP addresses",
          resourceIds: ["subnet-0a1b2c3d"],
        },
      ]),
    });

    const result = await enableLogging.apply(params, ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe(UPDATE_FAILED);
    expect(result.reason).toContain("update upd-5 Failed: IpNotAvailable");
    expect(result.reason).toContain("(subnet-0a1b2c3d)");
    expect(result.undo).toBeUndefined();
    expect(isTransient(result.error?.code)).toBe(false);
  });

  it("a Cancelled update is a failure too", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(PARTLY_ON));
    eks.on(UpdateClusterConfigCommand).resolves({ update: update("upd-6", "LoggingUpdate", "InProgress") });
    eks.on(DescribeUpdateCommand).resolves({ update: update("upd-6", "LoggingUpdate", "Cancelled") });

    const result = await enableLogging.apply(params, ctx);

    expect(result.status).toBe("failed");
    expect(result.reason).toContain("update upd-6 Cancelled");
  });

  it("gives up within the respond function's wait when the update stays InProgress: a transient failure that keeps the undo", async () => {
    const { ctx, waits } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(PARTLY_ON));
    eks.on(UpdateClusterConfigCommand).resolves({ update: update("upd-7", "LoggingUpdate", "InProgress") });
    eks.on(DescribeUpdateCommand).resolves({ update: update("upd-7", "LoggingUpdate", "InProgress") });

    const result = await enableLogging.apply(params, ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe(UPDATE_STILL_IN_PROGRESS);
    expect(isTransient(result.error?.code)).toBe(true);
    expect(result.reason).toContain("update upd-7 of prod-eks was still InProgress after 30 s");
    // It may still succeed: how to undo it is kept.
    expect(result.undo).toEqual({ clusterName: CLUSTER, logTypes: ["audit", "authenticator"] });
    expect(waits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(RESPOND_UPDATE_WAIT_MS);
    expect(eks.commandCalls(DescribeUpdateCommand)).toHaveLength(RESPOND_UPDATE_WAIT_MS / UPDATE_POLL_MS);
  });

  it("gives up within the wait when another update keeps the cluster busy: transient, nothing to undo", async () => {
    const { ctx, waits } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(PARTLY_ON));
    eks.on(UpdateClusterConfigCommand).rejects(inUse(CLUSTER, "LoggingUpdate"));

    const result = await enableLogging.apply(params, ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe(UPDATE_STILL_IN_PROGRESS);
    expect(isTransient(result.error?.code)).toBe(true);
    expect(result.undo).toBeUndefined();
    expect(waits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(RESPOND_UPDATE_WAIT_MS);
  });

  it("with the longer wait of the approval apply, follows an update for minutes until it succeeds", async () => {
    const { ctx, waits } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(PARTLY_ON));
    eks.on(UpdateClusterConfigCommand).resolves({ update: update("upd-8", "LoggingUpdate", "InProgress") });
    const describe = eks.on(DescribeUpdateCommand);
    for (let i = 0; i < 23; i++) describe.resolvesOnce({ update: update("upd-8", "LoggingUpdate", "InProgress") });
    describe.resolves({ update: update("upd-8", "LoggingUpdate", "Successful") });

    const result = await enableLogging.apply(params, { ...ctx, updateWaitMs: LONG_UPDATE_WAIT_MS });

    expect(result.status).toBe("applied");
    expect(waits.reduce((a, b) => a + b, 0)).toBe(24 * UPDATE_POLL_MS);
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

  it("is idempotent: a second apply after the types were turned on is already done", async () => {
    const { ctx } = applyContext(false);
    let live: LogSetup[] = PARTLY_ON;
    eks.on(DescribeClusterCommand).callsFake(() => cluster(live));
    eks.on(UpdateClusterConfigCommand).callsFake((input: { logging?: { clusterLogging?: LogSetup[] } }) => {
      live = [...live, ...(input.logging?.clusterLogging ?? [])];
      return { update: update("upd-3", "LoggingUpdate", "InProgress") };
    });
    eks.on(DescribeUpdateCommand).resolves({ update: update("upd-3", "LoggingUpdate", "Successful") });

    const first = await enableLogging.apply(params, ctx);
    const second = await enableLogging.apply(params, ctx);

    expect(first.status).toBe("applied");
    expect(second.status).toBe("already-done");
    expect(eks.commandCalls(UpdateClusterConfigCommand)).toHaveLength(1);
  });

  it("rolls back by turning off exactly the types it turned on, applied once the update succeeded", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(PARTLY_ON));
    updateSucceeds("upd-4");
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
      ["DescribeUpdate", { name: CLUSTER, updateId: "upd-4" }],
    ]);
  });
});
