import { type KubeClient, kubePath } from "../kubernetes/api.ts";
import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import { clusterName } from "./ids.ts";
import {
  checkLive,
  evidence,
  type Inspected,
  kubeClientOf,
  labelChange,
  labelRestore,
  type OwnerReference,
  objectMeta,
} from "./k8s-common.live.ts";
import { isKubeNotFound, labelsPatch, namespaceName, objectName } from "./k8s-common.ts";
import {
  ISOLATED_LABEL,
  isolatePod,
  type Params,
  podPath,
  policiesPath,
  policyBody,
  policyName,
  policyPath,
  wantedLabels,
} from "./k8s-isolate-pod.action.ts";
import { type EnforcerRead, findEnforcer, noEnforcerReason } from "./k8s-isolate-pod.enforcer.ts";
import type { ApplyContext, ApplyResult, CheckResult } from "./types.ts";

/** k8s:isolate-pod's live reads and changes: imported with every action's, on first use (actions/runtimes.ts). */

const pod = z.looseObject({
  metadata: objectMeta,
  spec: z.optional(z.looseObject({ hostNetwork: z.optional(z.boolean()), nodeName: z.optional(z.string()) })),
});
type Pod = z.output<typeof pod>;

const networkPolicy = z.looseObject({
  metadata: objectMeta,
  spec: z.looseObject({
    podSelector: z.looseObject({
      matchLabels: z.optional(z.record(z.string(), z.string())),
      matchExpressions: z.optional(z.array(z.unknown())),
    }),
    policyTypes: z.optional(z.array(z.string())),
    ingress: z.optional(z.array(z.unknown())),
    egress: z.optional(z.array(z.unknown())),
  }),
});

const undoSchema = z.strictObject({
  cluster: clusterName,
  namespace: namespaceName,
  pod: objectName,
  /** Each label apply set, with its value before (null: absent). */
  labels: labelRestore,
  /** The NetworkPolicy apply created (absent when it was there already). */
  policy: z.optional(z.strictObject({ name: objectName, uid: z.string() })),
});
type Undo = z.output<typeof undoSchema>;

/** Whether a NetworkPolicy is the deny-all this action creates (whoever created it). */
function isDenyAll(raw: unknown): boolean {
  const parsed = networkPolicy.safeParse(raw);
  if (!parsed.success) return false;
  const { podSelector, policyTypes = [], ingress = [], egress = [] } = parsed.data.spec;
  const labels = podSelector.matchLabels ?? {};
  return (
    Object.keys(labels).length === 1 &&
    labels[ISOLATED_LABEL] === "true" &&
    (podSelector.matchExpressions ?? []).length === 0 &&
    policyTypes.includes("Ingress") &&
    policyTypes.includes("Egress") &&
    ingress.length === 0 &&
    egress.length === 0
  );
}

/** The owner kinds read for the evidence (the shipped role can get them); others are recorded, not read. */
const OWNER_KINDS: Record<string, { group: string; resource: string }> = {
  ReplicaSet: { group: "apps", resource: "replicasets" },
  Deployment: { group: "apps", resource: "deployments" },
  StatefulSet: { group: "apps", resource: "statefulsets" },
  DaemonSet: { group: "apps", resource: "daemonsets" },
  Job: { group: "batch", resource: "jobs" },
  CronJob: { group: "batch", resource: "cronjobs" },
};

/**
 * The pod's owners, read live by their ownerReferences, then theirs (a ReplicaSet's Deployment, a Job's CronJob), at
 * most 10 objects: the workload that would recreate the pod, kept as evidence.
 */
async function readOwners(client: KubeClient, log: CallLog, ns: string, refs: readonly OwnerReference[]) {
  const owners: Record<string, unknown>[] = [];
  const queue = [...refs];
  while (queue.length > 0 && owners.length < 10) {
    const ref = queue.shift() as OwnerReference;
    const reference = { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid };
    const known = OWNER_KINDS[ref.kind];
    const [group, version] = ref.apiVersion.split("/");
    if (!known || group !== known.group || !version) {
      owners.push({ reference, notRead: `kind ${ref.apiVersion} ${ref.kind} is not read by this action` });
      continue;
    }
    try {
      const raw = await log.sendKube(client, {
        method: "GET",
        path: kubePath("apis", group, version, "namespaces", ns, known.resource, ref.name),
      });
      const meta = objectMeta.safeParse((raw as { metadata?: unknown }).metadata);
      if (meta.success && meta.data.uid !== ref.uid) {
        owners.push({ reference, gone: `${ref.kind} ${ref.name} was replaced by another object of that name` });
        continue;
      }
      owners.push({ reference, object: evidence(raw) });
      if (meta.success) queue.push(...(meta.data.ownerReferences ?? []));
    } catch (error) {
      if (!isKubeNotFound(error)) throw error;
      owners.push({ reference, gone: `${ref.kind} ${ref.name} no longer exists` });
    }
  }
  return owners;
}

interface Live {
  pod: Pod;
  enforcer: EnforcerRead;
  policyPresent: boolean;
}

async function inspect(p: Params, log: CallLog, client: KubeClient): Promise<Inspected<Live>> {
  let raw: unknown;
  try {
    raw = await log.sendKube(client, { method: "GET", path: podPath(p) });
  } catch (error) {
    // Gone is refused, not "already done": the pod is not isolated, and a controller's replacement (another name)
    // would not be either. The decision then alerts, for a human to look for it.
    if (isKubeNotFound(error)) {
      return {
        status: "refused",
        reason: `pod ${p.namespace}/${p.pod} no longer exists: nothing is isolated (a replacement made by its controller has another name and is not isolated)`,
      };
    }
    throw error;
  }
  const parsed = pod.safeParse(raw);
  if (!parsed.success) return { status: "refused", reason: `the API server's answer for pod ${p.pod} is not a pod` };
  const live = parsed.data;
  const owners = await readOwners(client, log, p.namespace, live.metadata.ownerReferences ?? []);
  const before: Record<string, unknown> = { pod: evidence(raw), owners };
  if (live.spec?.hostNetwork === true) {
    // https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-and-hostnetwork-pods
    return {
      status: "refused",
      reason: `pod ${p.namespace}/${p.pod} uses hostNetwork: it shares its node's network namespace, and no NetworkPolicy applies to it; isolate its node instead (k8s:cordon-node, ec2:isolate-instance)`,
      before,
    };
  }
  if (live.metadata.labels?.["eks.amazonaws.com/fargate-profile"] !== undefined) {
    // https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html (considerations: EC2 Linux nodes only)
    return {
      status: "refused",
      reason: `pod ${p.namespace}/${p.pod} runs on Fargate: no DaemonSet runs there, and the VPC CNI enforces NetworkPolicies on EC2 Linux nodes only; the pod is not isolated`,
      before,
    };
  }
  const reads = await findEnforcer(client, log);
  before.enforcers = reads;
  const enforcer = reads.find((r) => r.enforces);
  if (!enforcer) return { status: "refused", reason: noEnforcerReason(reads), before };
  let policyPresent = false;
  const name = policyName(p.pod);
  try {
    const existing = await log.sendKube(client, { method: "GET", path: policyPath(p.namespace, name) });
    if (!isDenyAll(existing)) {
      return {
        status: "refused",
        reason: `a NetworkPolicy ${p.namespace}/${name} exists and is not eks-responder's deny-all: it is not replaced, and the pod is not isolated`,
        before: { ...before, policy: evidence(existing) },
      };
    }
    policyPresent = true;
  } catch (error) {
    if (!isKubeNotFound(error)) throw error;
  }
  const labelled = live.metadata.labels?.[ISOLATED_LABEL] === "true";
  const state = { pod: live, enforcer, policyPresent };
  if (labelled && policyPresent) {
    return {
      status: "already-done",
      reason: `pod ${p.namespace}/${p.pod} is already isolated (labelled ${ISOLATED_LABEL}, NetworkPolicy ${name} in place; enforced by ${enforcer.what})`,
      before,
    };
  }
  return { status: "needed", before, live: state };
}

export function check(p: Params, ctx: ApplyContext): Promise<CheckResult> {
  return checkLive(p.cluster, ctx, (c, l) => inspect(p, l, c));
}

/** The caveat said with every isolation: what the enforcer does with connections already open. */
function connectionsCaveat(enforcer: EnforcerRead): string {
  // The agent keeps its own conntrack cache of allowed flows, cleaned every --conntrack-cache-cleanup-period (300 s):
  // https://github.com/aws/aws-network-policy-agent#conntrack-cache-cleanup-period-from-v107
  // Kubernetes leaves it to the implementation:
  // https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-s-impact-on-existing-connections
  return enforcer.name === "aws-node"
    ? "connections already open may continue: the VPC CNI network policy agent tracks flows (conntrack), so established flows can keep passing until they close or expire"
    : `connections already open may continue: ${enforcer.what} tracks established connections, and Kubernetes leaves their handling to the implementation`;
}

async function undoLabels(client: KubeClient, log: CallLog, p: Params, labels: Undo["labels"]): Promise<boolean> {
  if (Object.keys(labels).length === 0) return false;
  try {
    await log.sendKube(client, { method: "PATCH", path: podPath(p), body: labelsPatch(labels) });
  } catch (error) {
    if (isKubeNotFound(error)) return false;
    throw error;
  }
  return true;
}

export async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
  const id = isolatePod.id;
  const log = new CallLog(ctx);
  let client: KubeClient;
  let checked: Inspected<Live>;
  try {
    const access = await kubeClientOf(ctx, p.cluster);
    if ("refused" in access) return log.result(id, "refused", access.refused);
    client = access.client;
    checked = await inspect(p, log, client);
  } catch (error) {
    return log.failed(id, error);
  }
  const before = checked.before ? { before: checked.before } : {};
  if (checked.status !== "needed") {
    return log.result(id, checked.status, checked.reason, before);
  }
  const { pod: live, enforcer, policyPresent } = checked.live;
  const caveats = [connectionsCaveat(enforcer)];
  const change = labelChange(live.metadata.labels, wantedLabels(ctx.assessmentId));
  const dryRun = { dryRun: ctx.dryRun };
  let labelled = false;
  try {
    if (Object.keys(change.set).length > 0) {
      await log.sendKube(client, { method: "PATCH", path: podPath(p), body: labelsPatch(change.set) }, dryRun);
      labelled = !ctx.dryRun;
    }
    let created: Undo["policy"];
    if (!policyPresent) {
      const answer = await log.sendKube(
        client,
        { method: "POST", path: policiesPath(p.namespace), body: policyBody(p, ctx.assessmentId) },
        dryRun,
      );
      const meta = objectMeta.safeParse((answer as { metadata?: unknown }).metadata);
      if (!ctx.dryRun) created = { name: policyName(p.pod), uid: meta.success ? meta.data.uid : "" };
    }
    if (ctx.dryRun) {
      return log.result(
        id,
        "would-succeed",
        `dry-run: the API server accepted the label and the NetworkPolicy for pod ${p.namespace}/${p.pod} (dryRun=All, nothing stored); enforced by ${enforcer.what}`,
        { ...before, caveats },
      );
    }
    const undo: Undo = { cluster: p.cluster, namespace: p.namespace, pod: p.pod, labels: change.restore };
    if (created) undo.policy = created;
    return log.result(
      id,
      "applied",
      `isolated pod ${p.namespace}/${p.pod}: labelled ${ISOLATED_LABEL}=true, deny-all NetworkPolicy ${policyName(p.pod)} ${created ? "created" : "already in place"}, enforced by ${enforcer.what}; ${caveats.join("; ")}`,
      { ...before, undo, caveats },
    );
  } catch (error) {
    // Only the labels can have been changed before the failure: put them back.
    if (!labelled) return log.failed(id, error, { ...before, rolledBack: true });
    try {
      await undoLabels(client, log, p, change.restore);
      return log.failed(id, error, { ...before, rolledBack: true });
    } catch {
      const undo: Undo = { cluster: p.cluster, namespace: p.namespace, pod: p.pod, labels: change.restore };
      return log.failed(id, error, { ...before, rolledBack: false, undo });
    }
  }
}

export async function rollback(raw: Record<string, unknown>, ctx: ApplyContext): Promise<ApplyResult> {
  const id = isolatePod.id;
  const log = new CallLog(ctx);
  const u = undoSchema.parse(raw);
  const p = { cluster: u.cluster, namespace: u.namespace, pod: u.pod };
  const said: string[] = [];
  try {
    const access = await kubeClientOf(ctx, u.cluster);
    if ("refused" in access) return log.result(id, "refused", access.refused);
    const client = access.client;
    if (u.policy) {
      // Deleted only if it is still the object apply created (the uid precondition answers 409 Conflict otherwise).
      // https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/delete-options/
      try {
        await log.sendKube(client, {
          method: "DELETE",
          path: policyPath(u.namespace, u.policy.name),
          body: { apiVersion: "v1", kind: "DeleteOptions", preconditions: { uid: u.policy.uid } },
        });
        said.push(`NetworkPolicy ${u.policy.name} deleted`);
      } catch (error) {
        if (!isKubeNotFound(error)) throw error;
        said.push(`NetworkPolicy ${u.policy.name} was already gone`);
      }
    }
    const restored = await undoLabels(client, log, p, u.labels);
    if (Object.keys(u.labels).length > 0)
      said.push(restored ? "labels restored" : "the pod is gone (no labels to restore)");
    return log.result(id, "applied", `pod ${u.namespace}/${u.pod}: ${said.join(", ") || "nothing to undo"}`);
  } catch (error) {
    return log.failed(id, error);
  }
}
