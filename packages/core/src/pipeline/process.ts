import { describeActor, signalKey } from "../detectors/common.ts";
import { classifyFinding } from "../detectors/guardduty-families.ts";
import { DETECTORS } from "../detectors/registry.ts";
import type { Assessment, DetectContext } from "../detectors/types.ts";
import { EksResponderError, SignalTooLargeError } from "../errors.ts";
import { ownRoleOf } from "../guardrails/own-calls.ts";
import type { Policy } from "../policy/schema.ts";
import { type ParsedEvent, parseEvent, readEventText } from "../signals/parse.ts";
import type { Signal } from "../signals/types.ts";
import { type DecideOptions, decide } from "./decide.ts";
import type { Decision, EventResult, OutcomeStatus, SignalSummary } from "./types.ts";

function summarize(signal: Signal): SignalSummary {
  if (signal.family === "cloudtrail") {
    return {
      family: "cloudtrail",
      source: signal.source,
      name: signal.eventName,
      account: signal.account,
      region: signal.region,
      time: signal.time,
      id: signal.eventId,
      key: signalKey(signal),
      actor: describeActor(signal),
    };
  }
  return {
    family: "guardduty",
    source: "aws.guardduty",
    name: signal.findingType,
    account: signal.account,
    region: signal.region,
    time: signal.time,
    id: signal.findingId,
    key: signalKey(signal),
    sample: signal.sample,
    finding: {
      severity: signal.severity,
      updatedAt: signal.updatedAt,
      ...(signal.count !== undefined ? { count: signal.count } : {}),
    },
    ...(signal.unreadable ? { unreadable: signal.unreadable.map((i) => i.path) } : {}),
  };
}

interface Prepared {
  context: DetectContext;
  /** Every detector with its settings parsed from the policy, in the registry's order. */
  detectors: { detector: (typeof DETECTORS)[number]; settings: unknown }[];
}

/** What every event needs from a policy, computed once per policy object (policies are not mutated after load). */
const PREPARED = new WeakMap<Policy, Prepared>();

function prepare(policy: Policy): Prepared {
  let prepared = PREPARED.get(policy);
  if (!prepared) {
    prepared = {
      context: {
        allowedCidrs: policy.exemptions.cidrs,
        endpointAllowedPublicCidrs: policy.endpoint.allowedPublicCidrs,
      },
      detectors: DETECTORS.map((detector) => ({
        detector,
        settings: detector.settings.parse(policy.detectors[detector.id]?.settings),
      })),
    };
    PREPARED.set(policy, prepared);
  }
  return prepared;
}

/** Runs every detector over a signal. A detector that throws is a bug: its error becomes an alert, never an action. */
function assess(
  signal: Signal,
  policy: Policy,
  options: DecideOptions,
): { assessments: Assessment[]; decisions: Decision[] } {
  const assessments: Assessment[] = [];
  const decisions: Decision[] = [];
  const { context, detectors } = prepare(policy);
  for (const { detector, settings } of detectors) {
    let found: Assessment[];
    try {
      found = detector.detect(signal, settings, context);
    } catch (error) {
      decisions.push({
        assessmentId: `error:${detector.id}`,
        detectorId: detector.id,
        severity: "medium",
        mode: "alert",
        dryRun: true,
        reasons: [
          `fail closed, alert only: detector ${detector.id} failed: ${error instanceof Error ? error.message : String(error)}`,
        ],
        plan: [],
        notify: [],
      });
      continue;
    }
    for (const assessment of found) {
      assessments.push(assessment);
      decisions.push(decide(assessment, signal, detector, policy, options));
    }
  }
  return { assessments, decisions };
}

function outcomeOf(decisions: Decision[]): { outcome: OutcomeStatus; reason: string } {
  const acting = decisions.filter((d) => d.mode === "auto" || d.mode === "approve");
  const first = (ds: Decision[]) => ds[0]?.reasons.at(-1) ?? "";
  if (acting.some((d) => d.dryRun)) return { outcome: "dry-run", reason: first(acting.filter((d) => d.dryRun)) };
  if (acting.some((d) => d.mode === "auto"))
    return { outcome: "apply", reason: first(acting.filter((d) => d.mode === "auto")) };
  if (acting.length) return { outcome: "pending-approval", reason: first(acting) };
  const alerts = decisions.filter((d) => d.mode === "alert");
  if (alerts.length) return { outcome: "alert", reason: first(alerts) };
  return { outcome: "skipped", reason: decisions[0]?.reasons[0] ?? "no finding" };
}

function noFindingReason(signal: Signal, summary: SignalSummary): string {
  if (signal.family === "cloudtrail") return `nothing wrong found in this ${summary.name}`;
  const read = signal.unreadable
    ? `; read in part, ${signal.unreadable.map((i) => i.path).join(", ")} could not be read`
    : "";
  const why = `${classifyFinding(signal).reason}${read}`;
  return signal.sample ? `GuardDuty sample finding, never acted on (${why})` : `not handled: ${why}`;
}

function invalid(error: EksResponderError, eventId?: string): EventResult {
  const issues = "issues" in error && Array.isArray(error.issues) ? error.issues : [];
  return {
    ...(eventId ? { eventId } : {}),
    outcome: "invalid",
    reason: error.message,
    assessments: [],
    decisions: [],
    plan: [],
    error: { code: error.code, message: error.message, issues },
  };
}

function envelopeId(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return undefined;
  const id = (raw as { id?: unknown }).id;
  return typeof id === "string" && id.length <= 128 ? id : undefined;
}

/** parse → assess → decide → plan for an event already parsed. */
export function processParsed(parsed: ParsedEvent, policy: Policy, options: DecideOptions): EventResult {
  if (parsed.status === "unsupported") {
    return {
      outcome: "skipped",
      skipped: "unsupported-event",
      reason: parsed.event.reason,
      assessments: [],
      decisions: [],
      plan: [],
    };
  }
  const { signal } = parsed;
  const summary = summarize(signal);
  const base = { eventId: signal.envelopeId, signal: summary };
  if (signal.family === "cloudtrail" && signal.error) {
    return {
      ...base,
      outcome: "skipped",
      skipped: "failed-call",
      reason: `the ${signal.eventName} call failed (${signal.error.code}): nothing changed`,
      assessments: [],
      decisions: [],
      plan: [],
    };
  }
  // The responder's own change (the transition group isolate-instance opens to all traffic, a revoke) or a rollback's
  // undo: never acted on, recorded with the role that made it. CloudTrail events carry no tags, so the caller is
  // what says it (guardrails/own-calls.ts).
  const memberRoleName = policy.responder.memberRoleName;
  const member = memberRoleName ? { roleName: memberRoleName, account: signal.account } : undefined;
  const own = signal.family === "cloudtrail" ? ownRoleOf(signal.actor, policy.responder.roleArns, member) : undefined;
  if (own !== undefined) {
    return {
      ...base,
      outcome: "skipped",
      skipped: "own-call",
      reason: `the ${summary.name} call was made by eks-responder's own role ${own} (${summary.actor}): its own change or a rollback, never acted on`,
      assessments: [],
      decisions: [],
      plan: [],
    };
  }
  const { assessments, decisions } = assess(signal, policy, options);
  if (decisions.length === 0) {
    const sample = signal.family === "guardduty" && signal.sample;
    return {
      ...base,
      outcome: "skipped",
      skipped: sample ? "sample-finding" : "no-finding",
      reason: noFindingReason(signal, summary),
      assessments,
      decisions,
      plan: [],
    };
  }
  const { outcome, reason } = outcomeOf(decisions);
  const skipped = outcome === "skipped" ? decisions[0]?.skipped : undefined;
  return {
    ...base,
    outcome,
    reason,
    ...(skipped ? { skipped } : {}),
    assessments,
    decisions,
    plan: decisions.flatMap((d) => d.plan),
  };
}

/**
 * The event parsed as processEvent parses it, or undefined when processEvent would refuse it (it then says why): what
 * the respond path needs to claim an event before its policy is read. Never throws.
 */
export function parseQuietly(input: unknown): ParsedEvent | undefined {
  try {
    return parseEvent(typeof input === "string" ? readEventText(input) : input);
  } catch {
    return undefined;
  }
}

/**
 * The spine: one raw event (an object, or its JSON text) → what eks-responder would do and why. Never throws for bad
 * input: a malformed event comes back as an `invalid` result with a typed error.
 */
export function processEvent(
  input: unknown,
  policy: Policy,
  options: DecideOptions = { forceDryRun: true },
  /** `parseEvent` of the same input, when the caller parsed it already (the respond path, to claim it early). */
  parsed?: ParsedEvent,
): EventResult {
  // The JSON value, kept for the envelope id of an invalid event (text is read once, not again on a refusal).
  let raw: unknown;
  try {
    raw = typeof input === "string" ? readEventText(input) : input;
    return processParsed(parsed ?? parseEvent(raw), policy, options);
  } catch (error) {
    if (error instanceof EksResponderError) {
      // Text refused for its size was not read: read it for the id only, so the refusal names the event.
      if (raw === undefined && typeof input === "string" && error instanceof SignalTooLargeError) {
        try {
          raw = JSON.parse(input);
        } catch {
          raw = undefined;
        }
      }
      return invalid(error, envelopeId(raw));
    }
    throw error;
  }
}
