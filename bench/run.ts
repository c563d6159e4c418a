/**
 * `npm run bench`: runs every benchmark, writes bench/results.json and rewrites the numbers section of
 * docs/performance.md from it, so the docs only ever quote what this run printed.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { measureApiCalls } from "./api-economy.ts";
import { measureThroughput, ROUND_MS, ROUNDS } from "./throughput.ts";

const ROOT = join(import.meta.dirname, "..");

const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
};
process.stdout.write("throughput of the spine…\n");
const throughput = measureThroughput();
process.stdout.write("AWS calls per remediation…\n");
const apiCalls = await measureApiCalls();

const results = {
  command: "npm run bench",
  date: new Date().toISOString(),
  machine,
  fixtures: { events: throughput.events, bytes: throughput.bytes, outcomes: throughput.outcomes },
  throughput: {
    eventsPerSecond: throughput.eventsPerSecond,
    jsonParsePerSecond: throughput.jsonParsePerSecond,
    costVsJsonParse: throughput.costVsJsonParse,
  },
  apiCalls,
};
writeFileSync(join(ROOT, "bench/results.json"), `${JSON.stringify(results, null, 2)}\n`);

const n = (x: number) => x.toLocaleString("en-US");
const BEGIN = "<!-- bench:begin -->";
const END = "<!-- bench:end -->";
const section = `${BEGIN}
Measured ${results.date.slice(0, 10)} with \`npm run bench\` on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB), Node ${machine.node}.

### Throughput of the spine
Over the ${throughput.events} fixture events (${n(throughput.bytes)} bytes; every valid, benign, hostile and malformed variant that is JSON); medians of ${ROUNDS} rounds of ${ROUND_MS} ms after a warm-up.

| path | events per second |
| --- | ---: |
| \`JSON.parse\` of the event text | ${n(throughput.jsonParsePerSecond)} |
| parse → assess → decide → plan (\`processEvent\`, including its own \`JSON.parse\`) | ${n(throughput.eventsPerSecond)} |
| **cost of the spine relative to \`JSON.parse\`** | **${throughput.costVsJsonParse}×** |

### AWS calls per remediation
Each action's happy path against mocked AWS clients, every call counted.

| action | calls | minimum | why the difference |
| --- | ---: | ---: | --- |
${Object.entries(apiCalls)
  .map(([key, a]) => `| \`${key}\` | ${a.measured} | ${a.minimum} | ${a.why} |`)
  .join("\n")}

The raw numbers are in \`bench/results.json\`.
${END}`;
const docPath = join(ROOT, "docs/performance.md");
const doc = readFileSync(docPath, "utf8");
const start = doc.indexOf(BEGIN);
const end = doc.indexOf(END);
if (start < 0 || end < 0) throw new Error(`${docPath} lacks the ${BEGIN} / ${END} markers`);
writeFileSync(docPath, `${doc.slice(0, start)}${section}${doc.slice(end + END.length)}`);

process.stdout.write(
  `spine: ${throughput.eventsPerSecond} events/s; JSON.parse: ${throughput.jsonParsePerSecond} events/s; cost ${throughput.costVsJsonParse}x\n`,
);
for (const [key, a] of Object.entries(apiCalls))
  process.stdout.write(`${key}: ${a.measured} calls (minimum ${a.minimum})\n`);
