import { isNotFound } from "../aws/errors.ts";
import { exemptTagIn } from "../policy/exempt-tags.ts";
import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import { describeCluster, runClusterUpdate, updateResult } from "./eks-calls.ts";
import { clusterName } from "./ids.ts";
import { type Params, restrictEndpoint, target } from "./restrict-endpoint.action.ts";
import type { ApplyContext, ApplyResult, CheckResult } from "./types.ts";

/** eks:restrict-endpoint's live reads and changes: imported with every action's, on first use (actions/runtimes.ts). */

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

export async function check(p: Params, ctx: ApplyContext, log = new CallLog(ctx)): Promise<CheckResult> {
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

export async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
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

export async function rollback(undo: Record<string, unknown>, ctx: ApplyContext): Promise<ApplyResult> {
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
