import * as z from "../zod.ts";
import type { CallLog } from "./calls.ts";
import { dryRunParam, securityGroupRuleId } from "./ids.ts";
import type { ApplyContext } from "./types.ts";

/** Security group rules as ec2:revoke-ingress records them (its undo) and sends them back to EC2. */

/** The full description of one ingress rule: what rollback re-authorizes. */
export const ruleSchema = z.strictObject({
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
export type Rule = z.output<typeof ruleSchema>;

/** A rule that allows every protocol and port: what EKS's self rule of the cluster security group allows. */
export const allTraffic = (r: Rule) => r.protocol === "-1";

export function ruleOf(r: {
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

/** An IpPermission that authorizes exactly one recorded rule again. */
export function toIpPermission(rule: Rule) {
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

/** The SecurityGroupRuleRequest that defines a recorded rule (ModifySecurityGroupRules; -1 takes no ports). */
export function ruleRequest(rule: Rule) {
  return {
    IpProtocol: rule.protocol,
    ...(rule.protocol !== "-1" && rule.fromPort !== undefined ? { FromPort: rule.fromPort } : {}),
    ...(rule.protocol !== "-1" && rule.toPort !== undefined ? { ToPort: rule.toPort } : {}),
    ...(rule.cidrIpv4 ? { CidrIpv4: rule.cidrIpv4 } : {}),
    ...(rule.cidrIpv6 ? { CidrIpv6: rule.cidrIpv6 } : {}),
    ...(rule.prefixListId ? { PrefixListId: rule.prefixListId } : {}),
    ...(rule.referencedGroupId ? { ReferencedGroupId: rule.referencedGroupId } : {}),
    ...(rule.description ? { Description: rule.description } : {}),
  };
}

/**
 * ModifySecurityGroupRules sets a rule's whole definition in place, keeping its id
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifySecurityGroupRules.html,
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_SecurityGroupRuleRequest.html: one source among CidrIpv4,
 * CidrIpv6, PrefixListId and ReferencedGroupId): what turns a widened rule back into the self reference, and back again.
 */
export async function modifyRules(
  groupId: string,
  rules: { ruleId: string; rule: Rule }[],
  ctx: ApplyContext,
  log: CallLog,
): Promise<"ok" | "dry-run-ok"> {
  const { ModifySecurityGroupRulesCommand } = await import("../aws/ec2.ts");
  const ec2 = await ctx.clients.ec2();
  const request = {
    GroupId: groupId,
    SecurityGroupRules: rules.map((r) => ({ SecurityGroupRuleId: r.ruleId, SecurityGroupRule: ruleRequest(r.rule) })),
    ...dryRunParam(ctx.dryRun),
  };
  const output = await log.send("ec2", "ModifySecurityGroupRules", request, () =>
    ec2.send(new ModifySecurityGroupRulesCommand(request)),
  );
  if (output === "dry-run-ok") return output;
  if (output.Return === false) throw new Error(`EC2 answered Return=false to ModifySecurityGroupRules in ${groupId}`);
  return "ok";
}
