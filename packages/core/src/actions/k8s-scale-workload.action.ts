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
  namespaceName,
  objectName,
  parseObject,
  type ScalableKind,
  walkOwners,
  workloadSchema,
} from "./k8s-objects.ts";
import type { ActionDefinition, ApplyContext, ApplyResult, CheckResult, PlanContext, PlannedCall } from "./types.ts";

const params = z.strictObject({ cluster: clusterName, namespace: namespaceName, pod: objectName });
type Params = z.output<typeof params>;

const undoSchema = z.strictObject({
  cluster: clusterName,
  namespace: namespaceName,
  kind: z.enum(["Deployment", "StatefulSet", "ReplicaSet"]),
  name: objectName,
  uid: z.string().check(z.minLength(1)),
  replicas: z.number().check(z.int(), z.minimum(1)),
});

/** The namespace whose workloads are scaled only when approved: the cluster's own add-ons (CoreDNS, kube-proxy). */
const SYSTEM_NAMESPACE = "kube-system";

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

async function check(p: Params, ctx: ApplyContext): Promise<CheckResult> {
  const access = await kubeClientFor(ctx, p.cluster);
  if ("refused" in access) return { status: "refused", reason: access.refused };
  return (await inspect(p, ctx, access.client, new CallLog(ctx))).check;
}

async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
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

async function rollback(undo: Record<string, unknown>, ctx: ApplyContext): Promise<ApplyResult> {
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

const APPS = ["apps"];

export const scaleWorkload: ActionDefinition<typeof params> = {
  id: "k8s:scale-workload",
  summary:
    "Scale the Deployment, StatefulSet or ReplicaSet that keeps recreating a malicious pod to zero replicas, found live from the pod's controller owners, through the scale subresource.",
  params,
  permissions: [],
  rollbackPermissions: [],
  kubernetesPermissions: [
    { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
    { apiGroups: APPS, resources: ["replicasets", "deployments", "statefulsets"], verbs: ["get"] },
    { apiGroups: APPS, resources: ["deployments/scale", "statefulsets/scale", "replicasets/scale"], verbs: ["patch"] },
  ],
  kubernetesRollbackPermissions: [],
  destructive: true,
  // Scaling to zero stops a workload whose owners the responder cannot ask: never without a human's approval.
  approvalOnly: true,
  reversible: true,
  preconditions: [
    "the pod exists and has a controller owner: a bare pod is refused (deleting it is the operator's call)",
    "the owner chain is pod → ReplicaSet → Deployment, pod → StatefulSet or pod → ReplicaSet, each owner with the uid its dependent names; a DaemonSet or Job owner is refused (they have no replica count to scale), and so is any other controller",
    "the workload is not at 0 replicas already (otherwise: already done)",
    `a workload in ${SYSTEM_NAMESPACE} is scaled only when approved`,
  ],
  notCovered: [
    "the pods stop within their termination grace period, and keep running until then",
    "the image stays on the nodes that pulled it, and so does anything the pods wrote to a node",
    "a GitOps controller (Argo CD, Flux) or a HorizontalPodAutoscaler that manages the workload may scale it back up",
    "other workloads running the same image or made by the same principal are not looked for",
    "the pod is not deleted: a pod of a StatefulSet or ReplicaSet goes when its controller scales down, none is kept as evidence",
  ],
  rollbackSummary:
    "scale the workload back to the replicas recorded before, through the same scale subresource, only if it is still the same workload (uid) at 0 replicas: if someone scaled it since, the rollback refuses and says so",
  plan(p, context) {
    const ns = p.namespace;
    const apps = `/apis/apps/v1/namespaces/${ns}`;
    const calls: PlannedCall[] = [
      {
        service: "kubernetes",
        operation: `GET /api/v1/namespaces/${ns}/pods/${p.pod}`,
        params: {},
        note: "read the pod's controller owner (ownerReferences, controller: true): a pod with none is refused, deleting it is the operator's call; a DaemonSet or Job owner is refused (no replica count to scale)",
      },
      {
        service: "kubernetes",
        operation: `GET ${apps}/replicasets/<owner of the pod>`,
        params: {},
        note: `its ReplicaSet (or ${apps}/statefulsets/<owner of the pod> for a StatefulSet), with the uid the pod names`,
      },
      {
        service: "kubernetes",
        operation: `GET ${apps}/deployments/<owner of the replicaset>`,
        params: {},
        note: "when the ReplicaSet has a controller: its Deployment, with the uid the ReplicaSet names; without one, the ReplicaSet is the workload; already done when the workload is at 0 replicas",
      },
      {
        service: "kubernetes",
        operation: `PATCH ${apps}/deployments/<workload>/scale`,
        params: { spec: { replicas: 0 } },
        note: `the workload found (deployments, statefulsets or replicasets)/scale, a merge patch: the scale subresource takes patch on <kind>/scale, which changes only the replica count, where patching the workload itself could change its pod template (image, command, service account) and run anything${ns === SYSTEM_NAMESPACE && !context.approvedBy ? `; in ${SYSTEM_NAMESPACE}: refused unless approved` : ""}${context.dryRun ? "; dry-run: sent with dryRun=All" : ""}`,
      },
    ];
    return { calls };
  },
  check,
  apply,
  rollback,
  example: { cluster: "prod-eks", namespace: "shop", pod: "web-7d4b9c8f6d-x2x9q" },
};
