import { createHash } from "node:crypto";
import { type KubeClient, kubePath } from "../kubernetes/client.ts";
import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import { clusterName } from "./ids.ts";
import {
  assessmentLabels,
  checkLive,
  evidence,
  type Inspected,
  isKubeNotFound,
  kubeClientOf,
  labelChange,
  labelRestore,
  labelsPatch,
  namespaceName,
  type OwnerReference,
  objectMeta,
  objectName,
} from "./k8s-common.ts";
import { ENFORCER_PATHS, type EnforcerRead, findEnforcer, noEnforcerReason } from "./k8s-isolate-pod.enforcer.ts";
import type { ActionDefinition, ApplyContext, ApplyResult, CheckResult, PlannedCall } from "./types.ts";

/** The label the deny-all NetworkPolicy selects. */
export const ISOLATED_LABEL = "eks-responder.io/isolated";

const params = z.strictObject({ cluster: clusterName, namespace: namespaceName, pod: objectName });
type Params = z.output<typeof params>;

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

const PREFIX = "eks-responder-isolate-";

/**
 * The NetworkPolicy's name: `eks-responder-isolate-<pod>`; past the 253 characters of a name, the pod's name is cut
 * and followed by 10 hex characters of its SHA-256, so the name stays stable and distinct.
 */
export function policyName(podName: string): string {
  const full = `${PREFIX}${podName}`;
  if (full.length <= 253) return full;
  const hash = createHash("sha256").update(podName).digest("hex").slice(0, 10);
  const cut = podName.slice(0, 253 - PREFIX.length - hash.length - 1).replace(/[.-]+$/, "");
  return `${PREFIX}${cut}-${hash}`;
}

const podPath = (p: Params) => kubePath("api", "v1", "namespaces", p.namespace, "pods", p.pod);
const policiesPath = (ns: string) => kubePath("apis", "networking.k8s.io", "v1", "namespaces", ns, "networkpolicies");
const policyPath = (ns: string, name: string) => `${policiesPath(ns)}/${encodeURIComponent(name)}`;

function wantedLabels(assessmentId: string): Record<string, string> {
  return { [ISOLATED_LABEL]: "true", ...assessmentLabels(assessmentId) };
}

/**
 * Deny-all for the pods labelled isolated in the namespace: both policy types and no rule, so no traffic in or out is
 * allowed. @see https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-deny-all-ingress-and-all-egress-traffic
 */
function policyBody(p: Params, assessmentId: string): Record<string, unknown> {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: {
      name: policyName(p.pod),
      namespace: p.namespace,
      labels: assessmentLabels(assessmentId),
      annotations: { "eks-responder.io/pod": p.pod },
    },
    spec: { podSelector: { matchLabels: { [ISOLATED_LABEL]: "true" } }, policyTypes: ["Ingress", "Egress"] },
  };
}

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

function check(p: Params, ctx: ApplyContext): Promise<CheckResult> {
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

async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
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

async function rollback(raw: Record<string, unknown>, ctx: ApplyContext): Promise<ApplyResult> {
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

const READ = "read, changes nothing";

export const isolatePod: ActionDefinition<typeof params> = {
  id: "k8s:isolate-pod",
  summary:
    "Cut a pod's network: label it and create a deny-all NetworkPolicy (ingress and egress) selecting that label, once something in the cluster is found to enforce NetworkPolicies.",
  params,
  permissions: [],
  rollbackPermissions: [],
  kubernetesPermissions: [
    { apiGroups: [""], resources: ["pods"], verbs: ["get", "patch"] },
    { apiGroups: ["apps"], resources: ["daemonsets", "deployments", "replicasets", "statefulsets"], verbs: ["get"] },
    { apiGroups: ["batch"], resources: ["cronjobs", "jobs"], verbs: ["get"] },
    { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["create", "get"] },
  ],
  // Apply never deletes a NetworkPolicy (the policy is its last step): deleting them is the operator's, never the
  // responder's, who could otherwise remove any policy of the cluster.
  kubernetesRollbackPermissions: [
    { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["delete"] },
  ],
  destructive: true,
  reversible: true,
  preconditions: [
    "Kubernetes access to the cluster is set up (ApplyContext.kubernetes); otherwise it refuses",
    "the pod exists (a pod that is gone is refused: nothing was isolated), does not use hostNetwork and does not run on Fargate",
    "something enforces NetworkPolicies: the Amazon VPC CNI network policy agent (kube-system/aws-node with its aws-eks-nodeagent container run with --enable-network-policy=true, the add-on's enableNetworkPolicy), Calico (calico-node in kube-system or calico-system) or Cilium (kube-system/cilium), with a ready pod; otherwise it refuses and names what would",
    "a NetworkPolicy of the same name that is not the deny-all is never replaced: it refuses",
    "the pod labelled and the policy in place: already done",
  ],
  notCovered: [
    "connections already open may continue: Kubernetes leaves them to the enforcer, and the VPC CNI network policy agent tracks flows (conntrack), so established flows can keep passing until they close or expire",
    "a hostNetwork pod shares its node's network namespace and no NetworkPolicy applies to it: such a pod is refused; isolate its node instead (k8s:cordon-node, ec2:isolate-instance)",
    "the pod's service-account token stays valid: a copy taken out of the pod still works against the API server until it expires or the service account is deleted",
    "the node is not isolated: the node's own network, the kubelet and the other pods on it are untouched (k8s:cordon-node, ec2:isolate-instance)",
    "the enforcer is recognised by its DaemonSet having a ready pod somewhere in the cluster, not on the pod's own node; Cilium's policy-enforcement-mode and Windows nodes are not checked",
    "the pod keeps running (its processes, files and memory stay as evidence); a replacement its controller makes carries no isolation label",
  ],
  rollbackSummary:
    "delete the NetworkPolicy apply created (only if its uid is still the one created) and put back exactly the pod labels it set, from the recorded undo",
  plan(p, ctx) {
    const dry = ctx.dryRun ? "; sent with dryRun=All (the API server validates and authorizes it, stores nothing)" : "";
    const calls: PlannedCall[] = [
      {
        service: "kubernetes",
        operation: `GET ${podPath(p)}`,
        params: {},
        note: `${READ}: the live pod, recorded before anything changes with its owners (each read by its ownerReferences: ReplicaSet, Deployment, StatefulSet, DaemonSet, Job, CronJob); refused when it is gone, uses hostNetwork or runs on Fargate`,
      },
      ...ENFORCER_PATHS.map((path) => ({
        service: "kubernetes" as const,
        operation: `GET ${path}`,
        params: {},
        note: `${READ}: does this DaemonSet enforce NetworkPolicies (read in order, up to the first that does; refused when none does)`,
      })),
      {
        service: "kubernetes",
        operation: `GET ${policyPath(p.namespace, policyName(p.pod))}`,
        params: {},
        note: `${READ}: the deny-all already in place (a policy of that name that is not the deny-all is refused)`,
      },
      {
        service: "kubernetes",
        operation: `PATCH ${podPath(p)}`,
        params: labelsPatch(wantedLabels(ctx.assessmentId)),
        note: `merge patch of the pod's labels (only those not already set); the labels' values before are recorded for rollback${dry}`,
      },
      {
        service: "kubernetes",
        operation: `POST ${policiesPath(p.namespace)}`,
        params: policyBody(p, ctx.assessmentId),
        note: `deny-all ingress and egress for the pods labelled ${ISOLATED_LABEL}=true in ${p.namespace} (unless already in place)${dry}`,
      },
    ];
    return { calls };
  },
  check,
  apply,
  rollback,
  example: { cluster: "prod-eks", namespace: "payments", pod: "api-7d9f8b6c5-x2k4p" },
};
