import {
  AutoScalingClient,
  AutoScalingServiceException,
  DescribeAutoScalingInstancesCommand,
  EnterStandbyCommand,
  ExitStandbyCommand,
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
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  EC2ServiceException,
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
const TRUNK = "eni-03e61f90252a662d1";
const BRANCH = "eni-047ff73e04f5b733c";
const POD_GROUP = "sg-01d949d847be58d1c";
/** EC2's answer to termination protection on a Spot instance. */
const SPOT_REFUSAL = new EC2ServiceException({
  name: "UnsupportedOperation",
  $fault: "client",
  $metadata: { httpStatusCode: 400 },
  message: "Modifying 'disableApiTermination' is not supported for spot instances.",
});
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
const STANDBY = { AutoScalingGroupName: ASG, InstanceIds: [INSTANCE], ShouldDecrementDesiredCapacity: true };
/**
 * The isolation itself, once the transition and quarantine groups are known: network first (the interface, then the
 * tag), then the protections and the snapshots, each of which AWS may refuse without undoing the isolation.
 */
const ISOLATION: [string, unknown][] = [
  ["ModifyNetworkInterfaceAttribute", { NetworkInterfaceId: ENI, Groups: [TRANSITION] }],
  ["ModifyNetworkInterfaceAttribute", { NetworkInterfaceId: ENI, Groups: [QUARANTINE] }],
  ["CreateTags", { Resources: [INSTANCE], Tags: [{ Key: QUARANTINE_TAG, Value: ASSESSMENT_ID }] }],
  ["ModifyInstanceAttribute", { InstanceId: INSTANCE, DisableApiTermination: { Value: true } }],
  ["ModifyInstanceAttribute", { InstanceId: INSTANCE, InstanceInitiatedShutdownBehavior: { Value: "stop" } }],
  ["SetInstanceProtection", { AutoScalingGroupName: ASG, InstanceIds: [INSTANCE], ProtectedFromScaleIn: true }],
  ["EnterStandby", STANDBY],
  ["CreateSnapshots", SNAPSHOTS],
];
/**
 * The reversal, in the required order: ENI groups, shutdown behaviour, termination protection, out of Standby, and
 * scale-in protection last.
 */
const RESTORE: [string, unknown][] = [
  ["ModifyNetworkInterfaceAttribute", { NetworkInterfaceId: ENI, Groups: NODE_GROUPS }],
  ["ModifyInstanceAttribute", { InstanceId: INSTANCE, InstanceInitiatedShutdownBehavior: { Value: "terminate" } }],
  ["ModifyInstanceAttribute", { InstanceId: INSTANCE, DisableApiTermination: { Value: false } }],
  ["ExitStandby", { AutoScalingGroupName: ASG, InstanceIds: [INSTANCE] }],
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
  "EnterStandby",
  "ExitStandby",
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
  inGroup(ASG, "InService");
  // EnterStandby and ExitStandby answer the activities they started:
  // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_EnterStandby.html
  asg.on(EnterStandbyCommand).resolves({ Activities: [] });
  asg.on(ExitStandbyCommand).resolves({ Activities: [] });
}

const PLAN_CONTEXT = { dryRun: false, assessmentId: ASSESSMENT_ID, account: "111122223333", region: "eu-west-1" };

/** DescribeAutoScalingInstances places the instance in this group, in this lifecycle state, unprotected. */
function inGroup(AutoScalingGroupName: string, LifecycleState: string): void {
  asg.on(DescribeAutoScalingInstancesCommand).resolves({
    AutoScalingInstances: [
      {
        InstanceId: INSTANCE,
        AutoScalingGroupName,
        AvailabilityZone: "eu-west-1b",
        LifecycleState,
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
    expect(result.undo).toEqual({ ...UNDO_NO_ASG, autoScalingGroupName: ASG, standbyGroupName: ASG });
    expect(result.details).toMatchObject({
      quarantineGroup: QUARANTINE,
      transitionGroup: TRANSITION,
      snapshots: ["snap-0123456789abcdef0"],
      lifecycle: "on-demand",
    });
    expect(result.reason).toContain("ec2:SourceInstanceARN");
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

  it("undoes every step when the second ENI swap fails partway, before any protection", async () => {
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
      ...ISOLATION.slice(0, 2),
    ]);
    // Network first: no protection was set yet, so only the interface goes back.
    expect(sent.slice(failedAt + 1)).toEqual(RESTORE.slice(0, 1));
    expect(ec2.commandCalls(CreateTagsCommand)).toHaveLength(0);
    expect(ec2.commandCalls(DeleteTagsCommand)).toHaveLength(0);
  });

  it("reports rolledBack false when the undo itself fails", async () => {
    const { ctx } = applyContext(false);
    liveNode();
    groupsExist();
    // TagLimitExceeded, then the interface cannot be moved back (RequestLimitExceeded, throttled):
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
    ec2.on(CreateTagsCommand).rejects(ec2Error("TagLimitExceeded"));
    ec2
      .on(ModifyNetworkInterfaceAttributeCommand, { Groups: NODE_GROUPS })
      .rejects(ec2Error("RequestLimitExceeded", 503));

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("TagLimitExceeded");
    expect(ec2.commandCalls(DeleteTagsCommand)).toHaveLength(0);
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
      ...ISOLATION.filter(([name]) => name !== "SetInstanceProtection" && name !== "EnterStandby"),
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
    inGroup(moved, "InService");

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("applied");
    expect(asg.commandCalls(SetInstanceProtectionCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: moved, InstanceIds: [INSTANCE], ProtectedFromScaleIn: true },
    ]);
    expect(result.undo).toMatchObject({ autoScalingGroupName: moved });
  });

  it("says in its plan that scale-in protection follows the live Auto Scaling answer", () => {
    const planned = isolateInstance.plan(params, PLAN_CONTEXT);
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

  it("isolates a Spot node whose termination protection EC2 refuses: reported, the isolation stands", async () => {
    const { ctx } = applyContext(false);
    liveNode(node({ InstanceLifecycle: "spot" }));
    groupsExist();
    // "You can't enable termination protection for Spot Instances":
    // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_ChangingDisableAPITermination.html
    // EC2 answers UnsupportedOperation (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html)
    // with this message (as AWS returns it, quoted in cloud-custodian/cloud-custodian#2083).
    ec2.on(ModifyInstanceAttributeCommand, { DisableApiTermination: { Value: true } }).rejects(SPOT_REFUSAL);

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([...READS_WITH_GROUPS, ...ISOLATION]);
    expect(result.reason).toContain(
      "termination-protection refused (UnsupportedOperation: Modifying 'disableApiTermination' is not supported for spot instances.)",
    );
    expect(result.details).toMatchObject({
      lifecycle: "spot",
      protections: [
        {
          step: "termination-protection",
          status: "refused",
          reason: "UnsupportedOperation: Modifying 'disableApiTermination' is not supported for spot instances.",
        },
        { step: "stop-on-shutdown", status: "done" },
        { step: "scale-in-protection", status: "done" },
        { step: "standby", status: "done" },
        { step: "snapshots", status: "done" },
      ],
    });
    // Nothing was rolled back, and the undo does not claim a termination protection that was never set.
    expect(result.undo).not.toHaveProperty("disableApiTermination");
    expect(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => c.args[0].input.Groups)).toEqual([
      [TRANSITION],
      [QUARANTINE],
    ]);

    ec2.resetHistory();
    asg.resetHistory();
    const undone = await must(isolateInstance.rollback, "rollback")(must(result.undo, "undo"), ctx);
    expect(undone.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ["DeleteTags", { Resources: [INSTANCE], Tags: [{ Key: QUARANTINE_TAG }] }],
      ...RESTORE.filter(([, input]) => !JSON.stringify(input).includes("DisableApiTermination")),
    ]);
  });

  it("in dry-run, reports that a Spot node's termination protection would be refused, and still would succeed", async () => {
    const { ctx } = applyContext(true);
    liveNode(node({ InstanceLifecycle: "spot" }));
    groupsExist();
    ec2.on(ModifyInstanceAttributeCommand).rejects(SPOT_REFUSAL);
    ec2.on(CreateSnapshotsCommand).rejects(ec2Error("DryRunOperation", 412));

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("would-succeed");
    expect(result.reason).toContain("termination protection would be refused (UnsupportedOperation");
  });

  it("finds its pods' branch interfaces through the trunk interface and isolates them too; rollback restores them", async () => {
    const { ctx } = applyContext(false);
    // With security groups for pods the node has a trunk interface (InterfaceType "trunk", attached); each such pod has
    // a branch interface (InterfaceType "branch", not attached to the instance, so DescribeInstances omits it) tagged
    // with the trunk's id by the VPC resource controller:
    // https://docs.aws.amazon.com/eks/latest/userguide/security-groups-for-pods.html
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeNetworkInterfaces.html (interface-type)
    liveNode(
      node({
        NetworkInterfaces: [
          { NetworkInterfaceId: ENI, InterfaceType: "interface", Groups: NODE_GROUPS.map((GroupId) => ({ GroupId })) },
          { NetworkInterfaceId: TRUNK, InterfaceType: "trunk", Groups: NODE_GROUPS.map((GroupId) => ({ GroupId })) },
        ],
      }),
    );
    groupsExist();
    ec2.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [
        {
          NetworkInterfaceId: BRANCH,
          InterfaceType: "branch",
          Description: "aws-k8s-branch-eni",
          Status: "in-use",
          VpcId: VPC,
          Groups: [{ GroupId: POD_GROUP, GroupName: "payments-pods" }],
          PrivateIpAddress: "10.0.12.77",
          PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: "10.0.12.77" }],
          TagSet: [
            { Key: "vpcresources.k8s.aws/vlan-id", Value: "1" },
            { Key: "vpcresources.k8s.aws/trunk-eni-id", Value: TRUNK },
            { Key: "eks:eni:owner", Value: "eks-vpc-resource-controller" },
          ],
        },
      ],
    });

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("applied");
    expect(ec2.commandCalls(DescribeNetworkInterfacesCommand).map((c) => c.args[0].input)).toEqual([
      {
        Filters: [
          { Name: "interface-type", Values: ["branch"] },
          { Name: "tag:vpcresources.k8s.aws/trunk-eni-id", Values: [TRUNK] },
        ],
        MaxResults: 1000,
      },
    ]);
    expect(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => c.args[0].input)).toEqual(
      [ENI, TRUNK, BRANCH].flatMap((id) => [
        { NetworkInterfaceId: id, Groups: [TRANSITION] },
        { NetworkInterfaceId: id, Groups: [QUARANTINE] },
      ]),
    );
    expect(result.undo).toMatchObject({ branchInterfaces: [{ networkInterfaceId: BRANCH, groups: [POD_GROUP] }] });
    expect(result.details).toMatchObject({ addresses: ["10.0.12.77"] });

    // The pod was deleted meanwhile and its branch interface with it: nothing to restore there, the rest is restored.
    ec2.resetHistory();
    ec2
      .on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: BRANCH })
      .rejects(ec2Error("InvalidNetworkInterfaceID.NotFound"));
    const undone = await must(isolateInstance.rollback, "rollback")(must(result.undo, "undo"), ctx);
    expect(undone.status).toBe("applied");
    expect(undone.reason).toContain(`${BRANCH} no longer exist`);
    expect(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => c.args[0].input)).toEqual([
      { NetworkInterfaceId: ENI, Groups: NODE_GROUPS },
      { NetworkInterfaceId: TRUNK, Groups: NODE_GROUPS },
      { NetworkInterfaceId: BRANCH, Groups: [POD_GROUP] },
    ]);
  });

  it("is not already done while a branch interface of its pods is outside the quarantine group", async () => {
    const { ctx } = applyContext(false);
    liveNode(
      node({
        Tags: [...EKS_TAGS, { Key: QUARANTINE_TAG, Value: "asm-earlier" }],
        NetworkInterfaces: [{ NetworkInterfaceId: TRUNK, InterfaceType: "trunk", Groups: [{ GroupId: QUARANTINE }] }],
      }),
    );
    groupsExist();
    ec2.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [{ NetworkInterfaceId: BRANCH, InterfaceType: "branch", Groups: [{ GroupId: POD_GROUP }] }],
    });

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("applied");
    expect(
      ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => c.args[0].input.NetworkInterfaceId),
    ).toContain(BRANCH);
  });

  it("reports a Standby refused at the group's minimum size; scale-in protection still holds", async () => {
    const { ctx } = applyContext(false);
    liveNode();
    groupsExist();
    // With ShouldDecrementDesiredCapacity, "the instances can enter standby as long as the desired capacity ... after
    // the instances are placed into standby is equal to or greater than the minimum capacity of the group"; else a
    // ValidationError (the Auto Scaling client error for a request AWS rejects):
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_EnterStandby.html
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/CommonErrors.html
    asg.on(EnterStandbyCommand).rejects(
      new AutoScalingServiceException({
        name: "ValidationError",
        $fault: "client",
        $metadata: { httpStatusCode: 400 },
        message: "(test) the desired capacity would fall below the group's minimum size",
      }),
    );

    const result = await isolateInstance.apply(params, ctx);

    expect(result.status).toBe("applied");
    expect(result.reason).toContain("standby refused (ValidationError");
    expect(result.undo).toMatchObject({ autoScalingGroupName: ASG });
    expect(result.undo).not.toHaveProperty("standbyGroupName");
    expect(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand)).toHaveLength(2);
  });

  it("leaves an instance already in Standby there: no EnterStandby, and rollback does not take it out", async () => {
    const { ctx } = applyContext(false);
    liveNode();
    groupsExist();
    inGroup(ASG, "Standby");

    const result = await isolateInstance.apply(params, ctx);
    const undone = await must(isolateInstance.rollback, "rollback")(must(result.undo, "undo"), ctx);

    expect(result.status).toBe("applied");
    expect(result.reason).toContain("standby skipped (already in Standby)");
    expect(asg.commandCalls(EnterStandbyCommand)).toHaveLength(0);
    expect(undone.status).toBe("applied");
    expect(asg.commandCalls(ExitStandbyCommand)).toHaveLength(0);
  });

  it("says in its plan what stays open and that the node role's credentials remain valid", () => {
    const planned = isolateInstance.plan(params, PLAN_CONTEXT);
    const calls = "calls" in planned ? planned.calls : [];
    const notes = calls.map((c) => c.note ?? "").join("\n");
    expect(calls.map((c) => c.operation)).toEqual([
      "DescribeSecurityGroups",
      "DescribeNetworkInterfaces",
      "ModifyNetworkInterfaceAttribute",
      "ModifyNetworkInterfaceAttribute",
      "CreateTags",
      "ModifyInstanceAttribute",
      "ModifyInstanceAttribute",
      "SetInstanceProtection",
      "EnterStandby",
      "CreateSnapshots",
    ]);
    expect(notes).toContain("NAT gateway");
    expect(notes).toContain("Route 53 Resolver");
    expect(notes).toContain("no network ACL is changed");
    expect(notes).toContain("node role's credentials stay valid");
    expect(notes).toContain("ec2:SourceInstanceARN");
    for (const note of notes.split("\n")) expect(note.length).toBeLessThanOrEqual(500);
  });
});
