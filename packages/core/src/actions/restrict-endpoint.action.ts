import { isNotFound } from "../aws/errors.ts";
import { exemptTagIn } from "../policy/exempt-tags.ts";
import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import { describeCluster, updateClusterConfig } from "./eks-calls.ts";
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

function target(p: Params) {
  return p.publicAccessCidrs.length > 0
    ? { endpointPublicAccess: true, publicAccessCidrs: p.publicAccessCidrs }
    : { endpointPublicAccess: false, endpointPrivateAccess: true };
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
    const updateId = await updateClusterConfig(ctx, log, { name: p.clusterName, resourcesVpcConfig: target(p) });
    return log.result(id, "applied", `endpoint of ${p.clusterName} restricted (update ${updateId ?? "started"})`, {
      before: checked.before,
      undo: { clusterName: p.clusterName, ...checked.before },
    });
  } catch (error) {
    if (isNotFound(error)) return log.result(id, "already-done", `cluster ${p.clusterName} no longer exists`);
    return log.failed(id, error);
  }
}

async function rollback(undo: Record<string, unknown>, ctx: ApplyContext): Promise<ApplyResult> {
  const u = undoSchema.parse(undo);
  const log = new CallLog(ctx);
  try {
    await updateClusterConfig(ctx, log, {
      name: u.clusterName,
      resourcesVpcConfig: {
        endpointPublicAccess: u.endpointPublicAccess,
        endpointPrivateAccess: u.endpointPrivateAccess,
        ...(u.endpointPublicAccess ? { publicAccessCidrs: u.publicAccessCidrs } : {}),
      },
    });
    return log.result(restrictEndpoint.id, "applied", `endpoint access of ${u.clusterName} restored`);
  } catch (error) {
    return log.failed(restrictEndpoint.id, error);
  }
}

export const restrictEndpoint: ActionDefinition<typeof params> = {
  id: "eks:restrict-endpoint",
  summary: "Narrow a cluster's public API endpoint to the allowed CIDRs, or turn it off when private access is on.",
  params,
  permissions: ["eks:UpdateClusterConfig", "eks:DescribeCluster"],
  destructive: false,
  reversible: true,
  preconditions: [
    "public access is turned off only when private access is on: a cluster is never left unreachable",
    "a cluster whose live tags carry one of the policy's exemption tags is left alone (refused)",
    "an update already in progress is waited for (bounded) and the call retried",
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
              ? `allow the public endpoint of ${p.clusterName} only from ${p.publicAccessCidrs.join(", ")}`
              : `turn the public endpoint of ${p.clusterName} off (private access stays on)`,
        },
      ],
    };
  },
  check,
  apply,
  rollback,
  example: { clusterName: "prod-eks", publicAccessCidrs: ["203.0.113.0/24"] },
};
