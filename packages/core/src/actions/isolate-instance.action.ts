import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { EC2Client } from "@aws-sdk/client-ec2";
import { awsErrorCode, isNotFound } from "../aws/errors.ts";
import { eksNodeFromTags } from "../signals/guardduty.ts";
import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import { ec2TagRecord } from "./ec2-tags.ts";
import { clusterName, dryRunParam, instanceId, networkInterfaceId, securityGroupId, vpcId } from "./ids.ts";
import type { ActionDefinition, ApplyContext, ApplyResult, CheckResult, PlannedCall } from "./types.ts";

const params = z.strictObject({
  instanceId,
  /** The EKS cluster the node belongs to; isolation is refused for instances that are not known nodes. */
  clusterName: z.optional(clusterName),
  vpcId: z.optional(vpcId),
  /** The interfaces the finding named; every interface the instance has when it is isolated is moved, not only these. */
  networkInterfaceIds: z.array(networkInterfaceId).check(z.minLength(1)),
  autoScalingGroupName: z.optional(z.string().check(z.minLength(1))),
  /** Isolate even when live tags do not show an EKS node (policy must say so). */
  allowNonEks: z._default(z.boolean(), false),
});
type Params = z.output<typeof params>;

export const QUARANTINE_TAG = "eks-responder:quarantined";
export const QUARANTINE_GROUP_TAG = "eks-responder:quarantine-group";

const eniState = z.strictObject({ networkInterfaceId, groups: z.array(securityGroupId).check(z.minLength(1)) });
const undoSchema = z.strictObject({
  instanceId,
  networkInterfaces: z.array(eniState),
  disableApiTermination: z.boolean(),
  shutdownBehavior: z.string(),
  autoScalingGroupName: z.optional(z.string()),
  tagged: z.boolean(),
});
type Undo = z.output<typeof undoSchema>;

interface Live {
  vpcId: string;
  state: string;
  tags: Record<string, string>;
  networkInterfaces: { networkInterfaceId: string; groups: string[] }[];
  disableApiTermination: boolean;
  shutdownBehavior: string;
  autoScalingGroupName?: string;
  /** Whether the instance was already protected from scale-in (then isolation leaves, and rollback keeps, it so). */
  protectedFromScaleIn: boolean;
}

async function readInstance(
  p: Params,
  ec2: EC2Client,
  asgClient: () => Promise<AutoScalingClient>,
  log: CallLog,
): Promise<Live | undefined> {
  const sdk = await import("../aws/ec2.ts");
  const described = await log.send("ec2", "DescribeInstances", { InstanceIds: [p.instanceId] }, () =>
    ec2.send(new sdk.DescribeInstancesCommand({ InstanceIds: [p.instanceId] })),
  );
  const instance = described === "dry-run-ok" ? undefined : described.Reservations?.[0]?.Instances?.[0];
  if (!instance?.VpcId) return undefined;
  const attribute = async (Attribute: "disableApiTermination" | "instanceInitiatedShutdownBehavior") => {
    const request = { InstanceId: p.instanceId, Attribute };
    const out = await log.send("ec2", "DescribeInstanceAttribute", request, () =>
      ec2.send(new sdk.DescribeInstanceAttributeCommand(request)),
    );
    return out === "dry-run-ok" ? undefined : out;
  };
  const termination = await attribute("disableApiTermination");
  const shutdown = await attribute("instanceInitiatedShutdownBehavior");
  const tags = ec2TagRecord(instance.Tags);
  const asg = tags["aws:autoscaling:groupName"] ?? p.autoScalingGroupName;
  let protectedFromScaleIn = false;
  if (asg) {
    const asgSdk = await import("@aws-sdk/client-auto-scaling");
    const client = await asgClient();
    const request = { InstanceIds: [p.instanceId] };
    const out = await log.send("autoscaling", "DescribeAutoScalingInstances", request, () =>
      client.send(new asgSdk.DescribeAutoScalingInstancesCommand(request)),
    );
    protectedFromScaleIn = out !== "dry-run-ok" && out.AutoScalingInstances?.[0]?.ProtectedFromScaleIn === true;
  }
  return {
    vpcId: instance.VpcId,
    state: instance.State?.Name ?? "unknown",
    tags,
    networkInterfaces: (instance.NetworkInterfaces ?? []).map((n) => ({
      networkInterfaceId: n.NetworkInterfaceId ?? "",
      groups: (n.Groups ?? []).map((g) => g.GroupId ?? "").filter(Boolean),
    })),
    disableApiTermination: termination?.DisableApiTermination?.Value ?? false,
    shutdownBehavior: shutdown?.InstanceInitiatedShutdownBehavior?.Value ?? "stop",
    protectedFromScaleIn,
    ...(asg ? { autoScalingGroupName: asg } : {}),
  };
}

/** The transition and quarantine groups of a VPC, found by tag. */
async function findGroups(
  vpc: string,
  ec2: EC2Client,
  log: CallLog,
): Promise<{ transition?: string; quarantine?: string }> {
  const { DescribeSecurityGroupsCommand } = await import("../aws/ec2.ts");
  const request = {
    Filters: [
      { Name: "vpc-id", Values: [vpc] },
      { Name: `tag:${QUARANTINE_GROUP_TAG}`, Values: ["transition", "quarantine"] },
    ],
  };
  const out = await log.send("ec2", "DescribeSecurityGroups", request, () =>
    ec2.send(new DescribeSecurityGroupsCommand(request)),
  );
  const groups: { transition?: string; quarantine?: string } = {};
  if (out === "dry-run-ok") return groups;
  for (const g of out?.SecurityGroups ?? []) {
    const role = g.Tags?.find((t) => t.Key === QUARANTINE_GROUP_TAG)?.Value;
    if ((role === "transition" || role === "quarantine") && g.GroupId) groups[role] ??= g.GroupId;
  }
  return groups;
}

const ALL_TRAFFIC = [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }], Ipv6Ranges: [{ CidrIpv6: "::/0" }] }];

/**
 * Creates a missing group once: the quarantine group with no rules at all (its default egress rule revoked), the
 * transition group allowing all traffic in and out (so tracked connections become untracked before the final swap).
 */
async function createGroup(
  role: "transition" | "quarantine",
  vpc: string,
  ec2: EC2Client,
  log: CallLog,
): Promise<string> {
  const sdk = await import("../aws/ec2.ts");
  const request = {
    GroupName: `eks-responder-${role}-${vpc}`,
    Description:
      role === "quarantine"
        ? "eks-responder quarantine: no traffic in or out"
        : "eks-responder isolation step: all traffic, untracked",
    VpcId: vpc,
    TagSpecifications: [
      { ResourceType: "security-group" as const, Tags: [{ Key: QUARANTINE_GROUP_TAG, Value: role }] },
    ],
  };
  const created = await log.send("ec2", "CreateSecurityGroup", request, () =>
    ec2.send(new sdk.CreateSecurityGroupCommand(request)),
  );
  const groupId = created === "dry-run-ok" ? undefined : created.GroupId;
  if (!groupId) throw new Error(`CreateSecurityGroup returned no GroupId for the ${role} group of ${vpc}`);
  if (role === "quarantine") {
    // A new group allows all egress (IPv4, and IPv6 in a VPC with IPv6): emptied before it is used.
    await emptyGroup(groupId, ec2, log);
  } else {
    const ingress = { GroupId: groupId, IpPermissions: ALL_TRAFFIC };
    await log.send("ec2", "AuthorizeSecurityGroupIngress", ingress, () =>
      ec2.send(new sdk.AuthorizeSecurityGroupIngressCommand(ingress)),
    );
    const egress = { GroupId: groupId, IpPermissions: [{ IpProtocol: "-1", Ipv6Ranges: [{ CidrIpv6: "::/0" }] }] };
    try {
      await log.send("ec2", "AuthorizeSecurityGroupEgress", egress, () =>
        ec2.send(new sdk.AuthorizeSecurityGroupEgressCommand(egress)),
      );
    } catch (error) {
      // In a VPC with IPv6, a new group already allows all IPv6 egress.
      if (awsErrorCode(error) !== "InvalidPermission.Duplicate") throw error;
    }
  }
  return groupId;
}

/**
 * Makes sure the quarantine group has no rule at all, whether it was just created (a new group allows all egress) or
 * found by its tag (an earlier attempt may have failed after creating it, or someone may have added a rule): every
 * ingress and egress rule it has is revoked, by id.
 */
async function emptyGroup(groupId: string, ec2: EC2Client, log: CallLog): Promise<void> {
  const sdk = await import("../aws/ec2.ts");
  const read = { Filters: [{ Name: "group-id", Values: [groupId] }] };
  const rules = await log.send("ec2", "DescribeSecurityGroupRules", read, () =>
    ec2.send(new sdk.DescribeSecurityGroupRulesCommand(read)),
  );
  const all = rules === "dry-run-ok" ? [] : (rules.SecurityGroupRules ?? []).filter((r) => r.GroupId === groupId);
  const ids = (egress: boolean) =>
    all.filter((r) => r.IsEgress === egress && r.SecurityGroupRuleId).map((r) => r.SecurityGroupRuleId ?? "");
  const egress = ids(true);
  if (egress.length > 0) {
    const revoke = { GroupId: groupId, SecurityGroupRuleIds: egress };
    await log.send("ec2", "RevokeSecurityGroupEgress", revoke, () =>
      ec2.send(new sdk.RevokeSecurityGroupEgressCommand(revoke)),
    );
  }
  const ingress = ids(false);
  if (ingress.length > 0) {
    const revoke = { GroupId: groupId, SecurityGroupRuleIds: ingress };
    await log.send("ec2", "RevokeSecurityGroupIngress", revoke, () =>
      ec2.send(new sdk.RevokeSecurityGroupIngressCommand(revoke)),
    );
  }
}

async function check(p: Params, ctx: ApplyContext, log = new CallLog(ctx)): Promise<CheckResult> {
  const ec2 = await ctx.clients.ec2();
  const live = await readInstance(p, ec2, () => ctx.clients.autoscaling(), log);
  if (!live) return { status: "refused", reason: `instance ${p.instanceId} was not found` };
  const before = { ...live };
  if (live.state === "terminated" || live.state === "shutting-down") {
    return { status: "refused", reason: `instance ${p.instanceId} is ${live.state}`, before };
  }
  if (!eksNodeFromTags(live.tags) && !p.allowNonEks) {
    return {
      status: "refused",
      reason: `${p.instanceId} is not a node of a known EKS cluster (no EKS tags): isolation refused`,
      before,
    };
  }
  const groups = await findGroups(live.vpcId, ec2, log);
  const halfway = live.networkInterfaces.filter(
    (n) => groups.transition !== undefined && n.groups.includes(groups.transition),
  );
  if (halfway.length > 0) {
    return {
      status: "refused",
      reason: `${halfway.map((n) => n.networkInterfaceId).join(", ")} ${halfway.length > 1 ? "are" : "is"} in the transition group: an earlier isolation stopped halfway; their groups before it are not known here (see that attempt's record to roll it back)`,
      before,
    };
  }
  if (live.tags[QUARANTINE_TAG] !== undefined) {
    const isolated = live.networkInterfaces.every((n) => n.groups.length === 1 && n.groups[0] === groups.quarantine);
    if (isolated) return { status: "already-done", reason: `${p.instanceId} is already quarantined`, before };
  }
  return { status: "needed", before: { ...before, groups } };
}

/**
 * Undoes an isolation, in order: the quarantine tag, the network interfaces back to their groups, shutdown behaviour,
 * termination protection, and last scale-in protection (so the instance cannot be scaled in while it is restored).
 */
async function undoSteps(u: Undo, ctx: ApplyContext, log: CallLog): Promise<void> {
  const sdk = await import("../aws/ec2.ts");
  const ec2 = await ctx.clients.ec2();
  if (u.tagged) {
    const request = { Resources: [u.instanceId], Tags: [{ Key: QUARANTINE_TAG }] };
    await log.send("ec2", "DeleteTags", request, () => ec2.send(new sdk.DeleteTagsCommand(request)));
  }
  for (const eni of u.networkInterfaces) {
    const request = { NetworkInterfaceId: eni.networkInterfaceId, Groups: eni.groups };
    await log.send("ec2", "ModifyNetworkInterfaceAttribute", request, () =>
      ec2.send(new sdk.ModifyNetworkInterfaceAttributeCommand(request)),
    );
  }
  const shutdown = { InstanceId: u.instanceId, InstanceInitiatedShutdownBehavior: { Value: u.shutdownBehavior } };
  await log.send("ec2", "ModifyInstanceAttribute", shutdown, () =>
    ec2.send(new sdk.ModifyInstanceAttributeCommand(shutdown)),
  );
  const termination = { InstanceId: u.instanceId, DisableApiTermination: { Value: u.disableApiTermination } };
  await log.send("ec2", "ModifyInstanceAttribute", termination, () =>
    ec2.send(new sdk.ModifyInstanceAttributeCommand(termination)),
  );
  if (u.autoScalingGroupName) {
    const asgSdk = await import("@aws-sdk/client-auto-scaling");
    const asg = await ctx.clients.autoscaling();
    const request = {
      AutoScalingGroupName: u.autoScalingGroupName,
      InstanceIds: [u.instanceId],
      ProtectedFromScaleIn: false,
    };
    await log.send("autoscaling", "SetInstanceProtection", request, () =>
      asg.send(new asgSdk.SetInstanceProtectionCommand(request)),
    );
  }
}

async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
  const id = isolateInstance.id;
  const log = new CallLog(ctx);
  let checked: CheckResult;
  try {
    checked = await check(p, ctx, log);
  } catch (error) {
    if (isNotFound(error)) return log.result(id, "refused", `instance ${p.instanceId} no longer exists`);
    return log.failed(id, error);
  }
  if (checked.status !== "needed")
    return log.result(id, checked.status, checked.reason, checked.before ? { before: checked.before } : {});
  const live = checked.before as unknown as Live;
  const sdk = await import("../aws/ec2.ts");
  const ec2 = await ctx.clients.ec2();
  const dry = dryRunParam(ctx.dryRun);
  if (ctx.dryRun) {
    // EC2 checks permissions and parameters without acting; nothing to undo.
    try {
      const request = { InstanceId: p.instanceId, DisableApiTermination: { Value: true }, ...dry };
      await log.send("ec2", "ModifyInstanceAttribute", request, () =>
        ec2.send(new sdk.ModifyInstanceAttributeCommand(request)),
      );
      const snap = { InstanceSpecification: { InstanceId: p.instanceId }, ...dry };
      await log.send("ec2", "CreateSnapshots", snap, () => ec2.send(new sdk.CreateSnapshotsCommand(snap)));
      return log.result(id, "would-succeed", `dry-run: EC2 would allow isolating ${p.instanceId}`, {
        before: checked.before,
      });
    } catch (error) {
      return log.failed(id, error, { before: checked.before });
    }
  }
  // What has been changed so far, undone in full if a later step fails.
  const undo: Undo = {
    instanceId: p.instanceId,
    networkInterfaces: [],
    disableApiTermination: live.disableApiTermination,
    shutdownBehavior: live.shutdownBehavior,
    tagged: false,
  };
  let changedAttributes = false;
  let quarantineId: string | undefined;
  try {
    const groups = (checked.before.groups as { transition?: string; quarantine?: string } | undefined) ?? {};
    const transition = groups.transition ?? (await createGroup("transition", live.vpcId, ec2, log));
    const found = groups.quarantine;
    const quarantine = found ?? (await createGroup("quarantine", live.vpcId, ec2, log));
    quarantineId = quarantine;
    if (found) await emptyGroup(found, ec2, log);
    changedAttributes = true;
    const termination = { InstanceId: p.instanceId, DisableApiTermination: { Value: true } };
    await log.send("ec2", "ModifyInstanceAttribute", termination, () =>
      ec2.send(new sdk.ModifyInstanceAttributeCommand(termination)),
    );
    const shutdown = { InstanceId: p.instanceId, InstanceInitiatedShutdownBehavior: { Value: "stop" } };
    await log.send("ec2", "ModifyInstanceAttribute", shutdown, () =>
      ec2.send(new sdk.ModifyInstanceAttributeCommand(shutdown)),
    );
    const asgName = live.autoScalingGroupName;
    if (asgName && !live.protectedFromScaleIn) {
      const asgSdk = await import("@aws-sdk/client-auto-scaling");
      const asg = await ctx.clients.autoscaling();
      const request = { AutoScalingGroupName: asgName, InstanceIds: [p.instanceId], ProtectedFromScaleIn: true };
      await log.send("autoscaling", "SetInstanceProtection", request, () =>
        asg.send(new asgSdk.SetInstanceProtectionCommand(request)),
      );
      undo.autoScalingGroupName = asgName;
    }
    for (const eni of live.networkInterfaces) {
      undo.networkInterfaces.push({ networkInterfaceId: eni.networkInterfaceId, groups: eni.groups });
      for (const group of [transition, quarantine]) {
        const request = { NetworkInterfaceId: eni.networkInterfaceId, Groups: [group] };
        await log.send("ec2", "ModifyNetworkInterfaceAttribute", request, () =>
          ec2.send(new sdk.ModifyNetworkInterfaceAttributeCommand(request)),
        );
      }
    }
    const tag = { Resources: [p.instanceId], Tags: [{ Key: QUARANTINE_TAG, Value: ctx.assessmentId }] };
    await log.send("ec2", "CreateTags", tag, () => ec2.send(new sdk.CreateTagsCommand(tag)));
    undo.tagged = true;
    const snap = {
      InstanceSpecification: { InstanceId: p.instanceId, ExcludeBootVolume: false },
      Description: `eks-responder forensic snapshot of ${p.instanceId} (${ctx.assessmentId})`,
      TagSpecifications: [
        { ResourceType: "snapshot" as const, Tags: [{ Key: QUARANTINE_TAG, Value: ctx.assessmentId }] },
      ],
      CopyTagsFromSource: "volume" as const,
    };
    const snapshots = await log.send("ec2", "CreateSnapshots", snap, () =>
      ec2.send(new sdk.CreateSnapshotsCommand(snap)),
    );
    const snapshotIds = snapshots === "dry-run-ok" ? [] : (snapshots.Snapshots ?? []).map((s) => s.SnapshotId ?? "");
    return log.result(
      id,
      "applied",
      `${p.instanceId} isolated in ${quarantine}; snapshots ${snapshotIds.join(", ") || "requested"}`,
      {
        before: checked.before,
        undo: { ...undo },
        details: { quarantineGroup: quarantine, transitionGroup: transition, snapshots: snapshotIds },
      },
    );
  } catch (error) {
    let rolledBack = true;
    if (changedAttributes) {
      try {
        await undoSteps(undo, ctx, log);
      } catch {
        rolledBack = false;
      }
    }
    if (!rolledBack && quarantineId) {
      // The undo failed too: never leave an interface in the transition group (it allows all traffic). Move what was
      // touched on to quarantine, and keep the undo so the isolation can be rolled back once AWS answers again.
      for (const eni of undo.networkInterfaces) {
        const request = { NetworkInterfaceId: eni.networkInterfaceId, Groups: [quarantineId] };
        await log
          .send("ec2", "ModifyNetworkInterfaceAttribute", request, () =>
            ec2.send(new sdk.ModifyNetworkInterfaceAttributeCommand(request)),
          )
          .catch(() => undefined);
      }
    }
    return log.failed(id, error, {
      before: checked.before,
      rolledBack,
      ...(rolledBack ? {} : { undo: { ...undo } }),
      error: { code: awsErrorCode(error), message: String(error) },
    });
  }
}

async function rollback(undo: Record<string, unknown>, ctx: ApplyContext): Promise<ApplyResult> {
  const u = undoSchema.parse(undo);
  const log = new CallLog(ctx);
  try {
    await undoSteps(u, ctx, log);
    return log.result(
      isolateInstance.id,
      "applied",
      `${u.instanceId} is back in its groups; protections lifted (snapshots kept)`,
    );
  } catch (error) {
    return log.failed(isolateInstance.id, error);
  }
}

export const isolateInstance: ActionDefinition<typeof params> = {
  id: "ec2:isolate-instance",
  summary:
    "Cut a compromised node off the network and keep it for forensics: quarantine security group, termination " +
    "protection, scale-in protection, tag, EBS snapshots.",
  params,
  permissions: [
    "ec2:DescribeSecurityGroups",
    "ec2:CreateSecurityGroup",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:DescribeInstances",
    "ec2:ModifyInstanceAttribute",
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:CreateTags",
    "ec2:CreateSnapshots",
    "ec2:DescribeInstanceAttribute",
    "ec2:DeleteTags",
    "ec2:DescribeSecurityGroupRules",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:SetInstanceProtection",
  ],
  destructive: true,
  reversible: true,
  preconditions: [
    "the instance is a node of a known EKS cluster",
    "the instance is running and its network interfaces are the ones named",
  ],
  rollbackSummary:
    "move every network interface back to its recorded groups and lift the protections (snapshots are kept)",
  check,
  apply,
  rollback,
  plan(p, context) {
    if (p.clusterName === undefined) {
      return { refused: `${p.instanceId} is not a node of a known EKS cluster: isolation refused` };
    }
    if (p.vpcId === undefined) {
      return { refused: `the finding does not name the VPC of ${p.instanceId}: the quarantine group cannot be chosen` };
    }
    const dry = dryRunParam(context.dryRun);
    const transition = `<transition group of ${p.vpcId}>`;
    const quarantine = `<quarantine group of ${p.vpcId}>`;
    const calls: PlannedCall[] = [
      {
        service: "ec2",
        operation: "DescribeSecurityGroups",
        params: {
          Filters: [
            { Name: "vpc-id", Values: [p.vpcId] },
            { Name: `tag:${QUARANTINE_GROUP_TAG}`, Values: ["transition", "quarantine"] },
          ],
        },
        note: `find the transition and quarantine groups of ${p.vpcId}; each missing one is created once (CreateSecurityGroup, tagged ${QUARANTINE_GROUP_TAG}; the quarantine group's default egress rule is revoked so it has no rules; the transition group allows all traffic)`,
      },
      {
        service: "ec2",
        operation: "ModifyInstanceAttribute",
        params: { InstanceId: p.instanceId, DisableApiTermination: { Value: true }, ...dry },
        note: "termination protection on",
      },
      {
        service: "ec2",
        operation: "ModifyInstanceAttribute",
        params: { InstanceId: p.instanceId, InstanceInitiatedShutdownBehavior: { Value: "stop" }, ...dry },
        note: "a shutdown from inside stops the instance instead of terminating it",
      },
    ];
    if (p.autoScalingGroupName) {
      calls.push({
        service: "autoscaling",
        operation: "SetInstanceProtection",
        params: {
          AutoScalingGroupName: p.autoScalingGroupName,
          InstanceIds: [p.instanceId],
          ProtectedFromScaleIn: true,
        },
        note: "the Auto Scaling group will not scale this instance in",
      });
    }
    for (const eni of p.networkInterfaceIds) {
      calls.push(
        {
          service: "ec2",
          operation: "ModifyNetworkInterfaceAttribute",
          params: { NetworkInterfaceId: eni, Groups: [transition], ...dry },
          note: "first to a group that allows all traffic, so tracked connections become untracked",
        },
        {
          service: "ec2",
          operation: "ModifyNetworkInterfaceAttribute",
          params: { NetworkInterfaceId: eni, Groups: [quarantine], ...dry },
          note: "then to the empty quarantine group, which cuts every connection",
        },
      );
    }
    calls.push(
      {
        service: "ec2",
        operation: "CreateTags",
        params: { Resources: [p.instanceId], Tags: [{ Key: QUARANTINE_TAG, Value: context.assessmentId }], ...dry },
      },
      {
        service: "ec2",
        operation: "CreateSnapshots",
        params: {
          InstanceSpecification: { InstanceId: p.instanceId, ExcludeBootVolume: false },
          Description: `eks-responder forensic snapshot of ${p.instanceId} (${context.assessmentId})`,
          TagSpecifications: [
            { ResourceType: "snapshot", Tags: [{ Key: QUARANTINE_TAG, Value: context.assessmentId }] },
          ],
          CopyTagsFromSource: "volume",
          ...dry,
        },
        note: "snapshots of every EBS volume of the instance, for forensics",
      },
    );
    return { calls };
  },
  example: {
    instanceId: "i-0f1e2d3c4b5a69788",
    clusterName: "prod-eks",
    vpcId: "vpc-0a1b2c3d4e5f67890",
    networkInterfaceIds: ["eni-0a9b8c7d6e5f43210"],
    autoScalingGroupName: "eks-general-8ac6f1b2",
  },
};
