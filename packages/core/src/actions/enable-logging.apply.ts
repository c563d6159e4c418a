import { isNotFound } from "../aws/errors.ts";
import { exemptTagIn } from "../policy/exempt-tags.ts";
import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import { describeCluster, runClusterUpdate, updateResult } from "./eks-calls.ts";
import { costNote, enableLogging, logType, type Params } from "./enable-logging.action.ts";
import { clusterName } from "./ids.ts";
import type { ApplyContext, ApplyResult, CheckResult } from "./types.ts";

/** eks:enable-logging's live reads and changes: imported with every action's, on first use (actions/runtimes.ts). */

const undoSchema = z.strictObject({ clusterName, logTypes: z.array(logType).check(z.minLength(1)) });

export async function check(p: Params, ctx: ApplyContext, log = new CallLog(ctx)): Promise<CheckResult> {
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

export async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
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
    const undo = { clusterName: p.clusterName, logTypes: missing };
    const outcome = await runClusterUpdate(ctx, log, {
      name: p.clusterName,
      logging: { clusterLogging: [{ types: missing, enabled: true }] },
    });
    const what = `turning ${missing.join(", ")} logging on for ${p.clusterName}`;
    if (outcome.status !== "successful") return updateResult(log, id, outcome, what, { before: checked.before, undo });
    return log.result(
      id,
      "applied",
      `turned ${missing.join(", ")} logging on for ${p.clusterName} (update ${outcome.updateId} Successful); ${costNote(p.clusterName)}`,
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
      logging: { clusterLogging: [{ types: u.logTypes, enabled: false }] },
    });
    const what = `turning ${u.logTypes.join(", ")} logging off again for ${u.clusterName}`;
    if (outcome.status !== "successful") return updateResult(log, enableLogging.id, outcome, what);
    return log.result(
      enableLogging.id,
      "applied",
      `turned ${u.logTypes.join(", ")} logging off again for ${u.clusterName} (update ${outcome.updateId} Successful)`,
    );
  } catch (error) {
    return log.failed(enableLogging.id, error);
  }
}
