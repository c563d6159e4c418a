import {
  AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
  SetInstanceProtectionCommand,
} from "@aws-sdk/client-auto-scaling";
import type { Instance, Tag } from "@aws-sdk/client-ec2";
import {
  CreateSecurityGroupCommand,
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
} from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  isolateInstance,
  QUARANTINE_GROUP_TAG,
  QUARANTINE_TAG,
} from "../../../../packages/core/src/actions/isolate-instance.action.ts";
import { must } from "../../../helpers/fixtures.ts";
import { ASSESSMENT_ID, applyContext, commandsSent, ec2Error, namesSent } from "./helpers.ts";

const ec2 = mockClient(EC2Client);
const asg = mockClient(AutoScalingClient);
const stubs = { ec2, autoscaling: asg };

const INSTANCE = "i-0f1e2d3c4b5a69788";
const VPC = "vpc-0a1b2c3d4e5f67890";
const ENI = "eni-0a9b8c7d6e5f43210";
const ASG = "eks-general-8ac6f1b2";
const NODE_GROUPS = ["sg-0aaaaaaaaaaaaaaa1", "sg-0aaaaaaaaaaaaaaa2"];
const TRANSITION = "sg-0ddddddddddddddd1";
const QUARANTINE = "sg-0eeeeeeeeeeeeeee1";
const EKS_TAGS: Tag[] = [
  { Key: "eks:cluster-name", Value: "prod-eks" },
  { Key: "eks:nodegroup-name", Value: "general" },
  { Key: "aws:autoscaling:groupName", Value: ASG },
];

const params = isolateInstance.params.parse(isolateInstance.example);

const FIND_GROUPS = {
  Filters: [
    { Name: "vpc-id", Values: [VPC] },
    { Name: `tag:${QUARANTINE_GROUP_TAG}`, Values: ["transition", "quarantine"] },
  ],
};
const SNAPSHOTS = {
  InstanceSpecification: { InstanceId: INSTANCE, ExcludeBootVolume: false },
  Description: `eks-responder forensic snapshot of ${INSTANCE} (${ASSESSMENT_ID})`,
  TagSpecifications: [{ ResourceType: "snapshot", Tags: [{ Key: QUARANTINE_TAG, Value: ASSESSMENT_ID }] }],
  CopyTagsFromSource: "volume",
};
const READS: [string, unknown][] = [
  ["DescribeInstances", { InstanceIds: [INSTANCE] }],
  ["DescribeInstanceAttribute", { InstanceId: INSTANCE, Attribute: "disableApiTermination" }],
  ["DescribeInstanceAttribute", { InstanceId: INSTANCE, Attribute: "instanceInitiatedShutdownBehavior" }],
  ["DescribeAutoScalingInstances", { InstanceIds: [INSTANCE] }],
];
/** The isolation itself, once the transition and quarantine groups are known. */
const ISOLATION: [string, unknown][] = [
  ["ModifyInstanceAttribute", { InstanceId: INSTANCE, DisableApiTermination: { Value: true } }],
  ["ModifyInstanceAttribute", { InstanceId: INSTANCE, InstanceInitiatedShutdownBehavior: { Value: "stop" } }],
  ["SetInstanceProtection", { AutoScalingGroupName: ASG, InstanceIds: [INSTANCE], ProtectedFromScaleIn: true }],
  ["ModifyNetworkInterfaceAttribute", { NetworkInterfaceId: ENI, Groups: [TRANSITION] }],
  ["ModifyNetworkInterfaceAttribute", { NetworkInterfaceId: ENI, Groups: [QUARANTINE] }],
  ["CreateTags", { Resources: [INSTANCE], Tags: [{ Key: QUARANTINE_TAG, Value: ASSESSMENT_ID }] }],
  ["CreateSnapshots", SNAPSHOTS],
];
/** The reversal, in the required order: ENI groups, shutdown behaviour, termination protection, scale-in protection. */
const RESTORE: [string, unknown][] = [
  ["ModifyNetworkInterfaceAttribute", { NetworkInterfaceId: ENI, Groups: NODE_GROUPS }],
  ["ModifyInstanceAttribute", { InstanceId: INSTANCE, InstanceInitiatedShutdownBehavior: { Value: "terminate" } }],
  ["ModifyInstanceAttribute", { InstanceId: INSTANCE, DisableApiTermination: { Value: false } }],
  ["SetInstanceProtection", { AutoScalingGroupName: ASG, InstanceIds: [INSTANCE], ProtectedFromScaleIn: false }],
];
const MUTATIONS = new Set([
  "CreateSecurityGroup",
  "AuthorizeSecurityGroupIngress",
  "AuthorizeSecurityGroupEgress",
  "RevokeSecurityGroupEgress",
  "ModifyInstanceAttribute",
  "ModifyNetworkInterfaceAttribute",
  "CreateTags",
  "DeleteTags",
  "CreateSnapshots",
  "SetInstanceProtection",
]);

function mutatingCalls(): number {
  return namesSent(stubs).filter((name) => MUTATIONS.has(name)).length;
}

function node(overrides: Partial<Instance> = {}): Instance {
  return {
    InstanceId: INSTANCE,
    VpcId: VPC,
    State: { Name: "running" },
    Tags: EKS_TAGS,
    NetworkInterfaces: [{ NetworkInterfaceId: ENI, Groups: NODE_GROUPS.map((GroupId) => ({ GroupId })) }],
    ...overrides,
  };
}

function group(GroupId: string, role: string) {
  return { GroupId, VpcId: VPC, Tags: [{ Key: QUARANTINE_GROUP_TAG, Value: role }] };
}

/** A running EKS node with termination protection off and shutdown behaviour `terminate`; every write succeeds. */
function liveNode(instance: Instance = node()): void {
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance] }] });
  ec2
    .on(DescribeInstanceAttributeCommand, { Attribute: "disableApiTermination" })
    .resolves({ InstanceId: INSTANCE, DisableApiTermination: { Value: false } });
  ec2
    .on(DescribeInstanceAttributeCommand, { Attribute: "instanceInitiatedShutdownBehavior" })
    .resolves({ InstanceId: INSTANCE, InstanceInitiatedShutdownBehavior: { Value: "terminate" } });
  ec2
    .on(CreateSecurityGroupCommand, { GroupName: `eks-responder-transition-${VPC}` })
    .resolves({ GroupId: TRANSITION });
  ec2
    .on(CreateSecurityGroupCommand, { GroupName: `eks-responder-quarantine-${VPC}` })
    .resolves({ GroupId: QUARANTINE });
  ec2.on(CreateSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: "snap-0123456789abcdef0" }] });
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({
    SecurityGroupRules: [
      {
        SecurityGroupRuleId: "sgr-0e9e9e9e9e9e9e9e1",
        GroupId: QUARANTINE,
        IsEgress: true,
        IpProtocol: "-1",
        CidrIpv4: "0.0.0.0/0",
      },
      {
        SecurityGroupRuleId: "sgr-0e9e9e9e9e9e9e9e2",
        GroupId: QUARANTINE,
        IsEgress: true,
        IpProtocol: "-1",
        CidrIpv6: "::/0",
      },
    ],
  });
  asg.on(DescribeAutoScalingInstancesCommand).resolves({
    AutoScalingInstances: [
      {
        InstanceId: INSTANCE,
        AutoScalingGroupName: ASG,
        AvailabilityZone: "eu-west-1b",
        LifecycleState: "InService",
        HealthStatus: "HEALTHY",
        ProtectedFromScaleIn: false,
      },
    ],
  });
}

/** Both groups exist already, the quarantine group with no rule (as an earlier isolation left it). */
function groupsExist(): void {
  ec2
    .on(DescribeSecurityGroupsCommand)
    .resolves({ SecurityGroups: [group(TRANSITION, "transition"), group(QUARANTINE, "quarantine")] });
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
}

/** The quarantine group found by its tag is checked to have no rule before it is used. */
const CHECK_QUARANTINE: [string, unknown] = [
  "DescribeSecurityGroupRules",
  { Filters: [{ Name: "group-id", Values: [QUARANTINE] }] },
];
/** The reads before an isolation when both groups exist. */
const READS_WITH_GROUPS: [string, unknown][] = [...READS, ["DescribeSecurityGroups", FIND_GROUPS], CHECK_QUARANTINE];
/** What an isolation of the live node records to undo, when it set no scale-in protection. */
const UNDO_NO_ASG = {
  instanceId: INSTANCE,
  networkInterfaces: [{ networkInterfaceId: ENI, groups: NODE_GROUPS }],
  disableApiTermination: false,
  shutdownBehavior: "terminate",
  tagged: true,
};

beforeEach(() => {
  ec2.reset();
  asg.reset();
});

afterAll(() => {
  ec2.restore();
  asg.restore();
});

describe("ec2:isolate-instance", () => {
  it("reuses the groups it finds and isolates the node with the exact commands, in order", async () => {
    const { ctx } = applyContext(false);
    liveNode();
    groupsExist();

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([...READS_WITH_GROUPS, ...ISOLATION]);
    expect(ec2.commandCalls(CreateSecurityGroupCommand)).toHaveLength(0);
    expect(result.undo).toEqual({ ...UNDO_NO_ASG, autoScalingGroupName: ASG });
    expect(result.details).toEqual({
      quarantineGroup: QUARANTINE,
      transitionGroup: TRANSITION,
      snapshots: ["snap-0123456789abcdef0"],
    });
  });

  it("creates the transition and quarantine groups when DescribeSecurityGroups finds none", async () => {
    const { ctx } = applyContext(false);
    liveNode();
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ...READS,
      ["DescribeSecurityGroups", FIND_GROUPS],
      [
        "CreateSecurityGroup",
        {
          GroupName: `eks-responder-transition-${VPC}`,
          Description: "eks-responder isolation step: all traffic, untracked",
          VpcId: VPC,
          TagSpecifications: [
            { ResourceType: "security-group", Tags: [{ Key: QUARANTINE_GROUP_TAG, Value: "transition" }] },
          ],
        },
      ],
      [
        "AuthorizeSecurityGroupIngress",
        {
          GroupId: TRANSITION,
          IpPermissions: [
            { IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }], Ipv6Ranges: [{ CidrIpv6: "::/0" }] },
          ],
        },
      ],
      [
        "AuthorizeSecurityGroupEgress",
        { GroupId: TRANSITION, IpPermissions: [{ IpProtocol: "-1", Ipv6Ranges: [{ CidrIpv6: "::/0" }] }] },
      ],
      [
        "CreateSecurityGroup",
        {
          GroupName: `eks-responder-quarantine-${VPC}`,
          Description: "eks-responder quarantine: no traffic in or out",
          VpcId: VPC,
          TagSpecifications: [
            { ResourceType: "security-group", Tags: [{ Key: QUARANTINE_GROUP_TAG, Value: "quarantine" }] },
          ],
        },
      ],
      ["DescribeSecurityGroupRules", { Filters: [{ Name: "group-id", Values: [QUARANTINE] }] }],
      [
        "RevokeSecurityGroupEgress",
        { GroupId: QUARANTINE, SecurityGroupRuleIds: ["sgr-0e9e9e9e9e9e9e9e1", "sgr-0e9e9e9e9e9e9e9e2"] },
      ],
      ...ISOLATION,
    ]);
  });

  it("creates only the group that is missing", async () => {
    const { ctx } = applyContext(false);
    liveNode();
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [group(TRANSITION, "transition")] });

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("applied");
    expect(ec2.commandCalls(CreateSecurityGroupCommand).map((c) => c.args[0].input.GroupName)).toEqual([
      `eks-responder-quarantine-${VPC}`,
    ]);
    expect(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => c.args[0].input.Groups)).toEqual([
      [TRANSITION],
      [QUARANTINE],
    ]);
  });

  it("refuses an instance without EKS tags and changes nothing", async () => {
    const { ctx } = applyContext(false);
    liveNode(node({ Tags: [{ Key: "Name", Value: "bastion" }] }));
    groupsExist();

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("refused");
    expect(result.reason).toContain("no EKS tags");
    expect(mutatingCalls()).toBe(0);
  });

  it("isolates an instance without EKS tags when allowNonEks is set", async () => {
    const { ctx } = applyContext(false);
    liveNode(node({ Tags: [{ Key: "Name", Value: "bastion" }] }));
    groupsExist();

    const result = await isolateInstance.apply({ ...params, allowNonEks: true }, ctx);

    expect(result.status).toBe("applied");
    // No ASG tag on the instance: the group named in the params is protected.
    expect(asg.commandCalls(SetInstanceProtectionCommand).map((c) => c.args[0].input.AutoScalingGroupName)).toEqual([
      ASG,
    ]);
  });

  it("is already done when the instance is tagged and every ENI is only in the quarantine group", async () => {
    const { ctx } = applyContext(false);
    liveNode(
      node({
        Tags: [...EKS_TAGS, { Key: QUARANTINE_TAG, Value: "asm-earlier" }],
        NetworkInterfaces: [{ NetworkInterfaceId: ENI, Groups: [{ GroupId: QUARANTINE }] }],
      }),
    );
    groupsExist();

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("already-done");
    expect(commandsSent(stubs)).toEqual([...READS, ["DescribeSecurityGroups", FIND_GROUPS]]);
    expect(mutatingCalls()).toBe(0);
  });

  it.each([
    ["InvalidInstanceID.NotFound is thrown", "throws"],
    ["DescribeInstances returns no reservation", "empty"],
  ] as const)("refuses when the instance is gone (%s) and changes nothing", async (_case, how) => {
    const { ctx } = applyContext(false);
    if (how === "throws") ec2.on(DescribeInstancesCommand).rejects(ec2Error("InvalidInstanceID.NotFound"));
    else ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("refused");
    expect(namesSent(stubs)).toEqual(["DescribeInstances"]);
  });

  it("refuses a terminated instance and changes nothing", async () => {
    const { ctx } = applyContext(false);
    liveNode(node({ State: { Name: "terminated" } }));

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("refused");
    expect(mutatingCalls()).toBe(0);
  });

  it("fails on UnauthorizedOperation with the error code, after exactly one attempt, and changes nothing", async () => {
    const { ctx } = applyContext(false);
    ec2.on(DescribeInstancesCommand).rejects(ec2Error("UnauthorizedOperation", 403));

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("UnauthorizedOperation");
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(1);
    expect(mutatingCalls()).toBe(0);
  });

  it("in dry-run, sends the writes it can check with DryRun: true and reads DryRunOperation as would-succeed", async () => {
    const { ctx } = applyContext(true);
    liveNode();
    groupsExist();
    ec2.on(ModifyInstanceAttributeCommand).rejects(ec2Error("DryRunOperation", 412));
    ec2.on(CreateSnapshotsCommand).rejects(ec2Error("DryRunOperation", 412));

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("would-succeed");
    expect(commandsSent(stubs)).toEqual([
      ...READS,
      ["DescribeSecurityGroups", FIND_GROUPS],
      ["ModifyInstanceAttribute", { InstanceId: INSTANCE, DisableApiTermination: { Value: true }, DryRun: true }],
      ["CreateSnapshots", { InstanceSpecification: { InstanceId: INSTANCE }, DryRun: true }],
    ]);
    expect(result.calls.map((c) => c.result)).toEqual(["ok", "ok", "ok", "ok", "ok", "dry-run-ok", "dry-run-ok"]);
    expect(result.undo).toBeUndefined();
  });

  it("in dry-run, fails when EC2 says the isolation would not be allowed", async () => {
    const { ctx } = applyContext(true);
    liveNode();
    ec2.on(ModifyInstanceAttributeCommand).rejects(ec2Error("UnauthorizedOperation", 403));

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("UnauthorizedOperation");
    expect(ec2.commandCalls(ModifyInstanceAttributeCommand)).toHaveLength(1);
    expect(ec2.commandCalls(CreateSnapshotsCommand)).toHaveLength(0);
  });

  it("is idempotent: a second apply against the isolated instance is already done", async () => {
    const { ctx } = applyContext(false);
    liveNode();
    groupsExist();
    let live = node();
    ec2.on(DescribeInstancesCommand).callsFake(() => ({ Reservations: [{ Instances: [live] }] }));
    ec2.on(ModifyNetworkInterfaceAttributeCommand).callsFake((input: { Groups?: string[] }) => {
      live = {
        ...live,
        NetworkInterfaces: [{ NetworkInterfaceId: ENI, Groups: (input.Groups ?? []).map((GroupId) => ({ GroupId })) }],
      };
      return {};
    });
    ec2.on(CreateTagsCommand).callsFake((input: { Tags?: Tag[] }) => {
      live = { ...live, Tags: [...(live.Tags ?? []), ...(input.Tags ?? [])] };
      return {};
    });

    const first = await isolateInstance.apply(params, ctx);
    const writes = mutatingCalls();
    const second = await isolateInstance.apply(params, ctx);

    expect(first.status).toBe("applied");
    expect(second.status).toBe("already-done");
    expect(mutatingCalls()).toBe(writes);
  });

  it("rolls back: untags, then restores the ENI groups, shutdown behaviour, termination and scale-in protection", async () => {
    const { ctx } = applyContext(false);
    liveNode();
    groupsExist();
    const applied = await isolateInstance.apply(params, ctx);
    ec2.resetHistory();
    asg.resetHistory();

    const rollback = must(isolateInstance.rollback, "rollback");
    const result = await rollback(must(applied.undo, "undo"), ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ["DeleteTags", { Resources: [INSTANCE], Tags: [{ Key: QUARANTINE_TAG }] }],
      ...RESTORE,
    ]);
  });

  it("undoes every step when the second ENI swap fails partway, in the required order", async () => {
    const { ctx } = applyContext(false);
    liveNode();
    groupsExist();
    ec2.on(ModifyNetworkInterfaceAttributeCommand, { Groups: [QUARANTINE] }).rejects(ec2Error("InvalidParameterValue"));

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("InvalidParameterValue");
    expect(result.rolledBack).toBe(true);
    const sent = commandsSent(stubs);
    const failedAt = sent.findIndex(
      ([command, input]) => command === "ModifyNetworkInterfaceAttribute" && JSON.stringify(input).includes(QUARANTINE),
    );
    expect(sent.slice(0, failedAt + 1)).toEqual([
      ...READS,
      ["DescribeSecurityGroups", FIND_GROUPS],
      CHECK_QUARANTINE,
      ...ISOLATION.slice(0, 5),
    ]);
    expect(sent.slice(failedAt + 1)).toEqual(RESTORE);
    expect(ec2.commandCalls(CreateTagsCommand)).toHaveLength(0);
    expect(ec2.commandCalls(DeleteTagsCommand)).toHaveLength(0);
  });

  it("reports rolledBack false when the undo itself fails", async () => {
    const { ctx } = applyContext(false);
    liveNode();
    groupsExist();
    ec2.on(CreateSnapshotsCommand).rejects(ec2Error("SnapshotLimitExceeded"));
    ec2.on(DeleteTagsCommand).rejects(ec2Error("UnauthorizedOperation", 403));

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("SnapshotLimitExceeded");
    expect(result.rolledBack).toBe(false);
    // Never left in the transition group: the interface ends in quarantine, and the undo is kept for a later rollback.
    const moves = ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => c.args[0].input.Groups);
    expect(moves.at(-1)).toEqual([QUARANTINE]);
    expect(result.undo).toMatchObject({
      instanceId: INSTANCE,
      networkInterfaces: [{ networkInterfaceId: ENI, groups: NODE_GROUPS }],
    });
  });

  it("empties a quarantine group it finds with a rule (an earlier attempt stopped after creating it) before using it", async () => {
    const { ctx } = applyContext(false);
    liveNode();
    groupsExist();
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: [
        {
          SecurityGroupRuleId: "sgr-0e9e9e9e9e9e9e9e1",
          GroupId: QUARANTINE,
          IsEgress: true,
          IpProtocol: "-1",
          CidrIpv4: "0.0.0.0/0",
        },
      ],
    });

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("applied");
    const sent = commandsSent(stubs).map(([name]) => name);
    expect(sent.indexOf("RevokeSecurityGroupEgress")).toBeGreaterThan(-1);
    expect(sent.indexOf("RevokeSecurityGroupEgress")).toBeLessThan(sent.indexOf("ModifyNetworkInterfaceAttribute"));
  });

  it("isolates an instance detached from its Auto Scaling group without any scale-in protection call", async () => {
    const { ctx } = applyContext(false);
    // The event and the instance's aws:autoscaling:groupName tag still name the group, but the instance was detached
    // (DetachInstances keeps the tag). DescribeAutoScalingInstances describes only instances that are in a group; an
    // instance in none is "ignored with no error", so the answer is an empty list:
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingInstances.html
    liveNode();
    groupsExist();
    asg.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [] });

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ...READS_WITH_GROUPS,
      ...ISOLATION.filter(([name]) => name !== "SetInstanceProtection"),
    ]);
    expect(asg.commandCalls(SetInstanceProtectionCommand)).toHaveLength(0);
    expect(result.reason).toContain(`${INSTANCE} is in no Auto Scaling group any more`);
    expect(result.before).toMatchObject({ detachedFrom: ASG, protectedFromScaleIn: false });
    expect(result.before).not.toHaveProperty("autoScalingGroupName");
    expect(result.undo).toEqual(UNDO_NO_ASG);

    ec2.resetHistory();
    const rollback = must(isolateInstance.rollback, "rollback");
    const undone = await rollback(must(result.undo, "undo"), ctx);
    expect(undone.status).toBe("applied");
    expect(commandsSent(stubs).map(([name]) => name)).not.toContain("SetInstanceProtection");
  });

  it("protects the instance in the group the live answer names, not the one the event named", async () => {
    const { ctx } = applyContext(false);
    liveNode();
    groupsExist();
    const moved = "eks-general-replacement-5d1e";
    asg.on(DescribeAutoScalingInstancesCommand).resolves({
      AutoScalingInstances: [
        {
          InstanceId: INSTANCE,
          AutoScalingGroupName: moved,
          AvailabilityZone: "eu-west-1b",
          LifecycleState: "InService",
          HealthStatus: "HEALTHY",
          ProtectedFromScaleIn: false,
        },
      ],
    });

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("applied");
    expect(asg.commandCalls(SetInstanceProtectionCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: moved, InstanceIds: [INSTANCE], ProtectedFromScaleIn: true },
    ]);
    expect(result.undo).toMatchObject({ autoScalingGroupName: moved });
  });

  it("says in its plan that scale-in protection follows the live Auto Scaling answer", () => {
    const planned = isolateInstance.plan(params, {
      dryRun: false,
      assessmentId: ASSESSMENT_ID,
      account: "111122223333",
      region: "eu-west-1",
    });
    const step = ("calls" in planned ? planned.calls : []).find((c) => c.operation === "SetInstanceProtection");
    expect(step?.note).toContain("DescribeAutoScalingInstances");
    expect(step?.note).toContain("no Auto Scaling group");
  });

  it("refuses an instance an earlier attempt left in the transition group: its groups before are not known", async () => {
    const { ctx } = applyContext(false);
    liveNode(node({ NetworkInterfaces: [{ NetworkInterfaceId: ENI, Groups: [{ GroupId: TRANSITION }] }] }));
    groupsExist();

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("refused");
    expect(result.reason).toContain("transition group");
    expect(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand)).toHaveLength(0);
  });
});
