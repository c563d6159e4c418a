import { DescribeVpcAttributeCommand, EC2Client } from "@aws-sdk/client-ec2";
import type { VpcConfigResponse } from "@aws-sdk/client-eks";
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
import { restrictEndpoint } from "../../../../packages/core/src/actions/restrict-endpoint.action.ts";
import { RESPOND_UPDATE_WAIT_MS } from "../../../../packages/core/src/actions/types.ts";
import { isTransient } from "../../../../packages/core/src/guardrails/faults.ts";
import { must } from "../../../helpers/fixtures.ts";
import { eksMessageError, inUse, update } from "./eks-update-answers.ts";
import { applyContext, commandsSent, eksError } from "./helpers.ts";

const eks = mockClient(EKSClient);
const ec2 = mockClient(EC2Client);
const stubs = { eks, ec2 };

const CLUSTER = "prod-eks";
const VPC = "vpc-0a1b2c3d4e5f67890";
const ALLOWED = ["203.0.113.0/24", "198.51.100.7/32"];
const narrow = restrictEndpoint.params.parse({ clusterName: CLUSTER, publicAccessCidrs: ALLOWED });
const turnOff = restrictEndpoint.params.parse({ clusterName: CLUSTER, publicAccessCidrs: [] });

/** EKS's default: public access on from everywhere, private access off (nodes reach the public endpoint). */
const OPEN: VpcConfigResponse = {
  vpcId: VPC,
  endpointPublicAccess: true,
  endpointPrivateAccess: false,
  publicAccessCidrs: ["0.0.0.0/0"],
};
const NARROW_UPDATE = {
  name: CLUSTER,
  resourcesVpcConfig: { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ALLOWED },
};
const DNS_READS: [string, unknown][] = [
  ["DescribeVpcAttribute", { VpcId: VPC, Attribute: "enableDnsSupport" }],
  ["DescribeVpcAttribute", { VpcId: VPC, Attribute: "enableDnsHostnames" }],
];

function cluster(vpc: VpcConfigResponse) {
  return { cluster: { name: CLUSTER, resourcesVpcConfig: vpc } };
}

/**
 * DescribeVpcAttribute answers one attribute per call, as an AttributeBooleanValue:
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcAttribute.html
 */
function vpcDns(support: boolean, hostnames: boolean): void {
  ec2
    .on(DescribeVpcAttributeCommand, { Attribute: "enableDnsSupport" })
    .resolves({ VpcId: VPC, EnableDnsSupport: { Value: support } });
  ec2
    .on(DescribeVpcAttributeCommand, { Attribute: "enableDnsHostnames" })
    .resolves({ VpcId: VPC, EnableDnsHostnames: { Value: hostnames } });
}

/** UpdateClusterConfig starts an EndpointAccessUpdate (InProgress); DescribeUpdate then says Successful. */
function updateSucceeds(id: string): void {
  eks.on(UpdateClusterConfigCommand).resolves({ update: update(id, "EndpointAccessUpdate", "InProgress") });
  eks.on(DescribeUpdateCommand).resolves({ update: update(id, "EndpointAccessUpdate", "Successful") });
}

beforeEach(() => {
  eks.reset();
  ec2.reset();
  vpcDns(true, true);
});

afterAll(() => {
  eks.restore();
  ec2.restore();
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
    updateSucceeds("upd-2");
    const other = await restrictEndpoint.apply(narrow, {
      ...ctx,
      exemptTags: [{ key: "eks-responder:exempt", value: "yes" }],
    });
    expect(other.status).toBe("applied");
  });

  it("narrows public access and turns private access on in the same update, so that the nodes keep the endpoint", async () => {
    const { ctx, waits } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(OPEN));
    updateSucceeds("upd-1");

    const result = await restrictEndpoint.apply(narrow, ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ["DescribeCluster", { name: CLUSTER }],
      ...DNS_READS,
      ["UpdateClusterConfig", NARROW_UPDATE],
      ["DescribeUpdate", { name: CLUSTER, updateId: "upd-1" }],
    ]);
    expect(result.reason).toContain("update upd-1 Successful");
    expect(result.reason).toContain("private access turned on");
    expect(result.undo).toEqual({
      clusterName: CLUSTER,
      endpointPublicAccess: true,
      endpointPrivateAccess: false,
      publicAccessCidrs: ["0.0.0.0/0"],
    });
    expect(waits).toEqual([UPDATE_POLL_MS]);
  });

  it("the plan says that private access is turned on with the narrowing", () => {
    const plan = restrictEndpoint.plan(narrow, { dryRun: false, assessmentId: "asm-1", account: "1", region: "x" });
    expect(plan).toEqual({
      calls: [
        expect.objectContaining({
          operation: "UpdateClusterConfig",
          params: NARROW_UPDATE,
          note: expect.stringContaining("turn private access on"),
        }),
      ],
    });
  });

  it.each([
    ["enableDnsSupport", false, true],
    ["enableDnsHostnames", true, false],
  ])(
    "refuses to narrow when private access is off and the VPC's %s is off: the nodes would lose the endpoint",
    async (attribute, support, hostnames) => {
      const { ctx } = applyContext(false);
      ec2.reset();
      vpcDns(support, hostnames);
      eks.on(DescribeClusterCommand).resolves(cluster(OPEN));

      const result = await restrictEndpoint.apply(narrow, ctx);

      expect(result.status).toBe("refused");
      expect(result.reason).toContain(`${attribute} of ${VPC} is off`);
      expect(eks.commandCalls(UpdateClusterConfigCommand)).toHaveLength(0);
    },
  );

  it("refuses to narrow when private access is off and DescribeCluster gives no VPC id", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster({ ...OPEN, vpcId: undefined }));

    const result = await restrictEndpoint.apply(narrow, ctx);

    expect(result.status).toBe("refused");
    expect(eks.commandCalls(UpdateClusterConfigCommand)).toHaveLength(0);
  });

  it("with private access already on, reads no VPC attribute", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster({ ...OPEN, endpointPrivateAccess: true }));
    updateSucceeds("upd-9");

    const result = await restrictEndpoint.apply(narrow, ctx);

    expect(result.status).toBe("applied");
    expect(ec2.commandCalls(DescribeVpcAttributeCommand)).toHaveLength(0);
    expect(result.reason).not.toContain("private access turned on");
  });

  it("turns public access off when no CIDRs are given and private access is on", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster({ ...OPEN, endpointPrivateAccess: true }));
    updateSucceeds("upd-2");

    const result = await restrictEndpoint.apply(turnOff, ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ["DescribeCluster", { name: CLUSTER }],
      [
        "UpdateClusterConfig",
        { name: CLUSTER, resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true } },
      ],
      ["DescribeUpdate", { name: CLUSTER, updateId: "upd-2" }],
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

  it("is already done when EKS answers that the cluster is already at the desired configuration", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(OPEN));
    eks
      .on(UpdateClusterConfigCommand)
      .rejects(
        eksMessageError(
          "InvalidParameterException",
          400,
          "Cluster is already at the desired configuration with endpointPrivateAccess: true , endpointPublicAccess: true, and Public Endpoint Restrictions: [203.0.113.0/24, 198.51.100.7/32]",
        ),
      );

    const result = await restrictEndpoint.apply(narrow, ctx);

    expect(result.status).toBe("already-done");
    expect(result.error).toBeUndefined();
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

  it("in dry-run, only reads and reports would-succeed", async () => {
    const { ctx } = applyContext(true);
    eks.on(DescribeClusterCommand).resolves(cluster(OPEN));

    const result = await restrictEndpoint.apply(narrow, ctx);

    expect(result.status).toBe("would-succeed");
    expect(commandsSent(stubs)).toEqual([["DescribeCluster", { name: CLUSTER }], ...DNS_READS]);
    expect(result.undo).toBeUndefined();
  });

  it("waits while another update is in progress: ResourceInUseException twice, then the update starts and succeeds", async () => {
    const { ctx, waits } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(OPEN));
    eks
      .on(UpdateClusterConfigCommand)
      .rejectsOnce(inUse(CLUSTER, "EndpointAccessUpdate"))
      .rejectsOnce(inUse(CLUSTER, "EndpointAccessUpdate"))
      .resolves({ update: update("upd-3", "EndpointAccessUpdate", "InProgress") });
    eks.on(DescribeUpdateCommand).resolves({ update: update("upd-3", "EndpointAccessUpdate", "Successful") });

    const result = await restrictEndpoint.apply(narrow, ctx);

    expect(result.status).toBe("applied");
    expect(eks.commandCalls(UpdateClusterConfigCommand).map((c) => c.args[0].input)).toEqual([
      NARROW_UPDATE,
      NARROW_UPDATE,
      NARROW_UPDATE,
    ]);
    expect(waits).toEqual([UPDATE_POLL_MS, UPDATE_POLL_MS, UPDATE_POLL_MS]);
  });

  it("gives up within the respond function's wait when the cluster stays busy: a transient failure", async () => {
    const { ctx, waits } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(OPEN));
    eks.on(UpdateClusterConfigCommand).rejects(inUse(CLUSTER, "EndpointAccessUpdate"));

    const result = await restrictEndpoint.apply(narrow, ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe(UPDATE_STILL_IN_PROGRESS);
    expect(isTransient(result.error?.code)).toBe(true);
    expect(result.undo).toBeUndefined();
    expect(waits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(RESPOND_UPDATE_WAIT_MS);
  });

  it("an update that stays InProgress past the wait is transient and keeps its undo; one that fails is permanent", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(OPEN));
    eks.on(UpdateClusterConfigCommand).resolves({ update: update("upd-7", "EndpointAccessUpdate", "InProgress") });
    eks.on(DescribeUpdateCommand).resolves({ update: update("upd-7", "EndpointAccessUpdate", "InProgress") });
    const slow = await restrictEndpoint.apply(narrow, ctx);
    expect(slow.error?.code).toBe(UPDATE_STILL_IN_PROGRESS);
    expect(slow.undo).toEqual({ clusterName: CLUSTER, ...OPEN, vpcId: undefined });

    eks.on(DescribeUpdateCommand).resolves({
      update: update("upd-7", "EndpointAccessUpdate", "Failed", [
        { errorCode: "AccessDenied", errorMessage: "The cluster role lacks a permission", resourceIds: [] },
      ]),
    });
    const failed = await restrictEndpoint.apply(narrow, ctx);
    expect(failed.status).toBe("failed");
    expect(failed.error?.code).toBe(UPDATE_FAILED);
    expect(failed.reason).toContain("update upd-7 Failed: AccessDenied: The cluster role lacks a permission");
    expect(failed.undo).toBeUndefined();
  });

  it("is idempotent: a second apply against the narrowed cluster is already done", async () => {
    const { ctx } = applyContext(false);
    let live: VpcConfigResponse = { ...OPEN };
    eks.on(DescribeClusterCommand).callsFake(() => cluster(live));
    eks
      .on(UpdateClusterConfigCommand)
      .callsFake(
        (input: { resourcesVpcConfig?: { publicAccessCidrs?: string[]; endpointPrivateAccess?: boolean } }) => {
          live = {
            ...live,
            publicAccessCidrs: input.resourcesVpcConfig?.publicAccessCidrs ?? [],
            endpointPrivateAccess: input.resourcesVpcConfig?.endpointPrivateAccess ?? false,
          };
          return { update: update("upd-4", "EndpointAccessUpdate", "InProgress") };
        },
      );
    eks.on(DescribeUpdateCommand).resolves({ update: update("upd-4", "EndpointAccessUpdate", "Successful") });

    const first = await restrictEndpoint.apply(narrow, ctx);
    const second = await restrictEndpoint.apply(narrow, ctx);

    expect(first.status).toBe("applied");
    expect(second.status).toBe("already-done");
    expect(eks.commandCalls(UpdateClusterConfigCommand)).toHaveLength(1);
  });

  it("rolls back by restoring the endpoint access read before the change, private access included", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster(OPEN));
    updateSucceeds("upd-5");
    const applied = await restrictEndpoint.apply(narrow, ctx);
    eks.resetHistory();
    ec2.resetHistory();

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
      ["DescribeUpdate", { name: CLUSTER, updateId: "upd-5" }],
    ]);
  });

  it("rolls back a turned-off endpoint by turning it on again with its former CIDRs", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves(cluster({ ...OPEN, endpointPrivateAccess: true }));
    updateSucceeds("upd-6");
    const applied = await restrictEndpoint.apply(turnOff, ctx);
    eks.resetHistory();

    const rollback = must(restrictEndpoint.rollback, "rollback");
    const result = await rollback(must(applied.undo, "undo"), ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)[0]).toEqual([
      "UpdateClusterConfig",
      {
        name: CLUSTER,
        resourcesVpcConfig: {
          endpointPublicAccess: true,
          endpointPrivateAccess: true,
          publicAccessCidrs: ["0.0.0.0/0"],
        },
      },
    ]);
  });
});
