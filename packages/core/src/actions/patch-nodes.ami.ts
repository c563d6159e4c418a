import type { Nodegroup } from "@aws-sdk/client-eks";
import type { CallLog } from "./calls.ts";
import { ec2TagRecord } from "./ec2-tags.ts";
import { describeCluster, runEksUpdate, UPDATE_FAILED, UPDATE_STILL_IN_PROGRESS } from "./eks-calls.ts";
import type { ApplyContext, PlanContext } from "./types.ts";

/**
 * The nodes Patch Manager cannot patch (Bottlerocket, other platforms it does not support) go to their node group's
 * AMI update when EKS manages the node group: UpdateNodegroupVersion replaces the nodes with ones from the latest AMI
 * release, draining each first and respecting the node group's update config (maxUnavailable or
 * maxUnavailablePercentage nodes at once: https://docs.aws.amazon.com/eks/latest/APIReference/API_NodegroupUpdateConfig.html)
 * and PodDisruptionBudgets (force is never sent). Without a version, EKS takes the latest AMI release of the node
 * group's current Kubernetes version; with the cluster's version, the latest of the cluster's
 * (https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateNodegroupVersion.html). The update answers the
 * Version and ReleaseVersion it moves to in its params (Update.params, type Version / ReleaseVersion).
 */

/** The tags EKS sets on the nodes of a managed node group (https://docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html). */
export const NODEGROUP_TAG = "eks:nodegroup-name";
export const NODEGROUP_CLUSTER_TAG = "eks:cluster-name";
/** Karpenter tags the nodes it launches with their NodePool (https://karpenter.sh/docs/concepts/nodepools/). */
export const KARPENTER_NODEPOOL_TAG = "karpenter.sh/nodepool";

/** Instance ids per DescribeInstances when tags are read by id: a bounded request (only the nodes Patch Manager does not patch are read). */
const TAG_READ_BATCH = 200;

/** One managed node group's AMI update, as planned from the live node group and cluster. */
export interface AmiUpdate {
  clusterName: string;
  nodegroupName: string;
  /** The nodes of this run in it that Patch Manager does not patch. */
  instanceIds: string[];
  request: { clusterName: string; nodegroupName: string; version?: string; releaseVersion?: string };
  /** What it moves to, in words: "the latest AMI release of Kubernetes 1.30 (the cluster's)". */
  target: string;
  /** Read from the node group: how many nodes EKS replaces at once. */
  updateConfig: string;
}

/** Why a node Patch Manager does not patch is not given to an AMI update, when it is not in a managed node group. */
export function notManaged(tags: Record<string, string>, platform: string): string {
  if (tags[KARPENTER_NODEPOOL_TAG] !== undefined) {
    return `${platform}; a Karpenter node (NodePool ${tags[KARPENTER_NODEPOOL_TAG]}): Karpenter replaces it through drift when its EC2NodeClass's AMI changes, nothing is sent here`;
  }
  return `${platform}; not in an EKS managed node group (self-managed): update its launch template's AMI and replace the node, nothing is sent here`;
}

function updateConfigOf(ng: Nodegroup): string {
  const c = ng.updateConfig;
  if (c?.maxUnavailablePercentage !== undefined) return `at most ${c.maxUnavailablePercentage}% of its nodes at once`;
  return `at most ${c?.maxUnavailable ?? 1} node(s) at once`;
}

/**
 * Reads each node group and its cluster's version, and plans its update; a node group that cannot be updated this way
 * (a custom AMI, an update already running, not ACTIVE) is returned in `refused` with the reason.
 */
export async function planAmiUpdates(
  groups: Map<string, { clusterName: string; nodegroupName: string; instanceIds: string[] }>,
  releaseVersion: string | undefined,
  ctx: ApplyContext,
  log: CallLog,
): Promise<{ updates: AmiUpdate[]; refused: Record<string, string> }> {
  const { DescribeNodegroupCommand } = await import("../aws/eks.ts");
  const eks = await ctx.clients.eks();
  const versions = new Map<string, string | undefined>();
  const updates: AmiUpdate[] = [];
  const refused: Record<string, string> = {};
  for (const g of groups.values()) {
    const request = { clusterName: g.clusterName, nodegroupName: g.nodegroupName };
    const answer = await log.send("eks", "DescribeNodegroup", request, () =>
      eks.send(new DescribeNodegroupCommand(request)),
    );
    const ng = answer === "dry-run-ok" ? undefined : answer.nodegroup;
    const name = `node group ${g.nodegroupName} of ${g.clusterName}`;
    if (!ng) throw new Error(`DescribeNodegroup returned no ${name}`);
    if (ng.amiType === "CUSTOM") {
      refused[name] = `${name} runs a custom AMI from its launch template: update the launch template's AMI instead`;
      continue;
    }
    if (ng.status !== "ACTIVE") {
      refused[name] = `${name} is ${ng.status ?? "in an unknown state"}: an update is not started (one may be running)`;
      continue;
    }
    if (!versions.has(g.clusterName))
      versions.set(g.clusterName, (await describeCluster(ctx, log, g.clusterName)).version);
    const clusterVersion = versions.get(g.clusterName);
    const own = ng.version;
    const sameVersion = clusterVersion !== undefined && own === clusterVersion;
    const target = releaseVersion
      ? `AMI release ${releaseVersion}`
      : sameVersion
        ? `the latest AMI release of Kubernetes ${clusterVersion} (the cluster's)`
        : `the latest AMI release of Kubernetes ${own ?? "?"} (the node group's own; the cluster is on ${clusterVersion ?? "?"}: its Kubernetes version is not upgraded here)`;
    updates.push({
      ...g,
      request: {
        ...request,
        ...(releaseVersion ? { releaseVersion } : sameVersion ? { version: clusterVersion } : {}),
      },
      target: `${target}, from ${ng.releaseVersion ?? "an unknown release"}`,
      updateConfig: updateConfigOf(ng),
    });
  }
  return { updates, refused };
}

export interface AmiUpdateResult {
  nodegroup: string;
  status: "successful" | "failed" | "in-progress";
  updateId?: string;
  /** The release EKS answered it moves to (Update.params ReleaseVersion), when it said. */
  releaseVersion?: string;
  reason: string;
  errorCode?: string;
}

/** Starts each update and follows it through DescribeUpdate within the caller's wait (eks-calls.ts). */
export async function runAmiUpdates(updates: AmiUpdate[], ctx: ApplyContext, log: CallLog): Promise<AmiUpdateResult[]> {
  const { UpdateNodegroupVersionCommand } = await import("../aws/eks.ts");
  const eks = await ctx.clients.eks();
  const results: AmiUpdateResult[] = [];
  for (const u of updates) {
    const nodegroup = `${u.clusterName}/${u.nodegroupName}`;
    let released: string | undefined;
    const outcome = await runEksUpdate(ctx, log, {
      operation: "UpdateNodegroupVersion",
      params: { ...u.request },
      what: `node group ${nodegroup}`,
      describe: { name: u.clusterName, nodegroupName: u.nodegroupName },
      start: async () => {
        const update = (await eks.send(new UpdateNodegroupVersionCommand(u.request))).update;
        released = update?.params?.find((p) => p.type === "ReleaseVersion")?.value;
        return update;
      },
    });
    const base = { nodegroup, ...(released ? { releaseVersion: released } : {}) };
    switch (outcome.status) {
      case "successful":
        results.push({
          ...base,
          status: "successful",
          updateId: outcome.updateId,
          reason: `update ${outcome.updateId} Successful`,
        });
        break;
      case "no-change":
        results.push({
          ...base,
          status: "successful",
          reason: `EKS answered that no change is needed (${outcome.message})`,
        });
        break;
      case "failed":
        results.push({
          ...base,
          status: "failed",
          updateId: outcome.updateId,
          reason: `update ${outcome.updateId} ${outcome.updateStatus}: ${outcome.errors}`,
          errorCode: UPDATE_FAILED,
        });
        break;
      case "still-in-progress":
        results.push({ ...base, status: "in-progress", reason: outcome.reason, errorCode: UPDATE_STILL_IN_PROGRESS });
    }
  }
  return results;
}

/** The tags of instances named by id (instanceIds given): read only for the nodes Patch Manager does not patch. */
async function tagsOf(ids: string[], ctx: ApplyContext, log: CallLog): Promise<Map<string, Record<string, string>>> {
  const { DescribeInstancesCommand } = await import("../aws/ec2.ts");
  const ec2 = await ctx.clients.ec2();
  const found = new Map<string, Record<string, string>>();
  for (let i = 0; i < ids.length; i += TAG_READ_BATCH) {
    const request = { InstanceIds: ids.slice(i, i + TAG_READ_BATCH) };
    const page = await log.send("ec2", "DescribeInstances", request, () =>
      ec2.send(new DescribeInstancesCommand(request)),
    );
    if (page === "dry-run-ok") continue;
    for (const r of page.Reservations ?? [])
      for (const i of r.Instances ?? []) if (i.InstanceId) found.set(i.InstanceId, ec2TagRecord(i.Tags));
  }
  return found;
}

/**
 * The nodes Patch Manager does not patch, by managed node group (the tags EKS sets on its nodes); a node outside one
 * keeps its reason, with what replaces it instead (Karpenter's drift, or its owner). Each node group is read and its
 * AMI update planned (patch-nodes.ami.ts); the nodes of a node group that cannot be updated say why.
 */
export async function amiUpdatesFor(
  ids: string[],
  known: Map<string, Record<string, string>> | undefined,
  releaseVersion: string | undefined,
  skipped: Record<string, string>,
  ctx: ApplyContext,
  log: CallLog,
): Promise<AmiUpdate[]> {
  if (ids.length === 0) return [];
  const tags = known ?? (await tagsOf(ids, ctx, log));
  const groups = new Map<string, { clusterName: string; nodegroupName: string; instanceIds: string[] }>();
  for (const id of ids) {
    const t = tags.get(id) ?? {};
    const cluster = t[NODEGROUP_CLUSTER_TAG];
    const nodegroup = t[NODEGROUP_TAG];
    if (!cluster || !nodegroup) {
      skipped[id] = notManaged(t, skipped[id] ?? "");
      continue;
    }
    const key = `${cluster}/${nodegroup}`;
    const group = groups.get(key) ?? { clusterName: cluster, nodegroupName: nodegroup, instanceIds: [] };
    group.instanceIds.push(id);
    groups.set(key, group);
  }
  if (groups.size === 0) return [];
  const { updates, refused } = await planAmiUpdates(groups, releaseVersion, ctx, log);
  for (const g of groups.values()) {
    const why = refused[`node group ${g.nodegroupName} of ${g.clusterName}`];
    for (const id of g.instanceIds) {
      if (why) skipped[id] = `${skipped[id]}; ${why}`;
      else delete skipped[id];
    }
  }
  return updates;
}

export const AMI_APPROVAL =
  "a human's approval (approve mode, or the patch command): an AMI update replaces every node of the node group";

/** What the AMI updates do, in one line: to what, how many nodes at once, or what they wait for. */
export function amiReason(updates: AmiUpdate[], ctx: PlanContext): string {
  const each = updates.map((u) => `node group ${u.clusterName}/${u.nodegroupName} to ${u.target}, ${u.updateConfig}`);
  return ctx.approvedBy
    ? `AMI update of ${each.join("; ")}`
    : `AMI update of ${each.join("; ")}: not started, it waits for ${AMI_APPROVAL}`;
}

/** The AMI updates as the outcome's details say them, with each one's result once run. */
export function amiDetails(updates: AmiUpdate[], ctx: PlanContext, results: AmiUpdateResult[] = []) {
  return updates.map((u) => {
    const nodegroup = `${u.clusterName}/${u.nodegroupName}`;
    const result = results.find((r) => r.nodegroup === nodegroup);
    return {
      nodegroup,
      instanceIds: u.instanceIds,
      request: u.request,
      to: u.target,
      updateConfig: u.updateConfig,
      ...(result ? { result } : ctx.approvedBy ? {} : { waitsFor: AMI_APPROVAL }),
    };
  });
}
