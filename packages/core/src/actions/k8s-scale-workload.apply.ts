import type { KubeClient } from "../kubernetes/api.ts";
import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import { clusterName } from "./ids.ts";
import {
  appsPath,
  type ChainLink,
  getObject,
  isKubeStatus,
  kubeClientFor,
  parseObject,
  type ScalableKind,
  walkOwners,
  workloadSchema,
} from "./k8s-objects.live.ts";
import { namespaceName, objectName } from "./k8s-objects.ts";
import { type Params, SYSTEM_NAMESPACE, scaleWorkload } from "./k8s-scale-workload.action.ts";
import type { ApplyContext, ApplyResult, CheckResult, PlanContext } from "./types.ts";

/** k8s:scale-workload's live reads and changes: imported with every action's, on first use (actions/runtimes.ts). */

const undoSchema = z.strictObject({
  cluster: clusterName,
  namespace: namespaceName,
  kind: z.enum(["Deployment", "StatefulSet", "ReplicaSet"]),
  name: objectName,
  uid: z.string().check(z.minLength(1)),
  replicas: z.number().check(z.int(), z.minimum(1)),
});

/**
 * The Scale object of the scale subresource, as far as it is read. Its `spec.replicas` is a plain integer the API
 * server leaves out when it is 0 (omitempty), so absent reads as 0, unlike a workload's own `spec.replicas`.
 * @see https://kubernetes.io/docs/reference/kubernetes-api/autoscaling-resources/scale-v1/
 */
const scaleSchema = z.looseObject({
  spec: z.optional(z.looseObject({ replicas: z.optional(z.number().check(z.int(), z.minimum(0))) })),
});

type Inspected =
  | { check: Exclude<CheckResult, { status: "needed" }> }
  | {
      check: Extract<CheckResult, { status: "needed" }>;
      workload: { kind: ScalableKind; name: string; uid: string; replicas: number };
    };

function chainText(chain: readonly ChainLink[]): string {
  return chain.map((c) => `${c.kind} ${c.name}`).join(" → ");
}

async function inspect(p: Params, ctx: PlanContext, client: KubeClient, log: CallLog): Promise<Inspected> {
  const walk = await walkOwners(log, client, p.namespace, p.pod);
  if ("refused" in walk) return { check: { status: "refused", reason: walk.refused, before: { chain: walk.chain } } };
  const { kind, object } = walk.found;
  const { name, uid, resourceVersion } = object.metadata;
  // spec.replicas is defaulted to 1 by the API server on every one of these kinds; absent only on a malformed answer.
  const replicas = object.spec?.replicas ?? 1;
  const workload = { kind, name, uid, replicas };
  const before = { chain: walk.chain, workload: { ...workload, resourceVersion } };
  const what = `${kind} ${p.namespace}/${name}`;
  if (replicas === 0) {
    return {
      check: { status: "already-done", reason: `${what} (${chainText(walk.chain)}) is already at 0 replicas`, before },
    };
  }
  if (p.namespace === SYSTEM_NAMESPACE && !ctx.approvedBy) {
    return {
      check: {
        status: "refused",
        reason: `${what} is in ${SYSTEM_NAMESPACE}, where the cluster's own add-ons run: scaling it needs an approval`,
        before,
      },
    };
  }
  return { check: { status: "needed", before }, workload };
}

export async function check(p: Params, ctx: ApplyContext): Promise<CheckResult> {
  const access = await kubeClientFor(ctx, p.cluster);
  if ("refused" in access) return { status: "refused", reason: access.refused };
  return (await inspect(p, ctx, access.client, new CallLog(ctx))).check;
}

export async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
  const id = scaleWorkload.id;
  const log = new CallLog(ctx);
  try {
    const access = await kubeClientFor(ctx, p.cluster);
    if ("refused" in access) return log.result(id, "refused", access.refused);
    const found = await inspect(p, ctx, access.client, log);
    if (!("workload" in found)) {
      const { status, reason, before } = found.check;
      return log.result(id, status, reason, before ? { before } : {});
    }
    const { workload } = found;
    const before = found.check.before;
    const what = `${workload.kind} ${p.namespace}/${workload.name}`;
    const req = {
      method: "PATCH" as const,
      path: appsPath(workload.kind, p.namespace, workload.name, "scale"),
      body: { spec: { replicas: 0 } },
      patchType: "application/merge-patch+json" as const,
    };
    const answer = parseObject(scaleSchema, await log.sendKube(access.client, req, { dryRun: ctx.dryRun }), what);
    const answered = answer.spec?.replicas ?? 0;
    if (answered !== 0) {
      return log.result(id, "failed", `${what}/scale answered spec.replicas ${answered}, not 0`, {
        before,
        error: { code: "ACTION.UNEXPECTED_ANSWER", message: "replicas not 0" },
      });
    }
    const from = `from ${workload.replicas} replicas to 0; its pods stop within their grace period`;
    if (ctx.dryRun) {
      return log.result(id, "would-succeed", `dry-run: the API server accepted scaling ${what} ${from}`, { before });
    }
    const undo = { cluster: p.cluster, namespace: p.namespace, ...workload };
    return log.result(id, "applied", `scaled ${what} ${from}`, { before, undo });
  } catch (error) {
    if (isKubeStatus(error, 404)) return log.result(id, "refused", `the workload went away while it was scaled`);
    return log.failed(id, error);
  }
}

export async function rollback(undo: Record<string, unknown>, ctx: ApplyContext): Promise<ApplyResult> {
  const id = scaleWorkload.id;
  const log = new CallLog(ctx);
  try {
    const u = undoSchema.parse(undo);
    const what = `${u.kind} ${u.namespace}/${u.name}`;
    const access = await kubeClientFor(ctx, u.cluster);
    if ("refused" in access) return log.result(id, "refused", access.refused);
    const read = await getObject(log, access.client, appsPath(u.kind, u.namespace, u.name));
    if (read === undefined) return log.result(id, "refused", `${what} no longer exists: nothing to restore`);
    const live = parseObject(workloadSchema, read, what);
    if (live.metadata.uid !== u.uid) {
      return log.result(
        id,
        "refused",
        `${what} was replaced since (uid ${live.metadata.uid}, not ${u.uid}): not scaled`,
      );
    }
    const now = live.spec?.replicas ?? 1;
    if (now !== 0) {
      return log.result(
        id,
        "refused",
        `${what} was scaled to ${now} replicas since it was scaled to 0: it is left as it is, not set back to ${u.replicas}`,
      );
    }
    // The resourceVersion read makes the patch conditional: if the workload changed since this read, the API server
    // answers 409 Conflict and changes nothing. https://kubernetes.io/docs/reference/using-api/api-concepts/#patch-and-apply
    const req = {
      method: "PATCH" as const,
      path: appsPath(u.kind, u.namespace, u.name, "scale"),
      body: { metadata: { resourceVersion: live.metadata.resourceVersion }, spec: { replicas: u.replicas } },
      patchType: "application/merge-patch+json" as const,
    };
    try {
      await log.sendKube(access.client, req, { dryRun: ctx.dryRun });
    } catch (error) {
      if (!isKubeStatus(error, 409)) throw error;
      return log.result(id, "refused", `${what} changed while it was restored (409 Conflict): not scaled; run again`);
    }
    if (ctx.dryRun) return log.result(id, "would-succeed", `dry-run: the API server accepted scaling ${what} back`);
    return log.result(id, "applied", `scaled ${what} back to ${u.replicas} replicas`);
  } catch (error) {
    return log.failed(id, error);
  }
}
