import { builtOnce } from "../lazy.ts";
import * as z from "../zod.ts";
import { deferredReversible } from "./deferred.ts";
import { clusterName } from "./ids.ts";
import { namespaceName, objectName } from "./k8s-objects.ts";
import type { ActionDefinition, PlannedCall } from "./types.ts";

const params = builtOnce(() => z.strictObject({ cluster: clusterName, namespace: namespaceName, pod: objectName }));
export type Params = z.output<ReturnType<typeof params>>;

/** The namespace whose workloads are scaled only when approved: the cluster's own add-ons (CoreDNS, kube-proxy). */
export const SYSTEM_NAMESPACE = "kube-system";

const APPS = ["apps"];

export const scaleWorkload: ActionDefinition<ReturnType<typeof params>> = {
  id: "k8s:scale-workload",
  summary:
    "Scale the Deployment, StatefulSet or ReplicaSet that keeps recreating a malicious pod to zero replicas, found live from the pod's controller owners, through the scale subresource.",
  get params() {
    return params();
  },
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
  ...deferredReversible(() => import("./runtimes.ts").then((m) => m.scaleWorkload)),
  example: { cluster: "prod-eks", namespace: "shop", pod: "web-7d4b9c8f6d-x2x9q" },
};
