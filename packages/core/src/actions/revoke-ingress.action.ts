import type { SecurityGroupRule as Ec2Rule } from "@aws-sdk/client-ec2";
import { awsErrorCode, isNotFound } from "../aws/errors.ts";
import { isOpenCidr } from "../net/cidr.ts";
import { exemptTagIn } from "../policy/exempt-tags.ts";
import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import { ec2TagRecord } from "./ec2-tags.ts";
import { dryRunParam, securityGroupId, securityGroupRuleId } from "./ids.ts";
import type { ActionDefinition, ApplyContext, ApplyResult, CheckResult } from "./types.ts";

/** The full description of one ingress rule: what rollback re-authorizes. */
const ruleSchema = z.strictObject({
  ruleId: z.optional(securityGroupRuleId),
  protocol: z.string(),
  fromPort: z.optional(z.number().check(z.int())),
  toPort: z.optional(z.number().check(z.int())),
  cidrIpv4: z.optional(z.string()),
  cidrIpv6: z.optional(z.string()),
  referencedGroupId: z.optional(z.string()),
  prefixListId: z.optional(z.string()),
  description: z.optional(z.string()),
});
type Rule = z.output<typeof ruleSchema>;

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

const undoSchema = z.strictObject({ groupId: securityGroupId, rules: z.array(ruleSchema).check(z.minLength(1)) });

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

function ruleOf(r: {
  SecurityGroupRuleId?: string | undefined;
  IpProtocol?: string | undefined;
  FromPort?: number | undefined;
  ToPort?: number | undefined;
  CidrIpv4?: string | undefined;
  CidrIpv6?: string | undefined;
  PrefixListId?: string | undefined;
  ReferencedGroupInfo?: { GroupId?: string | undefined } | undefined;
  ReferencedGroupId?: string | undefined;
  Description?: string | undefined;
}): Rule {
  const referenced = r.ReferencedGroupInfo?.GroupId ?? r.ReferencedGroupId;
  return {
    ...(r.SecurityGroupRuleId ? { ruleId: r.SecurityGroupRuleId } : {}),
    protocol: (r.IpProtocol ?? "-1").toLowerCase(),
    ...(r.FromPort !== undefined ? { fromPort: r.FromPort } : {}),
    ...(r.ToPort !== undefined ? { toPort: r.ToPort } : {}),
    ...(r.CidrIpv4 ? { cidrIpv4: r.CidrIpv4 } : {}),
    ...(r.CidrIpv6 ? { cidrIpv6: r.CidrIpv6 } : {}),
    ...(r.PrefixListId ? { prefixListId: r.PrefixListId } : {}),
    ...(referenced ? { referencedGroupId: referenced } : {}),
    ...(r.Description ? { description: r.Description } : {}),
  };
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

/** An IpPermission that authorizes exactly one recorded rule again. */
function toIpPermission(rule: Rule) {
  const described = rule.description ? { Description: rule.description } : {};
  return {
    IpProtocol: rule.protocol,
    ...(rule.protocol !== "-1" && rule.fromPort !== undefined ? { FromPort: rule.fromPort } : {}),
    ...(rule.protocol !== "-1" && rule.toPort !== undefined ? { ToPort: rule.toPort } : {}),
    ...(rule.cidrIpv4 ? { IpRanges: [{ CidrIp: rule.cidrIpv4, ...described }] } : {}),
    ...(rule.cidrIpv6 ? { Ipv6Ranges: [{ CidrIpv6: rule.cidrIpv6, ...described }] } : {}),
    ...(rule.prefixListId ? { PrefixListIds: [{ PrefixListId: rule.prefixListId, ...described }] } : {}),
    ...(rule.referencedGroupId ? { UserIdGroupPairs: [{ GroupId: rule.referencedGroupId, ...described }] } : {}),
  };
}

/**
 * The live check. The group's tags are read first when the policy has exemption tags (exemptionOf). Revoking is
 * itself conditional (EC2 refuses an unknown rule id and reports permissions it does not find), so when the event
 * described the rules no other read is needed. When it named rule ids without describing them
 * (ModifySecurityGroupRules), the rules are read first: to record them for rollback, and because that event does not
 * say whether a rule is ingress or egress.
 */
async function check(p: Params, ctx: ApplyContext, log = new CallLog(ctx)): Promise<CheckResult> {
  const exempt = await exemptionOf(p, ctx, log);
  if (exempt) return { status: "refused", reason: exempt };
  if (!p.ruleIds || (p.rules && p.rules.length === p.ruleIds.length)) {
    return { status: "needed", before: { groupId: p.groupId, rules: p.rules ?? rulesOfPermissions(p) } };
  }
  return readLive(p, p.ruleIds, ctx, log);
}

/**
 * The policy's exemption tags on the live security group: a CloudTrail event carries no tags, so the group is read,
 * and only when the policy has exemption tags (the default policy has one). The reason to refuse, or undefined. A
 * group gone is InvalidGroup.NotFound (already done); an answer without the group is an error: nothing is revoked.
 */
async function exemptionOf(p: Params, ctx: ApplyContext, log: CallLog): Promise<string | undefined> {
  const exempt = ctx.exemptTags;
  if (exempt.length === 0) return undefined;
  const { DescribeSecurityGroupsCommand } = await import("../aws/ec2.ts");
  const ec2 = await ctx.clients.ec2();
  const request = { GroupIds: [p.groupId] };
  const page = await log.send("ec2", "DescribeSecurityGroups", request, () =>
    ec2.send(new DescribeSecurityGroupsCommand(request)),
  );
  const group = page === "dry-run-ok" ? undefined : page.SecurityGroups?.find((g) => g.GroupId === p.groupId);
  if (!group) throw new Error(`DescribeSecurityGroups did not return ${p.groupId}: its tags are unknown`);
  const tag = exemptTagIn(ec2TagRecord(group.Tags), exempt, "security-group");
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
      `revoked ${ids.length ? ids.join(", ") : `${rules.length} rule(s)`} of ${p.groupId}`,
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

async function rollback(undo: Record<string, unknown>, ctx: ApplyContext): Promise<ApplyResult> {
  const u = undoSchema.parse(undo);
  const log = new CallLog(ctx);
  const request = { GroupId: u.groupId, IpPermissions: u.rules.map(toIpPermission), ...dryRunParam(ctx.dryRun) };
  const { AuthorizeSecurityGroupIngressCommand } = await import("../aws/ec2.ts");
  const ec2 = await ctx.clients.ec2();
  try {
    const output = await log.send("ec2", "AuthorizeSecurityGroupIngress", request, () =>
      ec2.send(new AuthorizeSecurityGroupIngressCommand(request)),
    );
    if (output === "dry-run-ok")
      return log.result(revokeIngress.id, "would-succeed", "would re-authorize the revoked rules");
    return log.result(revokeIngress.id, "applied", `re-authorized ${u.rules.length} rule(s) of ${u.groupId}`);
  } catch (error) {
    const code = (error as { name?: string }).name;
    if (code === "InvalidPermission.Duplicate") {
      return log.result(revokeIngress.id, "already-done", "the rules are already there");
    }
    return log.failed(revokeIngress.id, error);
  }
}

export const revokeIngress: ActionDefinition<typeof params> = {
  id: "ec2:revoke-ingress",
  summary: "Revoke exactly the security group ingress rules that opened the group to the world.",
  params,
  permissions: ["ec2:RevokeSecurityGroupIngress", "ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules"],
  rollbackPermissions: ["ec2:AuthorizeSecurityGroupIngress"],
  destructive: false,
  reversible: true,
  preconditions: [
    "the group and the rules still exist (a rule already gone is reported as already done)",
    "no other rule of the group is touched: rules are revoked by id, or by their exact permissions",
    "a rule that ModifySecurityGroupRules changed is read first and never revoked if it is an egress rule",
    "the live security group carries no exemption tag of the policy",
  ],
  notCovered: [
    "connections already open through the revoked rules stay open while EC2 tracks them (security group connection tracking): only new connections are refused",
    "a rule re-added by whatever opened it is revoked again when its own CloudTrail event arrives, up to limits.flapping.revocations in its window, then it is an alert naming who re-adds it and the rule stays open: groups of the AWS Load Balancer Controller and of CloudFormation stacks are exempt by default (an alert, never a revoke), but Terraform, Pulumi and controllers that put none of those tags on their groups re-add the rule at their next run unless the group carries an exemption tag or their role is in exemptions.principals",
    "a rule put back by eks-responder rollback --table stays open for limits.restoredHoldSeconds: its re-add is an alert, not revoked",
    "the cluster security group's rules are treated like any other group's: revoking a widened self-rule of it can cut the control plane from the nodes",
  ],
  rollbackSummary: "re-authorize the revoked rules from their recorded description",
  plan(p, context) {
    const note = p.ruleIds
      ? `revoke rule${p.ruleIds.length > 1 ? "s" : ""} ${p.ruleIds.join(", ")} of ${p.groupId}`
      : `revoke exactly the open permissions of ${p.groupId} (rule ids not in the event)`;
    return {
      calls: [
        { service: "ec2", operation: "RevokeSecurityGroupIngress", params: revokeRequest(p, context.dryRun), note },
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
