import { builtOnce } from "../lazy.ts";
import * as z from "../zod.ts";
import { deferred } from "./deferred.ts";
import { clusterName, instanceId } from "./ids.ts";
import type { ActionDefinition, PlanContext, PlannedCall } from "./types.ts";

/**
 * SendCommand takes at most 50 InstanceIds ("you can specify up to 50 IDs"; for more, Targets with tag key-value
 * pairs "can send a command to tens, hundreds, or thousands of nodes at once"):
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html
 * Up to this many nodes, one command names them; beyond, one command targets the run tag below. Either way one
 * command, so MaxConcurrency and MaxErrors apply across every node (separate commands per 50 each had their own).
 */
export const MAX_INSTANCE_IDS = 50;
/**
 * The tag that names the nodes of one run when they are more than MAX_INSTANCE_IDS: set on exactly the nodes checked
 * (a supported platform, agent online), targeted by the one command (`Key=tag:<key>,Values=<value>`,
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/send-commands-multiple.html), removed when the command
 * ends. The cluster's own tags are not targeted: SSM resolves them itself, so Bottlerocket and offline nodes of the
 * cluster would be sent AWS-RunPatchBaseline too, and count as errors against MaxErrors.
 */
export const PATCH_RUN_TAG = "eks-responder:patch-run";

/**
 * The tags the nodes of a cluster carry, by kind of node, each found separately (EC2 filters on different tag keys
 * are all required at once, so one query per kind):
 * - managed node groups: `eks:cluster-name` and `eks:nodegroup-name`, which EKS sets on the nodes it launches
 *   (https://docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html);
 * - nodes EKS or Karpenter launch (EKS Auto Mode, Karpenter node pools): `aws:eks:cluster-name`;
 * - self-managed nodes: `kubernetes.io/cluster/<name>` = `owned`, which EKS requires on them
 *   (https://docs.aws.amazon.com/eks/latest/userguide/worker.html); matched by key, whatever its value.
 */
export function clusterFilters(p: Params): { Name: string; Values: string[] }[][] {
  const name = p.clusterName ?? "";
  const nodegroup = p.nodegroupName ? [{ Name: "tag:eks:nodegroup-name", Values: [p.nodegroupName] }] : [];
  const running = { Name: "instance-state-name", Values: ["running"] };
  return [
    [{ Name: "tag:eks:cluster-name", Values: [name] }, ...nodegroup, running],
    [{ Name: "tag:aws:eks:cluster-name", Values: [name] }, ...nodegroup, running],
    [{ Name: "tag-key", Values: [`kubernetes.io/cluster/${name}`] }, ...nodegroup, running],
  ];
}

const params = builtOnce(() =>
  z
    .strictObject({
      instanceIds: z.optional(z.array(instanceId).check(z.minLength(1))),
      /** Or every running node of a cluster (and node group), found through the tags EKS puts on them. */
      clusterName: z.optional(clusterName),
      nodegroupName: z.optional(z.string().check(z.minLength(1))),
      /** What is asked for; RebootIfNeeded is sent only when a human approved the decision (PlanContext.approvedBy). */
      rebootOption: z._default(z.enum(["RebootIfNeeded", "NoReboot"]), "RebootIfNeeded"),
      maxConcurrency: z._default(
        z.string().check(z.regex(/^(\d+%?)$/, "expected a number or a percentage such as 10%")),
        "10%",
      ),
      maxErrors: z._default(z.string().check(z.regex(/^(\d+%?)$/, "expected a number or a percentage such as 0")), "0"),
      /**
       * The AMI release a managed node group's AMI update moves to (nodes Patch Manager does not patch); absent: the
       * latest release of the cluster's Kubernetes version (patch-nodes.ami.ts).
       */
      releaseVersion: z.optional(z.string().check(z.minLength(1))),
    })
    .check(
      z.refine((p) => (p.instanceIds === undefined) !== (p.clusterName === undefined), {
        message: "exactly one of instanceIds or clusterName is required",
      }),
    ),
);
export type Params = z.output<ReturnType<typeof params>>;

/**
 * RebootIfNeeded reboots the node when an installed patch needs it, NoReboot never does
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-manager-aws-runpatchbaseline.html, RebootOption).
 * SSM knows nothing of Kubernetes: the node is neither cordoned nor drained first, its pods stop at once and no
 * PodDisruptionBudget is consulted. Until the Kubernetes side can drain first, a reboot needs a human's approval.
 */
export function rebootOption(p: Params, ctx: PlanContext): "RebootIfNeeded" | "NoReboot" {
  return p.rebootOption === "RebootIfNeeded" && ctx.approvedBy ? "RebootIfNeeded" : "NoReboot";
}

function rebootNote(p: Params, ctx: PlanContext): string {
  if (p.rebootOption === "NoReboot") return "NoReboot: patches that need a reboot wait for the next one";
  return ctx.approvedBy
    ? `RebootIfNeeded, approved by ${ctx.approvedBy}: a node that needs it reboots without being drained`
    : "NoReboot: RebootIfNeeded is sent only when a human approves (approve mode, or the CLI's confirmation), as a reboot does not drain the node; patches that need one wait for it";
}

export function commandBase(p: Params, ctx: PlanContext) {
  return {
    DocumentName: "AWS-RunPatchBaseline",
    Parameters: { Operation: ["Install"], RebootOption: [rebootOption(p, ctx)] },
    MaxConcurrency: p.maxConcurrency,
    MaxErrors: p.maxErrors,
    Comment: `eks-responder ${ctx.assessmentId}`.slice(0, 100),
  };
}

export const patchNodes: ActionDefinition<ReturnType<typeof params>> = {
  id: "ssm:patch-nodes",
  summary: "Install missing patches on EKS nodes with AWS-RunPatchBaseline through SSM Run Command.",
  get params() {
    return params();
  },
  permissions: [
    "ec2:DescribeInstances",
    "ec2:CreateTags",
    "ec2:DeleteTags",
    "ssm:DescribeInstanceInformation",
    "ssm:SendCommand",
    "ssm:ListCommandInvocations",
    "eks:DescribeNodegroup",
    "eks:DescribeCluster",
    "eks:UpdateNodegroupVersion",
    "eks:DescribeUpdate",
  ],
  rollbackPermissions: [],
  destructive: false,
  reversible: false,
  preconditions: [
    "only instances SSM manages with an online agent, on an operating system Patch Manager supports, are sent the command; the others (Bottlerocket, unknown platforms, offline or unmanaged) are reported by id with the reason",
    "one command for every node: InstanceIds up to 50 nodes, else the run tag eks-responder:patch-run (set on exactly the checked nodes, removed afterwards); MaxConcurrency and MaxErrors apply across all of them",
    "cluster nodes are found by each kind's tags: eks:cluster-name (managed node groups), aws:eks:cluster-name (EKS- and Karpenter-launched), kubernetes.io/cluster/<name> (self-managed)",
    "RebootIfNeeded is sent only when a human approved the decision; otherwise NoReboot, and the plan says so",
    "nodes SSM reports on a platform Patch Manager does not patch (Bottlerocket, others) that carry the tags of an EKS managed node group go to that node group's AMI update (eks:UpdateNodegroupVersion, followed through eks:DescribeUpdate): only when a human approved the decision, as it replaces every node of the node group, at most as many at once as its update config allows, each drained first within its PodDisruptionBudgets (force is never sent)",
    "the AMI update moves to the releaseVersion given, else to the latest AMI release of the cluster's Kubernetes version (version = the cluster's), or, for a node group behind the cluster, of its own version (its Kubernetes version is not upgraded here); the outcome says the release EKS answered",
    "a node group with a custom AMI (launch template), not ACTIVE (an update already running) or whose nodes are not in a managed node group (self-managed, Karpenter) is not updated: each node says why",
  ],
  notCovered: [
    "Bottlerocket nodes and other platforms Patch Manager does not cover outside a managed node group are reported, not patched: Karpenter replaces its nodes through drift when their EC2NodeClass's AMI changes, and self-managed nodes need their launch template's AMI updated and the nodes replaced by their owner",
    "an AMI update replaces every node of the node group, Amazon Linux nodes SSM just patched included; a node group's update that outlasts the wait is reported as failed, to be tried again, and the retry finds the node group UPDATING and does not start another",
    "a reboot, once approved, does not drain the node first: its pods stop at once and PodDisruptionBudgets are not consulted",
    "without approval, patches that need a reboot stay pending until the node next reboots",
    "nodes launched after the check are not patched; a node whose run tag SSM has not resolved yet when the command starts is reported Pending, not patched",
    "replay --apply does not pass its confirmation to the action as an approver yet, so only the approval workflow and the patch command allow a reboot or an AMI update",
  ],
  rollbackSummary: "none: installed patches are not removed",
  plan(p, ctx) {
    const calls: PlannedCall[] = [];
    if (p.clusterName) {
      for (const Filters of clusterFilters(p)) {
        calls.push({
          service: "ec2",
          operation: "DescribeInstances",
          params: { Filters },
          note: "find the running nodes by the tags of each kind of node (managed, EKS/Karpenter-launched, self-managed)",
        });
      }
    }
    calls.push({
      service: "ssm",
      operation: "DescribeInstanceInformation",
      params: { Filters: [{ Key: "InstanceIds", Values: p.instanceIds ?? ["<the nodes found>"] }] },
      note: "keep only the instances SSM manages with an online agent on a platform Patch Manager supports (not Bottlerocket)",
    });
    const base = commandBase(p, ctx);
    const many = p.instanceIds === undefined || p.instanceIds.length > MAX_INSTANCE_IDS;
    const tagRequest = { Resources: ["<the nodes checked>"], Tags: [{ Key: PATCH_RUN_TAG, Value: ctx.assessmentId }] };
    if (many) {
      calls.push({
        service: "ec2",
        operation: "CreateTags",
        params: tagRequest,
        note: `only when more than ${MAX_INSTANCE_IDS} nodes are checked: tag exactly them, for the one command to target`,
      });
    }
    calls.push({
      service: "ssm",
      operation: "SendCommand",
      params: {
        ...base,
        ...(many
          ? { Targets: [{ Key: `tag:${PATCH_RUN_TAG}`, Values: [ctx.assessmentId] }] }
          : { InstanceIds: p.instanceIds }),
      },
      note: `one command for every node (up to ${MAX_INSTANCE_IDS}: InstanceIds, the checked ones; beyond: the run tag); ${rebootNote(p, ctx)}`,
    });
    if (many) {
      calls.push({
        service: "ec2",
        operation: "DeleteTags",
        params: tagRequest,
        note: "when the command has ended: the run tag removed",
      });
    }
    calls.push({
      service: "eks",
      operation: "UpdateNodegroupVersion",
      params: {
        clusterName: p.clusterName ?? "<the node group's cluster>",
        nodegroupName: p.nodegroupName ?? "<the node group of those nodes>",
        ...(p.releaseVersion
          ? { releaseVersion: p.releaseVersion }
          : { version: "<the cluster's Kubernetes version>" }),
      },
      note: `only for nodes on a platform Patch Manager does not patch (Bottlerocket) in an EKS managed node group: its AMI update to ${p.releaseVersion ? `release ${p.releaseVersion}` : "the latest AMI release of the cluster's Kubernetes version (of the node group's own version when it is behind the cluster)"}, read first with eks:DescribeNodegroup and eks:DescribeCluster and followed with eks:DescribeUpdate; ${ctx.approvedBy ? `approved by ${ctx.approvedBy}: it replaces every node of the node group, within its update config` : "not started without a human's approval, as it replaces every node of the node group"}`,
    });
    return { calls };
  },
  ...deferred(() => import("./runtimes.ts").then((m) => m.patchNodes)),
  example: { clusterName: "prod-eks", nodegroupName: "general" },
};
