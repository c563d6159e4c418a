import { isNotFound } from "../aws/errors.ts";
import { exemptTagIn } from "../policy/exempt-tags.ts";
import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import { describeCluster, updateClusterConfig } from "./eks-calls.ts";
import { clusterName } from "./ids.ts";
import type { ActionDefinition, ApplyContext, ApplyResult, CheckResult } from "./types.ts";

const logType = z.enum(["api", "audit", "authenticator", "controllerManager", "scheduler"]);
const params = z.strictObject({ clusterName, logTypes: z.array(logType).check(z.minLength(1)) });
type Params = z.output<typeof params>;
const undoSchema = z.strictObject({ clusterName, logTypes: z.array(logType).check(z.minLength(1)) });

async function check(p: Params, ctx: ApplyContext, log = new CallLog(ctx)): Promise<CheckResult> {
  const cluster = await describeCluster(ctx, log, p.clusterName);
  const enabled = new Set(
    (cluster.logging?.clusterLogging ?? []).filter((l) => l.enabled).flatMap((l) => (l.types ?? []) as string[]),
  );
  const missing = p.logTypes.filter((t) => !enabled.has(t));
  const before = { enabled: [...enabled] };
  const exempt = exemptTagIn(cluster.tags, ctx.exemptTags);
  if (exempt)
    return { status: "refused", reason: `cluster ${p.clusterName} carries the exemption tag ${exempt}`, before };
  if (missing.length === 0)
    return { status: "already-done", reason: `${p.logTypes.join(", ")} logging is already on`, before };
  return { status: "needed", before: { ...before, missing } };
}

async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
  const id = enableLogging.id;
  const log = new CallLog(ctx);
  try {
    const checked = await check(p, ctx, log);
    if (checked.status !== "needed")
      return log.result(id, checked.status, checked.reason, checked.before ? { before: checked.before } : {});
    const missing = checked.before.missing as Params["logTypes"];
    if (ctx.dryRun) {
      return log.result(id, "would-succeed", `dry-run: would turn ${missing.join(", ")} logging on`, {
        before: checked.before,
      });
    }
    await updateClusterConfig(ctx, log, {
      name: p.clusterName,
      logging: { clusterLogging: [{ types: missing, enabled: true }] },
    });
    return log.result(id, "applied", `turned ${missing.join(", ")} logging on for ${p.clusterName}`, {
      before: checked.before,
      undo: { clusterName: p.clusterName, logTypes: missing },
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
      logging: { clusterLogging: [{ types: u.logTypes, enabled: false }] },
    });
    return log.result(
      enableLogging.id,
      "applied",
      `turned ${u.logTypes.join(", ")} logging off again for ${u.clusterName}`,
    );
  } catch (error) {
    return log.failed(enableLogging.id, error);
  }
}

export const enableLogging: ActionDefinition<typeof params> = {
  id: "eks:enable-logging",
  summary: "Turn control-plane log types back on.",
  params,
  permissions: ["eks:UpdateClusterConfig", "eks:DescribeCluster"],
  destructive: false,
  reversible: true,
  preconditions: [
    "only the required types that are off now are turned on",
    "a cluster whose live tags carry one of the policy's exemption tags is left alone (refused)",
    "an update already in progress is waited for (bounded) and the call retried",
  ],
  rollbackSummary: "turn the same log types off again",
  plan(p) {
    return {
      calls: [
        {
          service: "eks",
          operation: "UpdateClusterConfig",
          params: { name: p.clusterName, logging: { clusterLogging: [{ types: p.logTypes, enabled: true }] } },
          note: `turn ${p.logTypes.join(", ")} logging back on for ${p.clusterName} (only those still off)`,
        },
      ],
    };
  },
  check,
  apply,
  rollback,
  example: { clusterName: "prod-eks", logTypes: ["api", "audit", "authenticator"] },
};
