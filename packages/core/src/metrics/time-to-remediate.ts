/**
 * Time to remediate and time waiting for approval, as `eks-responder report`, the functions' metrics and the bench
 * compute them: one definition, so the three never disagree.
 *
 * Time to remediate is event time (CloudTrail `eventTime`, GuardDuty `updatedAt`: the signal's `time`) to the change
 * applied (the audit record's `appliedAt`, else its `recordedAt`, which is written right after the change). Only
 * `applied` records count; one per assessment (the earliest applied record: a record re-written after a failed
 * notification is not a second remediation). Time waiting for approval is the request (StartExecution) to the
 * approver's decision; a timed-out approval has no decision and is counted apart.
 */

/** The fields of an audit record (core store/audit.ts) or local journal entry these figures read. */
export interface TimedRecord {
  assessmentId: string;
  detectorId: string;
  account: string;
  outcome: string;
  recordedAt: string;
  eventTime?: string;
  appliedAt?: string;
  approvalRequestedAt?: string;
  approvalDecidedAt?: string;
}

/** count, p50, p95 and max of a set of durations in milliseconds (all 0 when the set is empty). */
export interface DurationStats {
  count: number;
  p50: number;
  p95: number;
  max: number;
}

/**
 * The p-th percentile by the nearest-rank method: the smallest value with at least p % of the values at or below it,
 * that is the value at rank ⌈p/100 × N⌉ (1-based) of the sorted values. It is always one of the measured values
 * (no interpolation). Hand-written: three lines, where a statistics package would bring more than it gives.
 */
export function nearestRank(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? 0;
}

export function durationStats(values: readonly number[]): DurationStats {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: nearestRank(sorted, 50),
    p95: nearestRank(sorted, 95),
    max: sorted.at(-1) ?? 0,
  };
}

function ms(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * Event time → change applied, in ms, for an applied record that knows its event time; undefined otherwise (or when
 * the event time is after the change: a clock that cannot be trusted is not a measurement).
 */
export function remediationMs(record: TimedRecord): number | undefined {
  if (record.outcome !== "applied") return undefined;
  const start = ms(record.eventTime);
  const end = ms(record.appliedAt ?? record.recordedAt);
  if (start === undefined || end === undefined || end < start) return undefined;
  return end - start;
}

/** Approval request → decision, in ms; undefined when the record has no decided approval. */
export function approvalWaitMs(record: TimedRecord): number | undefined {
  const start = ms(record.approvalRequestedAt);
  const end = ms(record.approvalDecidedAt);
  if (start === undefined || end === undefined || end < start) return undefined;
  return end - start;
}

export interface RemediationReport {
  /** Records read (every outcome). */
  records: number;
  /** Applied assessments without an event time (recorded before event times were kept): not in the figures. */
  unmeasured: number;
  timeToRemediate: {
    all: DurationStats;
    byDetector: Record<string, DurationStats>;
    byAccount: Record<string, DurationStats>;
  };
  approvalWait: { all: DurationStats; byDetector: Record<string, DurationStats> };
}

function grouped(rows: { key: string; value: number }[]): Record<string, DurationStats> {
  const groups = new Map<string, number[]>();
  for (const { key, value } of rows) groups.set(key, [...(groups.get(key) ?? []), value]);
  return Object.fromEntries([...groups.keys()].sort().map((key) => [key, durationStats(groups.get(key) ?? [])]));
}

/** The report's figures over a set of records (any order; several records of one assessment are counted once). */
export function remediationReport(records: readonly TimedRecord[]): RemediationReport {
  const byTime = [...records].sort((a, b) => (a.recordedAt < b.recordedAt ? -1 : a.recordedAt > b.recordedAt ? 1 : 0));
  const remediated = new Map<string, { record: TimedRecord; ms: number | undefined }>();
  const waited = new Map<string, { record: TimedRecord; ms: number }>();
  for (const record of byTime) {
    if (record.outcome === "applied" && !remediated.has(record.assessmentId))
      remediated.set(record.assessmentId, { record, ms: remediationMs(record) });
    const wait = approvalWaitMs(record);
    if (wait !== undefined && !waited.has(record.assessmentId)) waited.set(record.assessmentId, { record, ms: wait });
  }
  const measured = [...remediated.values()].filter((r): r is { record: TimedRecord; ms: number } => r.ms !== undefined);
  const waits = [...waited.values()];
  return {
    records: records.length,
    unmeasured: remediated.size - measured.length,
    timeToRemediate: {
      all: durationStats(measured.map((r) => r.ms)),
      byDetector: grouped(measured.map((r) => ({ key: r.record.detectorId, value: r.ms }))),
      byAccount: grouped(measured.map((r) => ({ key: r.record.account, value: r.ms }))),
    },
    approvalWait: {
      all: durationStats(waits.map((w) => w.ms)),
      byDetector: grouped(waits.map((w) => ({ key: w.record.detectorId, value: w.ms }))),
    },
  };
}
