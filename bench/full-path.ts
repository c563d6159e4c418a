/**
 * Events per second through the whole respond path (packages/core/src/pipeline/respond.ts): parse → assess → decide →
 * apply (dryRun false) → record → notify, over the example events, with record and notify as in-memory functions and
 * every AWS client mocked (aws-sdk-client-mock). The events are objects, as Lambda hands them over (no JSON.parse).
 *
 * `measureFullPathInChild()` runs it in a fresh process (`node bench/full-path.ts`) and reads that process's peak
 * resident memory (`process.resourceUsage().maxRSS`): the memory the path needs, without the other benchmarks' load.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type AwsClients, createAwsClients } from "../packages/core/src/aws/clients.ts";
import { processEvent } from "../packages/core/src/pipeline/process.ts";
import { type RespondResult, respond } from "../packages/core/src/pipeline/respond.ts";
import { parsePolicy } from "../packages/core/src/policy/load.ts";
import { mockHappyPath } from "./aws-mocks.ts";

const ROOT = join(import.meta.dirname, "..");
export const FULL_PATH_ROUNDS = 7;
export const FULL_PATH_ROUND_MS = 400;

export interface FullPath {
  events: number;
  rounds: number;
  roundMs: number;
  eventsPerSecond: number;
  /** parse → assess → decide → plan (`processEvent`) over the same event objects, in the same process. */
  spineEventsPerSecond: number;
  /** Peak resident set size of the process that ran it. */
  peakRssBytes: number;
  /** Its resident set size once everything was imported, before the first event. */
  rssAfterImportsBytes: number;
  /** Outcomes of one pass over the events. */
  outcomes: Record<string, number>;
  /** Mocked AWS calls of one pass. */
  awsCallsPerPass: number;
}

/** Accumulates results so the measured work cannot be optimised away. */
export let sink = 0;

function loadEvents(): unknown[] {
  const dir = join(ROOT, "examples/events");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as unknown);
}

/** The example policy, live (dryRun false): auto-mode detectors really call the (mocked) AWS APIs. */
export function livePolicy(overrides: Record<string, unknown> = {}) {
  const input: unknown = JSON.parse(readFileSync(join(ROOT, "examples/policy.json"), "utf8"));
  if (typeof input !== "object" || input === null) throw new Error("examples/policy.json is not an object");
  return parsePolicy({ ...input, dryRun: false, ...overrides }, "examples/policy.json (dryRun: false)");
}

/** `rounds` and `roundMs` are the bench's; test/integration/bench/bench-mocks.test.ts runs it short. */
export async function measureFullPath(rounds = FULL_PATH_ROUNDS, roundMs = FULL_PATH_ROUND_MS): Promise<FullPath> {
  const rssAfterImportsBytes = process.memoryUsage().rss;
  const events = loadEvents();
  const policy = livePolicy();
  const aws = mockHappyPath();
  try {
    const clients = new Map<string, AwsClients>();
    const records: RespondResult[] = [];
    const deps = {
      policy,
      clients(region: string): AwsClients {
        let c = clients.get(region);
        if (!c) {
          c = createAwsClients(region);
          clients.set(region, c);
        }
        return c;
      },
      sleep: async () => {},
      async record(result: RespondResult) {
        records.push(result);
      },
      async notify(result: RespondResult) {
        sink += result.decisions.length;
      },
    };
    const pass = async (): Promise<void> => {
      for (const event of events) sink += (await respond(event, deps)).plan.length;
      records.length = 0;
    };

    // One pass for the outcomes and the calls; it also loads the lazily imported SDK clients.
    const outcomes: Record<string, number> = {};
    aws.reset();
    for (const event of events) {
      const result = await respond(event, deps);
      if (result.outcome === "failed") throw new Error(`full path: ${result.eventId} failed: ${result.reason}`);
      outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
    }
    const awsCallsPerPass = aws.calls();

    const spinePass = async (): Promise<void> => {
      for (const event of events) sink += processEvent(event, policy, { forceDryRun: false }).plan.length;
    };
    const measure = async (work: () => Promise<void>): Promise<number> => {
      const rates: number[] = [];
      for (let round = 0; round < rounds; round++) {
        aws.reset();
        let n = 0;
        const start = performance.now();
        let elapsed = 0;
        while (elapsed < roundMs) {
          await work();
          n += events.length;
          elapsed = performance.now() - start;
        }
        rates.push(n / (elapsed / 1000));
      }
      rates.sort((a, b) => a - b);
      return rates[Math.floor(rates.length / 2)] ?? 0;
    };
    // Warm-ups first, so the JIT has compiled both paths.
    await measure(spinePass);
    await measure(pass);
    const spineEventsPerSecond = await measure(spinePass);
    const eventsPerSecond = await measure(pass);
    return {
      events: events.length,
      rounds,
      roundMs,
      eventsPerSecond: Math.round(eventsPerSecond),
      spineEventsPerSecond: Math.round(spineEventsPerSecond),
      rssAfterImportsBytes,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      outcomes,
      awsCallsPerPass,
    };
  } finally {
    aws.restore();
  }
}

function isFullPath(value: unknown): value is FullPath {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return [
    "events",
    "eventsPerSecond",
    "spineEventsPerSecond",
    "peakRssBytes",
    "rssAfterImportsBytes",
    "awsCallsPerPass",
  ].every((k) => typeof v[k] === "number");
}

/** Runs the measurement in a fresh Node process; its peak RSS is the path's alone. */
export function measureFullPathInChild(): FullPath {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url)], {
    encoding: "utf8",
    env: { ...process.env, AWS_EC2_METADATA_DISABLED: "true" },
  });
  const parsed: unknown = JSON.parse(out);
  if (!isFullPath(parsed)) throw new Error(`bench/full-path.ts printed an unexpected result: ${out.slice(0, 200)}`);
  return parsed;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(await measureFullPath())}\n`);
}
