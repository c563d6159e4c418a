import { escapeTerminal, listAudit, terminalSafeJson } from "@eks-responder/core";
import {
  type DurationStats,
  type RemediationReport,
  remediationReport,
  type TimedRecord,
} from "@eks-responder/core/metrics/time-to-remediate.ts";
import { auditClient, parseDuration } from "./audit.ts";
import { type JournalEntry, listEntries } from "./journal.ts";
import { type Io, painter } from "./terminal.ts";

export interface ReportOptions {
  /** The deployment's DynamoDB audit table; without it, the local state folder of `replay --apply` is read. */
  table?: string;
  region?: string;
  /** A duration back from now (`7d`) or an ISO time; records at or after it. */
  since?: string;
  /** A duration back from now or an ISO time; records before it. */
  until?: string;
  json: boolean;
  stateDir: string;
}

/** The most audit records one report reads (listAudit's limit): beyond it the report says it read only the newest. */
export const REPORT_MAX_RECORDS = 10_000;

/** `7d` (that long ago) or an ISO time → a date; undefined when it is neither. */
export function parseWhen(text: string, now: number): Date | undefined {
  const ago = parseDuration(text);
  if (ago !== undefined) return new Date(now - ago);
  // An ISO 8601 date or date-time only: Date.parse also takes forms such as "March 7" that mean different things.
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim()))
    return undefined;
  const at = new Date(text.trim());
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** A journal entry as the report reads it: applied when one of its actions changed something, at its record time. */
function fromJournal(entry: JournalEntry): TimedRecord {
  return {
    assessmentId: entry.assessmentId,
    detectorId: entry.detectorId,
    account: entry.account,
    outcome: entry.results.some((r) => r.status === "applied") ? "applied" : (entry.results.at(-1)?.status ?? "none"),
    recordedAt: entry.recordedAt,
    ...(entry.eventTime ? { eventTime: entry.eventTime } : {}),
  };
}

/** 850 ms, 12.3 s, 4.2 min, 3.1 h: a duration as people read it (the JSON keeps milliseconds). */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function statsLine(indent: string, label: string, s: DurationStats): string {
  const figures = s.count
    ? `p50 ${formatDuration(s.p50)}  p95 ${formatDuration(s.p95)}  max ${formatDuration(s.max)}`
    : "no measurements";
  return `${indent}${escapeTerminal(label).padEnd(36 - indent.length)} count ${String(s.count).padStart(5)}  ${figures}\n`;
}

/** A title, the figures over all records, then each grouping's figures by key. */
function section(title: string, all: DurationStats, groups: [string, Record<string, DurationStats>][]): string {
  let text = `${title}\n${statsLine("  ", "all", all)}`;
  for (const [name, byKey] of groups) {
    if (Object.keys(byKey).length === 0) continue;
    text += `  ${name}\n`;
    for (const [key, stats] of Object.entries(byKey)) text += statsLine("    ", key, stats);
  }
  return text;
}

/**
 * `eks-responder report`: time to remediate (event time → change applied) per detector and per account, and time
 * waiting for approval (request → decision), as count, p50, p95 and max (nearest-rank percentiles, core
 * metrics/time-to-remediate.ts), from the deployment's audit (`--table`) or the local record of `replay --apply`.
 */
export async function report(options: ReportOptions, io: Io): Promise<number> {
  const now = Date.now();
  const window: { since?: Date; until?: Date } = {};
  for (const name of ["since", "until"] as const) {
    const text = options[name];
    if (text === undefined) continue;
    const at = parseWhen(text, now);
    if (!at) {
      io.stderr.write(
        `eks-responder: --${name} "${escapeTerminal(text, { links: "keep" })}" is neither a duration such as 30m, 24h or 7d nor an ISO time such as 2026-11-01T00:00:00Z\n`,
      );
      return 2;
    }
    window[name] = at;
  }
  if (window.since && window.until && window.since >= window.until) {
    io.stderr.write("eks-responder: --since must be before --until\n");
    return 2;
  }
  const inWindow = (recordedAt: string) => {
    const at = new Date(recordedAt);
    return (!window.since || at >= window.since) && (!window.until || at < window.until);
  };
  let records: TimedRecord[];
  let capped = false;
  if (options.table) {
    const found = await listAudit(auditClient(options.region), options.table, {
      limit: REPORT_MAX_RECORDS,
      pageSize: 1000,
      ...(window.since ? { since: window.since } : {}),
    });
    capped = found.length === REPORT_MAX_RECORDS;
    records = found.filter((r) => inWindow(r.recordedAt));
  } else {
    records = (await listEntries(options.stateDir)).filter((e) => inWindow(e.recordedAt)).map(fromJournal);
  }
  const figures: RemediationReport = remediationReport(records);
  if (capped)
    io.stderr.write(
      `eks-responder: only the newest ${REPORT_MAX_RECORDS} records were read; narrow the window with --since and --until\n`,
    );
  if (options.json) {
    const shown = {
      source: options.table ? { table: options.table } : { stateDir: options.stateDir },
      window: {
        ...(window.since ? { since: window.since.toISOString() } : {}),
        ...(window.until ? { until: window.until.toISOString() } : {}),
      },
      percentiles: "nearest-rank",
      unit: "ms",
      ...figures,
      ...(capped ? { capped: REPORT_MAX_RECORDS } : {}),
    };
    io.stdout.write(`${terminalSafeJson(shown)}\n`);
    return 0;
  }
  const paint = painter(io.stdout, io.env);
  const t = figures.timeToRemediate;
  const a = figures.approvalWait;
  io.stdout.write(
    section(`${paint("bold", "time to remediate")} (event time → change applied; nearest-rank percentiles)`, t.all, [
      ["by detector", t.byDetector],
      ["by account", t.byAccount],
    ]) +
      section(`${paint("bold", "time waiting for approval")} (request → decision)`, a.all, [
        ["by detector", a.byDetector],
      ]) +
      `${figures.records} records read${figures.unmeasured ? ` · ${figures.unmeasured} applied without an event time (recorded before event times were kept), not counted` : ""}\n`,
  );
  return 0;
}
