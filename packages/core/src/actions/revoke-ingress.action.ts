import { builtOnce } from "../lazy.ts";
import * as z from "../zod.ts";
import { deferredReversible } from "./deferred.ts";
import { dryRunParam, securityGroupId, securityGroupRuleId } from "./ids.ts";
import { allTraffic, ruleSchema } from "./security-group-rules.ts";
import type { ActionDefinition } from "./types.ts";

const params = builtOnce(() => {
  const permissionSchema = z.strictObject({
    protocol: z.string(),
    fromPort: z.optional(z.number().check(z.int())),
    toPort: z.optional(z.number().check(z.int())),
    ipv4: z.array(z.string()),
    ipv6: z.array(z.string()),
  });
  return z
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
});
export type Params = z.output<ReturnType<typeof params>>;

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

export function revokeRequest(p: Params, dryRun: boolean) {
  return p.ruleIds
    ? { GroupId: p.groupId, SecurityGroupRuleIds: p.ruleIds, ...dryRunParam(dryRun) }
    : { GroupId: p.groupId, IpPermissions: toRevokePermissions(p), ...dryRunParam(dryRun) };
}

export const revokeIngress: ActionDefinition<ReturnType<typeof params>> = {
  id: "ec2:revoke-ingress",
  summary: "Revoke exactly the security group ingress rules that opened the group to the world.",
  get params() {
    return params();
  },
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
  ...deferredReversible(() => import("./runtimes.ts").then((m) => m.revokeIngress)),
  example: {
    groupId: "sg-0632fa4ee8a8468a4",
    ruleIds: ["sgr-09be5c962afdc06ed"],
    rules: [{ ruleId: "sgr-09be5c962afdc06ed", protocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" }],
  },
};
