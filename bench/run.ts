/**
 * `npm run bench`: runs every benchmark, writes bench/results.json and rewrites the numbers section of
 * docs/performance.md from it, so the docs only ever quote what this run printed.
 *
 * Order matters: bench/api-economy.ts mocks the AWS clients when it is imported and restores them at the end of
 * measureApiCalls(), so the storm and chaos runs (which mock EC2 themselves) come after it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import type { DurationStats } from "../packages/core/src/metrics/time-to-remediate.ts";
import { measureApiCalls } from "./api-economy.ts";
import { DEFAULT_CHAOS_OPTIONS, runChaos } from "./chaos.ts";
import { type ColdStart, measureColdStart, RESPOND_TARGET_RATIO, RESPOND_WITHOUT_ACTIONS } from "./cold-start.ts";
import { FULL_PATH_ROUND_MS, FULL_PATH_ROUNDS, measureFullPathInChild } from "./full-path.ts";
import { kubernetesLines, kubernetesSection, measureKubernetes } from "./kubernetes-client.ts";
import { measureStorm, type StormResult } from "./storm.ts";
import { measureThroughputInChild, ROUND_MS, ROUNDS } from "./throughput.ts";
import { measureTimeToFix, TIME_TO_FIX_POLICY, type TimeToFix, timeToFixLines } from "./time-to-fix.ts";

const ROOT = join(import.meta.dirname, "..");
const CHAOS_SEED = 20261127;
/** An empty Node.js function's cold start on Lambda (DESIGN.md, measured there), for the Lambda-scale estimate. */
const LAMBDA_HELLO_WORLD_MS = 130;

const load = () => Number((loadavg()[0] ?? 0).toFixed(2));
const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  loadAverageAtStart: load(),
  loadAverageAtEnd: 0,
};
const log = (line: string) => process.stdout.write(`${line}\n`);
const started = performance.now();
const phaseMs: Record<string, number> = {};
async function phase<T>(name: string, work: () => T | Promise<T>): Promise<T> {
  log(`${name}…`);
  const t = performance.now();
  const out = await work();
  phaseMs[name] = Math.round(performance.now() - t);
  return out;
}

const coldStart = await phase("cold start per function (esbuild bundles, fresh processes)", () => measureColdStart());
const spine = await phase("throughput of the spine (child process)", () => measureThroughputInChild());
const fullPath = await phase("throughput of the full respond path (child process)", () => measureFullPathInChild());
// bench/api-economy.ts belongs to the actions: when an action's calls change before its mocks do, the run goes on
// and the section says why it has no numbers (the exit code is then 1).
const apiCalls = await phase("AWS calls per remediation", async () => {
  try {
    return { ok: true as const, calls: await measureApiCalls() };
  } catch (error) {
    return { ok: false as const, error: error instanceof Error ? error.message : String(error) };
  }
});
const storm = await phase("storm of 1,000 open-ingress events against EC2's throttle (simulated time)", () =>
  measureStorm(),
);
const chaos = await phase(`chaos (seed ${CHAOS_SEED})`, async () => (await runChaos({ seed: CHAOS_SEED })).counts);
const timeToFix = await phase("time to fix from a cold start (fresh processes, local AWS endpoints)", () =>
  measureTimeToFix(),
);
const kubernetes = await phase("Kubernetes client and first call (fresh processes, local kube-apiserver)", () =>
  measureKubernetes(),
);
machine.loadAverageAtEnd = load();

const respondCold = coldStart.functions.respond;
const results = {
  command: "npm run bench",
  date: new Date().toISOString(),
  durationSeconds: Math.round((performance.now() - started) / 1000),
  phaseMs,
  machine,
  fixtures: { events: spine.events, bytes: spine.bytes, outcomes: spine.outcomes },
  throughput: {
    eventsPerSecond: spine.eventsPerSecond,
    jsonParsePerSecond: spine.jsonParsePerSecond,
    costVsJsonParse: spine.costVsJsonParse,
    costVsJsonParseByProcess: spine.processes,
    parsePerSecond: spine.parsePerSecond,
    parseCostVsJsonParse: spine.parseCostVsJsonParse,
    fullPathEventsPerSecond: fullPath.eventsPerSecond,
    peakRssBytes: fullPath.peakRssBytes,
  },
  fullPath,
  apiCalls: apiCalls.ok ? apiCalls.calls : { error: apiCalls.error },
  coldStart: coldStart.functions,
  coldStartDetails: {
    samples: coldStart.samples,
    targetRatio: RESPOND_TARGET_RATIO,
    empty: coldStart.empty,
    naive: coldStart.naive,
    probes: coldStart.probes,
  },
  storm,
  chaos,
  // Event time → change applied, nearest-rank, by the function `eks-responder report` uses (simulated clocks).
  timeToRemediate: {
    method: "nearest-rank percentiles (core metrics/time-to-remediate.ts), milliseconds",
    storm: storm.timeToRemediate,
    chaos: chaos.timeToRemediate,
  },
  // One entry per injected latency: readyMs, fixedMs, calls, callsBeforeFix and the median sample's path.
  timeToFix: timeToFix.byLatency,
  timeToFixDetails: {
    samplesPerLatency: timeToFix.samplesPerLatency,
    loadAverage: timeToFix.loadAverage,
    wallMs: timeToFix.wallMs,
  },
  // bench/kubernetes-client.ts: the small client against @kubernetes/client-node, and a Kubernetes action's first call.
  kubernetesClient: { command: kubernetes.command, samples: kubernetes.samples, ...kubernetes.kubernetesClient },
  kubernetesFirstCall: { command: kubernetes.command, samples: kubernetes.samples, ...kubernetes.kubernetesFirstCall },
};
writeFileSync(join(ROOT, "bench/results.json"), `${JSON.stringify(results, null, 2)}\n`);

// ---------------------------------------------------------------------------------------------------------------
// docs/performance.md

const n = (x: number) => x.toLocaleString("en-US");
const kib = (bytes: number) => n(Math.round(bytes / 1024));
const mib = (bytes: number) => n(Math.round(bytes / 2 ** 20));
const ms = (x: number) => x.toFixed(1);
const signed = (x: number) => `${x < 0 ? "−" : "+"}${Math.abs(x).toFixed(1)}`;
const yes = (met: boolean) => (met ? "**met**" : "**not met**");

function coldStartSection(c: ColdStart): string {
  const rows = Object.entries(c.functions).map(
    ([name, f]) =>
      `| \`${name}\` | ${kib(f.bundleBytes)} | ${kib(f.totalBytes)} | ${ms(f.importMsMedian)} | ${f.ratioToEmpty}× | ${f.largestInputs
        .slice(0, 5)
        .map((i) => `${i.input} ${kib(i.bytes)}`)
        .join(", ")} |`,
  );
  const probes = Object.entries(c.probes).map(
    ([name, p]) => `| ${name} | ${kib(p.bundleBytes)} | ${ms(p.importMsMedian)} | ${signed(p.overEmptyMs)} |`,
  );
  return `### Cold start per function
Each \`packages/functions/src/*.handler.ts\` bundled as SST builds it (esbuild: ESM, platform node, target node22, minified, code splitting, the AWS SDK bundled, nothing external, the \`createRequire\` banner) into a temporary folder; then ${c.samples} fresh \`node\` processes per bundle, interleaved, each running \`await import(bundle)\` and printing \`performance.now()\` (ms since the process started, so Node's own start-up is in every number). Sizes are what Node reads at import: the entry and the chunks it imports statically; "all chunks" adds the ones behind \`await import()\`. The references are bundled and sampled the same way in the same rounds: an empty handler (${kib(c.empty.bundleBytes)} KiB, **${ms(c.empty.importMsMedian)} ms**) and a naive one, middy with the EC2 client imported and created at top level (${kib(c.naive.bundleBytes)} KiB, **${ms(c.naive.importMsMedian)} ms**).

| function | KiB at import | KiB, all chunks | import, median ms | × empty | largest inputs at import (KiB) |
| --- | ---: | ---: | ---: | ---: | --- |
${rows.join("\n")}

What the first event adds, respond only: ${c.samples} more fresh processes per event, each importing the bundle and handing it one event with ids of its own (a first delivery), DynamoDB on a local dynalite and SSM's GetParameter and the Slack webhook on a local server (\`bench/first-event.ts\`); the ms are since the process started. The first event imports the SDK clients its path needs (the handlers import none at load) and makes its first requests: ${Object.entries(
    c.firstEventRequests,
  )
    .map(([k, v]) => `${v} ${k}`)
    .join(", ")} over all samples. The empty handler answers its call at ${ms(c.emptyFirstEvent.answeredMsMedian)} ms.

| first event | imported at, ms | answered at, ms | the event took, ms | outcome |
| --- | ---: | ---: | ---: | --- |
${Object.values(c.firstEvent)
  .map(
    (f) =>
      `| ${f.path} | ${ms(f.importMsMedian)} | ${ms(f.answeredMsMedian)} | ${ms(f.firstEventMsMedian)} | ${Object.entries(
        f.outcomes,
      )
        .map(([k, v]) => `${k} ×${v}`)
        .join(", ")} |`,
  )
  .join("\n")}

What the handlers load, one part at a time, each bundled alone the same way (the SDK clients share \`@smithy/core\`, so their costs overlap and do not add up; the handlers import each of them on first use). The what-if row is the respond handler itself, bundled with every \`packages/core/src/actions/*.action.ts\` replaced by a stub that exports only the action's name: what the definitions (plans, params schemas, docs; their live code is imported on first use) cost at import.

| imported alone | KiB | import, median ms | over empty, ms |
| --- | ---: | ---: | ---: |
${probes.join("\n")}`;
}

function stormRow(s: StormResult): string {
  const slack = Object.entries(s.slack)
    .map(
      ([channel, r]) =>
        `${channel}: ${r.messages} messages (${r.digestMessages} of them digests of ${r.deferred} held-back alerts), peak ${r.peakPerSecond}/s`,
    )
    .join("; ");
  return `| ${s.variant} | ${n(s.revoked)} | ${n(s.lost)} (${n(s.deadLettered)} dead-lettered) | ${s.seconds} | ${s.ratioToMinimum}× | ${ttr(s.timeToRemediate)} | ${n(s.invocations)} | ${n(s.ec2Calls)} (${n(s.throttledCalls)} throttled) | ${slack || "none"} |`;
}

/** Time to remediate as `eks-responder report` computes it: p50 / p95 / max in seconds, and the count. */
function ttr(t: DurationStats): string {
  const sec = (x: number) => (x / 1000).toFixed(1);
  return `${sec(t.p50)} / ${sec(t.p95)} / ${sec(t.max)} s (${n(t.count)})`;
}

const respondMet = respondCold !== undefined && respondCold.ratioToEmpty <= RESPOND_TARGET_RATIO;
const zod = coldStart.probes["zod (classic, which the schemas used before zod/mini)"];
const zodMini = coldStart.probes["zod/mini (the tree-shakable API)"];
const middyLogger = coldStart.probes["middy + powertools logger"];
const builtins = coldStart.probes["node:crypto + node:net (assessment ids and claims; CIDRs)"];
const wholeCore = coldStart.probes["core: the whole index (@eks-responder/core)"];
const withoutActions = coldStart.probes[RESPOND_WITHOUT_ACTIONS];
const lambdaScale = (importMs: number) =>
  ((LAMBDA_HELLO_WORLD_MS + importMs - coldStart.empty.importMsMedian) / LAMBDA_HELLO_WORLD_MS).toFixed(2);
const stormMet = storm.lost === 0 && storm.ratioToMinimum <= storm.targetRatio;
const meets = storm.whatIf.filter((s) => s.lost === 0 && s.ratioToMinimum <= storm.targetRatio);
const slackPeak = Math.max(
  0,
  ...[storm, ...storm.whatIf].flatMap((s) => Object.values(s.slack).map((r) => r.peakPerSecond)),
);
const slackChannels = Object.keys(storm.slack).join(", ") || "none";

const probeOver = (p: { overEmptyMs: number } | undefined) => (p ? `${signed(p.overEmptyMs)} ms` : "?");

/** What the what-if bundle without action code says about loading the actions on first use. */
function withoutActionsWhy(respondMs: number): string {
  if (!withoutActions) return "";
  const ratio = withoutActions.importMsMedian / coldStart.empty.importMsMedian;
  const saved = `${ms(withoutActions.importMsMedian)} ms, ${ratio.toFixed(2)}× (${signed(withoutActions.importMsMedian - respondMs)} ms)`;
  return ratio <= RESPOND_TARGET_RATIO
    ? `With no action code at import (the what-if bundle in the probes) it would take ${saved}: loading the actions' code on first use would meet the target.`
    : `The actions are not what is over: their live code (check, apply, rollback) is imported when one first runs (packages/core/src/actions/runtimes.ts), and with their definitions replaced by stubs too (the what-if in the probes) the handler takes ${saved}, still over, while a finding needs its action's planner and parameter schema. What is over is what every event needs (the event and policy schemas, the 13 detectors, the decision, the claim and the audit), so the target cannot be met without moving that work into the first event, where the first-event table would show it again (the notifier, which only a notifying event needs, already loads on first use).`;
}

function respondWhy(): string {
  if (!respondCold) return "no respond handler was found";
  const top = respondCold.largestInputs
    .slice(0, 4)
    .map((i) => `${i.input} ${kib(i.bytes)} KiB`)
    .join(", ");
  const budget = coldStart.empty.importMsMedian * (RESPOND_TARGET_RATIO - 1);
  return [
    `it loads ${kib(respondCold.bundleBytes)} KiB at import (${top}, …) and no SDK client: SSM, DynamoDB, SNS, SFN, EC2, EKS and Auto Scaling are imported on first use, and the schemas are zod/mini (classic zod alone: ${probeOver(zod)} over the empty module; zod/mini ${probeOver(zodMini)}).`,
    respondMet
      ? "The handler loads no more than every event needs."
      : `What is left: middy and the Powertools logger (${probeOver(middyLogger)}), Node's crypto and net modules (${probeOver(builtins)}: assessment ids, claim tokens, CIDRs), and the core, whose detectors, actions and policy schema are built at import, with zod/mini and its compiler (the whole core alone: ${probeOver(wholeCore)}; the event schemas are built on first use). The empty module's whole start is ${ms(coldStart.empty.importMsMedian)} ms here, so ${RESPOND_TARGET_RATIO}× leaves ${ms(budget)} ms for all of it. ${withoutActionsWhy(respondCold.importMsMedian)}`,
    `On Lambda, where an empty function starts in about ${LAMBDA_HELLO_WORLD_MS} ms, the same extra time would be ${lambdaScale(respondCold.importMsMedian)}× (an estimate, not measured). The first event then pays for the clients it uses: see the first-event table`,
  ].join(" ");
}

/** At most two round trips in series between the handler being ready and the revoke being sent, at 20 ms per call. */
const ROUND_TRIPS_TARGET = 2;
const fixAt20 = timeToFix.byLatency.find((t) => t.latencyMs === 20);
const roundTripsMet = fixAt20 !== undefined && fixAt20.roundTripsBeforeFix <= ROUND_TRIPS_TARGET;

/** The median sample's path without the anonymous shared chunks (the SDK's core): the calls and the named chunks. */
const pathRows = (t: TimeToFix) =>
  t.path
    .filter((p) => !/^import chunks\/chunk-/.test(p.what))
    .map((p) => `| ${ms(p.at)} | ${p.what.replace(/-[A-Z0-9]{8}\.mjs$/, ".mjs")} |`)
    .join("\n");

function timeToFixSection(): string {
  const rows = timeToFix.byLatency.map(
    (t) =>
      `| ${t.latencyMs} | ${ms(t.readyMs)} | **${ms(t.fixedMs)}** | ${ms(t.readyToRevokeSentMs)} | ${t.calls} | ${t.callsBeforeFix} | ${t.roundTripsBeforeFix} | ${ms(t.answeredMs)} |`,
  );
  return `### Time to fix from a cold start
\`bench/time-to-fix.ts\` (alone: \`npm run bench:time-to-fix\`): ${timeToFix.samplesPerLatency} fresh \`node\` processes per latency, interleaved, each importing the respond bundle as SST builds it and handing it the world-open SSH event (\`examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json\`, ids of its own per sample). Every AWS endpoint is a local server on 127.0.0.1 speaking the real protocol, waiting the injected latency before each answer: DynamoDB is dynalite behind a delaying proxy, SSM answers JSON 1.1 (GetParameter, GetParameters), EC2 the query protocol in XML (DescribeSecurityGroups, RevokeSecurityGroupIngress, which really removes the rule). Policy: ${JSON.stringify(TIME_TO_FIX_POLICY)} (the exemption tags are the default policy's, so the group's tags are read before the revoke; no notification route). "Revoked" is when EC2's answer to the revoke arrived, in ms since the process started; a round trip in series is a call sent only after the one before it was answered. Load average ${timeToFix.loadAverage.start} → ${timeToFix.loadAverage.end}; ${(timeToFix.wallMs / 1000).toFixed(0)} s.

| ms per call | ready, ms | revoked, ms | ready → revoke sent, ms | calls | before the revoke | in series | answered, ms |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join("\n")}

The critical path of the median sample at ${fixAt20?.latencyMs ?? 20} ms per call (ms since the process started; the SDK's shared chunks left out):

| ms | |
| ---: | --- |
${fixAt20 ? pathRows(fixAt20) : ""}`;
}

const targets = [
  `| respond: import ≤ ${RESPOND_TARGET_RATIO}× the empty handler | ${respondCold ? `${ms(respondCold.importMsMedian)} ms = ${respondCold.ratioToEmpty}×` : "n/a"} | ${yes(respondMet)} | ${respondWhy()} |`,
  `| spine: parse → assess → decide → plan ≤ 3× the cost of \`JSON.parse\` | ${spine.costVsJsonParse}× (${n(spine.eventsPerSecond)} events/s) | ${yes(spine.costVsJsonParse <= 3)} | ${
    spine.costVsJsonParse <= 3
      ? "the spine reads, checks and decides within three JSON.parse of the same text"
      : `an event costs ${(1e6 / spine.eventsPerSecond).toFixed(1)} µs against ${(1e6 / spine.jsonParsePerSecond).toFixed(1)} µs for JSON.parse alone. The parse step (JSON.parse and the schemas, compiled once hot by packages/core/src/hot-schema.ts) is ${spine.parseCostVsJsonParse}× of it: every field the detectors read is validated; the 13 detectors, the decisions, the plans and the hashed assessment ids make the rest. The corpus has the hostile and malformed fixtures too: ${spine.outcomes.invalid ?? 0} of the ${spine.events} are refused, and a refusal builds zod issues and a typed error that valid traffic does not`
  } |`,
  `| storm: all ${n(storm.events)} rules revoked within ${storm.targetRatio}× the minimum (${storm.minimumSeconds} s), none lost | ${storm.revoked} revoked, ${storm.lost} lost, ${storm.seconds} s (${storm.ratioToMinimum}×) | ${yes(stormMet)} | ${
    stormMet
      ? `the respond function's reserved concurrency paces invocations and a throttled EC2 call keeps retrying with short waits (EC2_THROTTLE_RETRY) instead of falling back to Lambda's minutes-long redelivery; without them: ${storm.whatIf
          .map((w) => `${w.variant}: ${w.revoked} revoked, ${w.lost} dead-lettered, ${w.seconds} s`)
          .join("; ")}`
      : `one invocation per event spends every token in the first seconds, each throttled call retries 5 times within about 15 s, and Lambda redelivers a failed event only twice, 1 and 2 minutes later, while the bucket refills to its burst and no further: ${storm.deadLettered} events end in the dead-letter queue with their rule still open. ${meets.length ? `Met by: ${meets.map((s) => `${s.variant} (${s.seconds} s, ${s.ratioToMinimum}×)`).join("; ")}` : "No variant measured here meets it"}`
  } |`,
  `| time to fix: at most ${ROUND_TRIPS_TARGET} round trips in series between the handler being ready and the revoke being sent, at 20 ms per call | ${fixAt20 ? `${fixAt20.roundTripsBeforeFix} (${fixAt20.callsBeforeFix} calls), revoked at ${ms(fixAt20.fixedMs)} ms` : "n/a"} | ${yes(roundTripsMet)} | ${
    roundTripsMet
      ? "the claim goes out with the policy and kill switch read (one GetParameters), the blast-radius counter read and the group's flapping counters read (one Query); then the slot is taken and the revocation counted (one conditional write on what the Query read) while the group's tags and the rollback marker are read, and the revoke waits for all of them (docs/operations.md)"
      : "the trace in the time-to-fix section shows which call waited for another"
  } |`,
  `| Slack: at most 1 message per second per channel | peak ${slackPeak}/s in ${slackChannels} (as deployed: ${Object.values(
    storm.slack,
  )
    .map((r) => `${r.messages} messages, ${r.deferred} alerts held back into ${r.digestMessages} digests`)
    .join("; ")}) | ${yes(slackPeak <= 1)} | ${
    slackPeak <= 1
      ? "the functions' notifier takes one slot per channel per second in DynamoDB before a post (packages/core/src/notify/digest.ts); an alert that finds the slot taken goes to the channel's digest, which the scheduled flush posts once a minute, one message per second at most"
      : "a second with more than one message per channel: the gate in packages/core/src/notify/digest.ts let it through"
  } |`,
];

const section = `<!-- bench:begin -->
Measured ${results.date.slice(0, 10)} with \`npm run bench\` (${results.durationSeconds} s) on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB), Node ${machine.node}; load average ${machine.loadAverageAtStart} at the start and ${machine.loadAverageAtEnd} at the end (other work on the machine moves the timings; the ratios move less).

### Targets

| target | measured | | why |
| --- | --- | --- | --- |
${targets.join("\n")}

${coldStartSection(coldStart)}

${timeToFixSection()}

${kubernetesSection(kubernetes)}

### Throughput of the spine
Over the ${spine.events} fixture events (${n(spine.bytes)} bytes; every valid, benign, hostile and malformed variant that is JSON); medians of ${ROUNDS} rounds of ${ROUND_MS} ms after a warm-up, the rounds of the three paths alternating, in ${spine.processes.length} fresh processes, of which the median is shown (the spine cost ${spine.processes.map((x) => `${x}×`).join(", ")} in them).

| path | events per second |
| --- | ---: |
| \`JSON.parse\` of the event text | ${n(spine.jsonParsePerSecond)} |
| the parse step alone: \`JSON.parse\` and the schemas (\`parseEventText\`) | ${n(spine.parsePerSecond)} (${spine.parseCostVsJsonParse}×) |
| parse → assess → decide → plan (\`processEvent\`, including its own \`JSON.parse\`) | ${n(spine.eventsPerSecond)} |
| **cost of the spine relative to \`JSON.parse\`** | **${spine.costVsJsonParse}×** |

### Throughput of the full respond path
\`respond()\` over the ${fullPath.events} example events as objects (as Lambda hands them over), with the example policy live (\`dryRun: false\`), record and notify in memory and every AWS client mocked (${fullPath.awsCallsPerPass} AWS calls per pass; outcomes ${Object.entries(
  fullPath.outcomes,
)
  .map(([k, v]) => `${v} ${k}`)
  .join(
    ", ",
  )}); medians of ${FULL_PATH_ROUNDS} rounds of ${FULL_PATH_ROUND_MS} ms after a warm-up, in a child process of its own.

| path | events per second |
| --- | ---: |
| parse → assess → decide → plan (\`processEvent\`) over the same objects | ${n(fullPath.spineEventsPerSecond)} |
| the whole \`respond()\` path | ${n(fullPath.eventsPerSecond)} |
| **cost of the respond path relative to the spine** | **${(fullPath.spineEventsPerSecond / Math.max(1, fullPath.eventsPerSecond)).toFixed(2)}×** |

Peak resident memory of that process: **${mib(fullPath.peakRssBytes)} MiB** (${mib(fullPath.rssAfterImportsBytes)} MiB once its imports were loaded: Node's type stripping of the sources, the four SDK clients the bench imports eagerly and the mocking library), against the function's 512 MB.

### AWS calls per remediation
Each action's happy path against mocked AWS clients, every call counted.

${
  apiCalls.ok
    ? `| action | calls | minimum | why the difference |
| --- | ---: | ---: | --- |
${Object.entries(apiCalls.calls)
  .map(([key, a]) => `| \`${key}\` | ${a.measured} | ${a.minimum} | ${a.why} |`)
  .join("\n")}`
    : `**Not measured in this run**: \`bench/api-economy.ts\` failed (${apiCalls.error}); its mocks no longer answer every call the action makes.`
}

### Storm against EC2's throttle
${n(storm.events)} distinct world-open ingress events (from the real CloudTrail example, each with its own eventID, group and rule) arrive at once and go through \`respond()\` (dryRun false, the example policy's notify routes). EC2 is a token bucket (burst ${storm.bucket.burst}, ${storm.bucket.refillPerSecond} per second; a call without a token gets RequestLimitExceeded; the DescribeSecurityGroups read before each revoke, for the policy's exemption tags, has a bucket of its own, as EC2 throttles each API apart: burst ${storm.describeBucket.burst}, ${storm.describeBucket.refillPerSecond} per second, what EC2 documents for non-mutating actions, assumed here for this one), so the least possible time is (${storm.events} − ${storm.bucket.burst}) / ${storm.bucket.refillPerSecond} = **${storm.minimumSeconds} s**. Time is simulated: the SDK's throttling backoff (random × min(20 s, 500 ms × 2^attempt), re-modelled because the mock replaces \`send\`) and Lambda's redelivery after a TransientActionError advance a virtual clock. The policy's blast-radius limit is raised to 10,000, the most a policy allows (by default all but 20 automatic actions per account in 10 minutes would ask for approval instead, and every delivery takes a slot, redeliveries too), so the storm measures the throttle; each automatic action still takes its slot from the counter as deployed (packages/core/src/guardrails/blast-radius.ts) on the local DynamoDB, every invocation of every row on the account's one item. "Seconds" is when the last event was revoked or dead-lettered. Slack is the functions' notifier as deployed: the per-channel gate and the digest on a local DynamoDB (dynalite), a local Slack Web API recording the simulated second of every message, and the digest flush every simulated minute.

| delivery | revoked | lost | seconds | × minimum | time to remediate p50 / p95 / max (count) | invocations | EC2 calls | Slack |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${[storm, ...storm.whatIf].map(stormRow).join("\n")}

${[storm, ...storm.whatIf].map((s) => `- **${s.variant}**: ${s.description}.`).join("\n")}

### Chaos: exactly once under duplicates and faults
\`runChaos\` from \`bench/chaos.ts\` (as \`npm run chaos -- --seed ${chaos.seed}\`): ${chaos.ingressEvents} open-ingress events and ${chaos.guardDutyEvents} GuardDuty finding versions through \`respond()\` with a real idempotency store and audit on a local DynamoDB (dynalite), ${Math.round(chaos.faultRate * 100)}% of revoke calls failing (${Math.round(chaos.permanentShare * 100)}% of those permanently), duplicates injected, ${chaos.maxAttempts} deliveries per event at most, ${DEFAULT_CHAOS_OPTIONS.concurrency} at once.

| count | value |
| --- | ---: |
| deliveries (redeliveries) | ${chaos.deliveries} (${chaos.redeliveries}) |
| duplicates suppressed / injected | ${chaos.duplicatesSuppressed} / ${chaos.duplicatesInjected} |
| revoke calls, faults injected | ${chaos.revokeCalls}, ${Object.values(chaos.faultsInjected).reduce((a, b) => a + b, 0)} |
| remediations applied, already done, alerts | ${chaos.remediationsApplied}, ${chaos.alreadyDone}, ${chaos.alerts} |
| failed (permanent, recorded), dead-lettered | ${chaos.failedPermanent}, ${chaos.deadLettered} |
| **lost, half-applied, responded twice** | **${chaos.lost}, ${chaos.halfApplied}, ${chaos.respondedTwice}** |
| audit mismatches, lost claims | ${chaos.auditMismatches}, ${chaos.lostClaims} |
| time to remediate p50 / p95 / max (count) | ${ttr(chaos.timeToRemediate)} |
| took | ${n(chaos.durationMs)} ms |

The raw numbers are in \`bench/results.json\`.
<!-- bench:end -->`;

const BEGIN = "<!-- bench:begin -->";
const END = "<!-- bench:end -->";
const docPath = join(ROOT, "docs/performance.md");
const doc = readFileSync(docPath, "utf8");
const start = doc.indexOf(BEGIN);
const end = doc.indexOf(END);
if (start < 0 || end < 0) throw new Error(`${docPath} lacks the ${BEGIN} / ${END} markers`);
writeFileSync(docPath, `${doc.slice(0, start)}${section}${doc.slice(end + END.length)}`);

// ---------------------------------------------------------------------------------------------------------------
// stdout: every number the docs quote

log(
  `\nmachine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, load ${machine.loadAverageAtStart} → ${machine.loadAverageAtEnd}`,
);
log(
  `cold start: empty ${ms(coldStart.empty.importMsMedian)} ms (${kib(coldStart.empty.bundleBytes)} KiB), naive ${ms(coldStart.naive.importMsMedian)} ms (${kib(coldStart.naive.bundleBytes)} KiB), ${coldStart.samples} processes each`,
);
for (const [name, f] of Object.entries(coldStart.functions)) {
  log(
    `  ${name}: ${kib(f.bundleBytes)} KiB at import (${kib(f.totalBytes)} KiB in all), ${ms(f.importMsMedian)} ms = ${f.ratioToEmpty}x empty; largest: ${f.largestInputs
      .slice(0, 4)
      .map((i) => `${i.input} ${kib(i.bytes)} KiB`)
      .join(", ")}`,
  );
}
for (const f of Object.values(coldStart.firstEvent))
  log(
    `  respond, first event: ${f.path}: imported at ${ms(f.importMsMedian)} ms, answered at ${ms(f.answeredMsMedian)} ms (+${ms(f.firstEventMsMedian)} ms)`,
  );
for (const [name, p] of Object.entries(coldStart.probes))
  log(`  alone: ${name}: ${kib(p.bundleBytes)} KiB, ${ms(p.importMsMedian)} ms (${signed(p.overEmptyMs)})`);
log(
  `spine: ${spine.eventsPerSecond} events/s; JSON.parse: ${spine.jsonParsePerSecond} events/s; cost ${spine.costVsJsonParse}x (processes: ${spine.processes.join(", ")}); parse step alone ${spine.parseCostVsJsonParse}x`,
);
log(
  `full path: ${fullPath.eventsPerSecond} events/s (spine on the same objects ${fullPath.spineEventsPerSecond}); peak RSS ${mib(fullPath.peakRssBytes)} MiB (${mib(fullPath.rssAfterImportsBytes)} after imports)`,
);
if (apiCalls.ok) {
  for (const [key, a] of Object.entries(apiCalls.calls)) log(`${key}: ${a.measured} calls (minimum ${a.minimum})`);
} else {
  log(`AWS calls per remediation: FAILED: ${apiCalls.error}`);
  process.exitCode = 1;
}
for (const s of [storm, ...storm.whatIf]) {
  const slack = Object.entries(s.slack)
    .map(
      ([c, r]) => `${c} ${r.messages} msgs (${r.digestMessages} digests of ${r.deferred}), peak ${r.peakPerSecond}/s`,
    )
    .join("; ");
  log(
    `storm [${s.variant}]: ${s.revoked}/${s.events} revoked, ${s.lost} lost (${s.deadLettered} dead-lettered), ${s.seconds} s simulated = ${s.ratioToMinimum}x minimum ${s.minimumSeconds} s; time to remediate p50/p95/max ${ttr(s.timeToRemediate)}; ${s.invocations} invocations, ${s.ec2Calls} EC2 calls (${s.throttledCalls} throttled); Slack ${slack || "none"}; ${s.wallMs} ms`,
  );
}
log(
  `chaos seed ${chaos.seed}: ${chaos.eventsIn} events, ${chaos.deliveries} deliveries, applied ${chaos.remediationsApplied}, already done ${chaos.alreadyDone}, alerts ${chaos.alerts}, failed ${chaos.failedPermanent}, dead-lettered ${chaos.deadLettered}, lost ${chaos.lost}, half-applied ${chaos.halfApplied}, responded twice ${chaos.respondedTwice}, time to remediate p50/p95/max ${ttr(chaos.timeToRemediate)}, ${chaos.durationMs} ms`,
);
for (const line of timeToFixLines(timeToFix)) log(line);
for (const line of kubernetesLines(kubernetes)) log(line);
log(
  `targets: respond cold start ${respondMet ? "met" : "not met"}; spine ${spine.costVsJsonParse <= 3 ? "met" : "not met"}; storm ${stormMet ? "met" : "not met"}; Slack ${slackPeak <= 1 ? "met" : "not met"}; time-to-fix round trips ${roundTripsMet ? "met" : "not met"}`,
);
log(
  `took ${results.durationSeconds} s (${Object.entries(phaseMs)
    .map(([k, v]) => `${k.split(" (")[0]} ${(v / 1000).toFixed(1)} s`)
    .join(", ")})`,
);
