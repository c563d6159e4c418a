import { createHash } from "node:crypto";
import type { Mode, Severity } from "../detectors/types.ts";
import type { RespondResult } from "../pipeline/respond.ts";
import type { AuditEntry } from "./audit.ts";

/**
 * One audit entry per decision of a responded event, with what was applied (state before and undo included). An event
 * without assessments (invalid, unsupported, benign, a duplicate) still gets one entry, under an id derived from the
 * event, so nothing is dropped silently.
 */
export function toAuditEntries(result: RespondResult, now: Date = new Date(), appliedAt: Date = now): AuditEntry[] {
  const recordedAt = now.toISOString();
  const eventTime = result.signal?.time ? { eventTime: result.signal.time } : {};
  const eventId = result.signal?.key ?? result.eventId ?? "unknown";
  if (result.decisions.length === 0) {
    const digest = createHash("sha256")
      .update(`event\n${eventId}\n${result.error?.message ?? ""}`)
      .digest("hex");
    return [
      {
        assessmentId: `evt-${digest.slice(0, 20)}`,
        eventId,
        detectorId: "none",
        account: result.signal?.account ?? "unknown",
        region: result.signal?.region ?? "unknown",
        severity: "low" satisfies Severity,
        mode: "off" satisfies Mode,
        outcome: result.outcome,
        reasons: [result.reason],
        plan: [],
        recordedAt,
        ...eventTime,
      },
    ];
  }
  return result.decisions.map((decision) => {
    const assessment = result.assessments.find((a) => a.id === decision.assessmentId);
    const applied = result.applied.find((a) => a.assessmentId === decision.assessmentId);
    const approval = result.approvals.find((a) => a.assessmentId === decision.assessmentId);
    return {
      assessmentId: decision.assessmentId,
      eventId,
      detectorId: decision.detectorId,
      ...(assessment?.cluster ? { cluster: assessment.cluster } : {}),
      account: assessment?.account ?? result.signal?.account ?? "unknown",
      region: assessment?.region ?? result.signal?.region ?? "unknown",
      severity: decision.severity,
      mode: decision.mode,
      outcome: result.outcome,
      reasons: [...decision.reasons, ...(approval ? [`approval started: ${approval.executionArn}`] : [])],
      plan: decision.plan,
      ...(applied ? { results: applied.outcomes } : {}),
      recordedAt,
      ...eventTime,
      // The change's time, for time to remediate: when this record is written, after the actions ran (recordedAt may be
      // the first claim's time, earlier, when an invocation took over from one that died).
      ...(result.outcome === "applied" ? { appliedAt: appliedAt.toISOString() } : {}),
    };
  });
}
