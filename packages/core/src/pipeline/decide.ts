import { getAction, planAction } from "../actions/registry.ts";
import { anyArnMatches } from "../detectors/arn-pattern.ts";
import type { Assessment, DetectorDefinition, Mode } from "../detectors/types.ts";
import { SEVERITIES } from "../detectors/types.ts";
import { exemptTagIn } from "../policy/exempt-tags.ts";
import type { Policy } from "../policy/schema.ts";
import { type ScopedSettings, scopedSettings } from "../policy/scopes.ts";
import type { Signal } from "../signals/types.ts";
import type { Decision, PlanStep, SkipCode } from "./types.ts";

export interface DecideOptions {
  /** Force dry-run whatever the policy says (replay without --apply). */
  forceDryRun: boolean;
}

function skip(base: Omit<Decision, "skipped" | "reasons" | "mode">, code: SkipCode, reason: string): Decision {
  return { ...base, mode: "off", skipped: code, reasons: [reason] };
}

function exemption(
  assessment: Assessment,
  signal: Signal,
  policy: Policy,
  ex: ScopedSettings["exemptions"],
): string | undefined {
  if (policy.exemptions.accounts.includes(assessment.account)) return `account ${assessment.account} is exempt`;
  if (signal.family === "cloudtrail") {
    const pattern =
      anyArnMatches(signal.actor.arn, ex.principals) ?? anyArnMatches(signal.actor.sessionIssuerArn, ex.principals);
    if (pattern) return `the change was made by an exempt principal (${pattern})`;
  }
  for (const tags of assessment.subject.tags ?? []) {
    const tag = exemptTagIn(tags, ex.tags);
    if (tag) return `the resource carries the exemption tag ${tag}`;
  }
  const ns = assessment.subject.namespace;
  if (ns !== undefined && ex.namespaces.includes(ns)) return `namespace ${ns} is exempt`;
  return undefined;
}

function outOfScope(assessment: Assessment, policy: Policy): string | undefined {
  const { accounts, regions, clusters } = policy.scope;
  if (accounts.length && !accounts.includes(assessment.account))
    return `account ${assessment.account} is outside the policy's scope`;
  if (regions.length && !regions.includes(assessment.region))
    return `region ${assessment.region} is outside the policy's scope`;
  // A cluster the event could not name is out of scope only when nothing is in doubt: a finding read only in part
  // may be about a cluster in scope, so it is alerted on (its doubts fail it closed) rather than skipped.
  const unknownButDoubtful = assessment.cluster === undefined && assessment.doubts.length > 0;
  if (
    clusters.length &&
    !unknownButDoubtful &&
    (assessment.cluster === undefined || !clusters.includes(assessment.cluster))
  ) {
    return `cluster ${assessment.cluster ?? "(unknown)"} is outside the policy's scope`;
  }
  return undefined;
}

function routesFor(assessment: Assessment, policy: Policy): string[] {
  const rank = SEVERITIES.indexOf(assessment.severity);
  return policy.notify.routes
    .filter((r) => SEVERITIES.indexOf(r.minSeverity as Assessment["severity"]) <= rank)
    .filter((r) => r.detectors === undefined || r.detectors.includes(assessment.detectorId))
    .map((r) => r.name);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Decides what to do about one assessment under the policy. Fails closed: any doubt, refusal or error while planning
 * turns the decision into an alert, never into an automatic action.
 */
export function decide(
  assessment: Assessment,
  signal: Signal,
  detector: DetectorDefinition,
  policy: Policy,
  options: DecideOptions,
): Decision {
  const scoped = scopedSettings(policy, assessment.account, assessment.region);
  const { entry, modeScope } = scoped.detector(detector.id);
  const dryRun = options.forceDryRun || scoped.dryRun || entry?.dryRun === true;
  const base = {
    assessmentId: assessment.id,
    detectorId: detector.id,
    severity: assessment.severity,
    dryRun,
    plan: [],
    notify: [],
  };
  const configured: Mode = (entry?.mode as Mode | undefined) ?? detector.defaultMode;

  if (configured === "off") {
    const where = modeScope !== undefined ? `by scope ${modeScope}` : "in the policy";
    return skip(base, "detector-off", `detector ${detector.id} is off ${where}`);
  }
  const scope = outOfScope(assessment, policy);
  if (scope) return skip(base, "out-of-scope", scope);
  if (signal.family === "guardduty" && signal.sample) {
    return skip(
      base,
      "sample-finding",
      "GuardDuty sample finding (service.additionalInfo.sample = true): generated for testing, never acted on",
    );
  }
  const exempt = exemption(assessment, signal, policy, scoped.exemptions);
  if (exempt) return skip(base, "exempt", exempt);

  if (entry?.staged === true) {
    return {
      ...base,
      mode: "alert",
      reasons: [
        `staged: ${detector.id} observes only until it is promoted (set staged: false in the policy); recorded, not acted on, not notified`,
      ],
    };
  }
  const notify = routesFor(assessment, policy);
  const reasons = [
    modeScope !== undefined
      ? `mode ${configured} set by scope ${modeScope} for ${detector.id}`
      : entry?.mode
        ? `mode ${configured} set in the policy for ${detector.id}`
        : `mode ${configured}: default for ${detector.id} (${detector.defaultModeReason})`,
  ];
  if (scoped.dryRunScope !== undefined && !options.forceDryRun) {
    reasons.push(`dry-run ${scoped.dryRun ? "on" : "off"} set by scope ${scoped.dryRunScope}`);
  }
  const alert = (why: string[]): Decision => ({
    ...base,
    notify,
    mode: "alert",
    reasons: [
      ...reasons,
      ...why.map((w) => (configured === "alert" || w.startsWith("fail closed") ? w : `alert only: ${w}`)),
    ],
  });

  if (configured === "alert") return alert([...assessment.doubts.map((d) => `fail closed: ${d}`), ...assessment.notes]);
  if (assessment.doubts.length > 0) return alert(assessment.doubts.map((d) => `fail closed, alert only: ${d}`));
  if (assessment.actions.length === 0) {
    return alert(assessment.notes.length ? assessment.notes : ["no automated fix exists for this assessment"]);
  }

  const plan: PlanStep[] = [];
  for (const request of assessment.actions) {
    try {
      const result = planAction(request.action, request.params, {
        dryRun,
        assessmentId: assessment.id,
        account: assessment.account,
        region: assessment.region,
      });
      if ("refused" in result) return alert([`fail closed, alert only: ${request.action} refused: ${result.refused}`]);
      for (const call of result.calls) plan.push({ ...call, action: request.action, assessmentId: assessment.id });
    } catch (error) {
      return alert([`fail closed, alert only: planning ${request.action} failed: ${errorText(error)}`]);
    }
  }
  // An action that must never run unapproved turns an automatic decision into an approval request.
  const approvalOnly = assessment.actions.map((a) => a.action).filter((id) => getAction(id).approvalOnly === true);
  const mode: Mode = configured === "auto" && approvalOnly.length > 0 ? "approve" : configured;
  if (mode !== configured) {
    reasons.push(`approval required: ${[...new Set(approvalOnly)].join(", ")} never runs without a human's approval`);
  }
  const verb = mode === "auto" ? "apply" : "ask for approval, then apply";
  reasons.push(
    `${dryRun ? "would" : "will"} ${verb} ${plan.length} call${plan.length === 1 ? "" : "s"}${dryRun ? " (dry-run: nothing is changed)" : ""}`,
  );
  return { ...base, notify, mode, plan, reasons: [...reasons, ...assessment.notes] };
}
