import type { SecurityGroupRule as Ec2Rule, SecurityGroup } from "@aws-sdk/client-ec2";
import { awsErrorCode, isNotFound } from "../aws/errors.ts";
import { isOpenCidr } from "../net/cidr.ts";
import { exemptTagIn } from "../policy/exempt-tags.ts";
import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import { clusterCheck } from "./cluster-security-group.ts";
import { ec2TagRecord } from "./ec2-tags.ts";
import { dryRunParam, securityGroupId, securityGroupRuleId } from "./ids.ts";
import { type Params, revokeIngress, revokeRequest } from "./revoke-ingress.action.ts";
import { allTraffic, modifyRules, type Rule, ruleOf, ruleSchema, toIpPermission } from "./security-group-rules.ts";
import type { ApplyContext, ApplyResult, CheckResult } from "./types.ts";

/** ec2:revoke-ingress's live reads and changes: imported with every action's, on first use (actions/runtimes.ts). */

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
export async function check(p: Params, ctx: ApplyContext, log = new CallLog(ctx)): Promise<CheckResult> {
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

export async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
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
export async function rollback(undo: Record<string, unknown>, ctx: ApplyContext): Promise<ApplyResult> {
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
