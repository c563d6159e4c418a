/**
 * Event storm against EC2's API throttle: 1,000 distinct world-open ingress events (built from the real CloudTrail
 * example, each with its own eventID, group and rule) all arrive at once and go through `respond()` (dryRun false).
 * EC2 is mocked (aws-sdk-client-mock) behind a token bucket like EC2's request-rate limit (burst 50, refill 5 per
 * second): a call without a token is rejected with RequestLimitExceeded. The read of each group's tags before its
 * revoke (the policy's exemption tags) goes through a bucket of its own, as EC2 throttles each API apart.
 *
 * Time is virtual: every wait (the SDK's retry backoff, Lambda's redelivery delay) advances a simulated clock that the
 * bucket reads, so 200 simulated seconds take well under a second. A small discrete-event scheduler runs the
 * invocations concurrently and moves the clock to the next timer only when every invocation is waiting.
 *
 * aws-sdk-client-mock replaces `send`, so the SDK's own retry never runs; it is modelled here, per call, with the
 * SDK's formula (standard/adaptive retry: a throttled call waits random × min(20 s, 500 ms × 2^attempt)), on the
 * virtual clock. A call still throttled after its attempts fails the action; respond() then throws
 * TransientActionError and the event is delivered again after the configured delay, as Lambda's asynchronous retry does
 * (infra: maximumRetryAttempts 2, waits of 1 and 2 minutes), then dead-lettered.
 *
 * Slack is the functions' notifier as deployed (createNotifier with the per-channel gate and digest of
 * packages/core/src/notify/digest.ts, on a local DynamoDB, dynalite) posting to a local Slack Web API that records
 * the simulated second of each message, and the scheduled digest flush runs every simulated minute (flushDigests).
 *
 * Each variant changes only the delivery (concurrency, retry budget); the respond path is the same code.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  DescribeSecurityGroupsCommand,
  type DescribeSecurityGroupsCommandInput,
  type DescribeSecurityGroupsCommandOutput,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
  type RevokeSecurityGroupIngressCommandInput,
  type RevokeSecurityGroupIngressCommandOutput,
} from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { RESPOND_RESERVED_CONCURRENCY } from "../infra/naming.ts";
import { type AwsClients, createAwsClients, EC2_THROTTLE_RETRY } from "../packages/core/src/aws/clients.ts";
import { takeAutomaticSlot } from "../packages/core/src/guardrails/blast-radius.ts";
import {
  type DurationStats,
  remediationReport,
  type TimedRecord,
} from "../packages/core/src/metrics/time-to-remediate.ts";
import { createNotifier } from "../packages/core/src/notify/deliver.ts";
import { flushDigests, slackDigest, slackPoster } from "../packages/core/src/notify/digest.ts";
import { type RespondDeps, type RespondResult, respond } from "../packages/core/src/pipeline/respond.ts";
import { toAuditEntries } from "../packages/core/src/store/audit-entries.ts";
import { startDynalite } from "../test/helpers/dynalite.ts";
import { startSlackServer } from "../test/helpers/slack-server.ts";
import { livePolicy } from "./full-path.ts";

const ROOT = join(import.meta.dirname, "..");
const TEMPLATE = "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json";

export const STORM_EVENTS = 1000;
export const BUCKET = { burst: 50, refillPerSecond: 5 } as const;
/**
 * EC2 throttles each API in its own bucket; DescribeSecurityGroups (read before each revoke for the policy's
 * exemption tags) is a non-mutating action. EC2's "Request throttling" page gives burst 100, 20 per second for
 * non-mutating actions (its example is DescribeHosts); that this call gets the same is an assumption.
 */
export const DESCRIBE_BUCKET = { burst: 100, refillPerSecond: 20 } as const;
/** The least time the bucket allows: the burst goes at once, the rest at the refill rate. */
export const MINIMUM_SECONDS = (STORM_EVENTS - BUCKET.burst) / BUCKET.refillPerSecond;
/** The highest blast-radius limit a policy may set (packages/core/src/policy/schema.ts). */
const MAX_AUTOMATIC_ACTIONS = 10_000;
/** Target: every rule revoked within 1.2× the minimum, none lost. */
export const STORM_TARGET_RATIO = 1.2;
const SEED = 20261127;

/** How the events are delivered and how a throttled call is retried. */
export interface StormVariant {
  name: string;
  /** Invocations at once; Infinity is Lambda scaling out to one invocation per event. */
  concurrency: number;
  /** Attempts of one EC2 call (the SDK's maxAttempts; 5 in createAwsClients). */
  callAttempts: number;
  /** The SDK's throttling backoff: random × min(capMs, baseMs × 2^attempt). */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** A call gives up once its waits would exceed this (the function's 60 s timeout bounds it). */
  callBudgetMs: number;
  /** Waits before each redelivery of a failed event; after the last one it is dead-lettered. */
  redeliveryDelaysMs: readonly number[];
  /** What it stands for. */
  description: string;
}

const LAMBDA_ASYNC_RETRIES = [60_000, 120_000] as const;

/** The deployed settings: the respond function's reserved concurrency and the EC2 client's throttling retry. */
export const AS_DEPLOYED: StormVariant = {
  name: "as deployed",
  concurrency: RESPOND_RESERVED_CONCURRENCY,
  callAttempts: EC2_THROTTLE_RETRY.maxAttempts,
  backoffBaseMs: EC2_THROTTLE_RETRY.baseMs,
  backoffCapMs: EC2_THROTTLE_RETRY.capMs,
  callBudgetMs: Number.POSITIVE_INFINITY,
  redeliveryDelaysMs: LAMBDA_ASYNC_RETRIES,
  description: `${RESPOND_RESERVED_CONCURRENCY} invocations at once (reserved concurrency; the rest wait in Lambda's async queue, modelled first in, first out); EC2 retry as configured (${EC2_THROTTLE_RETRY.maxAttempts} attempts, waits of at most ${EC2_THROTTLE_RETRY.capMs / 1000} s); Lambda async retries after 1 and 2 min, then the dead-letter queue`,
};

/** What the SDK's default would do: 5 attempts, waits of up to 20 s, and Lambda scaling out to one invocation per event. */
export const WHAT_IF: StormVariant[] = [
  {
    ...AS_DEPLOYED,
    name: "SDK defaults, no reserved concurrency",
    concurrency: Number.POSITIVE_INFINITY,
    callAttempts: 5,
    backoffCapMs: 20_000,
    description: "one invocation per event, the SDK's default retry (5 attempts, waits of up to 20 s)",
  },
  {
    ...AS_DEPLOYED,
    name: "SDK default retry only",
    callAttempts: 5,
    backoffCapMs: 20_000,
    description: "reserved concurrency as deployed, but the SDK's default retry (5 attempts, waits of up to 20 s)",
  },
  {
    ...AS_DEPLOYED,
    name: "no reserved concurrency only",
    concurrency: Number.POSITIVE_INFINITY,
    description: "the EC2 retry as deployed, but one invocation per event",
  },
];

export interface SlackRate {
  messages: number;
  /** Of those, digest messages posted by the scheduled flush. */
  digestMessages: number;
  /** Outcomes that went to the digest instead of a message of their own. */
  deferred: number;
  /** Most messages in one simulated second. */
  peakPerSecond: number;
  /** Simulated seconds with more than one message (Slack allows about 1 per second per channel). */
  secondsOverOne: number;
  /** Messages per second from the first to the last one. */
  meanPerSecond: number;
}

export interface StormResult {
  variant: string;
  description: string;
  events: number;
  revoked: number;
  /** Events whose rule is still open at the end: dead-lettered (or never finished). */
  lost: number;
  deadLettered: number;
  /** Simulated seconds until the last event was revoked or dead-lettered. */
  seconds: number;
  /** Simulated seconds until the last rule was revoked. */
  lastRevokeSeconds: number;
  minimumSeconds: number;
  ratioToMinimum: number;
  invocations: number;
  ec2Calls: number;
  throttledCalls: number;
  rulesRevokedTwice: number;
  slack: Record<string, SlackRate>;
  /**
   * Event time (every event at the storm's start) → change applied, on the simulated clock, from the audit entries the
   * respond function would write, by the function `eks-responder report` uses (nearest-rank percentiles).
   */
  timeToRemediate: DurationStats;
  /** Wall-clock time of the simulation. */
  wallMs: number;
}

export interface Storm extends StormResult {
  bucket: typeof BUCKET;
  describeBucket: typeof DESCRIBE_BUCKET;
  targetRatio: number;
  whatIf: StormResult[];
}

// ---------------------------------------------------------------------------------------------------------------
// A virtual clock with a discrete-event scheduler

interface Timer {
  at: number;
  seq: number;
  wake: () => void;
}

/** A binary min-heap of timers by (at, seq). */
class TimerHeap {
  private readonly items: Timer[] = [];
  get size(): number {
    return this.items.length;
  }
  private less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
  private swap(i: number, j: number): void {
    const a = this.items[i];
    const b = this.items[j];
    if (a === undefined || b === undefined) return;
    this.items[i] = b;
    this.items[j] = a;
  }
  push(t: Timer): void {
    this.items.push(t);
    let i = this.items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = this.items[parent];
      const c = this.items[i];
      if (!p || !c || !this.less(c, p)) break;
      this.swap(i, parent);
      i = parent;
    }
  }
  pop(): Timer | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (top === undefined || last === undefined || this.items.length === 0) return top;
    this.items[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      const li = this.items[l];
      const ri = this.items[r];
      const mi = () => this.items[m];
      const cur = mi();
      if (li && cur && this.less(li, cur)) m = l;
      const cur2 = mi();
      if (ri && cur2 && this.less(ri, cur2)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}

/**
 * Runs tasks concurrently on simulated time. `running` counts the tasks that are not waiting on the clock or on the
 * semaphore; the clock jumps to the next timer only when it is 0, so no task ever sees time pass while it works.
 */
class VirtualClock {
  now = 0;
  private running = 0;
  private seq = 0;
  private readonly timers = new TimerHeap();

  readonly sleep = (ms: number): Promise<void> => {
    this.running--;
    return new Promise<void>((resolve) => {
      this.timers.push({
        at: this.now + Math.max(0, ms),
        seq: this.seq++,
        wake: () => {
          this.running++;
          resolve();
        },
      });
    });
  };

  /**
   * Marks the current task as waiting on another task (the semaphore); the returned wake is called by that task, so
   * the count never drops to 0 between a release and the waiter's resumption.
   */
  park(): { wait: Promise<void>; wake: () => void } {
    this.running--;
    let wake = () => {};
    const wait = new Promise<void>((resolve) => {
      wake = () => {
        this.running++;
        resolve();
      };
    });
    return { wait, wake };
  }

  spawn(task: () => Promise<void>): void {
    this.running++;
    task().finally(() => {
      this.running--;
    });
  }

  async run(): Promise<void> {
    for (;;) {
      while (this.running > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const next = this.timers.pop();
      if (!next) return;
      this.now = Math.max(this.now, next.at);
      next.wake();
    }
  }
}

/** A first-in, first-out semaphore on the clock: invocations beyond the concurrency wait their turn. */
class Semaphore {
  private readonly waiting: (() => void)[] = [];
  private free: number;
  private readonly clock: VirtualClock;
  constructor(clock: VirtualClock, permits: number) {
    this.clock = clock;
    this.free = permits;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    const { wait, wake } = this.clock.park();
    this.waiting.push(wake);
    await wait;
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** EC2's request-rate limit: a token bucket read on the simulated clock. */
class TokenBucket {
  private readonly clock: VirtualClock;
  private readonly burst: number;
  private readonly perSecond: number;
  private tokens: number;
  private last = 0;
  constructor(clock: VirtualClock, burst: number, perSecond: number) {
    this.clock = clock;
    this.burst = burst;
    this.perSecond = perSecond;
    this.tokens = burst;
  }
  take(): boolean {
    const now = this.clock.now;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** mulberry32: seeded floats in [0, 1). */
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

// ---------------------------------------------------------------------------------------------------------------
// Events

type Json = Record<string, unknown>;

function isJson(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function child(value: Json, key: string): Json {
  const v = value[key];
  if (!isJson(v)) throw new Error(`${TEMPLATE}: ${key} is not an object`);
  return v;
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

interface StormEvent {
  event: Json;
  groupId: string;
  ruleId: string;
}

/** Distinct events: their own EventBridge id, CloudTrail eventID, group and rule. */
export function stormEvents(count = STORM_EVENTS): StormEvent[] {
  const template: unknown = JSON.parse(readFileSync(join(ROOT, TEMPLATE), "utf8"));
  if (!isJson(template)) throw new Error(`${TEMPLATE} is not a JSON object`);
  return Array.from({ length: count }, (_, i) => {
    const event = structuredClone(template);
    const groupId = `sg-${hex(0x5700000 + i, 17)}`;
    const ruleId = `sgr-${hex(0x5800000 + i, 17)}`;
    event.id = `00000000-0000-4000-8000-${hex(i, 12)}`;
    const detail = child(event, "detail");
    detail.eventID = `11111111-0000-4000-8000-${hex(i, 12)}`;
    // All at once, at the simulated clock's origin: time to remediate counts from there.
    detail.eventTime = new Date(EPOCH_MS).toISOString();
    child(detail, "requestParameters").groupId = groupId;
    const items = child(child(detail, "responseElements"), "securityGroupRuleSet").items;
    const rule = Array.isArray(items) ? items[0] : undefined;
    if (!isJson(rule)) throw new Error(`${TEMPLATE}: no securityGroupRuleSet item`);
    rule.groupId = groupId;
    rule.securityGroupRuleId = ruleId;
    rule.securityGroupRuleArn = `arn:aws:ec2:us-east-1:776520358045:security-group-rule/${ruleId}`;
    return { event, groupId, ruleId };
  });
}

function throttled(): Error {
  return Object.assign(new Error("Request limit exceeded."), {
    name: "RequestLimitExceeded",
    $fault: "client",
    $metadata: { httpStatusCode: 503 },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Slack

/** The simulated clock's origin as a wall-clock time (the digest keys its slots by epoch second). */
const EPOCH_MS = Date.parse("2026-01-01T00:00:00Z");
/** The digest function runs every minute (infra/schedule.ts). */
const DIGEST_FLUSH_MS = 60_000;
/** A bound on the flush loop, far beyond any storm here (1,000 events are over in minutes). */
const MAX_FLUSHES = 120;

// ---------------------------------------------------------------------------------------------------------------
// The run

/** One storm under one delivery variant. Mocks EC2 for its duration and restores it. */
export async function runStorm(variant: StormVariant, count = STORM_EVENTS): Promise<StormResult> {
  const started = performance.now();
  const clock = new VirtualClock();
  const bucket = new TokenBucket(clock, BUCKET.burst, BUCKET.refillPerSecond);
  const describeBucket = new TokenBucket(clock, DESCRIBE_BUCKET.burst, DESCRIBE_BUCKET.refillPerSecond);
  const random = rng(SEED);
  // The blast-radius limit (20 automatic actions per account per 10 minutes by default) would send all but 20 of these
  // events to approval; every delivery takes a slot, redeliveries too: raised to the most a policy allows, so no
  // variant reaches it and the storm measures the throttle.
  const policy = livePolicy({ limits: { automaticActionsPerAccount: MAX_AUTOMATIC_ACTIONS, windowSeconds: 600 } });
  const built = stormEvents(count);
  const rules = new Map(built.map((b) => [b.ruleId, { groupId: b.groupId, revokes: 0, at: -1 }]));

  let ec2Calls = 0;
  let throttledCalls = 0;
  /** The SDK's retry around one call, on the simulated clock, against the bucket of the call's API. */
  const admitted = async (apiBucket: TokenBucket): Promise<void> => {
    let waited = 0;
    for (let attempt = 1; ; attempt++) {
      ec2Calls++;
      if (apiBucket.take()) return;
      throttledCalls++;
      const wait = Math.floor(random() * Math.min(variant.backoffCapMs, variant.backoffBaseMs * 2 ** attempt));
      if (attempt >= variant.callAttempts || waited + wait > variant.callBudgetMs) throw throttled();
      waited += wait;
      await clock.sleep(wait);
    }
  };
  const ec2 = mockClient(EC2Client);
  // The read of the group's tags, for the policy's exemption tag (every storm group is untagged).
  ec2
    .on(DescribeSecurityGroupsCommand)
    .callsFake(async (input: DescribeSecurityGroupsCommandInput): Promise<DescribeSecurityGroupsCommandOutput> => {
      await admitted(describeBucket);
      return {
        $metadata: { httpStatusCode: 200 },
        SecurityGroups: (input.GroupIds ?? []).map((GroupId) => ({ GroupId })),
      };
    });
  ec2
    .on(RevokeSecurityGroupIngressCommand)
    .callsFake(
      async (input: RevokeSecurityGroupIngressCommandInput): Promise<RevokeSecurityGroupIngressCommandOutput> => {
        await admitted(bucket);
        const ids = input.SecurityGroupRuleIds ?? [];
        for (const id of ids) {
          const rule = rules.get(id);
          if (!rule || rule.groupId !== input.GroupId || rule.revokes > 0) {
            throw Object.assign(new Error(`The security group rule ID '${id}' does not exist`), {
              name: "InvalidSecurityGroupRuleId.NotFound",
              $metadata: { httpStatusCode: 400 },
            });
          }
        }
        for (const id of ids) {
          const rule = rules.get(id);
          if (rule) {
            rule.revokes++;
            rule.at = clock.now;
          }
        }
        return {
          $metadata: { httpStatusCode: 200 },
          Return: true,
          RevokedSecurityGroupRules: ids.map((id) => ({
            SecurityGroupRuleId: id,
            GroupId: input.GroupId,
            IsEgress: false,
            IpProtocol: "tcp",
            FromPort: 22,
            ToPort: 22,
            CidrIpv4: "0.0.0.0/0",
          })),
        };
      },
    );

  const stops: (() => Promise<void>)[] = [];
  try {
    const clients = new Map<string, AwsClients>();
    const clientsOf = (region: string): AwsClients => {
      let c = clients.get(region);
      if (!c) {
        c = createAwsClients(region);
        clients.set(region, c);
      }
      return c;
    };
    // Load the EC2 client before the clock runs (a module load is real I/O, outside simulated time).
    await clientsOf("us-east-1").ec2();

    // Slack as deployed: the gate and digest on a local DynamoDB, messages to a local Web API on the simulated clock.
    // chat.postMessage answers ok; each request is stamped with the simulated ms at which it arrived (the clock does
    // not move while a request is in flight: the posting task is running).
    const slack = await startSlackServer(
      [{ status: 200, headers: { "content-type": "application/json" }, body: '{"ok":true}' }],
      { stamp: () => clock.now },
    );
    stops.push(() => slack.stop());
    const dynamo = await startDynalite();
    stops.push(() => dynamo.stop());
    const table = await dynamo.createTable("eks-responder-storm");
    const wallClock = () => new Date(EPOCH_MS + clock.now);
    const slackConfig = { token: "xoxb-storm", apiUrl: `${slack.url}/api/` };
    const notifier = createNotifier({
      routes: policy.notify.routes,
      slack: slackConfig,
      digest: slackDigest(dynamo.docClient, table, { clock: wallClock }),
      sleep: clock.sleep,
    });
    // Load the Slack SDK before the clock runs, like the EC2 client above.
    await import("@slack/web-api");
    const deferred = new Map<string, number>();

    let invocations = 0;
    let deadLettered = 0;
    let lastEnd = 0;
    let outstanding = built.length;
    const audit: TimedRecord[] = [];
    const deps: RespondDeps = {
      policy,
      clients: clientsOf,
      sleep: clock.sleep,
      // The blast-radius limit as deployed: the shared counter on the local DynamoDB, on the simulated clock.
      takeAutomaticSlot: (account: string) =>
        takeAutomaticSlot(dynamo.docClient, table, {
          account,
          limit: policy.limits.automaticActionsPerAccount,
          windowSeconds: policy.limits.windowSeconds,
          now: wallClock(),
        }),
      async record(result: RespondResult) {
        // The entries the respond function writes, at the simulated time of the change.
        for (const entry of toAuditEntries(result, wallClock(), wallClock())) audit.push(entry);
      },
      async notify(result: RespondResult) {
        if (result.outcome === "skipped") return;
        for (const d of await notifier.notify(result)) {
          if (!d.deferred) continue;
          const route = policy.notify.routes.find((r) => r.name === d.route);
          const channel = route?.slack?.channel ?? d.route;
          deferred.set(channel, (deferred.get(channel) ?? 0) + 1);
        }
      },
    };

    const semaphore = new Semaphore(clock, variant.concurrency);
    const deliver = async (event: Json, attempt: number): Promise<void> => {
      await semaphore.acquire();
      invocations++;
      let failed = false;
      try {
        await respond(event, deps);
      } catch {
        failed = true;
      } finally {
        semaphore.release();
      }
      if (!failed) {
        lastEnd = Math.max(lastEnd, clock.now);
        outstanding--;
        return;
      }
      const delay = variant.redeliveryDelaysMs[attempt - 1];
      if (delay === undefined) {
        deadLettered++;
        lastEnd = Math.max(lastEnd, clock.now);
        outstanding--;
        return;
      }
      await clock.sleep(delay);
      await deliver(event, attempt + 1);
    };

    for (const b of built) clock.spawn(() => deliver(b.event, 1));
    // The digest function's schedule: a flush every minute until the storm is over and nothing is left to post.
    const digestMessages = new Map<string, number>();
    clock.spawn(async () => {
      for (let flush = 0; flush < MAX_FLUSHES; flush++) {
        await clock.sleep(DIGEST_FLUSH_MS);
        const report = await flushDigests(dynamo.docClient, table, {
          post: slackPoster(slackConfig),
          now: wallClock(),
          sleep: clock.sleep,
        });
        for (const m of report.messages.filter((x) => x.ok)) {
          digestMessages.set(m.channel, (digestMessages.get(m.channel) ?? 0) + 1);
        }
        if (outstanding === 0 && report.kept === 0) return;
      }
    });
    await clock.run();

    const revokedRules = [...rules.values()].filter((r) => r.revokes > 0);
    const revoked = revokedRules.length;
    const slackRates: Record<string, SlackRate> = {};
    const posts = new Map<string, number[]>();
    for (const r of slack.requests) {
      const channel = new URLSearchParams(r.body).get("channel") ?? "(none)";
      posts.set(channel, [...(posts.get(channel) ?? []), r.at ?? 0]);
    }
    for (const [channel, times] of posts) {
      const perSecond = new Map<number, number>();
      for (const t of times) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
      const span = (Math.max(...times) - Math.min(...times)) / 1000;
      slackRates[channel] = {
        messages: times.length,
        digestMessages: digestMessages.get(channel) ?? 0,
        deferred: deferred.get(channel) ?? 0,
        peakPerSecond: Math.max(...perSecond.values()),
        secondsOverOne: [...perSecond.values()].filter((n) => n > 1).length,
        meanPerSecond: Number((times.length / Math.max(1, span)).toFixed(2)),
      };
    }
    const seconds = Math.round(lastEnd / 100) / 10;
    return {
      variant: variant.name,
      description: variant.description,
      events: count,
      revoked,
      lost: count - revoked,
      deadLettered,
      seconds,
      lastRevokeSeconds: Math.round(Math.max(0, ...revokedRules.map((r) => r.at)) / 100) / 10,
      minimumSeconds: MINIMUM_SECONDS,
      ratioToMinimum: Number((seconds / MINIMUM_SECONDS).toFixed(2)),
      invocations,
      ec2Calls,
      throttledCalls,
      rulesRevokedTwice: [...rules.values()].filter((r) => r.revokes > 1).length,
      slack: slackRates,
      timeToRemediate: remediationReport(audit).timeToRemediate.all,
      wallMs: Math.round(performance.now() - started),
    };
  } finally {
    ec2.restore();
    for (const stop of stops.reverse()) await stop();
  }
}

export async function measureStorm(): Promise<Storm> {
  const deployed = await runStorm(AS_DEPLOYED);
  const whatIf: StormResult[] = [];
  for (const variant of WHAT_IF) whatIf.push(await runStorm(variant));
  return { ...deployed, bucket: BUCKET, describeBucket: DESCRIBE_BUCKET, targetRatio: STORM_TARGET_RATIO, whatIf };
}
