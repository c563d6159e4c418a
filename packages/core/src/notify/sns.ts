/**
 * One outcome record (an EventResult) as an Amazon SNS Publish request (Subject, Message, MessageAttributes). Pure.
 * E-mail subscribers read the subject and the message, so event text is escaped for them exactly once, where it is
 * put in: `escapeSnsSubject` for the subject, `escapeEmailText` for the readable part, `emailSafeJson` for the JSON
 * part (see escape.ts: no control, bidi or invisible character, no clickable link from event text).
 *
 * Rules followed (Amazon SNS API Reference, Publish, https://docs.aws.amazon.com/sns/latest/api/API_Publish.html, and
 * "Amazon SNS message attributes", https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html):
 * - Subject: no line breaks or control characters, less than 100 characters. Here: ≤ 99 printable ASCII characters.
 * - Message: UTF-8, at most 256 KiB (262,144 bytes) together with the message attributes' names, types and values.
 * - Message attributes: name, type and value must not be empty; a String value has the message body's restrictions.
 *
 * The Message is a readable text part, a line `--- JSON ---`, then the EventResult as JSON, shrunk to what the byte
 * budget leaves (see limits.ts; `fitSnsPublish` checks the finished request once more right before the call).
 */
import type { Assessment } from "../detectors/types.ts";
import type { Decision, EventResult, PlanStep } from "../pipeline/types.ts";
import { emailSafeJson, escapeEmailText, escapeSnsSubject, sanitizeText, truncate } from "./escape.ts";
import { SNS_LIMITS, snsPublishBytes, utf8Bytes } from "./limits.ts";
import {
  actorDetails,
  bySeverity,
  consoleUrl,
  OUTCOME_LABELS,
  planPhrase,
  rollbackCommand,
  safeDetectorId,
  shortParams,
} from "./slack.ts";

export { SNS_LIMITS } from "./limits.ts";

export interface SnsMessageAttribute {
  DataType: "String";
  StringValue: string;
}

export interface SnsMessage {
  Subject: string;
  Message: string;
  MessageAttributes: Record<string, SnsMessageAttribute>;
}

/** A cap of ours on attribute values (they are for filter policies, not for reading). */
const ATTRIBUTE_VALUE_MAX = 256;

export const JSON_SEPARATOR = "--- JSON ---";

const CAP = { value: 500, evidence: 300, reason: 400, step: 600, jsonString: 2_000 } as const;
const MAX_ASSESSMENTS_SHOWN = 20;
const MAX_EVIDENCE_LINES = 8;
const MAX_STEPS_SHOWN = 20;

/** Text from an event for the e-mail body: escaped for it and capped. */
function plain(text: string, max: number = CAP.value): string {
  return escapeEmailText(text, max);
}

function subjectFor(result: EventResult, top: Assessment | undefined): string {
  const label = OUTCOME_LABELS[result.outcome];
  if (!top) return escapeSnsSubject(`eks-responder ${label}: ${result.reason}`);
  const more = result.assessments.length > 1 ? ` (+${result.assessments.length - 1})` : "";
  return escapeSnsSubject(`eks-responder ${top.severity.toUpperCase()} ${label}${more}: ${top.title}`);
}

function decisionFor(result: EventResult, assessment: Assessment): Decision | undefined {
  return result.decisions.find((d) => d.assessmentId === assessment.id);
}

function stepLine(step: PlanStep): string {
  return `    - ${plain(`${step.service}:${step.operation} ${shortParams(step.params)}`, CAP.step)}`;
}

function resourceLine(label: string, value: string, url: string | undefined): string {
  return `  ${label}: ${plain(value)}${url ? `  ${url}` : ""}`;
}

function assessmentLines(result: EventResult, assessment: Assessment, index: number, total: number): string[] {
  const { region, resources } = assessment;
  const lines = [
    `[${index + 1}/${total}] ${assessment.severity.toUpperCase()} ${plain(assessment.title)} (${safeDetectorId(assessment.detectorId) ?? "unknown detector"})`,
    `  Assessment: ${plain(assessment.id, 100)}`,
    `  Account: ${plain(assessment.account, 100)}, region: ${plain(region, 100)}`,
  ];
  if (assessment.cluster)
    lines.push(
      resourceLine("Cluster", assessment.cluster, consoleUrl(region, { kind: "cluster", name: assessment.cluster })),
    );
  if (resources.securityGroupId)
    lines.push(
      resourceLine(
        "Security group",
        resources.securityGroupId,
        consoleUrl(region, { kind: "security-group", id: resources.securityGroupId }),
      ),
    );
  if (resources.ruleIds?.length) lines.push(`  Rules: ${plain(resources.ruleIds.join(", "))}`);
  if (resources.instanceId)
    lines.push(
      resourceLine(
        "Instance",
        resources.instanceId,
        consoleUrl(region, { kind: "instance", id: resources.instanceId }),
      ),
    );
  if (resources.nodegroup) lines.push(`  Node group: ${plain(resources.nodegroup)}`);
  if (resources.pod) lines.push(`  Pod: ${plain(`${resources.pod.namespace ?? "?"}/${resources.pod.name ?? "?"}`)}`);
  if (resources.principalArn) lines.push(`  Principal granted: ${plain(resources.principalArn)}`);
  const who = actorDetails(result, assessment);
  if (who.principal) lines.push(`  Actor: ${plain(who.principal)}`);
  if (who.sourceIp) lines.push(`  Source IP: ${plain(who.sourceIp)}`);
  if (who.remote) lines.push(`  Remote address: ${plain(who.remote)}`);
  if (who.userAgent) lines.push(`  User agent: ${plain(who.userAgent)}`);
  if (assessment.evidence.length > 0) {
    lines.push("  Evidence:");
    for (const line of assessment.evidence.slice(0, MAX_EVIDENCE_LINES))
      lines.push(`    - ${plain(line, CAP.evidence)}`);
    if (assessment.evidence.length > MAX_EVIDENCE_LINES)
      lines.push(`    - ... ${assessment.evidence.length - MAX_EVIDENCE_LINES} more in the JSON`);
  }
  const decision = decisionFor(result, assessment);
  if (decision) {
    lines.push(
      `  Decision: mode ${decision.mode}${decision.dryRun ? ", dry-run" : ""}${decision.skipped ? `, skipped (${decision.skipped})` : ""}`,
    );
    for (const reason of decision.reasons) lines.push(`    - ${plain(reason, CAP.reason)}`);
    if (decision.plan.length > 0) {
      lines.push(
        decision.dryRun
          ? `  DRY-RUN, nothing was changed: eks-responder ${planPhrase(decision, true)}:`
          : `  Plan: eks-responder ${planPhrase(decision, false)}:`,
      );
      for (const step of decision.plan.slice(0, MAX_STEPS_SHOWN)) lines.push(stepLine(step));
      if (decision.plan.length > MAX_STEPS_SHOWN)
        lines.push(`    - ... ${decision.plan.length - MAX_STEPS_SHOWN} more calls in the JSON`);
      const rollback = rollbackCommand(decision);
      lines.push(
        rollback
          ? `  Rollback${decision.dryRun ? " (if applied)" : ""}: ${rollback}`
          : "  Rollback: none, not reversible",
      );
    }
  }
  for (const note of assessment.notes) lines.push(`  Note: ${plain(note, CAP.reason)}`);
  for (const doubt of assessment.doubts) lines.push(`  Doubt: ${plain(doubt, CAP.reason)}`);
  return lines;
}

function textPart(result: EventResult, ordered: readonly Assessment[]): string {
  const top = ordered[0];
  const dryRunDecisions = result.decisions.filter((d) => d.dryRun && d.plan.length > 0);
  const dryRun = result.outcome === "dry-run" || dryRunDecisions.length > 0;
  const lines = [`eks-responder: ${top ? `${top.severity.toUpperCase()}, ` : ""}${OUTCOME_LABELS[result.outcome]}`];
  if (dryRun)
    lines.push(
      `DRY-RUN: nothing was changed. eks-responder ${dryRunDecisions.map((d) => planPhrase(d, true)).join("; ") || "would have acted"}.`,
    );
  lines.push(`Outcome: ${result.outcome}: ${plain(result.reason, CAP.reason)}`);
  const s = result.signal;
  if (s)
    lines.push(
      `Event: ${plain(`${s.source} ${s.name}`)} in account ${plain(s.account, 100)} ${plain(s.region, 100)} at ${plain(s.time, 100)}; ${s.family === "cloudtrail" ? "CloudTrail event" : "GuardDuty finding"} ${plain(s.id, 200)}${s.sample ? " (sample finding)" : ""}`,
    );
  if (result.eventId) lines.push(`EventBridge id: ${plain(result.eventId, 200)}`);
  if (result.error) {
    lines.push(`Error ${plain(result.error.code, 100)}: ${plain(result.error.message, CAP.reason)}`);
    for (const issue of result.error.issues.slice(0, 10))
      lines.push(`  - ${plain(issue.path, 200)}: ${plain(issue.message, CAP.reason)}`);
  }
  const shown = ordered.slice(0, MAX_ASSESSMENTS_SHOWN);
  for (const [index, assessment] of shown.entries()) {
    lines.push("");
    lines.push(...assessmentLines(result, assessment, index, ordered.length));
  }
  if (ordered.length > shown.length)
    lines.push("", `... ${ordered.length - shown.length} more assessments in the JSON`);
  return lines.join("\n");
}

/** The outcome as JSON, shrunk (long strings capped, then a summary) when it would not fit SNS's size limit. */
function jsonPart(result: EventResult, budget: number): string {
  const full = emailSafeJson(result);
  if (utf8Bytes(full) <= budget) return full;
  const capped = emailSafeJson(result, (_key, value) =>
    typeof value === "string" ? truncate(value, CAP.jsonString) : value,
  );
  if (utf8Bytes(capped) <= budget) return capped;
  return emailSafeJson({
    truncated: true,
    eventId: result.eventId,
    outcome: result.outcome,
    reason: truncate(result.reason, CAP.jsonString),
    assessmentIds: result.assessments.slice(0, 1000).map((a) => truncate(a.id, 100)),
  });
}

function attributes(result: EventResult, top: Assessment | undefined): Record<string, SnsMessageAttribute> {
  const out: Record<string, SnsMessageAttribute> = {};
  const put = (name: string, value: string | undefined): void => {
    if (value === undefined) return;
    const clean = truncate(sanitizeText(value), ATTRIBUTE_VALUE_MAX);
    if (clean.length > 0) out[name] = { DataType: "String", StringValue: clean };
  };
  const decision = (top ? decisionFor(result, top) : undefined) ?? result.decisions[0];
  put("severity", top?.severity);
  put("cluster", top?.cluster);
  put("detector", top?.detectorId);
  put("mode", decision?.mode);
  put("outcome", result.outcome);
  return out;
}

/** The SNS Publish fields for one outcome, within SNS's byte limit. */
export function snsMessage(result: EventResult): SnsMessage {
  const ordered = bySeverity(result);
  const top = ordered[0];
  const head = `${textPart(result, ordered)}\n${JSON_SEPARATOR}\n`;
  const Subject = subjectFor(result, top);
  const MessageAttributes = attributes(result, top);
  const budget = SNS_LIMITS.publishBytes - snsPublishBytes({ Subject, Message: head, MessageAttributes });
  return { Subject, Message: head + jsonPart(result, budget), MessageAttributes };
}
