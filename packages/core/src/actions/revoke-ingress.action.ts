import { z } from "zod";
import { dryRunParam, securityGroupId, securityGroupRuleId } from "./ids.ts";
import type { ActionDefinition } from "./types.ts";

const params = z
  .strictObject({
    groupId: securityGroupId,
    /** The exact rules to revoke, when the event named them. */
    ruleIds: z.array(securityGroupRuleId).min(1).optional(),
    /** Otherwise the exact permissions to revoke. */
    ipPermissions: z
      .array(
        z.strictObject({
          protocol: z.string(),
          fromPort: z.number().int().optional(),
          toPort: z.number().int().optional(),
          ipv4: z.array(z.string()),
          ipv6: z.array(z.string()),
        }),
      )
      .min(1)
      .optional(),
  })
  .refine((p) => (p.ruleIds === undefined) !== (p.ipPermissions === undefined), {
    message: "exactly one of ruleIds or ipPermissions is required",
  });

export const revokeIngress: ActionDefinition<typeof params> = {
  id: "ec2:revoke-ingress",
  summary: "Revoke exactly the security group ingress rules that opened the group to the world.",
  params,
  permissions: [
    "ec2:RevokeSecurityGroupIngress",
    "ec2:DescribeSecurityGroupRules",
    "ec2:AuthorizeSecurityGroupIngress",
  ],
  destructive: false,
  reversible: true,
  preconditions: ["the group and the rules still exist", "no other rule of the group is touched"],
  rollback: "re-authorize the revoked rules from their recorded description",
  plan(p, context) {
    if (p.ruleIds) {
      return {
        calls: [
          {
            service: "ec2",
            operation: "RevokeSecurityGroupIngress",
            params: { GroupId: p.groupId, SecurityGroupRuleIds: p.ruleIds, ...dryRunParam(context.dryRun) },
            note: `revoke rule${p.ruleIds.length > 1 ? "s" : ""} ${p.ruleIds.join(", ")} of ${p.groupId}`,
          },
        ],
      };
    }
    const permissions = (p.ipPermissions ?? []).map((perm) => ({
      IpProtocol: perm.protocol,
      ...(perm.protocol !== "-1" && perm.fromPort !== undefined ? { FromPort: perm.fromPort } : {}),
      ...(perm.protocol !== "-1" && perm.toPort !== undefined ? { ToPort: perm.toPort } : {}),
      ...(perm.ipv4.length ? { IpRanges: perm.ipv4.map((CidrIp) => ({ CidrIp })) } : {}),
      ...(perm.ipv6.length ? { Ipv6Ranges: perm.ipv6.map((CidrIpv6) => ({ CidrIpv6 })) } : {}),
    }));
    return {
      calls: [
        {
          service: "ec2",
          operation: "RevokeSecurityGroupIngress",
          params: { GroupId: p.groupId, IpPermissions: permissions, ...dryRunParam(context.dryRun) },
          note: `revoke the exact open permissions of ${p.groupId} (rule ids not in the event)`,
        },
      ],
    };
  },
  example: { groupId: "sg-0632fa4ee8a8468a4", ruleIds: ["sgr-09be5c962afdc06ed"] },
};
