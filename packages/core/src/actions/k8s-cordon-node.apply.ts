import type { KubeClient } from "../kubernetes/api.ts";
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
  objectMeta,
} from "./k8s-common.live.ts";
import { assessmentLabels, isKubeNotFound, objectName } from "./k8s-common.ts";
import {
  CORDONED_LABEL,
  cordonNode,
  DRAIN,
  NODES,
  nodePatch,
  nodePath,
  type Params,
} from "./k8s-cordon-node.action.ts";
import type { ApplyContext, ApplyResult, CheckResult } from "./types.ts";

/** k8s:cordon-node's live reads and changes: imported with every action's, on first use (actions/runtimes.ts). */

/** The labels naming a node's group: an EKS managed node group, or a Karpenter NodePool. */
export const GROUP_LABELS = ["eks.amazonaws.com/nodegroup", "karpenter.sh/nodepool"] as const;

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

export function check(p: Params, ctx: ApplyContext): Promise<CheckResult> {
  return checkLive(p.cluster, ctx, (c, l) => inspect(p, ctx, c, l));
}

export async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
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

export async function rollback(raw: Record<string, unknown>, ctx: ApplyContext): Promise<ApplyResult> {
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
