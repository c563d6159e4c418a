/**
 * `npm run bench`: events per second through parse → assess → decide → plan over every fixture, next to JSON.parse of
 * the same event texts in the same run (the spine's work includes its own JSON.parse). Writes bench/results.json and
 * the numbers section of docs/performance.md.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { defaultPolicy, parsePolicy, processEvent } from "../packages/core/src/index.ts";

const ROOT = join(import.meta.dirname, "..");
const ROUNDS = 7;
const ROUND_MS = 400;

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

/** Every fixture and sample that is JSON (the baseline, JSON.parse, must succeed on each). */
const texts = [...files(join(ROOT, "test/fixtures")), ...files(join(ROOT, "examples/events"))]
  .map((f) => readFileSync(f, "utf8"))
  .filter(isJson);
const policy = parsePolicy(JSON.parse(readFileSync(join(ROOT, "examples/policy.json"), "utf8")));
let sink = 0;

/** Runs `work` over every text for ROUND_MS, ROUNDS times; the median rate in events per second. */
function measure(work: (text: string) => number): number {
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let events = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < ROUND_MS) {
      for (const text of texts) sink += work(text);
      events += texts.length;
      elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    }
    rates.push(events / (elapsed / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)] ?? 0;
}

const jsonParse = (text: string) => (JSON.parse(text) === null ? 0 : 1);
const spine = (text: string) => processEvent(text, policy).plan.length;

// Warm both paths up before measuring so the JIT has compiled them.
measure(jsonParse);
measure(spine);
const jsonParsePerSecond = measure(jsonParse);
const eventsPerSecond = measure(spine);
const ratio = jsonParsePerSecond / eventsPerSecond;

const outcomes: Record<string, number> = {};
for (const text of texts) {
  const outcome = processEvent(text, defaultPolicy()).outcome;
  outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
}

const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
};
const results = {
  command: "npm run bench",
  date: new Date().toISOString(),
  machine,
  fixtures: { events: texts.length, bytes: texts.reduce((n, t) => n + Buffer.byteLength(t), 0), outcomes },
  throughput: {
    eventsPerSecond: Math.round(eventsPerSecond),
    jsonParsePerSecond: Math.round(jsonParsePerSecond),
    costVsJsonParse: Number(ratio.toFixed(2)),
  },
};
writeFileSync(join(ROOT, "bench/results.json"), `${JSON.stringify(results, null, 2)}\n`);

const BEGIN = "<!-- bench:begin -->";
const END = "<!-- bench:end -->";
const section = `${BEGIN}
Measured ${results.date.slice(0, 10)} with \`npm run bench\` on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB), Node ${machine.node}, over the ${texts.length} fixture events (${results.fixtures.bytes} bytes; every valid, benign, hostile and malformed variant that is JSON).

| path | events per second |
| --- | ---: |
| \`JSON.parse\` of the event text | ${results.throughput.jsonParsePerSecond.toLocaleString("en-US")} |
| parse → assess → decide → plan (\`processEvent\`, including its own \`JSON.parse\`) | ${results.throughput.eventsPerSecond.toLocaleString("en-US")} |
| **cost of the spine relative to \`JSON.parse\`** | **${results.throughput.costVsJsonParse}×** |

Medians of ${ROUNDS} rounds of ${ROUND_MS} ms each, after a warm-up. The raw numbers are in \`bench/results.json\`.
${END}`;
const docPath = join(ROOT, "docs/performance.md");
const doc = readFileSync(docPath, "utf8");
const start = doc.indexOf(BEGIN);
const end = doc.indexOf(END);
if (start < 0 || end < 0) throw new Error(`${docPath} lacks the ${BEGIN} / ${END} markers`);
writeFileSync(docPath, `${doc.slice(0, start)}${section}${doc.slice(end + END.length)}`);

process.stdout.write(
  `fixtures: ${texts.length} events\nJSON.parse: ${results.throughput.jsonParsePerSecond} events/s\nspine: ${results.throughput.eventsPerSecond} events/s\ncost vs JSON.parse: ${results.throughput.costVsJsonParse}x\n(sink ${sink})\n`,
);
