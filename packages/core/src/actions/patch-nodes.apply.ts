import { CallLog } from "./calls.ts";
import { ec2TagRecord } from "./ec2-tags.ts";
import {
  clusterFilters,
  commandBase,
  MAX_INSTANCE_IDS,
  PATCH_RUN_TAG,
  type Params,
  patchNodes,
  rebootOption,
} from "./patch-nodes.action.ts";
import {
  AMI_APPROVAL,
  type AmiUpdate,
  amiDetails,
  amiReason,
  amiUpdatesFor,
  runAmiUpdates,
} from "./patch-nodes.ami.ts";
import type { ApplyContext, ApplyResult, CheckResult } from "./types.ts";

/** ssm:patch-nodes's live reads and changes: imported with every action's, on first use (actions/runtimes.ts). */

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

const TERMINAL = new Set(["Success", "Cancelled", "TimedOut", "Failed"]);

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
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
  const { DescribeInstanceInformationCommand } = await import("../aws/ssm.ts");
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

export async function check(p: Params, ctx: ApplyContext, log = new CallLog(ctx)): Promise<CheckResult> {
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
  const { ListCommandInvocationsCommand } = await import("../aws/ssm.ts");
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
  const { SendCommandCommand } = await import("../aws/ssm.ts");
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

export async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
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
