import type { EC2Client } from "@aws-sdk/client-ec2";
import { awsErrorCode, awsErrorMessage, isNotFound } from "../aws/errors.ts";
import { eksNodeFromTags } from "../signals/guardduty.ts";
import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import { dryRunParam, instanceId, networkInterfaceId, securityGroupId } from "./ids.ts";
import {
  CREDENTIALS,
  isolateInstance,
  type Params,
  QUARANTINE_GROUP_TAG,
  QUARANTINE_TAG,
} from "./isolate-instance.action.ts";
import { type EniState, findGroups, type Live, readInstance } from "./isolate-instance.live.ts";
import { notDone, protect, unprotect } from "./isolate-instance.protect.ts";
import type { ApplyContext, ApplyResult, CheckResult } from "./types.ts";

/** ec2:isolate-instance's live reads and changes: imported with every action's, on first use (actions/runtimes.ts). */

const eniState = z.strictObject({ networkInterfaceId, groups: z.array(securityGroupId).check(z.minLength(1)) });
/**
 * What rollback undoes. A protection field is present only when apply's step succeeded (records written before the
 * protections became best effort always carry termination protection and shutdown behaviour: both are restored).
 */
const undoSchema = z.strictObject({
  instanceId,
  networkInterfaces: z.array(eniState),
  /** Branch interfaces of pods with their own security groups, moved like the instance's own. */
  branchInterfaces: z.optional(z.array(eniState)),
  disableApiTermination: z.optional(z.boolean()),
  shutdownBehavior: z.optional(z.string()),
  autoScalingGroupName: z.optional(z.string()),
  standbyGroupName: z.optional(z.string()),
  tagged: z.boolean(),
});
type Undo = z.output<typeof undoSchema>;

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

export async function check(p: Params, ctx: ApplyContext, log = new CallLog(ctx)): Promise<CheckResult> {
  const ec2 = await ctx.clients.ec2();
  const live = await readInstance(p.instanceId, p.autoScalingGroupName, ec2, () => ctx.clients.autoscaling(), log);
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
  const all = [...live.networkInterfaces, ...live.branchInterfaces];
  const halfway = all.filter((n) => groups.transition !== undefined && n.groups.includes(groups.transition));
  if (halfway.length > 0) {
    return {
      status: "refused",
      reason: `${halfway.map((n) => n.networkInterfaceId).join(", ")} ${halfway.length > 1 ? "are" : "is"} in the transition group: an earlier isolation stopped halfway; their groups before it are not known here (see that attempt's record to roll it back)`,
      before,
    };
  }
  const empty = all.filter((n) => n.groups.length === 0);
  if (empty.length > 0) {
    // Never seen from AWS (an interface always has a group); their groups could not be put back: refused.
    return {
      status: "refused",
      reason: `${empty.map((n) => n.networkInterfaceId).join(", ")} ${empty.length > 1 ? "have" : "has"} no security group in the answer: the groups to restore are not known`,
      before,
    };
  }
  if (live.tags[QUARANTINE_TAG] !== undefined) {
    const isolated = all.every((n) => n.groups.length === 1 && n.groups[0] === groups.quarantine);
    if (isolated) return { status: "already-done", reason: `${p.instanceId} is already quarantined`, before };
  }
  return { status: "needed", before: { ...before, groups } };
}

/** Moves one interface through the transition group to the quarantine group and records its groups before. */
async function quarantineInterface(
  eni: EniState,
  groups: { transition: string; quarantine: string },
  record: EniState[],
  ec2: EC2Client,
  log: CallLog,
): Promise<void> {
  const sdk = await import("../aws/ec2.ts");
  record.push({ networkInterfaceId: eni.networkInterfaceId, groups: eni.groups });
  for (const group of [groups.transition, groups.quarantine]) {
    const request = { NetworkInterfaceId: eni.networkInterfaceId, Groups: [group] };
    await log.send("ec2", "ModifyNetworkInterfaceAttribute", request, () =>
      ec2.send(new sdk.ModifyNetworkInterfaceAttributeCommand(request)),
    );
  }
}

/**
 * Undoes an isolation, in order: the quarantine tag, the network interfaces (the instance's, then the branch ones)
 * back to their groups, then the protections apply set (unprotect). A branch interface that is gone (its pod was
 * deleted, and the VPC resource controller deleted the interface) has nothing to restore.
 */
async function undoSteps(u: Undo, ctx: ApplyContext, log: CallLog): Promise<string[]> {
  const sdk = await import("../aws/ec2.ts");
  const ec2 = await ctx.clients.ec2();
  if (u.tagged) {
    const request = { Resources: [u.instanceId], Tags: [{ Key: QUARANTINE_TAG }] };
    await log.send("ec2", "DeleteTags", request, () => ec2.send(new sdk.DeleteTagsCommand(request)));
  }
  const gone: string[] = [];
  for (const [eni, branch] of [
    ...u.networkInterfaces.map((n) => [n, false] as const),
    ...(u.branchInterfaces ?? []).map((n) => [n, true] as const),
  ]) {
    const request = { NetworkInterfaceId: eni.networkInterfaceId, Groups: eni.groups };
    try {
      await log.send("ec2", "ModifyNetworkInterfaceAttribute", request, () =>
        ec2.send(new sdk.ModifyNetworkInterfaceAttributeCommand(request)),
      );
    } catch (error) {
      if (!branch || awsErrorCode(error) !== "InvalidNetworkInterfaceID.NotFound") throw error;
      gone.push(eni.networkInterfaceId);
    }
  }
  await unprotect(u, ctx, log);
  return gone;
}

async function dryRun(p: Params, live: Live, ctx: ApplyContext, log: CallLog, id: string): Promise<ApplyResult> {
  // EC2 checks permissions and parameters without acting; nothing to undo. A Spot instance's termination protection
  // is refused whatever the permissions (UnsupportedOperation): reported, as apply would.
  const sdk = await import("../aws/ec2.ts");
  const ec2 = await ctx.clients.ec2();
  const dry = dryRunParam(true);
  let refused = "";
  try {
    const request = { InstanceId: p.instanceId, DisableApiTermination: { Value: true }, ...dry };
    try {
      await log.send("ec2", "ModifyInstanceAttribute", request, () =>
        ec2.send(new sdk.ModifyInstanceAttributeCommand(request)),
      );
    } catch (error) {
      if (awsErrorCode(error) !== "UnsupportedOperation") throw error;
      refused = `; termination protection would be refused (${awsErrorCode(error)}: ${awsErrorMessage(error)})`;
    }
    const snap = { InstanceSpecification: { InstanceId: p.instanceId }, ...dry };
    await log.send("ec2", "CreateSnapshots", snap, () => ec2.send(new sdk.CreateSnapshotsCommand(snap)));
    return log.result(id, "would-succeed", `dry-run: EC2 would allow isolating ${p.instanceId}${refused}`, {
      before: { ...live },
    });
  } catch (error) {
    return log.failed(id, error, { before: { ...live } });
  }
}

export async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
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
  if (ctx.dryRun) return dryRun(p, live, ctx, log, id);
  const sdk = await import("../aws/ec2.ts");
  const ec2 = await ctx.clients.ec2();
  // What has been changed so far, undone in full if a later step of the network isolation fails.
  const undo: Undo = { instanceId: p.instanceId, networkInterfaces: [], tagged: false };
  const branchUndo: EniState[] = [];
  let quarantineId: string | undefined;
  try {
    // Network first: the interfaces (the instance's, then its pods' branch interfaces) and the tag; nothing before
    // it can fail for a reason of the instance's kind (Spot, capacity block) and hold the isolation up.
    const groups = (checked.before.groups as { transition?: string; quarantine?: string } | undefined) ?? {};
    const transition = groups.transition ?? (await createGroup("transition", live.vpcId, ec2, log));
    const found = groups.quarantine;
    const quarantine = found ?? (await createGroup("quarantine", live.vpcId, ec2, log));
    quarantineId = quarantine;
    if (found) await emptyGroup(found, ec2, log);
    for (const eni of live.networkInterfaces)
      await quarantineInterface(eni, { transition, quarantine }, undo.networkInterfaces, ec2, log);
    if (live.branchInterfaces.length > 0) undo.branchInterfaces = branchUndo;
    for (const eni of live.branchInterfaces)
      await quarantineInterface(eni, { transition, quarantine }, branchUndo, ec2, log);
    const tag = { Resources: [p.instanceId], Tags: [{ Key: QUARANTINE_TAG, Value: ctx.assessmentId }] };
    await log.send("ec2", "CreateTags", tag, () => ec2.send(new sdk.CreateTagsCommand(tag)));
    undo.tagged = true;
    const kept = await protect(live, undo, ctx, log);
    const detached = live.detachedFrom
      ? `; ${p.instanceId} is in no Auto Scaling group any more (DescribeAutoScalingInstances; it was in ${live.detachedFrom}): no scale-in protection or Standby set`
      : "";
    const branches =
      live.branchInterfaces.length > 0 ? ` with ${live.branchInterfaces.length} branch interface(s) of its pods` : "";
    const open = notDone(kept.steps);
    return log.result(
      id,
      "applied",
      `${p.instanceId} isolated in ${quarantine}${branches}${detached}; snapshots ${kept.snapshotIds.join(", ") || "none"}${open ? `; not done: ${open}` : ""}; ${CREDENTIALS}`,
      {
        before: checked.before,
        undo: { ...undo },
        details: {
          quarantineGroup: quarantine,
          transitionGroup: transition,
          snapshots: kept.snapshotIds,
          protections: kept.steps,
          lifecycle: live.lifecycle,
          addresses: live.addresses,
        },
      },
    );
  } catch (error) {
    let rolledBack = true;
    if (undo.networkInterfaces.length > 0 || branchUndo.length > 0 || undo.tagged) {
      try {
        await undoSteps(undo, ctx, log);
      } catch {
        rolledBack = false;
      }
    }
    if (!rolledBack && quarantineId) {
      // The undo failed too: never leave an interface in the transition group (it allows all traffic). Move what was
      // touched on to quarantine, and keep the undo so the isolation can be rolled back once AWS answers again.
      for (const eni of [...undo.networkInterfaces, ...branchUndo]) {
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

export async function rollback(undo: Record<string, unknown>, ctx: ApplyContext): Promise<ApplyResult> {
  const u = undoSchema.parse(undo);
  const log = new CallLog(ctx);
  try {
    const gone = await undoSteps(u, ctx, log);
    const note =
      gone.length > 0 ? `; ${gone.join(", ")} no longer exist (their pods are gone): nothing to restore` : "";
    return log.result(
      isolateInstance.id,
      "applied",
      `${u.instanceId} is back in its groups; protections lifted (snapshots kept)${note}`,
    );
  } catch (error) {
    return log.failed(isolateInstance.id, error);
  }
}
