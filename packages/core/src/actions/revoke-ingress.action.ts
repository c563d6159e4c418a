import type { SecurityGroupRule as Ec2Rule, SecurityGroup } from "@aws-sdk/client-ec2";
import { awsErrorCode, isNotFound } from "../aws/errors.ts";
import { isOpenCidr } from "../net/cidr.ts";
import { exemptTagIn } from "../policy/exempt-tags.ts";
import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import { clusterCheck } from "./cluster-security-group.ts";
import { ec2TagRecord } from "./ec2-tags.ts";
import { dryRunParam, securityGroupId, securityGroupRuleId } from "./ids.ts";
import { allTraffic, modifyRules, type Rule, ruleOf, ruleSchema, toIpPermission } from "./security-group-rules.ts";
import type { ActionDefinition, ApplyContext, ApplyResult, CheckResult } from "./types.ts";

const permissionSchema = z.strictObject({
  protocol: z.string(),
  fromPort: z.optional(z.number().check(z.int())),
  toPort: z.optional(z.number().check(z.int())),
  ipv4: z.array(z.string()),
  ipv6: z.array(z.string()),
});

const params = z
  .strictObject({
    groupId: securityGroupId,
    /** The exact rules to revoke, when the event named them. */
    ruleIds: z.optional(z.array(securityGroupRuleId).check(z.minLength(1))),
    /** Their full descriptions from the event, so rollback needs no extra read. */
    rules: z.optional(z.array(ruleSchema)),
    /** Otherwise the exact permissions to revoke; the matching rules are looked up. */
    ipPermissions: z.optional(z.array(permissionSchema).check(z.minLength(1))),
    /**
     * When the rules are read live (ModifySecurityGroupRules), only those still open are revoked: a source CIDR with a
     * prefix shorter than these (the detector's minPrefixLength) is open. A rule narrowed since the event is kept.
     */
    openBelowPrefix: z.optional(
      z.strictObject({
        ipv4: z.number().check(z.int(), z.gte(0), z.lte(32)),
        ipv6: z.number().check(z.int(), z.gte(0), z.lte(128)),
      }),
    ),
  })
  .check(
    z.refine((p) => (p.ruleIds === undefined) !== (p.ipPermissions === undefined), {
      message: "exactly one of ruleIds or ipPermissions is required",
    }),
  );
type Params = z.output<typeof params>;

/**
 * `rules`: revoked, re-authorized by rollback. `restored`: rules of a cluster security group that were turned back into
 * its self reference, as they were before (rollback modifies them back to exactly that).
 */
const undoSchema = z
  .strictObject({
    groupId: securityGroupId,
    rules: z.array(ruleSchema),
    restored: z.optional(z.array(z.extend(ruleSchema, { ruleId: securityGroupRuleId }))),
  })
  .check(
    z.refine((u) => u.rules.length + (u.restored?.length ?? 0) > 0, { message: "an undo names at least one rule" }),
  );

/** The exact IpPermissions of a permissions-based revoke. */
function toRevokePermissions(p: Params) {
  return (p.ipPermissions ?? []).map((perm) => ({
    IpProtocol: perm.protocol,
    ...(perm.protocol !== "-1" && perm.fromPort !== undefined ? { FromPort: perm.fromPort } : {}),
    ...(perm.protocol !== "-1" && perm.toPort !== undefined ? { ToPort: perm.toPort } : {}),
    ...(perm.ipv4.length ? { IpRanges: perm.ipv4.map((CidrIp) => ({ CidrIp })) } : {}),
    ...(perm.ipv6.length ? { Ipv6Ranges: perm.ipv6.map((CidrIpv6) => ({ CidrIpv6 })) } : {}),
  }));
}

/** One rule per CIDR of the revoked permissions: what rollback re-authorizes when EC2 did not list the rules. */
function rulesOfPermissions(p: Params): Rule[] {
  return (p.ipPermissions ?? []).flatMap((perm) => [
    ...perm.ipv4.map((cidrIpv4) => ({ ...portsOf(perm), protocol: perm.protocol, cidrIpv4 })),
    ...perm.ipv6.map((cidrIpv6) => ({ ...portsOf(perm), protocol: perm.protocol, cidrIpv6 })),
  ]);
}

function portsOf(perm: { fromPort?: number | undefined; toPort?: number | undefined }) {
  return {
    ...(perm.fromPort !== undefined ? { fromPort: perm.fromPort } : {}),
    ...(perm.toPort !== undefined ? { toPort: perm.toPort } : {}),
  };
}

/**
 * The live check. The group is read first when the policy has exemption tags (exemptionOf), and otherwise when a rule
 * to revoke allows all traffic, to know whether it is an EKS cluster security group (clusterCheck). Revoking is itself
 * conditional (EC2 refuses an unknown rule id and reports permissions it does not find), so when the event described
 * the rules no other read is needed. When it named rule ids without describing them (ModifySecurityGroupRules), the
 * rules are read first: to record them for rollback, and because that event does not say whether a rule is ingress or
 * egress.
 */
async function check(p: Params, ctx: ApplyContext, log = new CallLog(ctx)): Promise<CheckResult> {
  let group = ctx.exemptTags.length > 0 ? await readGroup(p, ctx, log) : undefined;
  const exempt = group ? exemptionOf(p, group, ctx) : undefined;
  if (exempt) return { status: "refused", reason: exempt };
  let rules: Rule[];
  if (!p.ruleIds || (p.rules && p.rules.length === p.ruleIds.length)) rules = p.rules ?? rulesOfPermissions(p);
  else {
    const live = await readLive(p, p.ruleIds, ctx, log);
    if (live.status !== "needed") return live;
    rules = live.before.rules as Rule[];
  }
  if (!group && rules.some(allTraffic)) group = await readGroup(p, ctx, log);
  return clusterCheck(p, group, rules, ctx) ?? { status: "needed", before: { groupId: p.groupId, rules } };
}

/** The live security group (its tags, name, description and rules); an answer without it is an error. */
async function readGroup(p: Params, ctx: ApplyContext, log: CallLog): Promise<SecurityGroup> {
  const { DescribeSecurityGroupsCommand } = await import("../aws/ec2.ts");
  const ec2 = await ctx.clients.ec2();
  const request = { GroupIds: [p.groupId] };
  const page = await log.send("ec2", "DescribeSecurityGroups", request, () =>
    ec2.send(new DescribeSecurityGroupsCommand(request)),
  );
  const group = page === "dry-run-ok" ? undefined : page.SecurityGroups?.find((g) => g.GroupId === p.groupId);
  if (!group) throw new Error(`DescribeSecurityGroups did not return ${p.groupId}: its tags are unknown`);
  return group;
}

/**
 * The policy's exemption tags on the live security group: a CloudTrail event carries no tags, so the group is read,
 * and only when the policy has exemption tags (the default policy has one). The reason to refuse, or undefined. A
 * group gone is InvalidGroup.NotFound (already done).
 */
function exemptionOf(p: Params, group: SecurityGroup, ctx: ApplyContext): string | undefined {
  const tag = exemptTagIn(ec2TagRecord(group.Tags), ctx.exemptTags, "security-group");
  return tag ? `security group ${p.groupId} carries the exemption tag ${tag}` : undefined;
}

/**
 * Reads the named rules live. A filter (not SecurityGroupRuleIds, which fails whole when one id is gone) returns the
 * rules that still exist; of those, only ingress rules of the group that are still open are kept.
 */
async function readLive(p: Params, ids: readonly string[], ctx: ApplyContext, log: CallLog): Promise<CheckResult> {
  const { DescribeSecurityGroupRulesCommand } = await import("../aws/ec2.ts");
  const ec2 = await ctx.clients.ec2();
  const request = { Filters: [{ Name: "security-group-rule-id", Values: [...ids] }] };
  const page = await log.send("ec2", "DescribeSecurityGroupRules", request, () =>
    ec2.send(new DescribeSecurityGroupRulesCommand(request)),
  );
  const live: Ec2Rule[] = page === "dry-run-ok" ? [] : (page.SecurityGroupRules ?? []);
  const egress = live.filter((r) => r.IsEgress).map((r) => r.SecurityGroupRuleId);
  if (egress.length > 0) {
    return { status: "refused", reason: `${egress.join(", ")}: egress, not ingress; only ingress rules are revoked` };
  }
  const threshold = p.openBelowPrefix;
  const stillOpen = (r: Ec2Rule) => {
    const cidr = r.CidrIpv4 ?? r.CidrIpv6;
    return threshold === undefined || (cidr !== undefined && isOpenCidr(cidr, threshold));
  };
  const rules = live.filter((r) => r.GroupId === p.groupId && stillOpen(r)).map(ruleOf);
  if (rules.length === 0) {
    return { status: "already-done", reason: `no rule named by the event is still open in ${p.groupId}` };
  }
  return { status: "needed", before: { groupId: p.groupId, rules } };
}

function revokeRequest(p: Params, dryRun: boolean) {
  return p.ruleIds
    ? { GroupId: p.groupId, SecurityGroupRuleIds: p.ruleIds, ...dryRunParam(dryRun) }
    : { GroupId: p.groupId, IpPermissions: toRevokePermissions(p), ...dryRunParam(dryRun) };
}

async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
  const id = revokeIngress.id;
  const log = new CallLog(ctx);
  try {
    const checked = await check(p, ctx, log);
    if (checked.status !== "needed") return log.result(id, checked.status, checked.reason);
    if (typeof checked.before.restore === "string") return restoreSelfRule(p, checked.before, ctx, log);
    const liveIds = (checked.before.rules as Rule[]).map((r) => r.ruleId).filter((x): x is string => x !== undefined);
    const request = revokeRequest(p.ruleIds && !p.rules ? { ...p, ruleIds: liveIds } : p, ctx.dryRun);
    const { RevokeSecurityGroupIngressCommand } = await import("../aws/ec2.ts");
    const ec2 = await ctx.clients.ec2();
    const output = await log.send("ec2", "RevokeSecurityGroupIngress", request, () =>
      ec2.send(new RevokeSecurityGroupIngressCommand(request)),
    );
    if (output === "dry-run-ok") return log.result(id, "would-succeed", `EC2 would allow the revoke in ${p.groupId}`);
    if (output.Return === false)
      return log.result(id, "failed", "EC2 answered Return=false", { before: checked.before });
    // EC2 lists what it revoked; those exact rules are what rollback restores.
    const revoked = (output.RevokedSecurityGroupRules ?? []).map(ruleOf);
    const unknown = output.UnknownIpPermissions ?? [];
    if (revoked.length === 0 && unknown.length > 0) {
      return log.result(id, "already-done", `the open permissions are no longer in ${p.groupId}`, goneUndo(p));
    }
    const rules = revoked.length > 0 ? revoked : (checked.before.rules as Rule[]);
    const ids = rules.map((r) => r.ruleId).filter(Boolean);
    return log.result(
      id,
      "applied",
      `revoked ${ids.length ? ids.join(", ") : `${rules.length} rule(s)`} of ${p.groupId}${clusterNote(checked.before, ctx)}`,
      {
        before: checked.before,
        undo: { groupId: p.groupId, rules },
      },
    );
  } catch (error) {
    if (awsErrorCode(error) === "InvalidGroup.NotFound") {
      return log.result(id, "already-done", `security group ${p.groupId} no longer exists`);
    }
    if (awsErrorCode(error) === "InvalidSecurityGroupRuleId.NotFound" && p.ruleIds && p.ruleIds.length > 1 && p.rules) {
      // EC2 refuses the whole request when one id is gone: revoke the ones that are still there.
      return revokeRemaining(p, ctx, log);
    }
    if (isNotFound(error))
      return log.result(id, "already-done", `the rules are no longer in ${p.groupId}`, goneUndo(p));
    return log.failed(id, error);
  }
}

/** ", the cluster security group of <cluster>, approved by <who>" when the group is one (clusterCheck). */
function clusterNote(before: Record<string, unknown>, ctx: ApplyContext): string {
  return typeof before.cluster === "string"
    ? `, the cluster security group of ${before.cluster}, approved by ${ctx.approvedBy}`
    : "";
}

/**
 * The cluster security group lost its self rule: the all-traffic rule `before.restore` is turned back into it (all
 * traffic from the group itself, as EKS made it), then any other open rule is revoked. A failure of that revoke leaves
 * the self rule restored (undoing it would open the group to the world again): the outcome is failed, with the undo.
 */
async function restoreSelfRule(
  p: Params,
  before: Record<string, unknown>,
  ctx: ApplyContext,
  log: CallLog,
): Promise<ApplyResult> {
  const id = revokeIngress.id;
  const rules = before.rules as Rule[];
  const widened = rules.find((r) => r.ruleId === before.restore);
  if (!widened?.ruleId) throw new Error(`rule ${String(before.restore)} is not among the rules read`);
  const self: Rule = { protocol: "-1", referencedGroupId: p.groupId };
  const modified = await modifyRules(p.groupId, [{ ruleId: widened.ruleId, rule: self }], ctx, log);
  const others = rules.filter((r) => r !== widened);
  const restored = [{ ...widened, ruleId: widened.ruleId }];
  const what = `turned ${widened.ruleId} of ${p.groupId} back into its self reference (all traffic from ${p.groupId})${clusterNote(before, ctx)}`;
  if (others.length === 0) {
    if (modified === "dry-run-ok") return log.result(id, "would-succeed", `EC2 would allow it: ${what}`);
    return log.result(id, "applied", what, { before, undo: { groupId: p.groupId, rules: [], restored } });
  }
  const ids = others.map((r) => r.ruleId).filter((x): x is string => x !== undefined);
  const request = { GroupId: p.groupId, SecurityGroupRuleIds: ids, ...dryRunParam(ctx.dryRun) };
  const { RevokeSecurityGroupIngressCommand } = await import("../aws/ec2.ts");
  const ec2 = await ctx.clients.ec2();
  try {
    const output = await log.send("ec2", "RevokeSecurityGroupIngress", request, () =>
      ec2.send(new RevokeSecurityGroupIngressCommand(request)),
    );
    if (output === "dry-run-ok") return log.result(id, "would-succeed", `EC2 would allow it: ${what}; revoke ${ids}`);
    return log.result(id, "applied", `${what}; revoked ${ids.join(", ")}`, {
      before,
      undo: { groupId: p.groupId, rules: others, restored },
    });
  } catch (error) {
    return log.failed(id, error, { before, undo: { groupId: p.groupId, rules: [], restored }, rolledBack: false });
  }
}

async function revokeRemaining(p: Params, ctx: ApplyContext, log: CallLog): Promise<ApplyResult> {
  const id = revokeIngress.id;
  try {
    const checked = await readLive({ ...p, rules: undefined }, p.ruleIds ?? [], ctx, log);
    if (checked.status !== "needed") return log.result(id, checked.status, checked.reason, goneUndo(p));
    const rules = checked.before.rules as Rule[];
    const ids = rules.map((r) => r.ruleId).filter((x): x is string => x !== undefined);
    const request = { GroupId: p.groupId, SecurityGroupRuleIds: ids, ...dryRunParam(ctx.dryRun) };
    const { RevokeSecurityGroupIngressCommand } = await import("../aws/ec2.ts");
    const ec2 = await ctx.clients.ec2();
    const output = await log.send("ec2", "RevokeSecurityGroupIngress", request, () =>
      ec2.send(new RevokeSecurityGroupIngressCommand(request)),
    );
    if (output === "dry-run-ok") return log.result(id, "would-succeed", `EC2 would allow the revoke in ${p.groupId}`);
    return log.result(id, "applied", `revoked ${ids.join(", ")} of ${p.groupId} (the others were already gone)`, {
      before: checked.before,
      undo: { groupId: p.groupId, rules },
    });
  } catch (error) {
    if (isNotFound(error))
      return log.result(id, "already-done", `the rules are no longer in ${p.groupId}`, goneUndo(p));
    return log.failed(id, error);
  }
}

/**
 * When the rules are already gone, an earlier attempt may have revoked them and lost EC2's answer (a timeout after
 * the change). The event describes them, so the outcome keeps them as its undo: rollback can still restore them.
 */
function goneUndo(p: Params): Partial<ApplyResult> {
  const rules = p.rules ?? rulesOfPermissions(p);
  return rules.length > 0 ? { undo: { groupId: p.groupId, rules } } : {};
}

/**
 * Puts back exactly what apply changed: the revoked rules re-authorized, then the rules turned into the self reference
 * modified back to what they were. Each part is answered on its own: a duplicate is already there.
 */
async function rollback(undo: Record<string, unknown>, ctx: ApplyContext): Promise<ApplyResult> {
  const id = revokeIngress.id;
  const u = undoSchema.parse(undo);
  const log = new CallLog(ctx);
  const done: string[] = [];
  let dryRunOk = false;
  try {
    if (u.rules.length > 0) {
      const request = { GroupId: u.groupId, IpPermissions: u.rules.map(toIpPermission), ...dryRunParam(ctx.dryRun) };
      const { AuthorizeSecurityGroupIngressCommand } = await import("../aws/ec2.ts");
      const ec2 = await ctx.clients.ec2();
      try {
        const output = await log.send("ec2", "AuthorizeSecurityGroupIngress", request, () =>
          ec2.send(new AuthorizeSecurityGroupIngressCommand(request)),
        );
        if (output === "dry-run-ok") dryRunOk = true;
        else done.push(`re-authorized ${u.rules.length} rule(s)`);
      } catch (error) {
        if (awsErrorCode(error) !== "InvalidPermission.Duplicate") throw error;
      }
    }
    if (u.restored?.length) {
      const back = u.restored.map((rule) => ({ ruleId: rule.ruleId, rule }));
      if ((await modifyRules(u.groupId, back, ctx, log)) === "dry-run-ok") dryRunOk = true;
      else done.push(`modified ${u.restored.map((r) => r.ruleId).join(", ")} back to what they were`);
    }
  } catch (error) {
    return log.failed(id, error);
  }
  if (dryRunOk) return log.result(id, "would-succeed", "would put the rules back as they were");
  if (done.length === 0) return log.result(id, "already-done", "the rules are already there");
  return log.result(id, "applied", `${done.join("; ")} in ${u.groupId}`);
}

export const revokeIngress: ActionDefinition<typeof params> = {
  id: "ec2:revoke-ingress",
  summary: "Revoke exactly the security group ingress rules that opened the group to the world.",
  params,
  permissions: [
    "ec2:RevokeSecurityGroupIngress",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSecurityGroupRules",
    "ec2:ModifySecurityGroupRules",
  ],
  rollbackPermissions: ["ec2:AuthorizeSecurityGroupIngress", "ec2:ModifySecurityGroupRules"],
  destructive: false,
  reversible: true,
  preconditions: [
    "the group and the rules still exist (a rule already gone is reported as already done)",
    "no other rule of the group is touched: rules are revoked by id, or by their exact permissions",
    "a rule that ModifySecurityGroupRules changed is read first and never revoked if it is an egress rule",
    "the live security group carries no exemption tag of the policy",
    "on an EKS cluster security group (its name eks-cluster-sg-<cluster>-<id> or EKS's description, read live), nothing is changed without a human's approval: in auto mode the action refuses and the decision becomes an alert with the reason",
    "on a cluster security group whose self-referencing rule is gone, an all-traffic rule named by id is turned back into the self reference (ModifySecurityGroupRules, ReferencedGroupId = the group) rather than revoked; with no such rule the action refuses",
  ],
  notCovered: [
    "connections already open through the revoked rules stay open while EC2 tracks them (security group connection tracking): only new connections are refused",
    "a rule re-added by whatever opened it is revoked again when its own CloudTrail event arrives, up to limits.flapping.revocations in its window, then it is an alert naming who re-adds it and the rule stays open: groups of the AWS Load Balancer Controller and of CloudFormation stacks are exempt by default (an alert, never a revoke), but Terraform, Pulumi and controllers that put none of those tags on their groups re-add the rule at their next run unless the group carries an exemption tag or their role is in exemptions.principals",
    "a rule put back by eks-responder rollback --table stays open for limits.restoredHoldSeconds: its re-add is an alert, not revoked",
    "under a policy without exemption tags the group is read only when a rule to revoke allows all traffic: a narrower open rule of a cluster security group is then revoked without approval (its self rule, all traffic, is not touched)",
    "a restored self reference takes none of the widened rule's description; if revoking the other open rules fails after it, the self reference stays restored (undoing it would reopen the group) and the outcome is failed, with the undo",
  ],
  rollbackSummary:
    "re-authorize the revoked rules from their recorded description, and modify a rule turned back into the cluster security group's self reference back to what it was",
  plan(p, context) {
    const note = p.ruleIds
      ? `revoke rule${p.ruleIds.length > 1 ? "s" : ""} ${p.ruleIds.join(", ")} of ${p.groupId}`
      : `revoke exactly the open permissions of ${p.groupId} (rule ids not in the event)`;
    const mayBeCluster =
      !p.rules || p.rules.some(allTraffic) || (p.ipPermissions ?? []).some((x) => x.protocol === "-1");
    const cluster = mayBeCluster
      ? "; if the live group is an EKS cluster security group, only with a human's approval, and when its self-referencing rule is gone an all-traffic rule is turned back into it instead (ec2:ModifySecurityGroupRules, ReferencedGroupId = the group)"
      : "";
    return {
      calls: [
        {
          service: "ec2",
          operation: "RevokeSecurityGroupIngress",
          params: revokeRequest(p, context.dryRun),
          note: `${note}${cluster}`,
        },
      ],
    };
  },
  check,
  apply,
  rollback,
  example: {
    groupId: "sg-0632fa4ee8a8468a4",
    ruleIds: ["sgr-09be5c962afdc06ed"],
    rules: [{ ruleId: "sgr-09be5c962afdc06ed", protocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" }],
  },
};
