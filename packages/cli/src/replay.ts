import {
  defaultPolicy,
  type EventResult,
  loadPolicyFile,
  OUTCOME_STATUSES,
  type OutcomeStatus,
  type Policy,
  PolicyError,
  processEvent,
} from "@eks-responder/core";
import { collectEventFiles, readEventFile } from "./files.ts";
import { formatResult, formatSummary } from "./format.ts";
import { type Io, painter } from "./terminal.ts";

export interface ReplayOptions {
  paths: string[];
  json: boolean;
  config?: string;
}

export interface FileResult extends EventResult {
  file: string;
}

export interface ReplaySummary {
  files: number;
  outcomes: Record<OutcomeStatus, number>;
  plannedCalls: number;
  /** Files that could not be read or understood. */
  invalid: number;
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
  return {
    files: results.length,
    outcomes,
    plannedCalls: results.reduce((n, r) => n + r.plan.length, 0),
    invalid: outcomes.invalid,
  };
}

/** The strongest decision of an event, as the one-line `decision` of the JSON report. */
function headline(result: EventResult): { mode: string; reason: string } | null {
  const rank = ["auto", "approve", "alert", "off"];
  const sorted = [...result.decisions].sort((a, b) => rank.indexOf(a.mode) - rank.indexOf(b.mode));
  const top = sorted[0];
  return top ? { mode: top.mode, reason: top.reasons.join("; ") } : null;
}

export async function replay(options: ReplayOptions, io: Io): Promise<number> {
  let policy: Policy;
  try {
    policy = options.config ? await loadPolicyFile(options.config) : defaultPolicy();
  } catch (error) {
    if (error instanceof PolicyError) {
      io.stderr.write(`eks-responder: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const files = await collectEventFiles(options.paths, io.cwd);
  const paint = painter(io.stdout, io.env);
  const progress = io.stderr.isTTY === true && files.length >= PROGRESS_THRESHOLD;
  const results: FileResult[] = [];
  for (const [index, file] of files.entries()) {
    if (progress && index % 25 === 0) io.stderr.write(`\rreplaying ${index}/${files.length} events…`);
    let result: FileResult;
    if (!file.ok) result = unreadable(file.path, file.reason);
    else {
      const read = await readEventFile(file.path, io.cwd);
      result =
        "reason" in read
          ? unreadable(file.path, read.reason)
          : { file: file.path, ...processEvent(read.text, policy, { forceDryRun: true }) };
    }
    results.push(result);
    if (!options.json) io.stdout.write(formatResult(result, paint));
  }
  if (progress) io.stderr.write(`\rreplayed ${files.length}/${files.length} events.   \n`);
  const summary = summarize(results);
  if (options.json) {
    const report = {
      results: results.map((r) => ({ ...r, decision: headline(r) })),
      summary,
    };
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    io.stdout.write(formatSummary(summary, paint));
  }
  return summary.invalid > 0 ? 2 : 0;
}
