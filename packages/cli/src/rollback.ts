import { type ApplyResult, createAwsClients, getAction } from "@eks-responder/core";
import { listEntryIds, OUTCOME_ID, readEntry, writeEntry } from "./journal.ts";
import { type Io, painter, safe } from "./terminal.ts";

export interface RollbackOptions {
  outcomeId: string;
  yes: boolean;
  json: boolean;
  stateDir: string;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Reverses a recorded outcome: every reversible action result that changed something is undone, last first, from
 * the `undo` recorded when it was applied. The journal keeps the rollback too.
 */
export async function rollback(options: RollbackOptions, io: Io): Promise<number> {
  if (!OUTCOME_ID.test(options.outcomeId)) {
    io.stderr.write(
      `eks-responder: "${safe(options.outcomeId)}" is not an outcome id (asm- followed by 20 hex digits)\n`,
    );
    return 2;
  }
  const read = await readEntry(options.stateDir, options.outcomeId);
  if ("missing" in read) {
    const known = await listEntryIds(options.stateDir);
    io.stderr.write(
      `eks-responder: no recorded outcome ${options.outcomeId} in ${options.stateDir}${known.length ? `; recorded: ${known.slice(-10).join(", ")}` : " (nothing recorded there)"}\n`,
    );
    return 2;
  }
  if ("corrupt" in read) {
    io.stderr.write(
      `eks-responder: the record of ${options.outcomeId} is not readable (${safe(read.corrupt)}); nothing was changed\n`,
    );
    return 2;
  }
  const { entry } = read;
  const undoable = entry.results.filter((r) => r.status === "applied" && r.undo !== undefined).reverse();
  if (undoable.length === 0) {
    io.stderr.write(`eks-responder: ${options.outcomeId} changed nothing that can be undone\n`);
    return 2;
  }
  if (entry.rollbacks.some((r) => r.results.every((x) => x.status === "applied" || x.status === "already-done"))) {
    io.stderr.write(`eks-responder: ${options.outcomeId} was already rolled back; nothing was changed\n`);
    return 2;
  }
  const describe = undoable.map((r) => `  undo ${r.action}: ${safe(r.reason)}`).join("\n");
  if (!options.yes) {
    if (!io.prompt) {
      io.stderr.write("eks-responder: rollback confirms on a terminal, and standard input is not one; add --yes\n");
      return 2;
    }
    const answer = (await io.prompt(`${safe(entry.title)}\n${describe}\nRoll back? [y/N] `)).trim().toLowerCase();
    if (answer !== "y" && answer !== "yes") {
      io.stdout.write("nothing was changed\n");
      return 0;
    }
  }
  const context = {
    clients: createAwsClients(
      entry.region,
      io.env.EKS_RESPONDER_ENDPOINT ? { endpoint: io.env.EKS_RESPONDER_ENDPOINT } : {},
    ),
    dryRun: false,
    assessmentId: entry.assessmentId,
    account: entry.account,
    region: entry.region,
    sleep: io.sleep ?? realSleep,
  };
  const results: ApplyResult[] = [];
  for (const recorded of undoable) {
    const action = getAction(recorded.action);
    const result = action.rollback
      ? await action.rollback(recorded.undo ?? {}, context)
      : { action: action.id, status: "refused" as const, reason: "not reversible", calls: [] };
    results.push(result);
    if (result.status === "failed") break;
  }
  entry.rollbacks.push({ at: new Date().toISOString(), results });
  await writeEntry(options.stateDir, entry);
  const failed = results.some((r) => r.status === "failed");
  if (options.json) io.stdout.write(`${JSON.stringify({ outcomeId: entry.assessmentId, results }, null, 2)}\n`);
  else {
    const paint = painter(io.stdout, io.env);
    for (const r of results) {
      io.stdout.write(
        `${paint(r.status === "failed" ? ["bold", "red"] : ["bold", "green"], r.status.toUpperCase())} rollback ${r.action}: ${safe(r.reason)}\n`,
      );
    }
  }
  return failed ? 1 : 0;
}
