import { kubePath } from "../kubernetes/api.ts";
import { builtOnce } from "../lazy.ts";
import * as z from "../zod.ts";
import { deferredReversible } from "./deferred.ts";
import { clusterName, instanceId } from "./ids.ts";
import { assessmentLabels, objectName } from "./k8s-common.ts";
import type { ActionDefinition, PlannedCall } from "./types.ts";

/** The label cordon-node sets beside the assessment label. */
export const CORDONED_LABEL = "eks-responder.io/cordoned";

const params = builtOnce(() =>
  z
    .strictObject({
      cluster: clusterName,
      /** The Node's name. */
      node: z.optional(objectName),
      /** An EC2 instance id: the Node whose spec.providerID ends with /<instanceId> (EKS writes aws:///<az>/<id>). */
      instanceId: z.optional(instanceId),
    })
    .check(
      z.refine((p) => (p.node === undefined) !== (p.instanceId === undefined), {
        message: "exactly one of node or instanceId is required",
      }),
    ),
);
export type Params = z.output<ReturnType<typeof params>>;

export const NODES = kubePath("api", "v1", "nodes");
export const nodePath = (name: string) => kubePath("api", "v1", "nodes", name);

/** A merge patch of labels and `spec.unschedulable` (`null` removes the field: a node never cordoned has none). */
export function nodePatch(labels: Readonly<Record<string, string | null>>, unschedulable: true | null) {
  return { metadata: { labels: { ...labels } }, spec: { unschedulable } };
}

export const DRAIN =
  "the node is not drained: its pods keep running (the evidence stays) until a human decides; only new pods are kept off it";

export const cordonNode: ActionDefinition<ReturnType<typeof params>> = {
  id: "k8s:cordon-node",
  summary:
    "Mark a node unschedulable (cordon) and label it, so that no new pod lands on it; never drains it, so its pods stay as evidence.",
  get params() {
    return params();
  },
  permissions: [],
  rollbackPermissions: [],
  kubernetesPermissions: [{ apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "patch"] }],
  kubernetesRollbackPermissions: [],
  destructive: true,
  reversible: true,
  preconditions: [
    "Kubernetes access to the cluster is set up (ApplyContext.kubernetes); otherwise it refuses",
    "the node exists (by name, or as the one node whose spec.providerID ends with /<instanceId>); otherwise it refuses",
    "a node already unschedulable is already done (nothing changed, so a rollback never uncordons it)",
    "never the last schedulable node of its node group (label eks.amazonaws.com/nodegroup or karpenter.sh/nodepool; the whole cluster for a node of neither) unless a human approved the plan (PlanContext.approvedBy)",
  ],
  notCovered: [
    DRAIN,
    "DaemonSet pods, and any pod that tolerates the node.kubernetes.io/unschedulable taint, can still be scheduled on it",
    "the node's network, its instance and the node role's credentials are untouched: isolate the instance for that (ec2:isolate-instance)",
    "the node group's autoscaler (Cluster Autoscaler, Karpenter) still manages the node: it may add a node beside it, or scale it in and with it the evidence",
  ],
  rollbackSummary:
    "restore spec.unschedulable as read before the change and put back exactly the labels it set, from the recorded undo",
  plan(p, ctx) {
    const name = p.node ?? `<node of ${p.instanceId}>`;
    const path = p.node ? nodePath(p.node) : `${NODES}/${name}`;
    const dry = ctx.dryRun ? "; sent with dryRun=All (the API server validates and authorizes it, stores nothing)" : "";
    const approval = ctx.approvedBy
      ? `approved by ${ctx.approvedBy}: cordoned even when it is the last one`
      : "refused when it is the last one, as nobody approved";
    const calls: PlannedCall[] = [
      p.node
        ? {
            service: "kubernetes",
            operation: `GET ${path}`,
            params: {},
            note: "read, changes nothing: the live node, recorded before anything changes; already unschedulable: already done",
          }
        : {
            service: "kubernetes",
            operation: `GET ${NODES}`,
            params: {},
            note: `read, changes nothing: the nodes, 500 a page, for the one whose spec.providerID ends with /${p.instanceId}, recorded before anything changes; already unschedulable: already done`,
          },
      {
        service: "kubernetes",
        operation: `GET ${NODES}`,
        params: {},
        note: `read, changes nothing: the schedulable nodes of its node group (labelSelector eks.amazonaws.com/nodegroup or karpenter.sh/nodepool, the whole cluster for a node of neither); ${approval}`,
      },
      {
        service: "kubernetes",
        operation: `PATCH ${path}`,
        params: nodePatch({ [CORDONED_LABEL]: "true", ...assessmentLabels(ctx.assessmentId) }, true),
        note: `merge patch: cordon and label in one call (labels already set are left out); never drained${dry}`,
      },
    ];
    return { calls };
  },
  ...deferredReversible(() => import("./runtimes.ts").then((m) => m.cordonNode)),
  example: { cluster: "prod-eks", instanceId: "i-0f1e2d3c4b5a69788" },
};
