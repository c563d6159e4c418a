/**
 * `npm run chaos`: exactly once under duplicates and faults, nothing lost.
 *
 * N distinct world-open ingress events (built from the real CloudTrail example, each with its own eventID, group and
 * rule), duplicate deliveries of some of them (EventBridge delivers at least once), and GuardDuty findings delivered
 * more than once plus an updated version of each, all through `respond()` with a real idempotency store and audit
 * trail on a local DynamoDB (dynalite) and `dryRun: false`. EC2 is mocked (aws-sdk-client-mock) as a small stateful
 * fake whose RevokeSecurityGroupIngress fails at a configurable rate: transient faults (ThrottlingException,
 * RequestLimitExceeded, 503 ServiceUnavailable, TimeoutError) and a share of permanent ones (UnauthorizedOperation).
 *
 * aws-sdk-client-mock replaces `send`, so the SDK's own retry never runs here; what is modelled is the retry around
 * it: a transient action failure makes the handler throw (see guardrails/faults.ts), respond() releases the claim,
 * and the event is delivered again, up to `maxAttempts` deliveries (Lambda's async retry: 3), then dead-lettered with
 * its error. Deliveries run in rounds (a retry comes after the first wave, as Lambda's backoff has it), each round
 * with `concurrency` invocations at once; the duplicates of an event arrive together with it.
 *
 * Every fault is decided by the seed, the group and the call's number on that group, so a seed gives the same faults
 * whatever the interleaving. Counts go to stdout and bench/chaos-results.json.
 */
import { randomInt } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
  type RevokeSecurityGroupIngressCommandInput,
  type RevokeSecurityGroupIngressCommandOutput,
} from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { type AwsClients, createAwsClients } from "../packages/core/src/aws/clients.ts";
import { TransientActionError, transientFailure } from "../packages/core/src/guardrails/faults.ts";
import { createKillSwitch } from "../packages/core/src/guardrails/kill-switch.ts";
import { ruleGuardReads, ruleGuards } from "../packages/core/src/guardrails/rule-guards.ts";
import { type DurationStats, remediationReport } from "../packages/core/src/metrics/time-to-remediate.ts";
import { fitCheckpoint } from "../packages/core/src/pipeline/checkpoint.ts";
import { type RespondDeps, type RespondResult, respond } from "../packages/core/src/pipeline/respond.ts";
import { parsePolicy } from "../packages/core/src/policy/load.ts";
import { parseEvent } from "../packages/core/src/signals/parse.ts";
import { type AuditRecord, listAudit, recordAudit } from "../packages/core/src/store/audit.ts";
import { toAuditEntries } from "../packages/core/src/store/audit-entries.ts";
import {
  claimAnswer,
  claimTtlSeconds,
  idempotencyKey,
  idempotencyStore,
  MAX_PROGRESS_BYTES,
} from "../packages/core/src/store/idempotency.ts";
import { type LocalDynamo, startDynalite } from "../test/helpers/dynalite.ts";
import { liveGroups } from "../test/helpers/ec2-groups.ts";
import { ownRevokeEvent, RESPOND_ROLE_ARN, transitionGroupEvent } from "../test/helpers/own-events.ts";

const ROOT = join(import.meta.dirname, "..");
const INGRESS_TEMPLATE = "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json";
const GUARDDUTY_TEMPLATES = [
  "examples/events/gd-05-privesc-k8s-privileged-container-blueprint.json",
  "examples/events/gd-06-policy-k8s-anonymous-access-granted.json",
  "examples/events/gd-15-ec2-ssh-bruteforce-eks-worker.json",
];

export interface ChaosOptions {
  seed: number;
  /** Distinct open-ingress events. */
  events: number;
  /** Share of RevokeSecurityGroupIngress calls that fail (0 to 1). */
  faultRate: number;
  /** Share of the faults that are permanent (UnauthorizedOperation); the rest are transient. */
  permanentShare: number;
  /** Share of ingress events delivered more than once (one or two extra deliveries). */
  duplicateShare: number;
  /** GuardDuty findings: each delivered twice or three times, then once more as an updated finding (a new event). */
  guardDutyFindings: number;
  /** Share of rules already closed by hand before their event is handled (the action reports already-done). */
  alreadyFixedShare: number;
  /** Deliveries of one event before it is dead-lettered (Lambda async invocation: 3). */
  maxAttempts: number;
  /**
   * Attempts of one EC2 call before a transient fault surfaces (the SDK's retry, which aws-sdk-client-mock bypasses,
   * modelled per call). 1: every fault surfaces and the event is redelivered (the stress default). Production retries
   * throttling 25 times (EC2_THROTTLE_RETRY).
   */
  sdkAttempts: number;
  /** Invocations at once. */
  concurrency: number;
  /**
   * A timeout after EC2 made the change (the answer was lost) instead of before. Off by default: it shows that the
   * redelivery then ends as already-done and the audit misses the revoked rule's undo.
   */
  ambiguousTimeouts: boolean;
  /** The idempotency claim (on by default); off only to show that the checks catch what it prevents. */
  idempotency: boolean;
  /**
   * Share of open-ingress events whose first invocation dies at one of the kill points (taken in turn): it stops there
   * for good, running nothing more (no release, no catch), as a Lambda that crashes or runs out of memory does.
   */
  killShare: number;
  /**
   * The responder's own events in the stream: per 10 open-ingress events, one AuthorizeSecurityGroupIngress of the
   * transition group isolate-instance opens (all traffic, by the respond role) and one of its own revokes. 0 actions on
   * them is an invariant.
   */
  ownEventShare: number;
}

/**
 * Where an invocation can die: before the change (the revoke never reaches EC2), after it (EC2 revoked the rule; the
 * answer is lost with the process), after the audit was written, after the notification was sent.
 */
export const KILL_POINTS = ["before-change", "after-change", "after-audit", "after-notification"] as const;
export type KillPoint = (typeof KILL_POINTS)[number];

/**
 * Lambda's asynchronous retry: "by default Lambda attempts to run it two more times, with a one-minute wait between
 * the first two attempts, and two minutes between the second and third"
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-retries.html). Delivery n runs this long after the first.
 */
const DELIVERY_OFFSET_MS = [0, 60_000, 180_000, 420_000, 900_000];
/** The respond function's timeout (infra/naming.ts): its claim is held this long plus the margin. */
const FUNCTION_TIMEOUT_MS = 60_000;

export const DEFAULT_CHAOS_OPTIONS: Omit<ChaosOptions, "seed"> = {
  events: 200,
  faultRate: 0.3,
  permanentShare: 0.1,
  duplicateShare: 0.25,
  guardDutyFindings: 10,
  alreadyFixedShare: 0.05,
  maxAttempts: 3,
  sdkAttempts: 1,
  concurrency: 8,
  ambiguousTimeouts: false,
  idempotency: true,
  killShare: 0.2,
  ownEventShare: 0.1,
};

/** How an event ended; "lost" and "other" (an unexpected outcome) break the run. */
export type FinalState = "applied" | "already-done" | "failed" | "alert" | "other" | "dead-lettered" | "lost";

/** What happened to one logical event (all its deliveries). */
export interface ChaosEvent {
  /** The idempotency key (signal key). */
  key: string;
  kind: "ingress" | "guardduty";
  groupId?: string;
  ruleId?: string;
  /**
   * Extra deliveries injected (duplicates or GuardDuty repeats of the same finding version). Each delivery starts a
   * chain: it and its redeliveries. An event has 1 + duplicatesInjected chains, and each ends suppressed (answered as a
   * duplicate), responded (respond() returned) or dead-lettered.
   */
  duplicatesInjected: number;
  /** Chains that ended answered as a duplicate. */
  suppressed: number;
  /** Chains that ended with a response (exactly once: at most 1). */
  responded: number;
  /** Chains that ended in the dead-letter queue. */
  deadLettered: number;
  /**
   * Duplicate chains that ran instead of being suppressed: they arrived after a transient failure had released the
   * claim and so ran as a retry (responded + dead-lettered - 1). Never a second response.
   */
  takenOver: number;
  /** Deliveries that ran the response (claimed the event). */
  runs: number;
  /** The respond results of runs that returned (not thrown). */
  results: { attempt: number; outcome: RespondResult["outcome"]; status?: string; errorCode?: string }[];
  /** The attempt on which a permanent failure was recorded. */
  permanentFailureAttempt?: number;
  /** Runs after the permanent failure (must be 0). */
  runsAfterPermanentFailure: number;
  /** The last dead-lettered chain's attempts and error. */
  deadLetter?: { attempts: number; error: string };
  /** Where its first invocation was made to die, if it was chosen to. */
  killAt?: KillPoint;
  /** Whether that kill happened (the invocation reached the point). */
  killed: boolean;
  /** Notifications sent for it (a responded event needs at least one). */
  notified: number;
  final: FinalState;
}

export interface ChaosCounts {
  seed: number;
  faultRate: number;
  permanentShare: number;
  sdkAttempts: number;
  maxAttempts: number;
  concurrency: number;
  ambiguousTimeouts: boolean;
  eventsIn: number;
  ingressEvents: number;
  guardDutyEvents: number;
  deliveries: number;
  duplicatesInjected: number;
  /** Duplicate delivery chains answered as duplicates. */
  duplicatesSuppressed: number;
  /** Duplicate chains that ran as a retry after a transient failure released the claim (never a second response). */
  duplicatesTakenOver: number;
  /** Events with more than one response (must be 0). */
  respondedTwice: number;
  redeliveries: number;
  revokeCalls: number;
  faultsInjected: Record<string, number>;
  remediationsApplied: number;
  alreadyDone: number;
  alerts: number;
  failedPermanent: number;
  deadLettered: number;
  lost: number;
  halfApplied: number;
  rulesRevokedTwice: number;
  revokesMissingFromAudit: number;
  appliedButStillOpen: number;
  /** Events whose audit does not hold exactly one record per response (dead-lettered only: none). */
  auditMismatches: number;
  /** complete() calls that found their claim gone (must be 0). */
  lostClaims: number;
  /** Invocations killed, by kill point. */
  kills: Record<KillPoint, number>;
  /** Deliveries that failed because another invocation held the event's claim (retried later, as Lambda does). */
  claimHeld: number;
  /** Claims taken over from an invocation that died or gave the event back. */
  takeovers: number;
  /** Responded events with no notification (must be 0). */
  unnotified: number;
  /** Events notified more than once: a kill after the notification and before the claim was completed. */
  notifiedTwice: number;
  /**
   * Revoke requests for a rule already revoked, from the retry of an invocation killed after the change: its answer
   * was lost with it, so the retry asks EC2 again and is told NotFound (nothing changes twice). Not counted as
   * revoked twice.
   */
  recheckedAfterKill: number;
  /**
   * Dead-lettered events whose rule had been revoked by an invocation killed after the change (the retry then failed
   * transiently): in the queue with their reason; redrive records them. Not counted as unaudited.
   */
  deadLetteredAfterChange: number;
  /** The responder's own events delivered: its isolation's transition-group ingress, and its own revokes. */
  ownEvents: { isolation: number; revokes: number };
  /** How they ended, by skip code (own-call, unsupported-event). */
  ownSkipped: Record<string, number>;
  /** Own events acted on or alerted (a revoke, an approval, an alert): must be 0. */
  ownActedOn: number;
  /**
   * Event time → change applied of the applied remediations, from this run's audit by the function `eks-responder
   * report` uses (nearest-rank). Every event happens at the run's start and each delivery runs at Lambda's retry
   * offset (0, 1 min, 3 min, …) with no time for the work itself: the figure is what retries add.
   */
  timeToRemediate: DurationStats;
  durationMs: number;
}

export interface ChaosRun {
  counts: ChaosCounts;
  events: ChaosEvent[];
  /** The audit records of this run, by event key. */
  audit: Map<string, AuditRecord[]>;
  table: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Seeded randomness

/** FNV-1a, 32 bits. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small, fast, seeded generator of floats in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(random: () => number, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += Math.floor(random() * 16).toString(16);
  return out;
}

function uuid(random: () => number): string {
  return `${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-a${hex(random, 3)}-${hex(random, 12)}`;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = items[i];
    const b = items[j];
    if (a === undefined || b === undefined) continue;
    items[i] = b;
    items[j] = a;
  }
  return items;
}

// ---------------------------------------------------------------------------------------------------------------
// Events

type Json = Record<string, unknown>;

function isJson(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function child(value: Json, key: string): Json {
  const v = value[key];
  if (!isJson(v)) throw new Error(`template: ${key} is not an object`);
  return v;
}

function loadTemplate(path: string): Json {
  const value: unknown = JSON.parse(readFileSync(join(ROOT, path), "utf8"));
  if (!isJson(value)) throw new Error(`${path} is not a JSON object`);
  return value;
}

interface Built {
  key: string;
  kind: ChaosEvent["kind"];
  event: Json;
  duplicates: number;
  groupId?: string;
  ruleId?: string;
}

function ingressEvent(
  template: Json,
  random: () => number,
): { event: Json; key: string; groupId: string; ruleId: string } {
  const event = structuredClone(template);
  const groupId = `sg-${hex(random, 17)}`;
  const ruleId = `sgr-${hex(random, 17)}`;
  const eventId = uuid(random);
  event.id = uuid(random);
  const detail = child(event, "detail");
  detail.eventID = eventId;
  child(detail, "requestParameters").groupId = groupId;
  const items = child(child(detail, "responseElements"), "securityGroupRuleSet").items;
  const rule = Array.isArray(items) ? items[0] : undefined;
  if (!isJson(rule)) throw new Error("template: no securityGroupRuleSet item");
  rule.groupId = groupId;
  rule.securityGroupRuleId = ruleId;
  rule.securityGroupRuleArn = `arn:aws:ec2:us-east-1:776520358045:security-group-rule/${ruleId}`;
  return { event, key: keyOf(event), groupId, ruleId };
}

/** The idempotency key of an event, as respond() computes it (account, region and event id). */
function keyOf(event: Json): string {
  const key = idempotencyKey(parseEvent(event));
  if (key === undefined) throw new Error("template: not an event respond() deduplicates");
  return key;
}

function guardDutyVersions(template: Json, random: () => number): [Json, Json] {
  const first = structuredClone(template);
  const findingId = hex(random, 32);
  first.id = uuid(random);
  const detail = child(first, "detail");
  detail.id = findingId;
  if (typeof detail.arn === "string") detail.arn = detail.arn.replace(/finding\/[^/]+$/, `finding/${findingId}`);
  // The update GuardDuty publishes when the activity repeats: a later updatedAt and a higher count.
  const updated = structuredClone(first);
  updated.id = uuid(random);
  const updatedDetail = child(updated, "detail");
  const at = typeof detail.updatedAt === "string" ? Date.parse(detail.updatedAt) : 0;
  updatedDetail.updatedAt = new Date(at + 3_600_000).toISOString();
  const service = child(updatedDetail, "service");
  service.count = (typeof service.count === "number" ? service.count : 1) + 1;
  return [first, updated];
}

function buildEvents(options: ChaosOptions, random: () => number): Built[] {
  const template = loadTemplate(INGRESS_TEMPLATE);
  const built: Built[] = [];
  for (let i = 0; i < options.events; i++) {
    const { event, key, groupId, ruleId } = ingressEvent(template, random);
    const duplicates = random() < options.duplicateShare ? 1 + Math.floor(random() * 2) : 0;
    built.push({ key, kind: "ingress", event, duplicates, groupId, ruleId });
  }
  const templates = GUARDDUTY_TEMPLATES.map(loadTemplate);
  for (let i = 0; i < options.guardDutyFindings; i++) {
    const template = templates[i % templates.length];
    if (!template) continue;
    const [first, updated] = guardDutyVersions(template, random);
    built.push({ key: keyOf(first), kind: "guardduty", event: first, duplicates: 1 + Math.floor(random() * 2) });
    built.push({ key: keyOf(updated), kind: "guardduty", event: updated, duplicates: 0 });
  }
  return built;
}

interface OwnBuilt {
  kind: "isolation" | "revoke";
  event: Json;
  groupId: string;
}

/** The responder's own events: each isolation's transition-group ingress, and a revoke of its own. */
function buildOwnEvents(options: ChaosOptions, random: () => number): OwnBuilt[] {
  const own: OwnBuilt[] = [];
  for (let i = 0; i < Math.round(options.events * options.ownEventShare); i++) {
    const groupId = `sg-${hex(random, 17)}`;
    own.push({ kind: "isolation", event: transitionGroupEvent({ eventId: uuid(random), groupId }), groupId });
    const revoked = `sg-${hex(random, 17)}`;
    own.push({
      kind: "revoke",
      event: ownRevokeEvent({ eventId: uuid(random), groupId: revoked, ruleId: `sgr-${hex(random, 17)}` }),
      groupId: revoked,
    });
  }
  return own;
}

// ---------------------------------------------------------------------------------------------------------------
// The fake EC2

interface Fault {
  code: string;
  permanent: boolean;
  error: Error;
}

function awsError(name: string, message: string, status: number): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status },
  });
}

const TRANSIENT_FAULTS: readonly (() => Error)[] = [
  () => awsError("ThrottlingException", "Rate exceeded", 400),
  () => awsError("RequestLimitExceeded", "Request limit exceeded.", 503),
  () => awsError("ServiceUnavailable", "The service is unavailable. Please try again shortly.", 503),
  () => awsError("TimeoutError", "Connection timed out after 30000 ms", 0),
];

/** The fault (if any) of the n-th revoke call on a group: fixed by the seed, whatever the interleaving. */
function faultFor(options: ChaosOptions, groupId: string, n: number): Fault | undefined {
  const random = rng(hash32(`${options.seed}:${groupId}:${n}`));
  if (random() >= options.faultRate) return undefined;
  if (random() < options.permanentShare) {
    const error = awsError("UnauthorizedOperation", "You are not authorized to perform this operation.", 403);
    return { code: error.name, permanent: true, error };
  }
  const make = TRANSIENT_FAULTS[Math.floor(random() * TRANSIENT_FAULTS.length)] ?? TRANSIENT_FAULTS[0];
  if (!make) throw new Error("no transient faults defined");
  const error = make();
  return { code: error.name, permanent: false, error };
}

interface RuleState {
  groupId: string;
  state: "open" | "closed-by-hand" | "revoked";
  /**
   * Revoke requests that reached EC2 after this run had revoked the rule (must stay 0). EC2 itself would answer NotFound,
   * so "revoked twice" means "asked to revoke again": what a broken deduplication does.
   */
  requestsAfterRevoke: number;
}

// ---------------------------------------------------------------------------------------------------------------
// The run

interface Delivery {
  built: Built;
  attempt: number;
}

/** Thrown into the driver (never into respond()) when an invocation dies at a kill point. */
class InvocationKilled extends Error {
  override name = "InvocationKilled";
}

/** One invocation's life: `kill()` ends it where it stands: the promise it returns never settles. */
interface Invocation {
  died: Promise<never>;
  kill(point: KillPoint): Promise<never>;
  killAt?: KillPoint;
}

function invocation(killAt: KillPoint | undefined, onKill: (point: KillPoint) => void): Invocation {
  let reject: (error: Error) => void = () => {};
  const died = new Promise<never>((_, r) => {
    reject = r;
  });
  return {
    died,
    ...(killAt ? { killAt } : {}),
    kill(point) {
      onKill(point);
      reject(new InvocationKilled(`killed ${point}`));
      return new Promise<never>(() => {});
    },
  };
}

async function pool<T>(items: readonly T[], concurrency: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

function validate(options: ChaosOptions): void {
  const shares = [
    "faultRate",
    "permanentShare",
    "duplicateShare",
    "alreadyFixedShare",
    "killShare",
    "ownEventShare",
  ] as const;
  for (const name of shares) {
    const v = options[name];
    if (!(v >= 0 && v <= 1)) throw new RangeError(`${name} must be from 0 to 1, got ${v}`);
  }
  const counts = ["events", "guardDutyFindings"] as const;
  for (const name of counts) {
    if (!Number.isInteger(options[name]) || options[name] < 0) throw new RangeError(`${name} must be an integer >= 0`);
  }
  if (!Number.isInteger(options.sdkAttempts) || options.sdkAttempts < 1)
    throw new RangeError("sdkAttempts must be >= 1");
  if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1)
    throw new RangeError("maxAttempts must be >= 1");
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1)
    throw new RangeError("concurrency must be >= 1");
}

/**
 * Runs the chaos scenario. With `dynamo` the caller's local DynamoDB is used (and left running); otherwise one is
 * started and stopped. The EC2 mock is installed for the run and restored after it.
 */
export async function runChaos(
  partial: Partial<ChaosOptions> & { seed: number },
  dynamo?: LocalDynamo,
): Promise<ChaosRun> {
  const options: ChaosOptions = { ...DEFAULT_CHAOS_OPTIONS, ...partial };
  validate(options);
  const started = performance.now();
  const random = rng(options.seed);
  const built = buildEvents(options, random);
  const own = buildOwnEvents(options, random);
  const ownGroups = new Set(own.map((o) => o.groupId));

  const rules = new Map<string, RuleState>();
  for (const b of built) {
    if (!b.ruleId || !b.groupId) continue;
    rules.set(b.ruleId, {
      groupId: b.groupId,
      state: random() < options.alreadyFixedShare ? "closed-by-hand" : "open",
      requestsAfterRevoke: 0,
    });
  }

  // Which events die at which point: every ingress event drawn with killShare, the points taken in turn.
  const killAt = new Map<string, KillPoint>();
  for (const b of built) {
    if (b.kind !== "ingress" || random() >= options.killShare) continue;
    killAt.set(b.key, KILL_POINTS[killAt.size % KILL_POINTS.length] ?? "before-change");
  }
  const kills: Record<KillPoint, number> = {
    "before-change": 0,
    "after-change": 0,
    "after-audit": 0,
    "after-notification": 0,
  };
  /** The invocation holding each event's claim, so the EC2 fake can kill the right one. */
  const holders = new Map<string, Invocation>();
  const keyOfGroup = new Map(built.flatMap((b) => (b.groupId ? [[b.groupId, b.key] as const] : [])));
  const holderOf = (groupId: string): Invocation | undefined => {
    const key = keyOfGroup.get(groupId);
    return key === undefined ? undefined : holders.get(key);
  };

  const faultsInjected: Record<string, number> = {};
  const callsPerGroup = new Map<string, number>();
  let revokeCalls = 0;
  let ownRevokeCalls = 0;
  const ec2 = mockClient(EC2Client);
  // The read of the group's tags before a revoke (the policy's exemption tag): untagged, no faults.
  ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups());
  ec2
    .on(RevokeSecurityGroupIngressCommand)
    .callsFake(
      async (input: RevokeSecurityGroupIngressCommandInput): Promise<RevokeSecurityGroupIngressCommandOutput> => {
        const groupId = input.GroupId ?? "";
        if (ownGroups.has(groupId)) ownRevokeCalls++;
        const holder = holderOf(groupId);
        if (holder?.killAt === "before-change") return holder.kill("before-change");
        let fault: ReturnType<typeof faultFor>;
        // The SDK's retry around one call: a transient fault is retried until the attempts run out.
        for (let attempt = 1; ; attempt++) {
          revokeCalls++;
          const n = (callsPerGroup.get(groupId) ?? 0) + 1;
          callsPerGroup.set(groupId, n);
          fault = faultFor(options, groupId, n);
          if (fault) faultsInjected[fault.code] = (faultsInjected[fault.code] ?? 0) + 1;
          if (!fault || fault.permanent || attempt >= options.sdkAttempts) break;
        }
        const reachesEc2 = !fault || (options.ambiguousTimeouts && fault.code === "TimeoutError");
        if (fault && !reachesEc2) throw fault.error;
        const ids = input.SecurityGroupRuleIds ?? [];
        const states = ids.map((id) => ({ id, rule: rules.get(id) }));
        for (const { id, rule } of states) {
          if (!rule || rule.groupId !== groupId) {
            throw awsError(
              "InvalidSecurityGroupRuleId.NotFound",
              `The security group rule ID '${id}' does not exist`,
              400,
            );
          }
        }
        for (const { id, rule } of states) {
          if (rule?.state === "revoked") rule.requestsAfterRevoke++;
          if (rule?.state !== "open") {
            throw awsError(
              "InvalidSecurityGroupRuleId.NotFound",
              `The security group rule ID '${id}' does not exist`,
              400,
            );
          }
        }
        for (const { rule } of states) if (rule) rule.state = "revoked";
        if (holder?.killAt === "after-change") return holder.kill("after-change");
        if (fault) throw fault.error;
        return {
          $metadata: { httpStatusCode: 200 },
          Return: true,
          RevokedSecurityGroupRules: ids.map((id) => ({
            SecurityGroupRuleId: id,
            GroupId: groupId,
            IsEgress: false,
            IpProtocol: "tcp",
            FromPort: 22,
            ToPort: 22,
            CidrIpv4: "0.0.0.0/0",
          })),
        };
      },
    );

  const ownDynamo = dynamo === undefined;
  const db = dynamo ?? (await startDynalite());
  try {
    const table = await db.createTable(`eks-responder-chaos-${options.seed}-${Date.now()}`);
    const policy = parsePolicy({
      dryRun: false,
      detectors: { "ec2-open-ingress": { mode: "auto" } },
      // The deployment's own role, as the functions get it (RESPONDER_ROLE_ARNS).
      responder: { roleArns: [RESPOND_ROLE_ARN] },
    });
    const clients = new Map<string, AwsClients>();
    const clientsOf = (region: string): AwsClients => {
      let c = clients.get(region);
      if (!c) {
        c = createAwsClients(region);
        clients.set(region, c);
      }
      return c;
    };
    // One kill switch for the whole "fleet", read through a reader as the handler does with SSM.
    const killSwitch = createKillSwitch(async () => "off");
    let lostClaims = 0;
    let deliveries = 0;
    let redeliveries = 0;
    let claimHeld = 0;
    let takeovers = 0;
    const startedAt = Date.now();
    // Every CloudTrail event happens at the run's start: time to remediate counts from there.
    for (const b of built) {
      const detail = b.event.detail;
      if (b.kind === "ingress" && isJson(detail)) detail.eventTime = new Date(startedAt).toISOString();
    }

    const state = new Map<string, ChaosEvent>();
    for (const b of built) {
      state.set(b.key, {
        key: b.key,
        kind: b.kind,
        ...(b.groupId ? { groupId: b.groupId } : {}),
        ...(b.ruleId ? { ruleId: b.ruleId } : {}),
        duplicatesInjected: b.duplicates,
        suppressed: 0,
        responded: 0,
        deadLettered: 0,
        takenOver: 0,
        runs: 0,
        results: [],
        runsAfterPermanentFailure: 0,
        ...(killAt.has(b.key) ? { killAt: killAt.get(b.key) } : {}),
        killed: false,
        notified: 0,
        final: "lost",
      });
    }
    const eventOf = (key: string): ChaosEvent => {
      const e = state.get(key);
      if (!e) throw new Error(`unknown event ${key}`);
      return e;
    };

    /**
     * One Lambda invocation: its own store (as separate Lambdas have), the shared table and kill switch, the clock of
     * its delivery (Lambda's retry timing), and the claim held as the respond function holds it.
     */
    function depsFor(delivery: Delivery, life: Invocation): RespondDeps {
      const store = idempotencyStore(db.docClient, table);
      const now = new Date(startedAt + (DELIVERY_OFFSET_MS[delivery.attempt - 1] ?? 0));
      let token: string | undefined;
      const reads = ruleGuardReads(Promise.resolve(db.docClient), table);
      const claims: Pick<RespondDeps, "claim" | "checkpoint" | "complete" | "release"> = {
        async claim(key) {
          const claim = await store.claim(key, {
            now,
            inProgressTtlSeconds: claimTtlSeconds(FUNCTION_TIMEOUT_MS),
            recordTtlSeconds: 86_400,
          });
          if (claim.claimed) {
            token = claim.token;
            eventOf(key).runs++;
            if (claim.attempt > 1) takeovers++;
            // Only the first invocation of a chosen event dies; the one that takes over lives.
            holders.set(key, life);
          } else if (claim.status === "IN_PROGRESS") {
            claimHeld++;
          }
          return claimAnswer(claim);
        },
        async checkpoint(key, progress) {
          await store.checkpoint(key, fitCheckpoint(progress, MAX_PROGRESS_BYTES), token);
        },
        async complete(key, result) {
          const done = await store.complete(key, result, token);
          if (!done.completed) lostClaims++;
        },
        async release(key) {
          await store.release(key, token);
        },
      };
      return {
        policy,
        clients: clientsOf,
        sleep: async () => {},
        ...(options.idempotency ? claims : {}),
        killSwitch,
        // The rule guards as the respond function wires them, the group's counters read ahead with the claim (every
        // ingress event has its own group: never held).
        prepareHoldBack: (signal) => reads.prepare(signal),
        holdBack: ruleGuards(db.docClient, table, policy, { now: () => now, reads }),
        async record(result) {
          // A transient failure goes back to the retry policy, unrecorded: the final attempt is what the audit keeps.
          const transient = transientFailure(result);
          if (transient) throw new TransientActionError(transient);
          const at = result.recordedAt ? new Date(result.recordedAt) : now;
          // The change's time is this delivery's, as the respond function records it (appliedAt: now).
          for (const entry of toAuditEntries(result, at, now)) await recordAudit(db.docClient, table, entry);
          if (life.killAt === "after-audit") await life.kill("after-audit");
        },
        async notify(result) {
          if (result.signal) eventOf(result.signal.key).notified++;
          if (life.killAt === "after-notification") await life.kill("after-notification");
        },
      };
    }

    async function deliver(delivery: Delivery, next: Delivery[][]): Promise<void> {
      deliveries++;
      const event = eventOf(delivery.built.key);
      // The first delivery of a chosen event is the one that dies (whichever chain takes its claim).
      const point = delivery.attempt === 1 && !event.killed ? event.killAt : undefined;
      const life = invocation(point, (at) => {
        event.killed = true;
        kills[at]++;
      });
      try {
        if (!options.idempotency) event.runs++;
        const result = await Promise.race([respond(delivery.built.event, depsFor(delivery, life)), life.died]);
        if (result.duplicate) {
          event.suppressed++;
          return;
        }
        event.responded++;
        const outcome = result.applied[0]?.outcomes[0];
        if (event.permanentFailureAttempt !== undefined) event.runsAfterPermanentFailure++;
        event.results.push({
          attempt: delivery.attempt,
          outcome: result.outcome,
          ...(outcome ? { status: outcome.status } : {}),
          ...(outcome?.error ? { errorCode: outcome.error.code } : {}),
        });
        if (result.outcome === "failed") event.permanentFailureAttempt ??= delivery.attempt;
      } catch (error) {
        if (delivery.attempt < options.maxAttempts) {
          redeliveries++;
          next.push([{ built: delivery.built, attempt: delivery.attempt + 1 }]);
        } else {
          const message = error instanceof Error ? error.message : String(error);
          event.deadLettered++;
          event.deadLetter = { attempts: delivery.attempt, error: message };
        }
      }
    }

    const ownSkipped: Record<string, number> = {};
    let ownActedOn = 0;
    /** One of the responder's own events, delivered once: it must be skipped, never acted on or alerted. */
    async function deliverOwn(o: OwnBuilt): Promise<void> {
      deliveries++;
      const life = invocation(undefined, () => {});
      // Its own deps: recorded in the audit like any event, but outside the ingress events' claims and notifications.
      const {
        claim: _claim,
        checkpoint: _checkpoint,
        complete: _complete,
        release: _release,
        ...deps
      } = depsFor({ built: built[0] as Built, attempt: 1 }, life);
      const result = await respond(o.event, { ...deps, notify: async () => {} });
      if (result.outcome !== "skipped" || result.applied.length > 0 || result.approvals.length > 0) ownActedOn++;
      const code = result.skipped ?? result.outcome;
      ownSkipped[code] = (ownSkipped[code] ?? 0) + 1;
    }

    // Round 1: every event, its duplicates delivered together with it, the responder's own events among them; later
    // rounds: the redeliveries.
    const first = shuffle<Delivery[] | OwnBuilt>(
      [...built.map((b) => Array.from({ length: 1 + b.duplicates }, () => ({ built: b, attempt: 1 }))), ...own],
      random,
    );
    let round: Delivery[][] = [];
    await pool(first, options.concurrency, async (item) => {
      if (Array.isArray(item)) await Promise.all(item.map((d) => deliver(d, round)));
      else await deliverOwn(item);
    });
    while (round.length > 0) {
      const next: Delivery[][] = [];
      await pool(round, options.concurrency, async (batch) => {
        await Promise.all(batch.map((d) => deliver(d, next)));
      });
      round = next;
    }

    // The audit of this run, read back from the table.
    const audit = new Map<string, AuditRecord[]>();
    for (const record of await listAudit(db.docClient, table, { limit: 10_000 })) {
      const list = audit.get(record.eventId) ?? [];
      list.push(record);
      audit.set(record.eventId, list);
    }

    let auditMismatches = 0;
    for (const e of state.values()) {
      e.takenOver = Math.max(0, e.responded + e.deadLettered - 1);
      const last = e.results.at(-1);
      if (last) {
        if (last.outcome === "failed") e.final = "failed";
        else if (last.outcome === "alert") e.final = "alert";
        else if (last.outcome === "applied") e.final = last.status === "already-done" ? "already-done" : "applied";
        else e.final = "other";
      } else if (e.deadLetter) {
        e.final = "dead-lettered";
      }
      const records = audit.get(e.key) ?? [];
      const expected = e.responded;
      if (records.length !== expected) auditMismatches++;
    }

    // Half-applied: a rule revoked twice, a revoke the audit does not hold (with its undo), or an "applied" record for
    // a rule EC2 still has open.
    let rulesRevokedTwice = 0;
    let recheckedAfterKill = 0;
    let deadLetteredAfterChange = 0;
    let revokesMissingFromAudit = 0;
    let appliedButStillOpen = 0;
    for (const e of state.values()) {
      if (!e.ruleId) continue;
      const rule = rules.get(e.ruleId);
      if (!rule) continue;
      const tornByKill = e.killed && e.killAt === "after-change";
      if (rule.requestsAfterRevoke > 0) {
        if (tornByKill) recheckedAfterKill++;
        else rulesRevokedTwice++;
      }
      const results = (audit.get(e.key) ?? []).flatMap((r) => r.results ?? []);
      const undoes = (r: (typeof results)[number]) => JSON.stringify(r.undo ?? {}).includes(`"${e.ruleId}"`);
      const recordedRevoke = results.some((r) => r.status === "applied" && undoes(r));
      // After a kill after the change, the retry finds the rule gone and records "already done" with the event's rule
      // as its undo (and says an earlier delivery did not finish): the revoke is in the audit, and can be undone.
      const recorded = recordedRevoke || (tornByKill && results.some((r) => r.status === "already-done" && undoes(r)));
      // A dead-lettered event is not lost: its message waits in the queue with its reason, and its redrive re-checks the
      // rule and records it. Counted apart: a change made before the event was dead-lettered.
      if (rule.state === "revoked" && !recorded) {
        if (e.final === "dead-lettered") deadLetteredAfterChange++;
        else revokesMissingFromAudit++;
      }
      if (rule.state !== "revoked" && recordedRevoke) appliedButStillOpen++;
    }

    const events = [...state.values()];
    const count = (final: FinalState) => events.filter((e) => e.final === final).length;
    const counts: ChaosCounts = {
      seed: options.seed,
      faultRate: options.faultRate,
      sdkAttempts: options.sdkAttempts,
      permanentShare: options.permanentShare,
      maxAttempts: options.maxAttempts,
      concurrency: options.concurrency,
      ambiguousTimeouts: options.ambiguousTimeouts,
      eventsIn: events.length,
      ingressEvents: events.filter((e) => e.kind === "ingress").length,
      guardDutyEvents: events.filter((e) => e.kind === "guardduty").length,
      deliveries,
      duplicatesInjected: events.reduce((n, e) => n + e.duplicatesInjected, 0),
      duplicatesSuppressed: events.reduce((n, e) => n + e.suppressed, 0),
      duplicatesTakenOver: events.reduce((n, e) => n + e.takenOver, 0),
      respondedTwice: events.filter((e) => e.responded > 1).length,
      redeliveries,
      revokeCalls,
      faultsInjected: Object.fromEntries(Object.entries(faultsInjected).sort(([a], [b]) => a.localeCompare(b))),
      remediationsApplied: count("applied"),
      alreadyDone: count("already-done"),
      alerts: count("alert"),
      failedPermanent: count("failed"),
      deadLettered: count("dead-lettered"),
      // "other" (a response that is none of the expected endings, e.g. pending-approval) counts as lost too.
      lost: count("lost") + count("other"),
      halfApplied: rulesRevokedTwice + revokesMissingFromAudit + appliedButStillOpen,
      rulesRevokedTwice,
      revokesMissingFromAudit,
      appliedButStillOpen,
      auditMismatches,
      lostClaims,
      kills,
      claimHeld,
      takeovers,
      unnotified: events.filter((e) => e.responded > 0 && e.notified === 0).length,
      notifiedTwice: events.filter((e) => e.notified > 1).length,
      recheckedAfterKill,
      deadLetteredAfterChange,
      ownEvents: {
        isolation: own.filter((o) => o.kind === "isolation").length,
        revokes: own.filter((o) => o.kind === "revoke").length,
      },
      ownSkipped: Object.fromEntries(Object.entries(ownSkipped).sort(([a], [b]) => a.localeCompare(b))),
      ownActedOn: ownActedOn + ownRevokeCalls,
      timeToRemediate: remediationReport([...audit.values()].flat()).timeToRemediate.all,
      durationMs: Math.round(performance.now() - started),
    };
    return { counts, events, audit, table };
  } finally {
    ec2.restore();
    if (ownDynamo) await db.stop();
  }
}

export function formatCounts(c: ChaosCounts): string {
  const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
  const faults = Object.entries(c.faultsInjected)
    .map(([code, n]) => `${code} ${n}`)
    .join(", ");
  const totalFaults = Object.values(c.faultsInjected).reduce((a, b) => a + b, 0);
  return [
    `chaos  seed ${c.seed} (again: npm run chaos -- --seed ${c.seed})`,
    `  fault rate            ${pct(c.faultRate)} of RevokeSecurityGroupIngress calls, ${pct(c.permanentShare)} of them permanent; ${c.sdkAttempts} SDK attempt${c.sdkAttempts === 1 ? "" : "s"} per call; ${c.maxAttempts} deliveries per event at most; ${c.concurrency} at once${c.ambiguousTimeouts ? "; timeouts after EC2 acted" : ""}`,
    `  events in             ${c.eventsIn} (${c.ingressEvents} open-ingress, ${c.guardDutyEvents} GuardDuty finding versions)`,
    `  deliveries            ${c.deliveries} (${c.duplicatesInjected} duplicates injected, ${c.redeliveries} redeliveries)`,
    `  revoke calls          ${c.revokeCalls}, faults injected ${totalFaults}${faults ? ` (${faults})` : ""}`,
    `  remediations applied  ${c.remediationsApplied}`,
    `  already done          ${c.alreadyDone}`,
    `  alerts                ${c.alerts}`,
    `  duplicates suppressed ${c.duplicatesSuppressed} of ${c.duplicatesInjected} injected${c.duplicatesTakenOver ? `; ${c.duplicatesTakenOver} ran as a retry after a transient failure released the claim` : ""}; responded twice ${c.respondedTwice}`,
    `  failed (permanent)    ${c.failedPermanent}, recorded`,
    `  dead-lettered         ${c.deadLettered}, with their error`,
    `  lost                  ${c.lost}`,
    `  half-applied          ${c.halfApplied} (${c.rulesRevokedTwice} rules revoked twice, ${c.revokesMissingFromAudit} revokes missing from the audit, ${c.appliedButStillOpen} recorded as applied but still open)`,
    `  audit mismatches      ${c.auditMismatches}; lost claims ${c.lostClaims}`,
    `  kill points           ${KILL_POINTS.map((p) => `${p} ${c.kills[p]}`).join(", ")}; ${c.claimHeld} deliveries found the claim held (retried), ${c.takeovers} claims taken over`,
    `  after the kills       lost ${c.lost}, double-applied ${c.rulesRevokedTwice}, unaudited ${c.revokesMissingFromAudit}, unnotified ${c.unnotified}; notified twice ${c.notifiedTwice} (a kill after the notification: at least once), re-checked after a kill after the change ${c.recheckedAfterKill}, dead-lettered after a change ${c.deadLetteredAfterChange} (redrive records it)`,
    `  own events            ${c.ownEvents.isolation + c.ownEvents.revokes} (${c.ownEvents.isolation} transition-group ingress of its isolations, ${c.ownEvents.revokes} of its own revokes): acted on ${c.ownActedOn}; skipped ${Object.entries(
      c.ownSkipped,
    )
      .map(([code, n]) => `${code} ${n}`)
      .join(", ")}`,
    `  took                  ${c.durationMs} ms`,
  ].join("\n");
}

function numberArg(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new RangeError(`--${name} must be a number, got ${JSON.stringify(value)}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: "string" },
      events: { type: "string" },
      "fault-rate": { type: "string" },
      "permanent-share": { type: "string" },
      concurrency: { type: "string" },
      "sdk-attempts": { type: "string" },
      "ambiguous-timeouts": { type: "boolean" },
    },
  });
  const seed = numberArg(values.seed, "seed") ?? randomInt(2 ** 31);
  const events = numberArg(values.events, "events");
  const faultRate = numberArg(values["fault-rate"], "fault-rate");
  const permanentShare = numberArg(values["permanent-share"], "permanent-share");
  const concurrency = numberArg(values.concurrency, "concurrency");
  const sdkAttempts = numberArg(values["sdk-attempts"], "sdk-attempts");
  const run = await runChaos({
    seed,
    ...(events === undefined ? {} : { events }),
    ...(faultRate === undefined ? {} : { faultRate }),
    ...(permanentShare === undefined ? {} : { permanentShare }),
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(sdkAttempts === undefined ? {} : { sdkAttempts }),
    ...(values["ambiguous-timeouts"] ? { ambiguousTimeouts: true } : {}),
  });
  const c = run.counts;
  process.stdout.write(`${formatCounts(c)}\n`);
  const results = { command: "npm run chaos", date: new Date().toISOString(), node: process.version, ...c };
  writeFileSync(join(ROOT, "bench/chaos-results.json"), `${JSON.stringify(results, null, 2)}\n`);
  const broken =
    c.lost > 0 ||
    c.halfApplied > 0 ||
    c.auditMismatches > 0 ||
    c.lostClaims > 0 ||
    c.respondedTwice > 0 ||
    c.unnotified > 0 ||
    c.ownActedOn > 0;
  if (broken) {
    process.stderr.write(
      "chaos: an invariant broke (lost, half-applied, responded twice, unnotified, audit, claims, or own events acted on): see above\n",
    );
    process.exitCode = 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
