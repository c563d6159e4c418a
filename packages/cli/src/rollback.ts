import {
  type ApplyResult,
  createAwsClients,
  escapeTerminal,
  getAction,
  getAudit,
  recordAudit,
  stillApplied,
  terminalSafeJson,
} from "@eks-responder/core";
import { LONG_UPDATE_WAIT_MS } from "@eks-responder/core/actions/types.ts";
import { markRestored } from "@eks-responder/core/guardrails/restored.ts";
import { fingerprintsOf, REVOKE_INGRESS } from "@eks-responder/core/guardrails/rule-targets.ts";
import { listEntryIds, OUTCOME_ID, readEntry, writeEntry } from "./journal.ts";
import { cliKubernetes, type Kubeconfig, KubeconfigError, kubeconfigPath, loadKubeconfig } from "./kubeconfig.ts";
import { clientOptionsFor, type MemberRoleOption, wrongAccount } from "./member-role.ts";
import { type Io, painter } from "./terminal.ts";

export interface RollbackOptions {
  outcomeId: string;
  yes: boolean;
  json: boolean;
  stateDir: string;
  /** Read the outcome from the deployment's DynamoDB audit instead of the local journal. */
  table?: string;
  /** Show what would be undone, in order, with each undo's calls and recorded state; change and record nothing. */
  dryRun?: boolean;
  region?: string;
  /** `--kubeconfig FILE` (else `$KUBECONFIG`'s first file, else EKS tokens), for undoing Kubernetes actions. */
  kubeconfig?: string;
  /** `--role-arn` (and `--external-id`): undo in that member account through the role, as the hub acts. */
  memberRole?: MemberRoleOption;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Reverses a recorded outcome: every reversible action result that changed something is undone, last first, from
 * the `undo` recorded when it was applied. The journal keeps the rollback too.
 */
/** What a rollback needs of a recorded outcome, wherever it was recorded, and how to record the rollback. */
interface Recorded {
  title: string;
  region: string;
  account: string;
  assessmentId: string;
  results: ApplyResult[];
  alreadyRolledBack: boolean;
  save(results: ApplyResult[]): Promise<void>;
  /**
   * Marks the rules an undo is about to put back (the deployment's table, `--table`), so the re-add's own CloudTrail
   * event is not revoked again while the policy's hold lasts (core guardrails/restored.ts).
   */
  markRestored?(recorded: ApplyResult): Promise<void>;
}

async function fromJournal(options: RollbackOptions, io: Io): Promise<Recorded | number> {
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
      `eks-responder: the record of ${options.outcomeId} is not readable (${escapeTerminal(read.corrupt)}); nothing was changed\n`,
    );
    return 2;
  }
  const { entry } = read;
  return {
    title: entry.title,
    region: entry.region,
    account: entry.account,
    assessmentId: entry.assessmentId,
    results: entry.results,
    alreadyRolledBack: entry.rollbacks.some((r) =>
      r.results.every((x) => x.status === "applied" || x.status === "already-done"),
    ),
    async save(results) {
      entry.rollbacks.push({ at: new Date().toISOString(), results });
      await writeEntry(options.stateDir, entry);
    },
  };
}

const ROLLBACK_REASON = "rolled back with eks-responder rollback";

/** The deployment's audit: the latest record of the assessment holds its results, each with `before` and `undo`. */
async function fromAudit(options: RollbackOptions & { table: string }, io: Io): Promise<Recorded | number> {
  const { DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
  const { DynamoDBDocumentClient } = await import("@aws-sdk/lib-dynamodb");
  const client = DynamoDBDocumentClient.from(new DynamoDBClient(options.region ? { region: options.region } : {}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const record = await getAudit(client, options.table, options.outcomeId);
  if (!record) {
    io.stderr.write(
      `eks-responder: no audit record of ${options.outcomeId} in table ${escapeTerminal(options.table, { links: "keep" })}\n`,
    );
    return 2;
  }
  return {
    title: `${record.detectorId} ${record.assessmentId}${record.cluster ? ` (${record.cluster})` : ""}`,
    region: record.region,
    account: record.account,
    assessmentId: record.assessmentId,
    results: record.results ?? [],
    alreadyRolledBack: record.reasons[0] === ROLLBACK_REASON,
    async markRestored(recorded) {
      if (recorded.action !== REVOKE_INGRESS || !recorded.undo) return;
      const groupId = recorded.undo.groupId;
      const fingerprints = fingerprintsOf(recorded.undo);
      if (typeof groupId !== "string" || fingerprints.length === 0) return;
      await markRestored(
        client,
        options.table,
        { account: record.account, region: record.region, groupId, fingerprints },
        { outcomeId: record.assessmentId, by: "eks-responder rollback" },
      );
    },
    async save(results) {
      await recordAudit(client, options.table, {
        ...record,
        reasons: [ROLLBACK_REASON, ...results.map((r) => `${r.action} ${r.status}: ${r.reason}`)],
        results,
        recordedAt: new Date().toISOString(),
      });
    },
  };
}

/**
 * Reverses a recorded outcome: every reversible action result that changed something is undone, last first, from
 * the `undo` recorded when it was applied. The record (the local journal, or the deployment's audit with --table)
 * keeps the rollback too.
 */
export async function rollback(options: RollbackOptions, io: Io): Promise<number> {
  if (!OUTCOME_ID.test(options.outcomeId)) {
    io.stderr.write(
      `eks-responder: "${escapeTerminal(options.outcomeId, { links: "keep" })}" is not an outcome id (asm- followed by 20 hex digits)\n`,
    );
    return 2;
  }
  const loaded = options.table
    ? await fromAudit({ ...options, table: options.table }, io)
    : await fromJournal(options, io);
  if (typeof loaded === "number") return loaded;
  const entry = loaded;
  if (entry.alreadyRolledBack) {
    io.stderr.write(`eks-responder: ${options.outcomeId} was already rolled back; nothing was changed\n`);
    return 2;
  }
  // The whole plan, last action first: what is still applied (an action a later failure already undid is not undone
  // twice, core actions/run.ts).
  const undoable = stillApplied(entry.results.map((r) => ({ params: {}, ...r }))).reverse();
  if (undoable.length === 0) {
    io.stderr.write(`eks-responder: ${options.outcomeId} changed nothing that can be undone\n`);
    return 2;
  }
  let kubeconfig: Kubeconfig | undefined;
  const kubeconfigFile = kubeconfigPath(options.kubeconfig, io.env);
  if (kubeconfigFile) {
    try {
      kubeconfig = await loadKubeconfig(kubeconfigFile, { env: io.env });
    } catch (error) {
      if (!(error instanceof KubeconfigError)) throw error;
      io.stderr.write(`eks-responder: ${error.message}; nothing was changed\n`);
      return 2;
    }
  }
  const describe = undoable.map((r) => `  undo ${r.action}: ${escapeTerminal(r.reason)}`).join("\n");
  if (options.dryRun) return showRollback(entry, undoable, options.json, io);
  if (!options.yes) {
    if (!io.prompt) {
      io.stderr.write("eks-responder: rollback confirms on a terminal, and standard input is not one; add --yes\n");
      return 2;
    }
    const answer = (await io.prompt(`${escapeTerminal(entry.title)}\n${describe}\nRoll back? [y/N] `))
      .trim()
      .toLowerCase();
    if (answer !== "y" && answer !== "yes") {
      io.stdout.write("nothing was changed\n");
      return 0;
    }
  }
  const elsewhere = wrongAccount(options.memberRole, entry.account);
  if (elsewhere) {
    io.stderr.write(`eks-responder: ${entry.assessmentId}: ${elsewhere}\n`);
    return 2;
  }
  const clients = createAwsClients(
    entry.region,
    clientOptionsFor(entry.region, entry.assessmentId, options.memberRole, io.env.EKS_RESPONDER_ENDPOINT),
  );
  const context = {
    clients,
    // The operator's own access (their kubeconfig, or EKS tokens of their credentials): undoing a Kubernetes action
    // may need rights the responder is never granted (kubernetesRollbackPermissions).
    kubernetes: cliKubernetes(kubeconfig, () => clients)(entry.region),
    dryRun: false,
    assessmentId: entry.assessmentId,
    account: entry.account,
    region: entry.region,
    sleep: io.sleep ?? realSleep,
    // The operator waits at the terminal: an EKS update is followed to its end (minutes).
    updateWaitMs: LONG_UPDATE_WAIT_MS,
    // Undoing a recorded change puts back what was there: no exemption applies to it.
    exemptTags: [],
  };
  const results: ApplyResult[] = [];
  for (const recorded of undoable) {
    const action = getAction(recorded.action);
    // Before the call: the re-add's CloudTrail event can never reach the respond path ahead of its marker.
    if (action.rollback) await entry.markRestored?.(recorded);
    const result = action.rollback
      ? await action.rollback(recorded.undo ?? {}, context)
      : { action: action.id, status: "refused" as const, reason: "not reversible", calls: [] };
    results.push(result);
    if (result.status === "failed") break;
  }
  await entry.save(results);
  const failed = results.some((r) => r.status === "failed");
  // What stays applied: the failed undo and every older action after it (the rollback stopped there).
  const notUndone = undoable.slice(results.length - (failed ? 1 : 0)).map((r) => r.action);
  if (options.json) io.stdout.write(`${terminalSafeJson({ outcomeId: entry.assessmentId, results, notUndone })}\n`);
  else {
    const paint = painter(io.stdout, io.env);
    for (const r of results) {
      io.stdout.write(
        `${paint(r.status === "failed" ? ["bold", "red"] : ["bold", "green"], r.status.toUpperCase())} rollback ${r.action}: ${escapeTerminal(r.reason)}\n`,
      );
    }
    if (failed) {
      io.stdout.write(
        `${paint(["bold", "red"], "STOPPED")} at the first failure: undone ${results.length - 1} of ${undoable.length}; still applied, last first: ${notUndone.join(", ")}\n`,
      );
    }
  }
  return failed ? 1 : 0;
}

/**
 * --dry-run: what the rollback would undo, in order, with the IAM actions each undo sends and the recorded state it
 * puts back. Nothing is sent: a rollback has no dry-run of its own on EKS, and an EC2 dry-run would still need the
 * rollback role's credentials.
 */
function showRollback(entry: Recorded, undoable: readonly ApplyResult[], json: boolean, io: Io): number {
  const steps = undoable.map((r) => {
    const action = getAction(r.action);
    return {
      action: action.id,
      reversible: action.rollback !== undefined,
      summary: action.rollbackSummary,
      sends: action.rollbackPermissions,
      undo: r.undo ?? {},
    };
  });
  if (json) {
    io.stdout.write(`${terminalSafeJson({ outcomeId: entry.assessmentId, dryRun: true, steps })}\n`);
    return 0;
  }
  io.stdout.write(`DRY-RUN: nothing is changed. Rolling back ${entry.assessmentId} would undo, in this order:\n`);
  for (const [index, step] of steps.entries()) {
    io.stdout.write(
      `  ${index + 1}. ${step.action}: ${escapeTerminal(step.reversible ? step.summary : "not reversible: left as it is")}\n` +
        `     sends ${step.sends.join(", ") || "nothing"}\n` +
        `     from ${escapeTerminal(JSON.stringify(step.undo))}\n`,
    );
  }
  return 0;
}
