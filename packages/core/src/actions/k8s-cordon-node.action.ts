import { type KubeClient, kubePath } from "../kubernetes/client.ts";
import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import { clusterName, instanceId } from "./ids.ts";
import {
  assessmentLabels,
  checkLive,
  evidence,
  type Inspected,
  isKubeNotFound,
  kubeClientOf,
  labelChange,
  labelRestore,
  objectMeta,
  objectName,
} from "./k8s-common.ts";
import type { ActionDefinition, ApplyContext, ApplyResult, CheckResult, PlannedCall } from "./types.ts";

/** The label cordon-node sets beside the assessment label. */
export const CORDONED_LABEL = "eks-responder.io/cordoned";
/** The labels naming a node's group: an EKS managed node group, or a Karpenter NodePool. */
export const GROUP_LABELS = ["eks.amazonaws.com/nodegroup", "karpenter.sh/nodepool"] as const;

const params = z
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
  );
type Params = z.output<typeof params>;

const node = z.looseObject({
  metadata: objectMeta,
  spec: z.optional(z.looseObject({ unschedulable: z.optional(z.boolean()), providerID: z.optional(z.string()) })),
});
type Node = z.output<typeof node>;
const nodeList = z.looseObject({
  items: z.array(node),
  metadata: z.optional(z.looseObject({ continue: z.optional(z.string()) })),
});

const undoSchema = z.strictObject({
  cluster: clusterName,
  node: objectName,
  /** `spec.unschedulable` before the change. */
  unschedulable: z.boolean(),
  labels: labelRestore,
});
type Undo = z.output<typeof undoSchema>;

const NODES = kubePath("api", "v1", "nodes");
const nodePath = (name: string) => kubePath("api", "v1", "nodes", name);

/**
 * Every node (of a label selector), page by page: a list of a large cluster's nodes in one answer would be tens of MB.
 * @see https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks
 */
async function listNodes(client: KubeClient, log: CallLog, labelSelector?: string): Promise<Node[]> {
  const nodes: Node[] = [];
  let next: string | undefined;
  do {
    const query: Record<string, string> = { limit: "500" };
    if (labelSelector) query.labelSelector = labelSelector;
    if (next) query.continue = next;
    const page = nodeList.parse(await log.sendKube(client, { method: "GET", path: NODES, query }));
    nodes.push(...page.items);
    next = page.metadata?.continue || undefined;
  } while (next);
  return nodes;
}

/** The node asked for, the raw object read (evidence), or why it cannot be found. */
async function findNode(p: Params, client: KubeClient, log: CallLog): Promise<{ raw: unknown } | { refused: string }> {
  if (p.node) {
    try {
      return { raw: await log.sendKube(client, { method: "GET", path: nodePath(p.node) }) };
    } catch (error) {
      if (isKubeNotFound(error)) return { refused: `node ${p.node} does not exist in cluster ${p.cluster}` };
      throw error;
    }
  }
  const suffix = `/${p.instanceId}`;
  const matches = (await listNodes(client, log)).filter((n) => n.spec?.providerID?.endsWith(suffix));
  if (matches.length === 0) {
    return { refused: `no node of cluster ${p.cluster} has a spec.providerID ending with ${suffix}` };
  }
  if (matches.length > 1) {
    return {
      refused: `${matches.length} nodes have a spec.providerID ending with ${suffix}: which one is meant is not known`,
    };
  }
  return { raw: matches[0] };
}

/** Whether cordoning leaves its group (or, for a node of no known group, the cluster) without a schedulable node. */
async function lastSchedulable(n: Node, client: KubeClient, log: CallLog): Promise<string | undefined> {
  const key = GROUP_LABELS.find((k) => n.metadata.labels?.[k] !== undefined);
  const value = key ? n.metadata.labels?.[key] : undefined;
  const peers = await listNodes(client, log, key ? `${key}=${value}` : undefined);
  const schedulable = peers.filter(
    (peer) =>
      peer.metadata.name !== n.metadata.name && peer.spec?.unschedulable !== true && !peer.metadata.deletionTimestamp,
  );
  if (schedulable.length > 0) return undefined;
  return key ? `node group ${value} (${key})` : "the cluster (the node has no node group label)";
}

interface Live {
  node: Node;
  name: string;
}

async function inspect(p: Params, ctx: ApplyContext, client: KubeClient, log: CallLog): Promise<Inspected<Live>> {
  const found = await findNode(p, client, log);
  if ("refused" in found) return { status: "refused", reason: found.refused };
  const parsed = node.safeParse(found.raw);
  if (!parsed.success) return { status: "refused", reason: "the API server's answer is not a node" };
  const before = { node: evidence(found.raw) };
  const name = parsed.data.metadata.name;
  if (parsed.data.spec?.unschedulable === true) {
    return { status: "already-done", reason: `node ${name} is already unschedulable (cordoned)`, before };
  }
  const last = await lastSchedulable(parsed.data, client, log);
  if (last && !ctx.approvedBy) {
    return {
      status: "refused",
      reason: `node ${name} is the last schedulable node of ${last}: cordoning it leaves new pods of the group nowhere to go; refused without a human's approval`,
      before,
    };
  }
  return { status: "needed", before, live: { node: parsed.data, name } };
}

function check(p: Params, ctx: ApplyContext): Promise<CheckResult> {
  return checkLive(p.cluster, ctx, (c, l) => inspect(p, ctx, c, l));
}

/** A merge patch of labels and `spec.unschedulable` (`null` removes the field: a node never cordoned has none). */
function nodePatch(labels: Readonly<Record<string, string | null>>, unschedulable: true | null) {
  return { metadata: { labels: { ...labels } }, spec: { unschedulable } };
}

const DRAIN =
  "the node is not drained: its pods keep running (the evidence stays) until a human decides; only new pods are kept off it";

async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
  const id = cordonNode.id;
  const log = new CallLog(ctx);
  try {
    const access = await kubeClientOf(ctx, p.cluster);
    if ("refused" in access) return log.result(id, "refused", access.refused);
    const client = access.client;
    const checked = await inspect(p, ctx, client, log);
    const before = checked.before ? { before: checked.before } : {};
    if (checked.status !== "needed") {
      return log.result(id, checked.status, checked.reason, before);
    }
    const { node: live, name } = checked.live;
    const change = labelChange(live.metadata.labels, {
      [CORDONED_LABEL]: "true",
      ...assessmentLabels(ctx.assessmentId),
    });
    // One patch: the node is cordoned and labelled together, or not at all (nothing to undo on a failure).
    await log.sendKube(
      client,
      { method: "PATCH", path: nodePath(name), body: nodePatch(change.set, true) },
      { dryRun: ctx.dryRun },
    );
    if (ctx.dryRun) {
      return log.result(
        id,
        "would-succeed",
        `dry-run: the API server accepted cordoning node ${name} (dryRun=All, nothing stored)`,
        before,
      );
    }
    const undo: Undo = { cluster: p.cluster, node: name, unschedulable: false, labels: change.restore };
    const approved = ctx.approvedBy ? ` (approved by ${ctx.approvedBy})` : "";
    return log.result(id, "applied", `cordoned node ${name}${approved}; ${DRAIN}`, {
      ...before,
      undo,
      caveats: [DRAIN],
    });
  } catch (error) {
    return log.failed(id, error, { rolledBack: true });
  }
}

async function rollback(raw: Record<string, unknown>, ctx: ApplyContext): Promise<ApplyResult> {
  const id = cordonNode.id;
  const log = new CallLog(ctx);
  const u = undoSchema.parse(raw);
  try {
    const access = await kubeClientOf(ctx, u.cluster);
    if ("refused" in access) return log.result(id, "refused", access.refused);
    const body = nodePatch(u.labels, u.unschedulable ? true : null);
    try {
      await log.sendKube(access.client, { method: "PATCH", path: nodePath(u.node), body });
    } catch (error) {
      if (!isKubeNotFound(error)) throw error;
      return log.result(id, "applied", `node ${u.node} no longer exists: nothing to restore`);
    }
    return log.result(
      id,
      "applied",
      `node ${u.node}: ${u.unschedulable ? "left unschedulable, as it was" : "schedulable again"}, labels restored`,
    );
  } catch (error) {
    return log.failed(id, error);
  }
}

export const cordonNode: ActionDefinition<typeof params> = {
  id: "k8s:cordon-node",
  summary:
    "Mark a node unschedulable (cordon) and label it, so that no new pod lands on it; never drains it, so its pods stay as evidence.",
  params,
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
  check,
  apply,
  rollback,
  example: { cluster: "prod-eks", instanceId: "i-0f1e2d3c4b5a69788" },
};
