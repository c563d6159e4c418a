import { createHash } from "node:crypto";
import { kubePath } from "../kubernetes/api.ts";
import { builtOnce } from "../lazy.ts";
import * as z from "../zod.ts";
import { deferredReversible } from "./deferred.ts";
import { clusterName } from "./ids.ts";
import { assessmentLabels, labelsPatch, namespaceName, objectName } from "./k8s-common.ts";
import { ENFORCER_PATHS } from "./k8s-isolate-pod.enforcer.ts";
import type { ActionDefinition, PlannedCall } from "./types.ts";

/** The label the deny-all NetworkPolicy selects. */
export const ISOLATED_LABEL = "eks-responder.io/isolated";

const params = builtOnce(() => z.strictObject({ cluster: clusterName, namespace: namespaceName, pod: objectName }));
export type Params = z.output<ReturnType<typeof params>>;

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

export const podPath = (p: Params) => kubePath("api", "v1", "namespaces", p.namespace, "pods", p.pod);
export const policiesPath = (ns: string) =>
  kubePath("apis", "networking.k8s.io", "v1", "namespaces", ns, "networkpolicies");
export const policyPath = (ns: string, name: string) => `${policiesPath(ns)}/${encodeURIComponent(name)}`;

export function wantedLabels(assessmentId: string): Record<string, string> {
  return { [ISOLATED_LABEL]: "true", ...assessmentLabels(assessmentId) };
}

/**
 * Deny-all for the pods labelled isolated in the namespace: both policy types and no rule, so no traffic in or out is
 * allowed. @see https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-deny-all-ingress-and-all-egress-traffic
 */
export function policyBody(p: Params, assessmentId: string): Record<string, unknown> {
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

const READ = "read, changes nothing";

export const isolatePod: ActionDefinition<ReturnType<typeof params>> = {
  id: "k8s:isolate-pod",
  summary:
    "Cut a pod's network: label it and create a deny-all NetworkPolicy (ingress and egress) selecting that label, once something in the cluster is found to enforce NetworkPolicies.",
  get params() {
    return params();
  },
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
  ...deferredReversible(() => import("./runtimes.ts").then((m) => m.isolatePod)),
  example: { cluster: "prod-eks", namespace: "payments", pod: "api-7d9f8b6c5-x2k4p" },
};
