import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import { clusterName, instanceId } from "./ids.ts";
import type { ActionDefinition, ApplyContext, ApplyResult, CheckResult, PlannedCall } from "./types.ts";

/** SendCommand takes at most 50 instance ids per call. */
export const MAX_INSTANCES_PER_COMMAND = 50;
/** How long patching is followed: polls of ListCommandInvocations, this far apart. */
export const POLL_INTERVAL_MS = 15_000;
export const MAX_POLLS = 120;

const params = z
  .strictObject({
    instanceIds: z.optional(z.array(instanceId).check(z.minLength(1))),
    /** Or every running node of a cluster (and node group), found through the tags EKS puts on them. */
    clusterName: z.optional(clusterName),
    nodegroupName: z.optional(z.string().check(z.minLength(1))),
    rebootOption: z._default(z.enum(["RebootIfNeeded", "NoReboot"]), "RebootIfNeeded"),
    maxConcurrency: z._default(
      z.string().check(z.regex(/^(\d+%?)$/, "expected a number or a percentage such as 10%")),
      "10%",
    ),
    maxErrors: z._default(z.string().check(z.regex(/^(\d+%?)$/, "expected a number or a percentage such as 0")), "0"),
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

/** The instances to patch: the ids given, or the running nodes of the cluster (and node group) by their EKS tags. */
async function targets(p: Params, ctx: ApplyContext, log: CallLog): Promise<string[]> {
  if (p.instanceIds) return p.instanceIds;
  const { DescribeInstancesCommand } = await import("../aws/ec2.ts");
  const ec2 = await ctx.clients.ec2();
  const Filters = [
    { Name: "tag:eks:cluster-name", Values: [p.clusterName ?? ""] },
    ...(p.nodegroupName ? [{ Name: "tag:eks:nodegroup-name", Values: [p.nodegroupName] }] : []),
    { Name: "instance-state-name", Values: ["running"] },
  ];
  const ids: string[] = [];
  let NextToken: string | undefined;
  do {
    const request = { Filters, ...(NextToken ? { NextToken } : {}) };
    const page = await log.send("ec2", "DescribeInstances", request, () =>
      ec2.send(new DescribeInstancesCommand(request)),
    );
    if (page === "dry-run-ok") break;
    for (const r of page.Reservations ?? [])
      for (const i of r.Instances ?? []) if (i.InstanceId) ids.push(i.InstanceId);
    NextToken = page.NextToken;
  } while (NextToken);
  return ids;
}

/** Which of the instances SSM manages and can reach now (agent online); the others with the reason. */
async function managed(
  ids: string[],
  ctx: ApplyContext,
  log: CallLog,
): Promise<{ online: string[]; skipped: Record<string, string> }> {
  const { DescribeInstanceInformationCommand } = await import("@aws-sdk/client-ssm");
  const ssm = await ctx.clients.ssm();
  const seen = new Map<string, string>();
  for (const batch of chunks(ids, MAX_INSTANCES_PER_COMMAND)) {
    let NextToken: string | undefined;
    do {
      const request = { Filters: [{ Key: "InstanceIds", Values: batch }], ...(NextToken ? { NextToken } : {}) };
      const page = await log.send("ssm", "DescribeInstanceInformation", request, () =>
        ssm.send(new DescribeInstanceInformationCommand(request)),
      );
      if (page === "dry-run-ok") break;
      for (const info of page.InstanceInformationList ?? [])
        if (info.InstanceId) seen.set(info.InstanceId, info.PingStatus ?? "Unknown");
      NextToken = page.NextToken;
    } while (NextToken);
  }
  const online: string[] = [];
  const skipped: Record<string, string> = {};
  for (const id of ids) {
    const ping = seen.get(id);
    if (ping === "Online") online.push(id);
    else skipped[id] = ping === undefined ? "not managed by SSM" : `SSM agent ${ping}`;
  }
  return { online, skipped };
}

async function check(p: Params, ctx: ApplyContext, log = new CallLog(ctx)): Promise<CheckResult> {
  const ids = await targets(p, ctx, log);
  if (ids.length === 0) return { status: "refused", reason: "no running instance matches the targets" };
  const { online, skipped } = await managed(ids, ctx, log);
  if (online.length === 0) return { status: "refused", reason: "no target is managed by SSM", before: { skipped } };
  return { status: "needed", before: { online, skipped } };
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
    if (ctx.dryRun) {
      return log.result(id, "would-succeed", `dry-run: would patch ${online.length} instance(s) (SSM has no DryRun)`, {
        details: { skipped, online },
      });
    }
    const { SendCommandCommand, ListCommandInvocationsCommand } = await import("@aws-sdk/client-ssm");
    const ssm = await ctx.clients.ssm();
    const commandIds: string[] = [];
    for (const batch of chunks(online, MAX_INSTANCES_PER_COMMAND)) {
      const request = {
        DocumentName: "AWS-RunPatchBaseline",
        InstanceIds: batch,
        Parameters: { Operation: ["Install"], RebootOption: [p.rebootOption] },
        MaxConcurrency: p.maxConcurrency,
        MaxErrors: p.maxErrors,
        Comment: `eks-responder ${ctx.assessmentId}`.slice(0, 100),
      };
      const sent = await log.send("ssm", "SendCommand", request, () => ssm.send(new SendCommandCommand(request)));
      if (sent !== "dry-run-ok" && sent.Command?.CommandId) commandIds.push(sent.Command.CommandId);
    }
    // Follow every command to completion (bounded), then report each instance's status.
    const statuses: Record<string, string> = {};
    for (let poll = 1; ; poll++) {
      for (const commandId of commandIds) {
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
      }
      if (online.every((i) => TERMINAL.has(statuses[i] ?? "")) || poll >= MAX_POLLS) break;
      await ctx.sleep(POLL_INTERVAL_MS);
    }
    for (const i of online) statuses[i] ??= "Pending";
    const failed = online.filter((i) => statuses[i] !== "Success");
    const details = { commandIds, statuses, skipped };
    if (failed.length > 0) {
      return log.result(
        id,
        "failed",
        `patching did not succeed on ${failed.map((i) => `${i} (${statuses[i]})`).join(", ")}`,
        {
          details,
          error: { code: "PATCH.INCOMPLETE", message: `${failed.length} of ${online.length} instance(s) not patched` },
        },
      );
    }
    return log.result(id, "applied", `patched ${online.length} instance(s)`, { details });
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
    "ssm:DescribeInstanceInformation",
    "ssm:SendCommand",
    "ssm:ListCommandInvocations",
  ],
  destructive: false,
  reversible: false,
  preconditions: [
    "only instances SSM manages with an online agent are targeted; the others are reported by id with the reason",
    "at most 50 instances per SendCommand; MaxConcurrency and MaxErrors from the parameters",
  ],
  rollbackSummary: "none: installed patches are not removed",
  plan(p) {
    const base = {
      DocumentName: "AWS-RunPatchBaseline",
      Parameters: { Operation: ["Install"], RebootOption: [p.rebootOption] },
      MaxConcurrency: p.maxConcurrency,
      MaxErrors: p.maxErrors,
    };
    const calls: PlannedCall[] = [];
    if (p.clusterName) {
      calls.push({
        service: "ec2",
        operation: "DescribeInstances",
        params: {
          Filters: [
            { Name: "tag:eks:cluster-name", Values: [p.clusterName] },
            ...(p.nodegroupName ? [{ Name: "tag:eks:nodegroup-name", Values: [p.nodegroupName] }] : []),
            { Name: "instance-state-name", Values: ["running"] },
          ],
        },
        note: "find the running nodes by their EKS tags",
      });
    }
    calls.push({
      service: "ssm",
      operation: "DescribeInstanceInformation",
      params: { Filters: [{ Key: "InstanceIds", Values: p.instanceIds ?? ["<the nodes found>"] }] },
      note: "keep only the instances SSM manages with an online agent",
    });
    for (const batch of p.instanceIds
      ? chunks(p.instanceIds, MAX_INSTANCES_PER_COMMAND)
      : [["<up to 50 managed nodes>"]]) {
      calls.push({ service: "ssm", operation: "SendCommand", params: { ...base, InstanceIds: batch } });
    }
    calls.push();
    return { calls };
  },
  check,
  apply,
  example: { clusterName: "prod-eks", nodegroupName: "general" },
};
