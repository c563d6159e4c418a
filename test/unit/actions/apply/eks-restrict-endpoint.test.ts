import type { VpcConfigResponse } from "@aws-sdk/client-eks";
import { DescribeClusterCommand, EKSClient, UpdateClusterConfigCommand } from "@aws-sdk/client-eks";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { UPDATE_ATTEMPTS, UPDATE_RETRY_WAIT_MS } from "../../../../packages/core/src/actions/eks-calls.ts";
import { restrictEndpoint } from "../../../../packages/core/src/actions/restrict-endpoint.action.ts";
import { must } from "../../../helpers/fixtures.ts";
import { applyContext, commandsSent, eksError } from "./helpers.ts";

const eks = mockClient(EKSClient);
const stubs = { eks };

const CLUSTER = "prod-eks";
const ALLOWED = ["203.0.113.0/24", "198.51.100.7/32"];
const narrow = restrictEndpoint.params.parse({ clusterName: CLUSTER, publicAccessCidrs: ALLOWED });
const turnOff = restrictEndpoint.params.parse({ clusterName: CLUSTER, publicAccessCidrs: [] });

const OPEN: VpcConfigResponse = {
  endpointPublicAccess: true,
  endpointPrivateAccess: false,
  publicAccessCidrs: ["0.0.0.0/0"],
};
const NARROW_UPDATE = {
  name: CLUSTER,
  resourcesVpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ALLOWED },
};

function cluster(vpc: VpcConfigResponse) {
  return { cluster: { name: CLUSTER, resourcesVpcConfig: vpc } };
}

beforeEach(() => {
  eks.reset();
});

afterAll(() => {
  eks.restore();
});

describe("eks:restrict-endpoint", () => {
  it("refuses, changing nothing, when the live cluster carries an exemption tag of the policy", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves({
      cluster: { name: CLUSTER, resourcesVpcConfig: OPEN, tags: { team: "core", "eks-responder:exempt": "true" } },
    });
    const exempt = await restrictEndpoint.apply(narrow, {
      ...ctx,
      exemptTags: [{ key: "eks-responder:exempt", value: "true" }],
    });
    expect(exempt.status).toBe("refused");
    expect(exempt.reason).toBe(`cluster ${CLUSTER} carries the exemption tag eks-responder:exempt=true`);
    expect(commandsSent(stubs)).toEqual([["DescribeCluster", { name: CLUSTER }]]);
    // Another value, or a policy without that tag: the change goes ahead.
    eks.on(UpdateClusterConfigCommand).resolves({ update: { id: "upd-2", status: "InProgress" } });
    const other = await restrictEndpoint.apply(narrow, {
      ...ctx,
      exemptTags: [{ key: "eks-responder:exempt", value: "yes" }],
    });
    expect(other.status).toBe("applied");
  });

  it("reads the cluster, then narrows public access to the allowed CIDRs", async () => {
    const { ctx, waits } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(OPEN));
    eks.on(UpdateClusterConfigCommand).resolves({ update: { id: "upd-1", status: "InProgress" } });

    const result = await restrictEndpoint.apply(narrow, ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ["DescribeCluster", { name: CLUSTER }],
      ["UpdateClusterConfig", NARROW_UPDATE],
    ]);
    expect(result.reason).toContain("upd-1");
    expect(result.undo).toEqual({
      clusterName: CLUSTER,
      endpointPublicAccess: true,
      endpointPrivateAccess: false,
      publicAccessCidrs: ["0.0.0.0/0"],
    });
    expect(waits).toEqual([]);
  });

  it("turns public access off when no CIDRs are given and private access is on", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster({ ...OPEN, endpointPrivateAccess: true }));
    eks.on(UpdateClusterConfigCommand).resolves({ update: { id: "upd-2" } });

    const result = await restrictEndpoint.apply(turnOff, ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ["DescribeCluster", { name: CLUSTER }],
      [
        "UpdateClusterConfig",
        { name: CLUSTER, resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true } },
      ],
    ]);
  });

  it("refuses to turn public access off when private access is off, and sends no update", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(OPEN));

    const result = await restrictEndpoint.apply(turnOff, ctx);

    expect(result.status).toBe("refused");
    expect(result.reason).toContain("private endpoint access is off");
    expect(eks.commandCalls(UpdateClusterConfigCommand)).toHaveLength(0);
  });

  it.each([
    ["public access is already limited to the same CIDRs", { ...OPEN, publicAccessCidrs: [...ALLOWED].reverse() }],
    ["public access is already off", { ...OPEN, endpointPublicAccess: false, endpointPrivateAccess: true }],
  ])("is already done when %s, and sends no update", async (_case, vpc) => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(vpc));

    const result = await restrictEndpoint.apply(narrow, ctx);

    expect(result.status).toBe("already-done");
    expect(commandsSent(stubs)).toEqual([["DescribeCluster", { name: CLUSTER }]]);
    expect(result.undo).toBeUndefined();
  });

  it("is already done when the cluster no longer exists (ResourceNotFoundException)", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).rejects(eksError("ResourceNotFoundException", 404));

    const result = await restrictEndpoint.apply(narrow, ctx);

    expect(result.status).toBe("already-done");
    expect(eks.commandCalls(UpdateClusterConfigCommand)).toHaveLength(0);
    expect(result.calls.map((c) => c.result)).toEqual(["not-found"]);
  });

  it("fails on AccessDeniedException with the error code, after exactly one update attempt", async () => {
    const { ctx, waits } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(OPEN));
    eks.on(UpdateClusterConfigCommand).rejects(eksError("AccessDeniedException", 403));

    const result = await restrictEndpoint.apply(narrow, ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("AccessDeniedException");
    expect(eks.commandCalls(UpdateClusterConfigCommand)).toHaveLength(1);
    expect(waits).toEqual([]);
    expect(result.undo).toBeUndefined();
  });

  it("in dry-run, only reads the cluster and reports would-succeed", async () => {
    const { ctx } = applyContext(true);
    eks.on(DescribeClusterCommand).resolves(cluster(OPEN));

    const result = await restrictEndpoint.apply(narrow, ctx);

    expect(result.status).toBe("would-succeed");
    expect(commandsSent(stubs)).toEqual([["DescribeCluster", { name: CLUSTER }]]);
    expect(result.undo).toBeUndefined();
  });

  it("waits and retries while another update is in progress: ResourceInUseException twice, then success", async () => {
    const { ctx, waits } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(OPEN));
    eks
      .on(UpdateClusterConfigCommand)
      .rejectsOnce(eksError("ResourceInUseException", 409))
      .rejectsOnce(eksError("ResourceInUseException", 409))
      .resolves({ update: { id: "upd-3" } });

    const result = await restrictEndpoint.apply(narrow, ctx);

    expect(result.status).toBe("applied");
    expect(eks.commandCalls(UpdateClusterConfigCommand).map((c) => c.args[0].input)).toEqual([
      NARROW_UPDATE,
      NARROW_UPDATE,
      NARROW_UPDATE,
    ]);
    expect(waits).toEqual([UPDATE_RETRY_WAIT_MS, UPDATE_RETRY_WAIT_MS]);
  });

  it("gives up after a bounded number of attempts when the cluster stays busy", async () => {
    const { ctx, waits } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(OPEN));
    eks.on(UpdateClusterConfigCommand).rejects(eksError("ResourceInUseException", 409));

    const result = await restrictEndpoint.apply(narrow, ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("ResourceInUseException");
    expect(eks.commandCalls(UpdateClusterConfigCommand)).toHaveLength(UPDATE_ATTEMPTS);
    expect(waits).toHaveLength(UPDATE_ATTEMPTS - 1);
  });

  it("is idempotent: a second apply against the narrowed cluster is already done", async () => {
    const { ctx } = applyContext(false);
    let live: VpcConfigResponse = { ...OPEN };
    eks.on(DescribeClusterCommand).callsFake(() => cluster(live));
    eks.on(UpdateClusterConfigCommand).callsFake((input: { resourcesVpcConfig?: { publicAccessCidrs?: string[] } }) => {
      live = { ...live, publicAccessCidrs: input.resourcesVpcConfig?.publicAccessCidrs ?? [] };
      return { update: { id: "upd-4" } };
    });

    const first = await restrictEndpoint.apply(narrow, ctx);
    const second = await restrictEndpoint.apply(narrow, ctx);

    expect(first.status).toBe("applied");
    expect(second.status).toBe("already-done");
    expect(eks.commandCalls(UpdateClusterConfigCommand)).toHaveLength(1);
  });

  it("rolls back by restoring the endpoint access read before the change", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(OPEN));
    eks.on(UpdateClusterConfigCommand).resolves({ update: { id: "upd-5" } });
    const applied = await restrictEndpoint.apply(narrow, ctx);
    eks.resetHistory();

    const rollback = must(restrictEndpoint.rollback, "rollback");
    const result = await rollback(must(applied.undo, "undo"), ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      [
        "UpdateClusterConfig",
        {
          name: CLUSTER,
          resourcesVpcConfig: {
            endpointPublicAccess: true,
            endpointPrivateAccess: false,
            publicAccessCidrs: ["0.0.0.0/0"],
          },
        },
      ],
    ]);
  });

  it("rolls back a turned-off endpoint by turning it on again with its former CIDRs", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster({ ...OPEN, endpointPrivateAccess: true }));
    eks.on(UpdateClusterConfigCommand).resolves({ update: { id: "upd-6" } });
    const applied = await restrictEndpoint.apply(turnOff, ctx);
    eks.resetHistory();

    const rollback = must(restrictEndpoint.rollback, "rollback");
    const result = await rollback(must(applied.undo, "undo"), ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      [
        "UpdateClusterConfig",
        {
          name: CLUSTER,
          resourcesVpcConfig: {
            endpointPublicAccess: true,
            endpointPrivateAccess: true,
            publicAccessCidrs: ["0.0.0.0/0"],
          },
        },
      ],
    ]);
  });
});
