/**
 * What the live code of `k8s:revoke-binding` and `k8s:scale-workload` shares (their `*.apply.ts` modules): the
 * Kubernetes client of the cluster (refused when the context has no Kubernetes access), the parts of the API objects
 * they read (parsed with zod, every other field kept as it came), and the walk from a pod up its controller owners.
 * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/owners-dependents/
 */
import { KubeApiError, type KubeClient, kubePath } from "../kubernetes/api.ts";
import * as z from "../zod.ts";
import { type OwnerReference, objectMeta, ownerReference } from "./k8s-common.live.ts";

export type { OwnerReference };

import type { CallLog } from "./calls.ts";
import type { ApplyContext } from "./types.ts";

/** The Kubernetes client of `cluster`, or why there is none (a Kubernetes action then refuses, never throws). */
export async function kubeClientFor(
  ctx: ApplyContext,
  cluster: string,
): Promise<{ client: KubeClient } | { refused: string }> {
  if (!ctx.kubernetes) {
    return {
      refused: `no Kubernetes access to cluster ${cluster} is set up here (ApplyContext.kubernetes): nothing was read or changed`,
    };
  }
  return { client: await ctx.kubernetes(cluster) };
}

export const ownerReferenceSchema = ownerReference;

/** ObjectMeta as the RBAC and scale paths read it: a resourceVersion always (their deletes and patches carry it). */
export const objectMetaSchema = z.looseObject({
  ...objectMeta.shape,
  resourceVersion: z.string(),
});

export const subjectSchema = z.looseObject({
  kind: z.string(),
  name: z.string(),
  namespace: z.optional(z.string()),
  apiGroup: z.optional(z.string()),
});
export type Subject = z.output<typeof subjectSchema>;

/** A ClusterRoleBinding or RoleBinding (rbac.authorization.k8s.io/v1): `subjects` may be absent. */
export const bindingSchema = z.looseObject({
  metadata: objectMetaSchema,
  subjects: z.optional(z.array(subjectSchema)),
  roleRef: z.looseObject({ apiGroup: z.string(), kind: z.enum(["ClusterRole", "Role"]), name: z.string() }),
});
export type Binding = z.output<typeof bindingSchema>;

const policyRuleSchema = z.looseObject({
  verbs: z.array(z.string()),
  apiGroups: z.optional(z.array(z.string())),
  resources: z.optional(z.array(z.string())),
  nonResourceURLs: z.optional(z.array(z.string())),
});
/** A ClusterRole or Role: `rules` may be absent (an aggregated ClusterRole not filled yet). */
export const roleSchema = z.looseObject({ metadata: objectMetaSchema, rules: z.optional(z.array(policyRuleSchema)) });
export type Role = z.output<typeof roleSchema>;

/** A Pod, ReplicaSet, Deployment or StatefulSet as far as the owner walk reads it. */
export const workloadSchema = z.looseObject({
  metadata: objectMetaSchema,
  spec: z.optional(z.looseObject({ replicas: z.optional(z.number().check(z.int(), z.minimum(0))) })),
});
export type Workload = z.output<typeof workloadSchema>;

/** Thrown when a live object does not have the shape the action relies on: it is reported, never acted on. */
export class KubeObjectShapeError extends Error {
  override name = "KubeObjectShapeError";
  readonly code = "ACTION.UNEXPECTED_ANSWER";
}

/** Parses a live object with `schema`, or throws KubeObjectShapeError naming what was read. */
export function parseObject<S extends z.ZodMiniType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new KubeObjectShapeError(`${what}: unexpected object: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function isKubeStatus(error: unknown, status: number): error is KubeApiError {
  return error instanceof KubeApiError && error.status === status;
}

/** GET an object; `undefined` when it does not exist (404, recorded `not-found`). */
export async function getObject(log: CallLog, client: KubeClient, path: string): Promise<unknown> {
  try {
    return await log.sendKube(client, { method: "GET", path });
  } catch (error) {
    if (isKubeStatus(error, 404)) return undefined;
    throw error;
  }
}

/** The owner kinds the walk follows, with their API path segment (all apps/v1). */
export const SCALABLE = { Deployment: "deployments", StatefulSet: "statefulsets", ReplicaSet: "replicasets" } as const;
export type ScalableKind = keyof typeof SCALABLE;

export function isScalableKind(kind: string): kind is ScalableKind {
  return Object.hasOwn(SCALABLE, kind);
}

export function appsPath(kind: ScalableKind, namespace: string, name: string, subresource?: "scale"): string {
  const segments = ["apis", "apps", "v1", "namespaces", namespace, SCALABLE[kind], name];
  return kubePath(...(subresource ? [...segments, subresource] : segments));
}

/** The owner reference marked `controller: true`: at most one per object (the API server validates it). */
export function controllerOf(meta: { ownerReferences?: OwnerReference[] | undefined }): OwnerReference | undefined {
  return meta.ownerReferences?.find((o) => o.controller === true);
}

/** One object of an owner chain, as recorded in `before` and the undo. */
export interface ChainLink {
  kind: string;
  name: string;
  uid: string;
}

/** The top workload with the chain to it, or why there is none to scale (said in the refusal). */
export type OwnerWalk =
  | { found: { kind: ScalableKind; object: Workload }; chain: ChainLink[] }
  | { refused: string; chain: ChainLink[] };

const NOT_SCALED: Record<string, string> = {
  DaemonSet:
    "a DaemonSet runs one pod on every node it selects and has no replica count, so scaling does not apply (changing its node selector or deleting it is the operator's call)",
  Job: "a Job runs its pods to completion and has no scale subresource, so scaling does not apply (suspending or deleting it, or its CronJob, is the operator's call)",
};

/**
 * From the pod up its controller owners, live: pod → ReplicaSet → Deployment, pod → StatefulSet, or pod → ReplicaSet
 * with no controller (a bare ReplicaSet). Each owner read must carry the uid its dependent's reference names: a
 * workload deleted and recreated under the same name is not the one that owned the pod, and the walk refuses.
 */
export async function walkOwners(log: CallLog, client: KubeClient, namespace: string, pod: string): Promise<OwnerWalk> {
  const chain: ChainLink[] = [];
  const podPath = kubePath("api", "v1", "namespaces", namespace, "pods", pod);
  const podRead = await getObject(log, client, podPath);
  if (podRead === undefined) {
    return { refused: `pod ${namespace}/${pod} no longer exists: its owner cannot be read from it`, chain };
  }
  let current: { kind: string; object: Workload } = {
    kind: "Pod",
    object: parseObject(workloadSchema, podRead, `pod ${namespace}/${pod}`),
  };
  chain.push({ kind: "Pod", name: pod, uid: current.object.metadata.uid });
  for (;;) {
    const owner = controllerOf(current.object.metadata);
    const here = `${current.kind} ${namespace}/${current.object.metadata.name}`;
    if (!owner) {
      if (current.kind === "Pod") {
        return {
          refused: `pod ${namespace}/${pod} has no controller owner: nothing would recreate it, so there is no workload to scale; deleting the pod is the operator's call (it takes the evidence with it)`,
          chain,
        };
      }
      if (isScalableKind(current.kind)) return { found: { kind: current.kind, object: current.object }, chain };
      return { refused: `${here} is not a workload this action scales`, chain };
    }
    const group = owner.apiVersion.split("/")[0];
    if (owner.kind in NOT_SCALED && (group === "apps" || group === "batch")) {
      chain.push({ kind: owner.kind, name: owner.name, uid: owner.uid });
      return { refused: `${here} is owned by ${owner.kind} ${owner.name}: ${NOT_SCALED[owner.kind]}`, chain };
    }
    // A ReplicaSet's owner must be a Deployment, and a pod's a StatefulSet or ReplicaSet: anything else (an Argo
    // Rollout, a ReplicationController, an operator's custom resource) scales its pods back by its own logic.
    const next = owner.apiVersion === "apps/v1" && isScalableKind(owner.kind) ? owner.kind : undefined;
    const allowed =
      current.kind === "ReplicaSet" ? next === "Deployment" : current.kind === "Pod" && next !== undefined;
    if (!next || !allowed) {
      chain.push({ kind: owner.kind, name: owner.name, uid: owner.uid });
      return {
        refused: `${here} is controlled by ${owner.kind} ${owner.name} (${owner.apiVersion}), which this action does not scale: that controller would scale it back`,
        chain,
      };
    }
    const read = await getObject(log, client, appsPath(next, namespace, owner.name));
    if (read === undefined) {
      return { refused: `${next} ${namespace}/${owner.name}, the owner of ${here}, no longer exists`, chain };
    }
    const object = parseObject(workloadSchema, read, `${next} ${namespace}/${owner.name}`);
    if (object.metadata.uid !== owner.uid) {
      return {
        refused: `${next} ${namespace}/${owner.name} has uid ${object.metadata.uid}, not ${owner.uid} as ${here} names: it was replaced, and is not the workload that owns the pod`,
        chain,
      };
    }
    chain.push({ kind: next, name: owner.name, uid: object.metadata.uid });
    current = { kind: next, object };
  }
}
