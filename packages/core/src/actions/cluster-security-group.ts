import type { SecurityGroup } from "@aws-sdk/client-ec2";
import { ec2TagRecord } from "./ec2-tags.ts";
import { allTraffic, type Rule } from "./security-group-rules.ts";
import type { ApplyContext, CheckResult } from "./types.ts";

/**
 * The EKS cluster security group. EKS creates it with every cluster, named `eks-cluster-sg-<cluster>-<id>`, with this
 * description, the tags `aws:eks:cluster-name` = <cluster> and `kubernetes.io/cluster/<cluster>` = owned, and one
 * inbound rule: all traffic from the group itself, which lets the control plane and the nodes (managed node groups
 * are put in the group) reach each other. If that rule is removed, EKS recreates it at the next cluster update.
 * https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html
 * The name and description are set by CreateSecurityGroup, and the EC2 API has no call that changes either afterwards,
 * so they name the group; a look-alike someone else made is only ever treated more carefully (approval), never less.
 */
export const CLUSTER_SG_DESCRIPTION =
  "EKS created security group applied to ENI that is attached to EKS Control Plane master nodes, as well as any managed workloads.";
export const CLUSTER_SG_NAME = /^eks-cluster-sg-(.+)-[^-]+$/;
export const CLUSTER_NAME_TAG = "aws:eks:cluster-name";

/** The cluster whose cluster security group this is (its tag, else its name), or undefined for any other group. */
export function clusterOfGroup(group: Pick<SecurityGroup, "GroupName" | "Description" | "Tags">): string | undefined {
  const named = CLUSTER_SG_NAME.exec(group.GroupName ?? "");
  if (!named && group.Description !== CLUSTER_SG_DESCRIPTION) return undefined;
  return ec2TagRecord(group.Tags)[CLUSTER_NAME_TAG] ?? named?.[1] ?? "unknown";
}

/** Whether the group still allows all traffic from itself (EKS's default inbound rule), as DescribeSecurityGroups lists it. */
export function hasSelfRule(group: Pick<SecurityGroup, "GroupId" | "IpPermissions">): boolean {
  return (group.IpPermissions ?? []).some(
    (p) => p.IpProtocol === "-1" && (p.UserIdGroupPairs ?? []).some((pair) => pair.GroupId === group.GroupId),
  );
}

/**
 * On an EKS cluster security group, whose self rule joins the control plane and the nodes
 * (https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html), nothing changes without a human's approval
 * (ctx.approvedBy). When the self rule is gone (ModifySecurityGroupRules widened it, or it was removed and an open
 * rule added), revoking the open rule would cut the control plane from the nodes: an all-traffic rule named by id is
 * turned back into the self reference instead (`restore`); without one, the action refuses. Undefined: not a cluster
 * security group, or not known to be one (the group was not read), and the rules are revoked as usual.
 */
export function clusterCheck(
  p: { groupId: string },
  group: SecurityGroup | undefined,
  rules: Rule[],
  ctx: Pick<ApplyContext, "approvedBy">,
): CheckResult | undefined {
  const cluster = group ? clusterOfGroup(group) : undefined;
  if (!group || cluster === undefined) return undefined;
  const what = `${p.groupId} is the cluster security group of EKS cluster ${cluster}`;
  if (!ctx.approvedBy) {
    return {
      status: "refused",
      reason: `${what}: an automatic change to it needs a human's approval (approve mode), as a wrong one cuts the control plane from the nodes`,
    };
  }
  const before = { groupId: p.groupId, rules, cluster };
  if (hasSelfRule(group)) return { status: "needed", before };
  const restore = rules.find((r) => allTraffic(r) && r.ruleId !== undefined)?.ruleId;
  if (restore === undefined) {
    return {
      status: "refused",
      reason: `${what} and its self-referencing rule is gone: revoking the open rules could cut the control plane from the nodes, and none of them is an all-traffic rule to turn back into it; restore the self rule first`,
    };
  }
  return { status: "needed", before: { ...before, restore } };
}
