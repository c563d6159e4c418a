/**
 * Events per second through parse → assess → decide → plan over every fixture, next to JSON.parse of the same event
 * texts in the same run (the spine's work includes its own JSON.parse).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultPolicy, parsePolicy, processEvent } from "../packages/core/src/index.ts";
import { parseEventText } from "../packages/core/src/signals/parse.ts";

const ROOT = join(import.meta.dirname, "..");
export const ROUNDS = 7;
export const ROUND_MS = 400;

function files(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : name.endsWith(".json") ? [path] : [];
    });
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export interface Throughput {
  events: number;
  bytes: number;
  outcomes: Record<string, number>;
  eventsPerSecond: number;
  jsonParsePerSecond: number;
  costVsJsonParse: number;
  /** The parse step alone (JSON.parse and the schemas), in events per second, and its cost against JSON.parse. */
  parsePerSecond: number;
  parseCostVsJsonParse: number;
}

/** Accumulates results so the measured work cannot be optimised away. */
export let sink = 0;

export function measureThroughput(): Throughput {
  // Every fixture and sample that is JSON (the baseline, JSON.parse, must succeed on each).
  const texts = [...files(join(ROOT, "test/fixtures")), ...files(join(ROOT, "examples/events"))]
    .map((f) => readFileSync(f, "utf8"))
    .filter(isJson);
  const policy = parsePolicy(JSON.parse(readFileSync(join(ROOT, "examples/policy.json"), "utf8")));

  /** Runs `work` over every text, round after round, for ROUND_MS: the rate in events per second. */
  function round(work: (text: string) => number): number {
    let events = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < ROUND_MS) {
      for (const text of texts) sink += work(text);
      events += texts.length;
      elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    }
    return events / (elapsed / 1000);
  }
  const median = (rates: number[]) => [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)] ?? 0;

  const jsonParse = (text: string) => (JSON.parse(text) === null ? 0 : 1);
  const spine = (text: string) => processEvent(text, policy).plan.length;
  const parseOnly = (text: string) => {
    try {
      return parseEventText(text).status === "signal" ? 1 : 0;
    } catch {
      return 0;
    }
  };

  // Warm both paths up (the JIT, and the event schemas' compiled parsers, see packages/core/src/hot-schema.ts), then
  // alternate the rounds, so a slower moment of the machine falls on both.
  round(jsonParse);
  round(spine);
  round(parseOnly);
  const jsonRates: number[] = [];
  const spineRates: number[] = [];
  const parseRates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    jsonRates.push(round(jsonParse));
    spineRates.push(round(spine));
    parseRates.push(round(parseOnly));
  }
  const jsonParsePerSecond = median(jsonRates);
  const eventsPerSecond = median(spineRates);
  const parsePerSecond = median(parseRates);
  const ratio = jsonParsePerSecond / eventsPerSecond;

  const outcomes: Record<string, number> = {};
  for (const text of texts) {
    const outcome = processEvent(text, defaultPolicy()).outcome;
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }

  return {
    events: texts.length,
    bytes: texts.reduce((n, t) => n + Buffer.byteLength(t), 0),
    outcomes,
    eventsPerSecond: Math.round(eventsPerSecond),
    jsonParsePerSecond: Math.round(jsonParsePerSecond),
    costVsJsonParse: Number(ratio.toFixed(2)),
    parsePerSecond: Math.round(parsePerSecond),
    parseCostVsJsonParse: Number((jsonParsePerSecond / parsePerSecond).toFixed(2)),
  };
}

/** Fresh processes the spine is measured in; the median one (by its cost against JSON.parse) is reported. */
export const THROUGHPUT_PROCESSES = 3;

/**
 * Runs the measurement in fresh Node processes, so the heap the earlier phases of `npm run bench` left behind (the
 * cold-start bundles' metadata, the storm's objects) does not change the garbage collector's work during the rounds,
 * and takes the median of THROUGHPUT_PROCESSES of them: the JIT's choices differ from one process to the next, and
 * the spine's rate with them (by a quarter here), more than round to round within one process.
 */
export function measureThroughputInChild(): Throughput & { processes: number[] } {
  const runs: Throughput[] = [];
  for (let i = 0; i < THROUGHPUT_PROCESSES; i++) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url)], { encoding: "utf8" });
    const parsed = JSON.parse(out) as Throughput;
    if (typeof parsed.eventsPerSecond !== "number" || typeof parsed.jsonParsePerSecond !== "number") {
      throw new Error(`bench/throughput.ts printed an unexpected result: ${out.slice(0, 200)}`);
    }
    runs.push(parsed);
  }
  const sorted = [...runs].sort((a, b) => a.costVsJsonParse - b.costVsJsonParse);
  const median = sorted[Math.floor(sorted.length / 2)];
  if (!median) throw new Error("no throughput run");
  return { ...median, processes: runs.map((r) => r.costVsJsonParse) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(measureThroughput())}\n`);
}
