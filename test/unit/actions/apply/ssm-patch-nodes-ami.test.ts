import { CreateTagsCommand, DeleteTagsCommand, DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  DescribeUpdateCommand,
  EKSClient,
  type Nodegroup,
  UpdateNodegroupVersionCommand,
} from "@aws-sdk/client-eks";
import {
  DescribeInstanceInformationCommand,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { PATCH_RUN_TAG, patchNodes } from "../../../../packages/core/src/actions/patch-nodes.action.ts";
import { ASSESSMENT_ID, applyContext, commandsSent, namesSent } from "./helpers.ts";

const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const eks = mockClient(EKSClient);
const stubs = { ec2, ssm, eks };

const CLUSTER = "prod-eks";
const APPROVER = "slack:U0123ABCD";
const UPDATE_ID = "a94ebfc3-6bf8-307a-89e6-7dbaa36421f7";
const id = (i: number) => `i-${i.toString(16).padStart(17, "0")}`;

interface Node {
  id: string;
  platform: "Amazon Linux" | "Bottlerocket";
  tags: Record<string, string>;
}

/** Nodes of a managed node group carry eks:cluster-name and eks:nodegroup-name (EKS sets them). */
const inGroup = (nodegroup: string) => ({ "eks:cluster-name": CLUSTER, "eks:nodegroup-name": nodegroup });

/**
 * The cluster's running nodes: DescribeInstances answers every node carrying the filtered tags with its Tags
 * (API_DescribeInstances), DescribeInstanceInformation each one online with its platform (API_InstanceInformation: a
 * Bottlerocket node's agent reports PlatformName "Bottlerocket").
 */
function nodes(all: Node[]): void {
  ec2.on(DescribeInstancesCommand).callsFake((input: { Filters?: { Name?: string; Values?: string[] }[] }) => {
    const matches = (n: Node) =>
      (input.Filters ?? []).every((f) => {
        if (f.Name === "instance-state-name") return true;
        if (f.Name === "tag-key") return (f.Values ?? []).some((k) => k in n.tags);
        const key = (f.Name ?? "").replace(/^tag:/, "");
        return (f.Values ?? []).includes(n.tags[key] ?? "");
      });
    return {
      Reservations: [
        {
          Instances: all.filter(matches).map((n) => ({
            InstanceId: n.id,
            Tags: Object.entries(n.tags).map(([Key, Value]) => ({ Key, Value })),
          })),
        },
      ],
    };
  });
  ssm.on(DescribeInstanceInformationCommand).callsFake((input: { Filters?: { Values?: string[] }[] }) => ({
    InstanceInformationList: (input.Filters?.[0]?.Values ?? []).map((InstanceId) => ({
      InstanceId,
      PingStatus: "Online",
      PlatformType: "Linux",
      PlatformName: all.find((n) => n.id === InstanceId)?.platform,
    })),
  }));
}

/**
 * DescribeNodegroup answers the node group (API_Nodegroup: version, releaseVersion, amiType, status, updateConfig),
 * DescribeCluster the cluster's Kubernetes version (API_Cluster). UpdateNodegroupVersion answers the update InProgress
 * with the Version and ReleaseVersion it moves to in its params, as the AWS CLI example of update-nodegroup-version
 * shows; DescribeUpdate then InProgress once, then Successful (API_DescribeUpdate, API_Update).
 */
function eksAnswers(groups: Record<string, Partial<Nodegroup>>, clusterVersion = "1.30"): void {
  eks.on(DescribeNodegroupCommand).callsFake((input: { nodegroupName?: string }) => ({
    nodegroup: {
      nodegroupName: input.nodegroupName,
      clusterName: CLUSTER,
      status: "ACTIVE",
      updateConfig: { maxUnavailable: 1 },
      ...groups[input.nodegroupName ?? ""],
    },
  }));
  eks.on(DescribeClusterCommand).resolves({ cluster: { name: CLUSTER, version: clusterVersion, status: "ACTIVE" } });
  eks.on(UpdateNodegroupVersionCommand).resolves({
    update: {
      id: UPDATE_ID,
      status: "InProgress",
      type: "VersionUpdate",
      params: [
        { type: "Version", value: clusterVersion },
        { type: "ReleaseVersion", value: "1.21.0-2d1c5b3e" },
      ],
      errors: [],
    },
  });
  let polls = 0;
  eks.on(DescribeUpdateCommand).callsFake(() => {
    polls++;
    return { update: { id: UPDATE_ID, status: polls < 2 ? "InProgress" : "Successful", type: "VersionUpdate" } };
  });
}

/** SendCommand answers a command id; ListCommandInvocations Success for every node it reached. */
function ssmCommands(): void {
  const tagged: string[] = [];
  ec2.on(CreateTagsCommand).callsFake((input: { Resources?: string[] }) => {
    tagged.push(...(input.Resources ?? []));
    return {};
  });
  ec2.on(DeleteTagsCommand).resolves({});
  let targets: string[] = [];
  ssm.on(SendCommandCommand).callsFake((input: { InstanceIds?: string[]; Targets?: unknown[] }) => {
    targets = input.InstanceIds ?? (input.Targets ? [...tagged] : []);
    return { Command: { CommandId: "cmd-1", Status: "Pending" } };
  });
  ssm.on(ListCommandInvocationsCommand).callsFake(() => ({
    CommandInvocations: targets.map((InstanceId) => ({ CommandId: "cmd-1", InstanceId, Status: "Success" })),
  }));
}

const BOTTLEROCKET_GROUP = {
  version: "1.30",
  releaseVersion: "1.20.3-5d9ac849",
  amiType: "BOTTLEROCKET_x86_64" as const,
};
const bottlerocketNodes: Node[] = [0, 1].map((i) => ({
  id: id(i),
  platform: "Bottlerocket",
  tags: inGroup("bottlerocket"),
}));

beforeEach(() => {
  ec2.reset();
  ssm.reset();
  eks.reset();
});
afterAll(() => {
  ec2.restore();
  ssm.restore();
  eks.restore();
});

describe("ssm:patch-nodes on nodes Patch Manager does not patch", () => {
  it("approved, updates a Bottlerocket managed node group's AMI to the latest release of the cluster's version and follows it", async () => {
    // prepare
    nodes(bottlerocketNodes);
    eksAnswers({ bottlerocket: BOTTLEROCKET_GROUP });
    const { ctx, waits } = applyContext(false);
    const params = patchNodes.params.parse({ clusterName: CLUSTER, nodegroupName: "bottlerocket" });

    // act
    const result = await patchNodes.apply(params, { ...ctx, approvedBy: APPROVER });

    // assess
    expect(result.status).toBe("applied");
    expect(commandsSent(stubs).filter(([name]) => name !== "DescribeInstances")).toEqual([
      ["DescribeInstanceInformation", { Filters: [{ Key: "InstanceIds", Values: [id(0), id(1)] }] }],
      ["DescribeNodegroup", { clusterName: CLUSTER, nodegroupName: "bottlerocket" }],
      ["DescribeCluster", { name: CLUSTER }],
      ["UpdateNodegroupVersion", { clusterName: CLUSTER, nodegroupName: "bottlerocket", version: "1.30" }],
      ["DescribeUpdate", { name: CLUSTER, nodegroupName: "bottlerocket", updateId: UPDATE_ID }],
      ["DescribeUpdate", { name: CLUSTER, nodegroupName: "bottlerocket", updateId: UPDATE_ID }],
    ]);
    expect(waits).toEqual([5_000, 5_000]);
    expect(result.reason).toBe(`node group ${CLUSTER}/bottlerocket: update ${UPDATE_ID} Successful`);
    expect(result.details?.amiUpdates).toEqual([
      {
        nodegroup: `${CLUSTER}/bottlerocket`,
        instanceIds: [id(0), id(1)],
        request: { clusterName: CLUSTER, nodegroupName: "bottlerocket", version: "1.30" },
        to: "the latest AMI release of Kubernetes 1.30 (the cluster's), from 1.20.3-5d9ac849",
        updateConfig: "at most 1 node(s) at once",
        result: {
          nodegroup: `${CLUSTER}/bottlerocket`,
          status: "successful",
          updateId: UPDATE_ID,
          releaseVersion: "1.21.0-2d1c5b3e",
          reason: `update ${UPDATE_ID} Successful`,
        },
      },
    ]);
    expect(result.details?.skipped).toEqual({});
  });

  it("without approval starts no AMI update: refused, saying what it would move to and that it waits for a human", async () => {
    // prepare
    nodes(bottlerocketNodes);
    eksAnswers({ bottlerocket: { ...BOTTLEROCKET_GROUP, updateConfig: { maxUnavailablePercentage: 25 } } });
    const { ctx } = applyContext(false);

    // act
    const result = await patchNodes.apply(patchNodes.params.parse({ clusterName: CLUSTER }), ctx);

    // assess
    expect(result.status).toBe("refused");
    expect(result.reason).toContain(
      `the AMI update of node group ${CLUSTER}/bottlerocket waits for a human's approval`,
    );
    expect(eks.commandCalls(UpdateNodegroupVersionCommand)).toHaveLength(0);
    expect(result.details?.amiUpdates).toMatchObject([
      {
        to: "the latest AMI release of Kubernetes 1.30 (the cluster's), from 1.20.3-5d9ac849",
        updateConfig: "at most 25% of its nodes at once",
      },
    ]);
  });

  it("keeps a node group behind the cluster on its own Kubernetes version, and sends the releaseVersion given", async () => {
    // prepare
    nodes(bottlerocketNodes);
    eksAnswers({ bottlerocket: { ...BOTTLEROCKET_GROUP, version: "1.29" } });
    const { ctx } = applyContext(false);

    // act
    const latest = await patchNodes.apply(patchNodes.params.parse({ clusterName: CLUSTER }), {
      ...ctx,
      approvedBy: APPROVER,
    });
    const pinned = await patchNodes.apply(
      patchNodes.params.parse({ clusterName: CLUSTER, releaseVersion: "1.21.0-2d1c5b3e" }),
      { ...ctx, approvedBy: APPROVER },
    );

    // assess
    expect(latest.status).toBe("applied");
    expect(pinned.status).toBe("applied");
    expect(eks.commandCalls(UpdateNodegroupVersionCommand).map((c) => c.args[0].input)).toEqual([
      { clusterName: CLUSTER, nodegroupName: "bottlerocket" },
      { clusterName: CLUSTER, nodegroupName: "bottlerocket", releaseVersion: "1.21.0-2d1c5b3e" },
    ]);
  });

  it("leaves Karpenter's and self-managed Bottlerocket nodes alone, saying what replaces them", async () => {
    // prepare
    nodes([
      {
        id: id(0),
        platform: "Bottlerocket",
        tags: { "aws:eks:cluster-name": CLUSTER, "karpenter.sh/nodepool": "default" },
      },
      { id: id(1), platform: "Bottlerocket", tags: { [`kubernetes.io/cluster/${CLUSTER}`]: "owned" } },
    ]);
    const { ctx } = applyContext(false);

    // act
    const result = await patchNodes.apply(patchNodes.params.parse({ clusterName: CLUSTER }), {
      ...ctx,
      approvedBy: APPROVER,
    });

    // assess
    expect(result.status).toBe("refused");
    const skipped = result.details?.skipped as Record<string, string>;
    expect(skipped[id(0)]).toContain("Karpenter replaces it through drift when its EC2NodeClass's AMI changes");
    expect(skipped[id(1)]).toContain("not in an EKS managed node group (self-managed)");
    expect(namesSent({ eks })).toEqual([]);
  });
});

describe("ssm:patch-nodes on a node group holding Amazon Linux and Bottlerocket nodes", () => {
  // A managed node group can hold both only through a launch template with a custom AMI (amiType CUSTOM).
  const mixed: Node[] = [
    ...Array.from({ length: 51 }, (_, i): Node => ({ id: id(i), platform: "Amazon Linux", tags: inGroup("general") })),
    ...[51, 52].map((i): Node => ({ id: id(i), platform: "Bottlerocket", tags: inGroup("general") })),
  ];
  const amazonLinux = mixed.filter((n) => n.platform === "Amazon Linux").map((n) => n.id);

  it("sends one command with Targets to the Amazon Linux nodes only, and says why the Bottlerocket ones are not updated", async () => {
    // prepare
    nodes(mixed);
    ssmCommands();
    eksAnswers({ general: { version: "1.30", releaseVersion: "1.30.0-20240625", amiType: "CUSTOM" } });
    const { ctx } = applyContext(false);

    // act
    const result = await patchNodes.apply(patchNodes.params.parse({ clusterName: CLUSTER, nodegroupName: "general" }), {
      ...ctx,
      approvedBy: APPROVER,
    });

    // assess
    expect(result.status).toBe("applied");
    const sent = ssm.commandCalls(SendCommandCommand).map((c) => c.args[0].input);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.Targets).toEqual([{ Key: `tag:${PATCH_RUN_TAG}`, Values: [ASSESSMENT_ID] }]);
    expect(ec2.commandCalls(CreateTagsCommand)[0]?.args[0].input.Resources).toEqual(amazonLinux);
    expect(eks.commandCalls(UpdateNodegroupVersionCommand)).toHaveLength(0);
    expect(result.details?.skipped).toEqual(
      Object.fromEntries(
        [id(51), id(52)].map((i) => [
          i,
          `Bottlerocket: Patch Manager does not patch it (AWS-RunPatchBaseline would patch its control container); node group general of ${CLUSTER} runs a custom AMI from its launch template: update the launch template's AMI instead`,
        ]),
      ),
    );
  });

  it("plans both parts: the one command (Targets beyond 50 nodes) and, for the nodes it skips, the node group's AMI update", () => {
    // act
    const planned = patchNodes.plan(patchNodes.params.parse({ clusterName: CLUSTER, nodegroupName: "general" }), {
      dryRun: false,
      assessmentId: ASSESSMENT_ID,
      account: "111122223333",
      region: "eu-west-1",
    });

    // assess
    if (!("calls" in planned)) throw new Error("must plan");
    const send = planned.calls.find((c) => c.operation === "SendCommand");
    const update = planned.calls.find((c) => c.operation === "UpdateNodegroupVersion");
    expect(send?.params.Targets).toEqual([{ Key: `tag:${PATCH_RUN_TAG}`, Values: [ASSESSMENT_ID] }]);
    expect(update?.params).toEqual({
      clusterName: CLUSTER,
      nodegroupName: "general",
      version: "<the cluster's Kubernetes version>",
    });
    expect(update?.note).toContain("only for nodes on a platform Patch Manager does not patch (Bottlerocket)");
    expect(update?.note).toContain("not started without a human's approval");
  });
});
