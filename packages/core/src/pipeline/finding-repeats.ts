import type { ActionOutcome } from "../actions/run.ts";
import type { Assessment } from "../detectors/types.ts";
import type { Decision } from "./types.ts";

/** The version of a GuardDuty finding an event carries (its EventResult's signal summary). */
export interface FindingVersion {
  account: string;
  region: string;
  /** The finding id. */
  id: string;
  finding: { severity: number; updatedAt: string; count?: number };
}

/** How a GuardDuty finding was answered: what a repeat of it is compared with. */
export interface FindingResponse {
  account: string;
  region: string;
  findingId: string;
  /** The assessment whose response is in place (its audit record says what was done and how to undo it). */
  assessmentId: string;
  /** applied: the playbook changed the resource (or found it already changed); approval: a human was asked. */
  how: "applied" | "approval";
  /** GuardDuty's severity (1.0-10.0) of the finding version that was answered. */
  severity: number;
  /** The resources that response covered, as `kind:id`. */
  resources: string[];
  at: string;
}

/** The resources an assessment names, as `kind:id`, sorted: what a repeat's are compared with. */
export function resourcesOf(assessment: Assessment): string[] {
  const r = assessment.resources;
  const out = [
    ...(r.instanceId ? [`instance:${r.instanceId}`] : []),
    ...(r.securityGroupId ? [`security-group:${r.securityGroupId}`] : []),
    ...(r.nodegroup ? [`nodegroup:${r.nodegroup}`] : []),
    ...(r.principalArn ? [`principal:${r.principalArn}`] : []),
    ...(r.pod?.name ? [`pod:${r.pod.namespace ?? ""}/${r.pod.name}`] : []),
  ];
  return [...new Set(out)].sort();
}

/**
 * A repeat of a finding already answered is an alert, never a second response: the first one holds. A repeat with a
 * higher severity or a resource the first did not cover is an alert too, saying so, for a human to decide. Only
 * decisions that would act (auto or approve, with a plan) change; the answered assessment itself (the same finding
 * version, resumed after a crash) is not a repeat of itself.
 */
export function answerRepeats(
  signal: FindingVersion,
  decisions: readonly Decision[],
  assessments: readonly Assessment[],
  prior: FindingResponse,
): Decision[] {
  return decisions.map((d) => {
    if (d.assessmentId === prior.assessmentId) return d;
    if ((d.mode !== "auto" && d.mode !== "approve") || d.plan.length === 0) return d;
    const assessment = assessments.find((a) => a.id === d.assessmentId);
    const fresh = assessment ? resourcesOf(assessment).filter((r) => !prior.resources.includes(r)) : [];
    const answered = `already answered by ${prior.assessmentId} (${prior.how === "approval" ? "approval asked" : "applied"}${prior.at ? ` ${prior.at}` : ""})`;
    const seen = `${signal.finding.count !== undefined ? `seen ${signal.finding.count} times, ` : ""}updated ${signal.finding.updatedAt}`;
    const why =
      signal.finding.severity > prior.severity
        ? `repeat of finding ${signal.id} (${seen}) with a higher severity, ${signal.finding.severity} (was ${prior.severity}), ${answered}: a human decides`
        : fresh.length > 0
          ? `repeat of finding ${signal.id} (${seen}) naming resources the first response did not cover (${fresh.join(", ")}), ${answered}: a human decides`
          : `repeat of finding ${signal.id} (${seen}), ${answered}: no second response`;
    return { ...d, mode: "alert", plan: [], reasons: [...d.reasons, `alert only: ${why}`] };
  });
}

/**
 * The response this event put in place for its finding, if any: the first assessment whose playbook ran with every
 * action applied or already done, or whose approval was asked. A refused or failed playbook answered nothing.
 */
export function responseOf(
  signal: FindingVersion,
  assessments: readonly Assessment[],
  applied: readonly { assessmentId: string; outcomes: ActionOutcome[] }[],
  approvals: readonly { assessmentId: string }[],
  at: string,
): FindingResponse | undefined {
  const done = applied.find(
    (a) => a.outcomes.length > 0 && a.outcomes.every((o) => o.status === "applied" || o.status === "already-done"),
  );
  const answeredId = done?.assessmentId ?? approvals[0]?.assessmentId;
  const assessment = assessments.find((a) => a.id === answeredId);
  if (!assessment) return undefined;
  return {
    account: signal.account,
    region: signal.region,
    findingId: signal.id,
    assessmentId: assessment.id,
    how: done ? "applied" : "approval",
    severity: signal.finding.severity,
    resources: resourcesOf(assessment),
    at,
  };
}
