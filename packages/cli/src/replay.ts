import {
  defaultPolicy,
  type EventResult,
  loadPolicyFile,
  OUTCOME_STATUSES,
  type OutcomeStatus,
  type Policy,
  PolicyError,
  processEvent,
  terminalSafeJson,
} from "@eks-responder/core";
import { type AppliedAssessment, Applier } from "./apply.ts";
import { collectEventFiles, readEventFile } from "./files.ts";
import { formatApplied, formatResult, formatSummary } from "./format.ts";
import { stateDir } from "./journal.ts";
import { type Kubeconfig, KubeconfigError, kubeconfigPath, loadKubeconfig } from "./kubeconfig.ts";
import type { MemberRoleOption } from "./member-role.ts";
import { deliveringRules } from "./rules.ts";
import { type Io, painter } from "./terminal.ts";

export interface ReplayOptions {
  paths: string[];
  json: boolean;
  config?: string;
  /** Carry the plans out against AWS: the explicit opposite of dry-run. */
  apply?: boolean;
  /** Confirm every action without asking. */
  yes?: boolean;
  stateDir?: string;
  /** `--kubeconfig FILE`: the Kubernetes actions use its contexts (else `$KUBECONFIG`'s first file, else EKS tokens). */
  kubeconfig?: string;
  /** `--role-arn` (and `--external-id`): act in that member account through the role. */
  memberRole?: MemberRoleOption;
}

export interface FileResult extends EventResult {
  file: string;
  /**
   * The deployed EventBridge rules (packages/core/src/eventbridge/rules.ts) that would deliver this event to the respond function; empty
   * when none would, so the deployment would never see it. Absent when the file is not a JSON event.
   */
  rules?: string[];
  /** With --apply: what was carried out. */
  applied?: AppliedAssessment[];
}

export interface ReplaySummary {
  files: number;
  outcomes: Record<OutcomeStatus, number>;
  plannedCalls: number;
  /** Of plannedCalls, those to a cluster's Kubernetes API. */
  plannedKubernetesCalls: number;
  /** Files that could not be read or understood. */
  invalid: number;
  /** JSON events that some deployed rule would deliver, and those no deployed rule matches (never delivered). */
  delivered: number;
  undelivered: number;
  /** With --apply: action results by status (applied, already-done, refused, failed, declined). */
  applied?: Record<string, number>;
}

/** Show progress on stderr only on a terminal, and only when there is enough work for it to matter. */
const PROGRESS_THRESHOLD = 50;

function unreadable(file: string, reason: string): FileResult {
  return {
    file,
    outcome: "invalid",
    reason,
    assessments: [],
    decisions: [],
    plan: [],
    error: { code: "FILE.UNREADABLE", message: reason, issues: [] },
  };
}

export function summarize(results: readonly FileResult[]): ReplaySummary {
  const outcomes = Object.fromEntries(OUTCOME_STATUSES.map((s) => [s, 0])) as Record<OutcomeStatus, number>;
  for (const r of results) outcomes[r.outcome] += 1;
  const summary: ReplaySummary = {
    files: results.length,
    outcomes,
    plannedCalls: results.reduce((n, r) => n + r.plan.length, 0),
    plannedKubernetesCalls: results.reduce((n, r) => n + r.plan.filter((s) => s.service === "kubernetes").length, 0),
    invalid: outcomes.invalid,
    delivered: results.filter((r) => r.rules !== undefined && r.rules.length > 0).length,
    undelivered: results.filter((r) => r.rules?.length === 0).length,
  };
  if (results.some((r) => r.applied !== undefined)) {
    const applied: Record<string, number> = {};
    for (const a of results.flatMap((r) => r.applied ?? [])) {
      for (const key of a.declined ? ["declined"] : a.results.map((x) => x.status))
        applied[key] = (applied[key] ?? 0) + 1;
    }
    summary.applied = applied;
  }
  return summary;
}

/** The strongest decision of an event, as the one-line `decision` of the JSON report. */
function headline(result: EventResult): { mode: string; reason: string } | null {
  const rank = ["auto", "approve", "alert", "off"];
  const sorted = [...result.decisions].sort((a, b) => rank.indexOf(a.mode) - rank.indexOf(b.mode));
  const top = sorted[0];
  return top ? { mode: top.mode, reason: top.reasons.join("; ") } : null;
}

export async function replay(options: ReplayOptions, io: Io): Promise<number> {
  if (options.apply && !options.yes && !io.prompt) {
    io.stderr.write(
      "eks-responder: --apply without --yes confirms each action on a terminal, and standard input is not one; add --yes to confirm them all\n",
    );
    return 2;
  }
  let policy: Policy;
  try {
    policy = options.config ? await loadPolicyFile(options.config) : defaultPolicy();
    // --apply is the explicit opposite of the global dry-run (a detector marked dryRun stays in dry-run).
    if (options.apply) policy = { ...policy, dryRun: false };
  } catch (error) {
    if (error instanceof PolicyError) {
      io.stderr.write(`eks-responder: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  let kubeconfig: Kubeconfig | undefined;
  const kubeconfigFile = options.apply ? kubeconfigPath(options.kubeconfig, io.env) : undefined;
  if (kubeconfigFile) {
    try {
      kubeconfig = await loadKubeconfig(kubeconfigFile, { env: io.env });
    } catch (error) {
      if (!(error instanceof KubeconfigError)) throw error;
      io.stderr.write(`eks-responder: ${error.message}\n`);
      return 2;
    }
  }
  const files = await collectEventFiles(options.paths, io.cwd);
  const applier = options.apply
    ? new Applier(io, {
        yes: options.yes === true,
        stateDir: stateDir(io, options.stateDir),
        exemptTags: policy.exemptions.tags,
        ...(kubeconfig ? { kubeconfig } : {}),
        ...(options.memberRole ? { memberRole: options.memberRole } : {}),
        ...(io.env.EKS_RESPONDER_ENDPOINT ? { endpoint: io.env.EKS_RESPONDER_ENDPOINT } : {}),
      })
    : undefined;
  const paint = painter(io.stdout, io.env);
  const progress = io.stderr.isTTY === true && files.length >= PROGRESS_THRESHOLD;
  const results: FileResult[] = [];
  for (const [index, file] of files.entries()) {
    if (progress && index % 25 === 0) io.stderr.write(`\rreplaying ${index}/${files.length} events…`);
    let result: FileResult;
    if (!file.ok) result = unreadable(file.path, file.reason);
    else {
      const read = await readEventFile(file.path, io.cwd);
      if ("reason" in read) result = unreadable(file.path, read.reason);
      else {
        const rules = deliveringRules(read.text);
        result = {
          file: file.path,
          ...(rules ? { rules } : {}),
          ...processEvent(read.text, policy, { forceDryRun: !options.apply }),
        };
      }
    }
    if (!options.json) io.stdout.write(formatResult(result, paint));
    if (applier) {
      result.applied = await applier.applyEvent(result);
      if (!options.json) io.stdout.write(formatApplied(result.applied, paint));
    }
    results.push(result);
  }
  if (progress) io.stderr.write(`\rreplayed ${files.length}/${files.length} events.   \n`);
  const summary = summarize(results);
  if (options.json) {
    const report = {
      results: results.map((r) => ({ ...r, decision: headline(r) })),
      summary,
    };
    io.stdout.write(`${terminalSafeJson(report)}\n`);
  } else {
    io.stdout.write(formatSummary(summary, paint));
  }
  if (summary.invalid > 0) return 2;
  return (summary.applied?.failed ?? 0) > 0 ? 1 : 0;
}
