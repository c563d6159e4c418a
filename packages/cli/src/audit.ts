import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type AuditRecord, escapeTerminal, listAudit, terminalSafeJson } from "@eks-responder/core";
import { listEntries } from "./journal.ts";
import { type Io, painter } from "./terminal.ts";

export interface AuditOptions {
  /** The deployment's DynamoDB table; without it, the local journal of `replay --apply` is listed. */
  table?: string;
  region?: string;
  since?: string;
  cluster?: string;
  json: boolean;
  limit: number;
  stateDir: string;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** `30m`, `24h`, `7d`, `2w` → milliseconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,6})([smhdw])$/.exec(text.trim());
  const unit = match?.[2];
  return match?.[1] && unit ? Number(match[1]) * (UNITS[unit] ?? 0) * 1000 : undefined;
}

interface Row {
  recordedAt: string;
  assessmentId: string;
  detectorId: string;
  cluster?: string;
  outcome: string;
  summary: string;
}

function fromRecord(r: AuditRecord): Row {
  const results = (r.results ?? []).map((x) => `${x.action} ${x.status}`).join(", ");
  return {
    recordedAt: r.recordedAt,
    assessmentId: r.assessmentId,
    detectorId: r.detectorId,
    ...(r.cluster ? { cluster: r.cluster } : {}),
    outcome: r.outcome,
    summary: results || r.reasons.at(-1) || "",
  };
}

/** The document client of the deployment's audit table (`--table`), in `--region` or the SDK's default. */
export function auditClient(region: string | undefined): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(region ? { region } : {}));
}

/** `eks-responder audit`: what was decided and done, newest first, with the state before each change. */
export async function audit(options: AuditOptions, io: Io): Promise<number> {
  let since: Date | undefined;
  if (options.since !== undefined) {
    const ms = parseDuration(options.since);
    if (ms === undefined) {
      io.stderr.write(
        `eks-responder: --since "${escapeTerminal(options.since, { links: "keep" })}" is not a duration such as 30m, 24h or 7d\n`,
      );
      return 2;
    }
    since = new Date(Date.now() - ms);
  }
  let rows: Row[];
  let records: unknown[];
  if (options.table) {
    const found = await listAudit(auditClient(options.region), options.table, {
      limit: options.limit,
      ...(since ? { since } : {}),
      ...(options.cluster ? { cluster: options.cluster } : {}),
    });
    records = found;
    rows = found.map(fromRecord);
  } else {
    const kept = (await listEntries(options.stateDir))
      .filter((e) => !since || new Date(e.recordedAt) >= since)
      .sort((a, b) => (a.recordedAt < b.recordedAt ? 1 : -1))
      .slice(0, options.limit);
    records = kept;
    rows = kept.map((e) => ({
      recordedAt: e.recordedAt,
      assessmentId: e.assessmentId,
      detectorId: e.detectorId,
      outcome: e.rollbacks.length ? "rolled-back" : (e.results.at(-1)?.status ?? "none"),
      summary: e.results.map((r) => `${r.action} ${r.status}`).join(", "),
    }));
    if (options.cluster) io.stderr.write("eks-responder: --cluster filters the DynamoDB audit only (add --table)\n");
  }
  if (options.json) {
    io.stdout.write(`${terminalSafeJson({ records })}\n`);
    return 0;
  }
  const paint = painter(io.stdout, io.env);
  if (rows.length === 0) io.stdout.write("no records\n");
  for (const row of rows) {
    io.stdout.write(
      `${paint("dim", row.recordedAt)}  ${row.assessmentId}  ${paint("bold", row.outcome.padEnd(16))} ${row.detectorId}${row.cluster ? ` (${escapeTerminal(row.cluster)})` : ""}  ${escapeTerminal(row.summary)}\n`,
    );
  }
  return 0;
}
