import { createHash } from "node:crypto";
import { createAwsClients, escapeTerminal, getAction, terminalSafeJson } from "@eks-responder/core";
import { writeEntry } from "./journal.ts";
import { clientOptionsFor, type MemberRoleOption } from "./member-role.ts";
import { type Io, painter } from "./terminal.ts";

export interface PatchOptions {
  cluster: string;
  nodegroup?: string;
  region: string;
  reboot: "RebootIfNeeded" | "NoReboot";
  dryRun: boolean;
  yes: boolean;
  json: boolean;
  stateDir: string;
  /** `--role-arn` (and `--external-id`): patch the nodes of that member account through the role, as the hub acts. */
  memberRole?: MemberRoleOption;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `eks-responder patch`: AWS-RunPatchBaseline on the nodes of a cluster (and node group), followed to the end. */
export async function patch(options: PatchOptions, io: Io): Promise<number> {
  const action = getAction("ssm:patch-nodes");
  const parsed = action.params.safeParse({
    clusterName: options.cluster,
    ...(options.nodegroup ? { nodegroupName: options.nodegroup } : {}),
    rebootOption: options.reboot,
  });
  if (!parsed.success) {
    io.stderr.write(
      `eks-responder: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}\n`,
    );
    return 2;
  }
  const target = `${options.cluster}${options.nodegroup ? `/${options.nodegroup}` : ""} in ${options.region}`;
  if (!options.dryRun && !options.yes) {
    if (!io.prompt) {
      io.stderr.write("eks-responder: patch confirms on a terminal, and standard input is not one; add --yes\n");
      return 2;
    }
    const answer = (
      await io.prompt(
        `Patch the nodes of ${escapeTerminal(target, { links: "keep" })} (reboot: ${options.reboot})? [y/N] `,
      )
    )
      .trim()
      .toLowerCase();
    if (answer !== "y" && answer !== "yes") {
      io.stdout.write("nothing was changed\n");
      return 0;
    }
  }
  const assessmentId = `asm-${createHash("sha256").update(`patch\n${target}\n${Date.now()}`).digest("hex").slice(0, 20)}`;
  const account = options.memberRole?.account ?? io.env.AWS_ACCOUNT_ID ?? "000000000000";
  const result = await action.apply(parsed.data, {
    clients: createAwsClients(
      options.region,
      clientOptionsFor(options.region, assessmentId, options.memberRole, io.env.EKS_RESPONDER_ENDPOINT),
    ),
    dryRun: options.dryRun,
    assessmentId,
    account,
    region: options.region,
    sleep: io.sleep ?? realSleep,
    // An operator's explicit command on named instances (patch-nodes reads no tags).
    exemptTags: [],
    // The operator confirmed (on the terminal, or with --yes): a human approved, so RebootIfNeeded may be sent.
    ...(options.dryRun ? {} : { approvedBy: `cli:${io.env.USER ?? "operator"}` }),
  });
  if (!options.dryRun) {
    await writeEntry(options.stateDir, {
      assessmentId,
      detectorId: "cli:patch",
      title: `patch ${target}`,
      account,
      region: options.region,
      source: "eks-responder patch",
      recordedAt: new Date().toISOString(),
      results: [{ ...result, params: parsed.data as Record<string, unknown> }],
      rollbacks: [],
    });
  }
  if (options.json) io.stdout.write(`${terminalSafeJson({ outcomeId: assessmentId, result })}\n`);
  else {
    const paint = painter(io.stdout, io.env);
    io.stdout.write(
      `${paint(result.status === "failed" ? ["bold", "red"] : "bold", result.status.toUpperCase())} ${escapeTerminal(result.reason)}\n`,
    );
    const details = (result.details ?? {}) as { statuses?: Record<string, string>; skipped?: Record<string, string> };
    for (const [id, status] of Object.entries(details.statuses ?? {}))
      io.stdout.write(`  ${id}  ${escapeTerminal(status)}\n`);
    for (const [id, why] of Object.entries(details.skipped ?? {}))
      io.stdout.write(`  ${id}  skipped: ${escapeTerminal(why)}\n`);
  }
  return result.status === "failed" ? 1 : result.status === "refused" ? 2 : 0;
}
