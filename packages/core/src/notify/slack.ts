/**
 * One outcome record (an EventResult) as a Slack Block Kit message. Pure: no network, no clock, no randomness.
 *
 * Every string taken from the event goes through `escapeMrkdwn` (or `escapePlainText` in the header) exactly once, at
 * the point where it is put into the message; the only `<…>` sequences in the message are console links built here
 * from ids that passed a strict pattern (security group, instance, EKS cluster name, region). Every mrkdwn text object
 * is `verbatim: true`, so Slack does not parse mentions or channel names in it; links in event text are defanged by
 * the escaping anyway (see escape.ts), since Slack clients auto-link URLs and domains.
 *
 * The message is laid out inside Slack's limits (see limits.ts): each value is capped, whole lines are kept per
 * block, and `fitSlackMessage` checks the finished message once more right before it is posted.
 */
import { getAction } from "../actions/registry.ts";
import type { Assessment, Severity } from "../detectors/types.ts";
import { callsPhrase } from "../pipeline/plan-text.ts";
import type { Decision, EventResult, OutcomeStatus, PlanStep } from "../pipeline/types.ts";
import { escapeMrkdwn, escapePlainText, trimEscaped, truncate } from "./escape.ts";
import { SLACK_LIMITS } from "./limits.ts";

export { SLACK_LIMITS } from "./limits.ts";

export interface PlainTextObject {
  type: "plain_text";
  text: string;
  emoji?: boolean;
}

export interface MrkdwnTextObject {
  type: "mrkdwn";
  text: string;
  /** true: Slack does not auto-link URLs, channel names or mentions in the text. */
  verbatim?: boolean;
}

export interface HeaderBlock {
  type: "header";
  text: PlainTextObject;
}

export interface SectionBlock {
  type: "section";
  text?: MrkdwnTextObject;
  fields?: MrkdwnTextObject[];
}

export interface ContextBlock {
  type: "context";
  elements: MrkdwnTextObject[];
}

export interface DividerBlock {
  type: "divider";
}

export type Block = HeaderBlock | SectionBlock | ContextBlock | DividerBlock;

export interface SlackMessage {
  /** The fallback: shown in notifications and where blocks cannot be. */
  text: string;
  blocks: Block[];
}

export interface SlackMessageOptions {
  /**
   * The AWS console origin for links, for example `https://console.aws.amazon.com` (an `https://` origin, nothing
   * else; anything else is ignored). Default: `https://<region>.console.aws.amazon.com` for commercial regions.
   */
  consoleBaseUrl?: string;
}

/** The fallback `text` kept short: it is the notification line; Slack's own limit is 40,000 characters. */
const FALLBACK_TEXT_MAX = 3000;

/** Per-value caps, so a whole line always fits its block and is never cut in the middle of an escape. */
const CAP = { title: 300, value: 500, evidence: 300, reason: 400, param: 120, step: 600, userAgent: 400 } as const;
const MAX_EVIDENCE_LINES = 8;
const MAX_STEPS_SHOWN = 12;

// ---------------------------------------------------------------------------------------------------------------
// Shared with the SNS renderer: severities, labels, validated ids, console links, who did it, rollback.

const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

export const OUTCOME_LABELS: Record<OutcomeStatus, string> = {
  "dry-run": "DRY-RUN",
  apply: "APPLYING FIX",
  applied: "FIXED",
  failed: "FIX FAILED",
  "pending-approval": "APPROVAL NEEDED",
  alert: "ALERT",
  skipped: "SKIPPED",
  invalid: "INVALID EVENT",
};

const SEVERITY_EMOJI: Record<Severity, string> = {
  critical: ":rotating_light:",
  high: ":red_circle:",
  medium: ":large_orange_circle:",
  low: ":large_blue_circle:",
};

/** The assessments, most severe first (stable for equal severities). */
export function bySeverity(result: EventResult): Assessment[] {
  return [...result.assessments].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);
}

const REGION = /^[a-z]{2}(?:-[a-z]+){1,2}-\d{1,2}$/;
const SECURITY_GROUP_ID = /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
/** EKS: 1-100 characters, alphanumerics, hyphens and underscores, starting with an alphanumeric. */
const CLUSTER_NAME = /^[0-9A-Za-z][0-9A-Za-z_-]{0,99}$/;
const ASSESSMENT_ID = /^asm-[0-9a-f]{8,64}$/;
const DETECTOR_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const HTTPS_ORIGIN = /^https:\/\/[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d{1,5})?$/;

export type ConsoleResource =
  | { kind: "security-group"; id: string }
  | { kind: "instance"; id: string }
  | { kind: "cluster"; name: string };

/** The console origin for a region, or undefined when none can be trusted. */
function consoleOrigin(region: string, consoleBaseUrl: string | undefined): string | undefined {
  if (consoleBaseUrl !== undefined) {
    const base = consoleBaseUrl.replace(/\/+$/, "");
    if (HTTPS_ORIGIN.test(base)) return base;
  }
  if (region.startsWith("cn-") || region.startsWith("us-gov-") || region.startsWith("us-iso")) return undefined;
  return `https://${region}.console.aws.amazon.com`;
}

/**
 * The AWS console URL of a resource, built only from a region and an id that match strict patterns; undefined for
 * anything else. The URL contains no `|`, `<`, `>` or `&`, so it is safe inside a Slack `<url|label>` link.
 */
export function consoleUrl(region: string, resource: ConsoleResource, consoleBaseUrl?: string): string | undefined {
  if (!REGION.test(region)) return undefined;
  const origin = consoleOrigin(region, consoleBaseUrl);
  if (origin === undefined) return undefined;
  switch (resource.kind) {
    case "security-group":
      return SECURITY_GROUP_ID.test(resource.id)
        ? `${origin}/ec2/home?region=${region}#SecurityGroup:groupId=${resource.id}`
        : undefined;
    case "instance":
      return INSTANCE_ID.test(resource.id)
        ? `${origin}/ec2/home?region=${region}#InstanceDetails:instanceId=${resource.id}`
        : undefined;
    case "cluster":
      return CLUSTER_NAME.test(resource.name)
        ? `${origin}/eks/home?region=${region}#/clusters/${resource.name}`
        : undefined;
  }
}

/** Who and from where, read from the signal summary and the assessment's evidence lines. */
export interface ActorDetails {
  principal?: string;
  /** CloudTrail: the caller's source IP address. */
  sourceIp?: string;
  /** GuardDuty: the remote address in the finding (a caller, a target or a peer, per the finding type). */
  remote?: string;
  userAgent?: string;
}

function afterPrefix(lines: readonly string[], prefix: string): string | undefined {
  const line = lines.find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : line.slice(prefix.length);
}

export function actorDetails(result: EventResult, assessment: Assessment | undefined): ActorDetails {
  const evidence = assessment?.evidence ?? [];
  const details: ActorDetails = {};
  const principal = result.signal?.actor ?? afterPrefix(evidence, "Kubernetes user ");
  if (principal) details.principal = principal;
  const sourceIp = afterPrefix(evidence, "from ");
  if (sourceIp) details.sourceIp = sourceIp;
  const remote = afterPrefix(evidence, "remote ");
  if (remote) details.remote = remote;
  const userAgent = afterPrefix(evidence, "user agent ");
  if (userAgent) details.userAgent = userAgent;
  return details;
}

/** Whether every action of the plan can be undone (an unknown action cannot). */
export function planReversible(steps: readonly PlanStep[]): boolean {
  if (steps.length === 0) return false;
  return [...new Set(steps.map((s) => s.action))].every((id) => {
    try {
      return getAction(id).reversible;
    } catch {
      return false;
    }
  });
}

/** `eks-responder rollback <assessment id>` when the decision's plan is reversible and the id is well-formed. */
export function rollbackCommand(decision: Decision): string | undefined {
  if (!ASSESSMENT_ID.test(decision.assessmentId) || !planReversible(decision.plan)) return undefined;
  return `eks-responder rollback ${decision.assessmentId}`;
}

/** A detector id as written by the registry, or a neutral word: it appears in plain_text, so it is checked. */
export function safeDetectorId(id: string | undefined): string | undefined {
  return id !== undefined && DETECTOR_ID.test(id) ? id : undefined;
}

/** What the plan would have done or will do, as one phrase. */
export function planPhrase(decision: Decision, dryRun: boolean): string {
  const calls = callsPhrase(decision.plan);
  if (dryRun)
    return decision.mode === "approve"
      ? `would have asked for approval, then made ${calls}`
      : `would have made ${calls}`;
  if (decision.mode === "approve") return `waits for approval, then makes ${calls}`;
  return `makes ${calls}`;
}

/** A short, one-line rendering of call parameters: `Key=value, …`, values capped. Not escaped. */
export function shortParams(params: Record<string, unknown>): string {
  const show = (value: unknown): string => {
    if (typeof value === "string") return truncate(value, CAP.param);
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    if (Array.isArray(value)) {
      const shown = value.slice(0, 3).map(show).join(", ");
      return `[${shown}${value.length > 3 ? `, +${value.length - 3}` : ""}]`;
    }
    if (value === null || value === undefined) return String(value);
    return truncate(JSON.stringify(value) ?? "", CAP.param);
  };
  return Object.entries(params)
    .map(([key, value]) => `${key}=${show(value)}`)
    .join(", ");
}

// ---------------------------------------------------------------------------------------------------------------
// Slack rendering

function mrkdwn(text: string): MrkdwnTextObject {
  return { type: "mrkdwn", text, verbatim: true };
}

function esc(text: string, max: number = CAP.value): string {
  return escapeMrkdwn(text, max);
}

/** A mrkdwn link `<url|label>`; the URL is one `consoleUrl` made, the label is escaped. */
function link(url: string | undefined, label: string): string {
  const shown = esc(label, 200);
  return url === undefined ? shown : `<${url}|${shown}>`;
}

/** Whole lines, up to `max` characters; the lines that do not fit are counted in a last line. */
function joinLines(lines: readonly string[], max: number): string {
  const out: string[] = [];
  let length = 0;
  for (const [index, line] of lines.entries()) {
    const more = lines.length - index;
    const tail = `… ${more} more line${more === 1 ? "" : "s"} not shown`;
    const added = (out.length > 0 ? 1 : 0) + line.length;
    const reserve = index < lines.length - 1 ? tail.length + 1 : 0;
    if (length + added + reserve > max) {
      out.push(tail);
      break;
    }
    out.push(line);
    length += added;
  }
  return trimEscaped(out.join("\n"), max);
}

function section(lines: readonly string[]): SectionBlock {
  return { type: "section", text: mrkdwn(joinLines(lines, SLACK_LIMITS.sectionText)) };
}

function field(label: string, value: string): MrkdwnTextObject {
  return mrkdwn(trimEscaped(`*${label}*\n${value}`, SLACK_LIMITS.fieldText));
}

function context(elements: readonly string[]): ContextBlock {
  return {
    type: "context",
    elements: elements
      .slice(0, SLACK_LIMITS.contextElements)
      .map((e) => mrkdwn(trimEscaped(e, SLACK_LIMITS.contextText))),
  };
}

function headerText(result: EventResult, top: Assessment | undefined): PlainTextObject {
  const parts = [
    top ? `${SEVERITY_EMOJI[top.severity]} ${top.severity.toUpperCase()}` : "eks-responder",
    OUTCOME_LABELS[result.outcome],
  ];
  const detector = safeDetectorId(top?.detectorId);
  if (detector) parts.push(escapePlainText(detector, 64));
  return { type: "plain_text", text: trimEscaped(parts.join(" · "), SLACK_LIMITS.headerText), emoji: true };
}

function isDryRun(result: EventResult): boolean {
  return result.outcome === "dry-run" || result.decisions.some((d) => d.dryRun && d.plan.length > 0);
}

function decisionFor(result: EventResult, assessment: Assessment): Decision | undefined {
  return result.decisions.find((d) => d.assessmentId === assessment.id);
}

function whereFields(result: EventResult, assessment: Assessment, options: SlackMessageOptions): MrkdwnTextObject[] {
  const { region } = assessment;
  const base = options.consoleBaseUrl;
  const { resources } = assessment;
  const fields: MrkdwnTextObject[] = [field("Account", esc(assessment.account)), field("Region", esc(region))];
  if (assessment.cluster)
    fields.push(
      field(
        "Cluster",
        link(consoleUrl(region, { kind: "cluster", name: assessment.cluster }, base), assessment.cluster),
      ),
    );
  if (resources.securityGroupId)
    fields.push(
      field(
        "Security group",
        link(
          consoleUrl(region, { kind: "security-group", id: resources.securityGroupId }, base),
          resources.securityGroupId,
        ),
      ),
    );
  if (resources.instanceId)
    fields.push(
      field(
        "Instance",
        link(consoleUrl(region, { kind: "instance", id: resources.instanceId }, base), resources.instanceId),
      ),
    );
  if (resources.pod) fields.push(field("Pod", esc(`${resources.pod.namespace ?? "?"}/${resources.pod.name ?? "?"}`)));
  const who = actorDetails(result, assessment);
  if (who.principal) fields.push(field("Actor", esc(who.principal)));
  if (who.sourceIp) fields.push(field("Source IP", esc(who.sourceIp)));
  if (who.remote) fields.push(field("Remote address", esc(who.remote)));
  if (who.userAgent) fields.push(field("User agent", esc(who.userAgent, CAP.userAgent)));
  if (resources.principalArn) fields.push(field("Principal granted", esc(resources.principalArn)));
  if (resources.nodegroup) fields.push(field("Node group", esc(resources.nodegroup)));
  if (resources.ruleIds?.length) fields.push(field("Rules", esc(resources.ruleIds.join(", "))));
  return fields.slice(0, SLACK_LIMITS.fields);
}

function stepLine(step: PlanStep): string {
  const call = `\`${esc(`${step.service}:${step.operation}`, 100)}\``;
  const params = shortParams(step.params);
  return `• ${call} ${esc(params, CAP.step)}`;
}

function assessmentBlocks(result: EventResult, assessment: Assessment, options: SlackMessageOptions): Block[] {
  const blocks: Block[] = [{ type: "divider" }];
  const detector = safeDetectorId(assessment.detectorId) ?? "unknown detector";
  const shownEvidence = assessment.evidence
    .filter((l) => !/^(by |from |user agent |remote |Kubernetes user )/.test(l))
    .slice(0, MAX_EVIDENCE_LINES);
  blocks.push(
    section([
      `${SEVERITY_EMOJI[assessment.severity]} *${esc(assessment.title, CAP.title)}*`,
      `*What happened* (${assessment.severity}, ${esc(detector, 80)})`,
      ...shownEvidence.map((l) => `• ${esc(l, CAP.evidence)}`),
    ]),
  );
  blocks.push({ type: "section", fields: whereFields(result, assessment, options) });

  const decision = decisionFor(result, assessment);
  if (decision) {
    const dryRun = decision.dryRun && decision.plan.length > 0;
    const mode = `mode \`${esc(decision.mode, 20)}\`${decision.dryRun ? ", dry-run" : ""}${decision.skipped ? `, skipped (${esc(decision.skipped, 40)})` : ""}`;
    blocks.push(section([`*Decision:* ${mode}`, ...decision.reasons.map((r) => `• ${esc(r, CAP.reason)}`)]));
    if (decision.plan.length > 0) {
      const heading = dryRun
        ? `*DRY-RUN: eks-responder ${planPhrase(decision, true)}* (nothing was changed):`
        : `*Plan: eks-responder ${planPhrase(decision, false)}:*`;
      const steps = decision.plan.slice(0, MAX_STEPS_SHOWN).map(stepLine);
      if (decision.plan.length > MAX_STEPS_SHOWN) steps.push(`… ${decision.plan.length - MAX_STEPS_SHOWN} more calls`);
      blocks.push(section([heading, ...steps]));
    }
  }
  const extra = [
    ...assessment.notes.map((n) => `• ${esc(n, CAP.reason)}`),
    ...assessment.doubts.map((d) => `• doubt: ${esc(d, CAP.reason)}`),
  ];
  if (extra.length > 0) blocks.push(section(["*Notes*", ...extra]));

  const footer = [`assessment \`${esc(assessment.id, 80)}\``];
  const rollback = decision ? rollbackCommand(decision) : undefined;
  if (rollback) footer.push(`${decision?.dryRun ? "if applied, undo with" : "undo with"} \`${rollback}\``);
  else if (decision && decision.plan.length > 0) footer.push("not reversible: no rollback");
  blocks.push(context(footer));
  return blocks;
}

function summaryLines(result: EventResult, dryRun: boolean): string[] {
  const lines: string[] = [];
  if (dryRun) {
    const phrases = result.decisions.filter((d) => d.dryRun && d.plan.length > 0).map((d) => planPhrase(d, true));
    lines.push(
      `:test_tube: *DRY-RUN: nothing was changed.* eks-responder ${phrases.length > 0 ? phrases.join("; ") : "would have acted"}.`,
    );
  }
  lines.push(`*Outcome:* ${OUTCOME_LABELS[result.outcome].toLowerCase()}: ${esc(result.reason, CAP.reason)}`);
  return lines;
}

function signalContext(result: EventResult): ContextBlock | undefined {
  const s = result.signal;
  const parts: string[] = [];
  if (s) {
    parts.push(
      `${esc(s.source, 40)} ${esc(s.name, 120)}`,
      `${esc(s.account, 40)} ${esc(s.region, 40)}`,
      esc(s.time, 60),
    );
    parts.push(`${s.family === "cloudtrail" ? "CloudTrail event" : "GuardDuty finding"} ${esc(s.id, 120)}`);
    if (s.sample) parts.push("GuardDuty sample finding");
  }
  if (result.eventId) parts.push(`EventBridge id ${esc(result.eventId, 120)}`);
  return parts.length > 0 ? context([parts.join(" · ")]) : undefined;
}

function noAssessmentBlocks(result: EventResult): Block[] {
  const blocks: Block[] = [];
  const s = result.signal;
  if (s) {
    const fields = [
      field("Account", esc(s.account)),
      field("Region", esc(s.region)),
      field("Event", esc(`${s.source} ${s.name}`)),
    ];
    if (s.actor) fields.push(field("Actor", esc(s.actor)));
    blocks.push({ type: "section", fields });
  }
  if (result.error) {
    const issues = result.error.issues
      .slice(0, 10)
      .map((i) => `• \`${esc(i.path, 200)}\` ${esc(i.message, CAP.reason)}`);
    blocks.push(
      section([`*Error* \`${esc(result.error.code, 80)}\`: ${esc(result.error.message, CAP.reason)}`, ...issues]),
    );
  }
  return blocks;
}

function fallbackText(result: EventResult, top: Assessment | undefined, dryRun: boolean): string {
  const severity = top ? `${top.severity.toUpperCase()} ` : "";
  const what = top ? esc(top.title, CAP.title) : esc(result.reason, CAP.reason);
  const more = result.assessments.length > 1 ? ` (+${result.assessments.length - 1} more)` : "";
  const marker = dryRun ? " · DRY-RUN, nothing was changed" : "";
  return trimEscaped(`${severity}${OUTCOME_LABELS[result.outcome]}: ${what}${more}${marker}`, FALLBACK_TEXT_MAX);
}

/** The Slack Block Kit message for one outcome. */
export function slackMessage(result: EventResult, options: SlackMessageOptions = {}): SlackMessage {
  const ordered = bySeverity(result);
  const top = ordered[0];
  const dryRun = isDryRun(result);
  const blocks: Block[] = [{ type: "header", text: headerText(result, top) }, section(summaryLines(result, dryRun))];
  if (ordered.length === 0) blocks.push(...noAssessmentBlocks(result));

  const room = SLACK_LIMITS.blocks - 2; // the signal context and, when needed, the "not shown" context
  let shown = 0;
  for (const assessment of ordered) {
    const group = assessmentBlocks(result, assessment, options);
    if (blocks.length + group.length > room) break;
    blocks.push(...group);
    shown++;
  }
  if (shown < ordered.length) {
    const hidden = ordered.length - shown;
    blocks.push(context([`${hidden} more assessment${hidden === 1 ? "" : "s"} not shown`]));
  }
  const signal = signalContext(result);
  if (signal) blocks.push(signal);
  return { text: fallbackText(result, top, dryRun), blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}
