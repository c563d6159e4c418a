import { isNotFound } from "../aws/errors.ts";
import { exemptTagIn } from "../policy/exempt-tags.ts";
import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import { describeCluster, runClusterUpdate, updateResult } from "./eks-calls.ts";
import { clusterName } from "./ids.ts";
import type { ActionDefinition, ApplyContext, ApplyResult, CheckResult } from "./types.ts";

const params = z.strictObject({
  clusterName,
  /** The CIDRs public access is narrowed to; empty turns public access off (private access must be on). */
  publicAccessCidrs: z.array(z.string()).check(z.maxLength(40)),
});
type Params = z.output<typeof params>;

const undoSchema = z.strictObject({
  clusterName,
  endpointPublicAccess: z.boolean(),
  endpointPrivateAccess: z.boolean(),
  publicAccessCidrs: z.array(z.string()),
});

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/**
 * Reachability: nodes reach the API server through the public endpoint while private access is off, so narrowing the
 * public CIDRs would cut off every node whose egress address is not in the list. EKS: "If you limit access to
 * specific CIDR blocks, then it is recommended that you also enable the private endpoint, or ensure that the CIDR
 * blocks that you specify include the addresses that nodes and Fargate Pods (if you use them) access the public
 * endpoint from" (https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html). The action turns private
 * access on in the same update (nothing changes when it is on already): it does not depend on how the nodes egress
 * (NAT gateways, public IPs, a firewall elsewhere), which a list of NAT addresses would.
 */
function target(p: Params) {
  return p.publicAccessCidrs.length > 0
    ? { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: p.publicAccessCidrs }
    : { endpointPublicAccess: false, endpointPrivateAccess: true };
}

/**
 * The private endpoint's name resolves inside the VPC only with the VPC's DNS support and DNS hostnames on ("You must
 * have both enableDnsHostnames and enableDnsSupport set to true for your VPC",
 * https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html); DescribeVpcAttribute reads one attribute a
 * call (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcAttribute.html). The attributes that are
 * off, or undefined when both are on.
 */
async function vpcDnsOff(vpcId: string, ctx: ApplyContext, log: CallLog): Promise<string[]> {
  const { DescribeVpcAttributeCommand } = await import("../aws/ec2.ts");
  const ec2 = await ctx.clients.ec2();
  const off: string[] = [];
  for (const attribute of ["enableDnsSupport", "enableDnsHostnames"] as const) {
    const request = { VpcId: vpcId, Attribute: attribute };
    const output = await log.send("ec2", "DescribeVpcAttribute", request, () =>
      ec2.send(new DescribeVpcAttributeCommand(request)),
    );
    const value =
      output === "dry-run-ok"
        ? undefined
        : attribute === "enableDnsSupport"
          ? output.EnableDnsSupport?.Value
          : output.EnableDnsHostnames?.Value;
    if (value !== true) off.push(attribute);
  }
  return off;
}

async function check(p: Params, ctx: ApplyContext, log = new CallLog(ctx)): Promise<CheckResult> {
  const cluster = await describeCluster(ctx, log, p.clusterName);
  const vpc = cluster.resourcesVpcConfig ?? {};
  const before = {
    endpointPublicAccess: vpc.endpointPublicAccess ?? false,
    endpointPrivateAccess: vpc.endpointPrivateAccess ?? false,
    publicAccessCidrs: vpc.publicAccessCidrs ?? [],
  };
  const exempt = exemptTagIn(cluster.tags, ctx.exemptTags);
  if (exempt)
    return { status: "refused", reason: `cluster ${p.clusterName} carries the exemption tag ${exempt}`, before };
  if (!before.endpointPublicAccess)
    return { status: "already-done", reason: "public endpoint access is already off", before };
  if (p.publicAccessCidrs.length > 0 && sameSet(before.publicAccessCidrs, p.publicAccessCidrs)) {
    return {
      status: "already-done",
      reason: `public access is already limited to ${p.publicAccessCidrs.join(", ")}`,
      before,
    };
  }
  if (p.publicAccessCidrs.length === 0 && !before.endpointPrivateAccess) {
    return {
      status: "refused",
      reason: "private endpoint access is off: turning public access off would make the cluster unreachable",
      before,
    };
  }
  if (!before.endpointPrivateAccess) {
    // Private access is turned on with the narrowing: it must be reachable by name from the nodes' VPC.
    if (!vpc.vpcId)
      return { status: "refused", reason: "DescribeCluster gave no VPC id: the nodes' VPC is unknown", before };
    const off = await vpcDnsOff(vpc.vpcId, ctx, log);
    if (off.length > 0) {
      return {
        status: "refused",
        reason: `private access is off and ${off.join(" and ")} of ${vpc.vpcId} is off: the private endpoint would not resolve, and narrowing the public CIDRs would cut the nodes off`,
        before,
      };
    }
  }
  return { status: "needed", before };
}

async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
  const id = restrictEndpoint.id;
  const log = new CallLog(ctx);
  try {
    const checked = await check(p, ctx, log);
    if (checked.status !== "needed")
      return log.result(id, checked.status, checked.reason, checked.before ? { before: checked.before } : {});
    if (ctx.dryRun) {
      return log.result(id, "would-succeed", "dry-run: the change is needed (EKS has no DryRun; nothing was sent)", {
        before: checked.before,
      });
    }
    const undo = { clusterName: p.clusterName, ...checked.before };
    const outcome = await runClusterUpdate(ctx, log, { name: p.clusterName, resourcesVpcConfig: target(p) });
    const what = `restricting the endpoint of ${p.clusterName}`;
    if (outcome.status !== "successful") return updateResult(log, id, outcome, what, { before: checked.before, undo });
    const privateOn = checked.before.endpointPrivateAccess
      ? ""
      : "; private access turned on so that nodes keep the endpoint";
    return log.result(
      id,
      "applied",
      `endpoint of ${p.clusterName} restricted (update ${outcome.updateId} Successful)${privateOn}`,
      { before: checked.before, undo },
    );
  } catch (error) {
    if (isNotFound(error)) return log.result(id, "already-done", `cluster ${p.clusterName} no longer exists`);
    return log.failed(id, error);
  }
}

async function rollback(undo: Record<string, unknown>, ctx: ApplyContext): Promise<ApplyResult> {
  const u = undoSchema.parse(undo);
  const log = new CallLog(ctx);
  try {
    const outcome = await runClusterUpdate(ctx, log, {
      name: u.clusterName,
      resourcesVpcConfig: {
        endpointPublicAccess: u.endpointPublicAccess,
        endpointPrivateAccess: u.endpointPrivateAccess,
        ...(u.endpointPublicAccess ? { publicAccessCidrs: u.publicAccessCidrs } : {}),
      },
    });
    const what = `restoring the endpoint access of ${u.clusterName}`;
    if (outcome.status !== "successful") return updateResult(log, restrictEndpoint.id, outcome, what);
    return log.result(
      restrictEndpoint.id,
      "applied",
      `endpoint access of ${u.clusterName} restored (update ${outcome.updateId} Successful)`,
    );
  } catch (error) {
    return log.failed(restrictEndpoint.id, error);
  }
}

export const restrictEndpoint: ActionDefinition<typeof params> = {
  id: "eks:restrict-endpoint",
  summary: "Narrow a cluster's public API endpoint to the allowed CIDRs, or turn it off when private access is on.",
  params,
  permissions: ["eks:UpdateClusterConfig", "eks:DescribeCluster", "eks:DescribeUpdate", "ec2:DescribeVpcAttribute"],
  rollbackPermissions: ["eks:UpdateClusterConfig", "eks:DescribeUpdate"],
  destructive: false,
  reversible: true,
  preconditions: [
    "public access is turned off only when private access is on: a cluster is never left unreachable",
    "nodes keep the endpoint: narrowing the public CIDRs turns private access on in the same update, and is refused when the VPC's enableDnsSupport or enableDnsHostnames is off (the private endpoint would not resolve)",
    "a cluster whose live tags carry one of the policy's exemption tags is left alone (refused)",
    'an update already in progress is waited for (30 s by default, which fits the respond function; the event is then retried), and EKS\'s "already at the desired configuration" answer counts as already done',
    "applied only when DescribeUpdate says Successful; an update that ends Failed or Cancelled is a failure with EKS's errors",
  ],
  notCovered: [
    "clients outside the allowed CIDRs and outside the VPC lose the endpoint: people, CI runners, nodes in another VPC or on premises (hybrid nodes) whose addresses are not in the list",
    "with private access turned on, clients in the VPC reach the API server through the cluster's network interfaces: their traffic must be allowed by the cluster security group (nodes of managed node groups are), and a VPC whose DHCP options do not use AmazonProvidedDNS does not resolve the private endpoint (not checked)",
    "an update that stays in progress past the respond function's wait and every retry of the event ends in the dead-letter queue, with the change possibly made later by EKS and recorded by no outcome",
    "the approval's Apply task waits no longer than the respond function (30 s) for an update: it does not pass a longer updateWaitMs yet, so a slow update there ends as a failed apply",
    "a change that completes on a retry of the event is reported already done, without the undo the first attempt recorded (the respond path keeps the undo of applied outcomes only)",
    "whoever widened the CIDRs can widen them again; the next UpdateClusterConfig event is handled like this one",
  ],
  rollbackSummary:
    "restore the previous endpointPublicAccess, endpointPrivateAccess and publicAccessCidrs read before the change",
  plan(p) {
    return {
      calls: [
        {
          service: "eks",
          operation: "UpdateClusterConfig",
          params: { name: p.clusterName, resourcesVpcConfig: target(p) },
          note:
            p.publicAccessCidrs.length > 0
              ? `allow the public endpoint of ${p.clusterName} only from ${p.publicAccessCidrs.join(", ")}, and turn private access on (if it is off; refused when the VPC's DNS support or DNS hostnames is off) so that the nodes keep the endpoint; applied when DescribeUpdate says Successful`
              : `turn the public endpoint of ${p.clusterName} off (private access stays on); applied when DescribeUpdate says Successful`,
        },
      ],
    };
  },
  check,
  apply,
  rollback,
  example: { clusterName: "prod-eks", publicAccessCidrs: ["203.0.113.0/24"] },
};
