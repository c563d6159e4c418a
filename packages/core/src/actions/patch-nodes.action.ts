import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import { ec2TagRecord } from "./ec2-tags.ts";
import { clusterName, instanceId } from "./ids.ts";
import {
  AMI_APPROVAL,
  type AmiUpdate,
  amiDetails,
  amiReason,
  amiUpdatesFor,
  runAmiUpdates,
} from "./patch-nodes.ami.ts";
import type { ActionDefinition, ApplyContext, ApplyResult, CheckResult, PlanContext, PlannedCall } from "./types.ts";

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
/** CreateTags and DeleteTags take up to 1000 resource ids, and AWS recommends smaller batches:
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTags.html */
export const TAG_BATCH = 500;
/** How long patching is followed: polls of ListCommandInvocations, this far apart. */
export const POLL_INTERVAL_MS = 15_000;
export const MAX_POLLS = 120;

/**
 * The operating systems Patch Manager supports, as SSM Agent names them (PlatformName of DescribeInstanceInformation:
 * the NAME of the node's os-release). Supported: AlmaLinux, Amazon Linux 2 and 2023, CentOS and CentOS Stream, Debian
 * Server, Oracle Linux, Red Hat Enterprise Linux, Rocky Linux, SUSE Linux Enterprise Server, Ubuntu Server, Windows
 * Server and macOS:
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-manager-prerequisites.html#supported-os
 * Bottlerocket is not among them: its SSM Agent runs in the control container (Amazon Linux) and reports the host's
 * os-release ("Bottlerocket", from /etc/bottlerocket-release, aws/amazon-ssm-agent agent/platform/platform_unix.go);
 * AWS-RunPatchBaseline would patch the control container, not the host (bottlerocket-os/bottlerocket#2798). Any name
 * not listed here is not sent the command (fail closed: an unknown platform is reported, never patched).
 */
export const PATCHABLE_LINUX = new Set([
  "AlmaLinux",
  "Amazon Linux",
  "CentOS Linux",
  "CentOS Stream",
  "Debian GNU/Linux",
  "Oracle Linux Server",
  "Red Hat Enterprise Linux",
  "Red Hat Enterprise Linux Server",
  "Rocky Linux",
  "SLES",
  "Ubuntu",
]);

/**
 * The tags the nodes of a cluster carry, by kind of node, each found separately (EC2 filters on different tag keys
 * are all required at once, so one query per kind):
 * - managed node groups: `eks:cluster-name` and `eks:nodegroup-name`, which EKS sets on the nodes it launches
 *   (https://docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html);
 * - nodes EKS or Karpenter launch (EKS Auto Mode, Karpenter node pools): `aws:eks:cluster-name`;
 * - self-managed nodes: `kubernetes.io/cluster/<name>` = `owned`, which EKS requires on them
 *   (https://docs.aws.amazon.com/eks/latest/userguide/worker.html); matched by key, whatever its value.
 */
function clusterFilters(p: Params): { Name: string; Values: string[] }[][] {
  const name = p.clusterName ?? "";
  const nodegroup = p.nodegroupName ? [{ Name: "tag:eks:nodegroup-name", Values: [p.nodegroupName] }] : [];
  const running = { Name: "instance-state-name", Values: ["running"] };
  return [
    [{ Name: "tag:eks:cluster-name", Values: [name] }, ...nodegroup, running],
    [{ Name: "tag:aws:eks:cluster-name", Values: [name] }, ...nodegroup, running],
    [{ Name: "tag-key", Values: [`kubernetes.io/cluster/${name}`] }, ...nodegroup, running],
  ];
}

const params = z
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
  );
type Params = z.output<typeof params>;

const TERMINAL = new Set(["Success", "Cancelled", "TimedOut", "Failed"]);

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * RebootIfNeeded reboots the node when an installed patch needs it, NoReboot never does
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-manager-aws-runpatchbaseline.html, RebootOption).
 * SSM knows nothing of Kubernetes: the node is neither cordoned nor drained first, its pods stop at once and no
 * PodDisruptionBudget is consulted. Until the Kubernetes side can drain first, a reboot needs a human's approval.
 */
function rebootOption(p: Params, ctx: PlanContext): "RebootIfNeeded" | "NoReboot" {
  return p.rebootOption === "RebootIfNeeded" && ctx.approvedBy ? "RebootIfNeeded" : "NoReboot";
}

function rebootNote(p: Params, ctx: PlanContext): string {
  if (p.rebootOption === "NoReboot") return "NoReboot: patches that need a reboot wait for the next one";
  return ctx.approvedBy
    ? `RebootIfNeeded, approved by ${ctx.approvedBy}: a node that needs it reboots without being drained`
    : "NoReboot: RebootIfNeeded is sent only when a human approves (approve mode, or the CLI's confirmation), as a reboot does not drain the node; patches that need one wait for it";
}

function commandBase(p: Params, ctx: PlanContext) {
  return {
    DocumentName: "AWS-RunPatchBaseline",
    Parameters: { Operation: ["Install"], RebootOption: [rebootOption(p, ctx)] },
    MaxConcurrency: p.maxConcurrency,
    MaxErrors: p.maxErrors,
    Comment: `eks-responder ${ctx.assessmentId}`.slice(0, 100),
  };
}

/**
 * The instances to patch: the ids given, or the running nodes of the cluster (and node group) by each kind's tags,
 * with the tags DescribeInstances answered (what tells a managed node group's node from the others).
 */
async function targets(p: Params, ctx: ApplyContext, log: CallLog): Promise<Map<string, Record<string, string>>> {
  if (p.instanceIds) return new Map(p.instanceIds.map((id) => [id, {}]));
  const found = new Map<string, Record<string, string>>();
  const { DescribeInstancesCommand } = await import("../aws/ec2.ts");
  const ec2 = await ctx.clients.ec2();
  for (const Filters of clusterFilters(p)) {
    let NextToken: string | undefined;
    do {
      const request = { Filters, ...(NextToken ? { NextToken } : {}) };
      const page = await log.send("ec2", "DescribeInstances", request, () =>
        ec2.send(new DescribeInstancesCommand(request)),
      );
      if (page === "dry-run-ok") break;
      for (const r of page.Reservations ?? [])
        for (const i of r.Instances ?? []) if (i.InstanceId) found.set(i.InstanceId, ec2TagRecord(i.Tags));
      NextToken = page.NextToken;
    } while (NextToken);
  }
  return found;
}

/** Why a platform SSM reports is not patched, or undefined when Patch Manager supports it. */
function unpatchable(type: string | undefined, name: string | undefined): string | undefined {
  if (type === "Windows" || type === "MacOS") return undefined;
  if (type === "Linux" && name && PATCHABLE_LINUX.has(name)) return undefined;
  const platform = name || type || "an unknown platform";
  return name === "Bottlerocket"
    ? "Bottlerocket: Patch Manager does not patch it (AWS-RunPatchBaseline would patch its control container)"
    : `${platform}: not an operating system Patch Manager supports`;
}

/**
 * Which of the instances SSM manages, can reach now (agent online) and Patch Manager can patch; the others with why,
 * and, apart, those SSM reaches on a platform Patch Manager does not patch (they may go to an AMI update).
 */
async function managed(
  ids: string[],
  ctx: ApplyContext,
  log: CallLog,
): Promise<{ online: string[]; skipped: Record<string, string>; unpatchable: string[] }> {
  const { DescribeInstanceInformationCommand } = await import("@aws-sdk/client-ssm");
  const ssm = await ctx.clients.ssm();
  const seen = new Map<string, { ping: string; platform?: string | undefined }>();
  // 50 ids per request, every page read.
  for (const batch of chunks(ids, MAX_INSTANCE_IDS)) {
    let NextToken: string | undefined;
    do {
      const request = { Filters: [{ Key: "InstanceIds", Values: batch }], ...(NextToken ? { NextToken } : {}) };
      const page = await log.send("ssm", "DescribeInstanceInformation", request, () =>
        ssm.send(new DescribeInstanceInformationCommand(request)),
      );
      if (page === "dry-run-ok") break;
      for (const info of page.InstanceInformationList ?? [])
        if (info.InstanceId)
          seen.set(info.InstanceId, {
            ping: info.PingStatus ?? "Unknown",
            platform: unpatchable(info.PlatformType, info.PlatformName),
          });
      NextToken = page.NextToken;
    } while (NextToken);
  }
  const online: string[] = [];
  const skipped: Record<string, string> = {};
  const other: string[] = [];
  for (const id of ids) {
    const info = seen.get(id);
    if (info === undefined) skipped[id] = "not managed by SSM";
    else if (info.platform !== undefined) {
      skipped[id] = info.platform;
      other.push(id);
    } else if (info.ping !== "Online") skipped[id] = `SSM agent ${info.ping}`;
    else online.push(id);
  }
  return { online, skipped, unpatchable: other };
}

async function check(p: Params, ctx: ApplyContext, log = new CallLog(ctx)): Promise<CheckResult> {
  const found = await targets(p, ctx, log);
  const ids = [...found.keys()];
  if (ids.length === 0) return { status: "refused", reason: "no running instance matches the targets" };
  const { online, skipped, unpatchable: other } = await managed(ids, ctx, log);
  const amiUpdates = await amiUpdatesFor(other, p.instanceIds ? undefined : found, p.releaseVersion, skipped, ctx, log);
  const ami = amiUpdates.length > 0 ? { amiUpdates: amiDetails(amiUpdates, ctx) } : {};
  if (online.length === 0 && (amiUpdates.length === 0 || !ctx.approvedBy)) {
    const waiting = amiUpdates.map((u) => `${u.clusterName}/${u.nodegroupName}`).join(", ");
    return {
      status: "refused",
      reason:
        amiUpdates.length === 0
          ? "no target runs a platform Patch Manager supports with an online SSM agent, and none is in a managed node group whose AMI can be updated"
          : `no target runs a platform Patch Manager supports; the AMI update of node group ${waiting} waits for ${AMI_APPROVAL}`,
      before: { skipped, ...ami },
    };
  }
  return { status: "needed", before: { online, skipped, ...ami, planned: amiUpdates } };
}

/** Sets or removes the run tag on the nodes, in batches. */
async function runTag(ctx: ApplyContext, log: CallLog, ids: string[], operation: "CreateTags" | "DeleteTags") {
  const { CreateTagsCommand, DeleteTagsCommand } = await import("../aws/ec2.ts");
  const ec2 = await ctx.clients.ec2();
  for (const Resources of chunks(ids, TAG_BATCH)) {
    const request = { Resources, Tags: [{ Key: PATCH_RUN_TAG, Value: ctx.assessmentId }] };
    await log.send("ec2", operation, request, () =>
      operation === "CreateTags" ? ec2.send(new CreateTagsCommand(request)) : ec2.send(new DeleteTagsCommand(request)),
    );
  }
}

/** Follows the command to the end (bounded): each node's status. */
async function follow(ctx: ApplyContext, log: CallLog, commandId: string, online: string[]) {
  const { ListCommandInvocationsCommand } = await import("@aws-sdk/client-ssm");
  const ssm = await ctx.clients.ssm();
  const statuses: Record<string, string> = {};
  for (let poll = 1; ; poll++) {
    let NextToken: string | undefined;
    do {
      const request = { CommandId: commandId, ...(NextToken ? { NextToken } : {}) };
      const page = await log.send("ssm", "ListCommandInvocations", request, () =>
        ssm.send(new ListCommandInvocationsCommand(request)),
      );
      if (page === "dry-run-ok") break;
      for (const inv of page.CommandInvocations ?? []) {
        if (inv.InstanceId) statuses[inv.InstanceId] = inv.Status ?? "Pending";
      }
      NextToken = page.NextToken;
    } while (NextToken);
    if (online.every((i) => TERMINAL.has(statuses[i] ?? "")) || poll >= MAX_POLLS) break;
    await ctx.sleep(POLL_INTERVAL_MS);
  }
  // A node the command never reached (a tag SSM did not resolve, a command stopped by MaxErrors) stays Pending.
  for (const i of online) statuses[i] ??= "Pending";
  return statuses;
}

/** Sends the one AWS-RunPatchBaseline command to the online nodes and follows it: each node's status. */
async function runPatchCommand(p: Params, ctx: ApplyContext, log: CallLog, online: string[]) {
  const { SendCommandCommand } = await import("@aws-sdk/client-ssm");
  const ssm = await ctx.clients.ssm();
  const byTag = online.length > MAX_INSTANCE_IDS;
  const request = {
    ...commandBase(p, ctx),
    ...(byTag ? { Targets: [{ Key: `tag:${PATCH_RUN_TAG}`, Values: [ctx.assessmentId] }] } : { InstanceIds: online }),
  };
  let statuses: Record<string, string>;
  let commandId: string | undefined;
  let runTagLeft = false;
  if (byTag) await runTag(ctx, log, online, "CreateTags");
  try {
    const sent = await log.send("ssm", "SendCommand", request, () => ssm.send(new SendCommandCommand(request)));
    commandId = sent === "dry-run-ok" ? undefined : sent.Command?.CommandId;
    if (!commandId) throw new Error("SendCommand returned no command id");
    statuses = await follow(ctx, log, commandId, online);
  } finally {
    // The run tag names this run only, so it goes whatever happened; a failure to remove it is recorded (the call in
    // the outcome's calls, runTagLeft in its details) and changes nothing else.
    if (byTag) {
      await runTag(ctx, log, online, "DeleteTags").catch(() => {
        runTagLeft = true;
      });
    }
  }
  return {
    commandIds: [commandId],
    statuses,
    ...(runTagLeft ? { runTagLeft: `${PATCH_RUN_TAG}=${ctx.assessmentId}` } : {}),
  };
}

async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
  const id = patchNodes.id;
  const log = new CallLog(ctx);
  try {
    const checked = await check(p, ctx, log);
    if (checked.status !== "needed") {
      return log.result(id, checked.status, checked.reason, checked.before ? { details: checked.before } : {});
    }
    const online = checked.before.online as string[];
    const skipped = checked.before.skipped as Record<string, string>;
    const planned = (checked.before.planned ?? []) as AmiUpdate[];
    const reboot = rebootOption(p, ctx);
    const ami = planned.length > 0 ? { amiUpdates: amiDetails(planned, ctx) } : {};
    const amiSaid = planned.length > 0 ? `; ${amiReason(planned, ctx)}` : "";
    if (ctx.dryRun) {
      return log.result(
        id,
        "would-succeed",
        `dry-run: would patch ${online.length} instance(s) (SSM has no DryRun)${amiSaid}`,
        { details: { skipped, online, rebootOption: reboot, ...ami } },
      );
    }
    const command = online.length > 0 ? await runPatchCommand(p, ctx, log, online) : undefined;
    const results = ctx.approvedBy && planned.length > 0 ? await runAmiUpdates(planned, ctx, log) : [];
    const statuses = command?.statuses ?? {};
    const failed = online.filter((i) => statuses[i] !== "Success");
    const details = {
      ...(command ?? {}),
      skipped,
      rebootOption: reboot,
      ...(planned.length > 0 ? { amiUpdates: amiDetails(planned, ctx, results) } : {}),
    };
    const amiFailed = results.filter((r) => r.status !== "successful");
    const patched = online.length > 0 ? `patched ${online.length} instance(s) (${reboot})` : "";
    const updated = results.length > 0 ? results.map((r) => `node group ${r.nodegroup}: ${r.reason}`).join("; ") : "";
    if (failed.length > 0) {
      return log.result(
        id,
        "failed",
        `patching did not succeed on ${failed.map((i) => `${i} (${statuses[i]})`).join(", ")}${updated ? `; ${updated}` : ""}`,
        {
          details,
          error: { code: "PATCH.INCOMPLETE", message: `${failed.length} of ${online.length} instance(s) not patched` },
        },
      );
    }
    const said = [patched, results.length > 0 ? updated : amiSaid.slice(2)].filter(Boolean).join("; ");
    const first = amiFailed[0];
    if (first) {
      return log.result(id, "failed", said, {
        details,
        error: {
          code: first.errorCode ?? "EksUpdateFailed",
          message: `node group ${first.nodegroup}: ${first.reason}`,
        },
      });
    }
    return log.result(id, "applied", said, { details });
  } catch (error) {
    return log.failed(id, error);
  }
}

export const patchNodes: ActionDefinition<typeof params> = {
  id: "ssm:patch-nodes",
  summary: "Install missing patches on EKS nodes with AWS-RunPatchBaseline through SSM Run Command.",
  params,
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
  check,
  apply,
  example: { clusterName: "prod-eks", nodegroupName: "general" },
};
