/**
 * Time to fix from a cold start: a fresh `node` process imports the respond bundle (as SST builds it) and hands it a
 * world-open SSH event; the figure is the time from the process's start until EC2 has answered the revoke. Every AWS
 * endpoint is a local server on 127.0.0.1 speaking the service's real protocol, with `latencyMs` waited before each
 * answer (as across a region):
 * - DynamoDB: dynalite (real conditional writes), behind a small proxy that adds the latency;
 * - SSM: JSON 1.1 (`AmazonSSM.GetParameter`, `AmazonSSM.GetParameters`) from a map of parameters;
 * - EC2: the query protocol, XML answers for DescribeSecurityGroups and RevokeSecurityGroupIngress in the shapes of the
 *   EC2 API reference (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSecurityGroups.html,
 *   https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RevokeSecurityGroupIngress.html); the group's rule is
 *   really removed by the revoke and put back before the next sample.
 * The policy does not notify (no route), so no SNS or Slack call is on the path.
 *
 * The child process records its own critical path (bench/time-to-fix-trace.mjs): when each chunk of the bundle finished
 * evaluating and when each HTTP request was sent and answered (the servers name the operation in a response header).
 *
 * `node bench/time-to-fix.ts` runs this part alone; `npm run bench` runs it with the rest.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { text } from "node:stream/consumers";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { type LocalDynamo, startDynalite } from "../test/helpers/dynalite.ts";
import { bundle } from "./cold-start.ts";
import { answerOf, firstEvent } from "./first-event.ts";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..");

/** Fresh processes per latency (the brief: at least 15); odd, so the median is one sample. */
export const TIME_TO_FIX_SAMPLES = 15;
/** Injected latency per call, in ms: none, and about what a call across a region takes. */
export const TIME_TO_FIX_LATENCIES = [0, 20] as const;

const PARAMETERS = { policy: "/eks-responder/bench/policy", killSwitch: "/eks-responder/bench/kill-switch" };
const GROUP_ID = "sg-0632fa4ee8a8468a4";
const RULE_ID = "sgr-09be5c962afdc06ed";
const OWNER = "776520358045";
/** The operation each server answered, for the child's trace. */
const OP_HEADER = "x-bench-operation";

/**
 * The bench's policy: live (dryRun false), the open-ingress detector automatic so that the rule is really revoked, the
 * exemption tags as the default policy has them (so the group's tags are read before the revoke), no notification
 * route, and the blast-radius and flapping limits at the most a policy allows (every sample revokes the same rule of
 * the same group), so that the samples measure the path, not the limits: both guards still read and write their items.
 */
export const TIME_TO_FIX_POLICY = {
  version: 1,
  dryRun: false,
  detectors: { "ec2-open-ingress": { mode: "auto" } },
  limits: { automaticActionsPerAccount: 10_000, flapping: { revocations: 100, windowSeconds: 60 } },
};

export interface TracePoint {
  /** ms since the process started. */
  at: number;
  /** `import <chunk>`, `sent <service> <operation>`, `answered <service> <operation>`, `ready`, `answered event`. */
  what: string;
}

export interface TimeToFixSample {
  readyMs: number;
  fixedMs: number;
  answeredMs: number;
  outcome: string;
  calls: number;
  callsBeforeFix: number;
  /** The longest chain of calls, each sent after the one before was answered, before the revoke was sent. */
  roundTripsBeforeFix: number;
  /** From the handler being ready until the revoke was sent. */
  readyToRevokeSentMs: number;
  path: TracePoint[];
}

export interface TimeToFix {
  latencyMs: number;
  samples: number;
  /** Medians over the samples; `path` and `calls` are those of the median sample (by fixedMs). */
  readyMs: number;
  fixedMs: number;
  answeredMs: number;
  readyToRevokeSentMs: number;
  calls: number;
  callsBeforeFix: number;
  roundTripsBeforeFix: number;
  outcomes: Record<string, number>;
  path: TracePoint[];
}

export interface TimeToFixResult {
  samplesPerLatency: number;
  loadAverage: { start: number; end: number };
  wallMs: number;
  byLatency: TimeToFix[];
  /** With `baseline`: the same figures for that bundle, sampled in the same rounds (interleaved). */
  baseline?: { entry: string; byLatency: TimeToFix[] };
  /**
   * With `compileCache`: this bundle again, in processes that use Node's compile cache (`module.enableCompileCache`)
   * filled by one earlier process, sampled in the same rounds: what a V8 code cache shipped with the bundle would buy.
   */
  compileCache?: { byLatency: TimeToFix[]; cacheFiles: number };
}

/** Builds the respond bundle as SST builds it into `outdir`; the entry file to import. */
export async function buildRespond(outdir: string): Promise<string> {
  return (await bundle(join(ROOT, "packages/functions/src/respond.handler.ts"), outdir)).entryPath;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function xml(action: string, inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>bench-request</requestId>${inner}</${action}Response>`;
}

/** An EC2 error answer (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html). */
function ec2Error(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>bench-request</RequestID></Response>`;
}

interface Stubs {
  env: Record<string, string>;
  latency: { ms: number };
  /** Puts the group's open rule back (each sample revokes it). */
  reopen(): void;
  /** The policy the SSM stub answers from now on. */
  setPolicy(policy: object): void;
  isOpen(): boolean;
  stop(): Promise<void>;
}

async function startStubs(): Promise<Stubs> {
  const dynamo: LocalDynamo = await startDynalite();
  const table = await dynamo.createTable("eks-responder-time-to-fix");
  const latency = { ms: 0 };
  const dynamoUrl = new URL(dynamo.endpoint);
  // DynamoDB: dynalite behind a proxy that waits the latency and names the operation (x-amz-target) for the trace.
  const proxy = createServer(async (req, res) => {
    const payload = await text(req);
    await wait(latency.ms);
    const target = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "unknown";
    const forward = httpRequest(
      {
        host: dynamoUrl.hostname,
        port: dynamoUrl.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 500, { ...answer.headers, [OP_HEADER]: `dynamodb ${target}` });
        answer.pipe(res);
      },
    );
    forward.on("error", (error) => res.writeHead(502).end(String(error)));
    forward.end(payload);
  });
  const dynamoEndpoint = await listen(proxy);

  const parameters = new Map<string, string>([
    [PARAMETERS.policy, JSON.stringify(TIME_TO_FIX_POLICY)],
    [PARAMETERS.killSwitch, "off"],
  ]);
  const parameterOf = (name: string) => {
    const value = parameters.get(name);
    return value === undefined ? undefined : { Name: name, Type: "String", Value: value, Version: 1 };
  };
  // SSM, JSON 1.1 (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html and
  // API_GetParameters.html: names not found are listed in InvalidParameters, not an error).
  const ssm = createServer(async (req, res) => {
    const request = JSON.parse(await text(req)) as { Name?: string; Names?: string[] };
    await wait(latency.ms);
    const target = String(req.headers["x-amz-target"] ?? "");
    const op = target.split(".")[1] ?? "unknown";
    const headers = { "content-type": "application/x-amz-json-1.1", [OP_HEADER]: `ssm ${op}` };
    if (op === "GetParameter") {
      const found = parameterOf(request.Name ?? "");
      res.writeHead(found ? 200 : 400, headers);
      res.end(
        JSON.stringify(
          found ? { Parameter: found } : { __type: "ParameterNotFound", message: `no parameter ${request.Name}` },
        ),
      );
      return;
    }
    if (op === "GetParameters") {
      const names = request.Names ?? [];
      const found = names.flatMap((n) => {
        const p = parameterOf(n);
        return p ? [p] : [];
      });
      res.writeHead(200, headers);
      res.end(JSON.stringify({ Parameters: found, InvalidParameters: names.filter((n) => !parameters.has(n)) }));
      return;
    }
    res.writeHead(400, headers);
    res.end(JSON.stringify({ __type: "UnknownOperationException", message: `not stubbed: ${target}` }));
  });
  const ssmEndpoint = await listen(ssm);

  // EC2, query protocol: a form-encoded POST, XML answers.
  let open = true;
  const ec2 = createServer(async (req, res) => {
    const form = new URLSearchParams(await text(req));
    await wait(latency.ms);
    const action = form.get("Action") ?? "unknown";
    const headers = { "content-type": "text/xml;charset=UTF-8", [OP_HEADER]: `ec2 ${action}` };
    if (action === "DescribeSecurityGroups") {
      const asked = form.get("GroupId.1");
      if (asked !== GROUP_ID) {
        res
          .writeHead(400, headers)
          .end(ec2Error("InvalidGroup.NotFound", `The security group '${asked}' does not exist`));
        return;
      }
      const permissions = open
        ? `<item><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><toPort>22</toPort><groups/><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item>`
        : "";
      res
        .writeHead(200, headers)
        .end(
          xml(
            action,
            `<securityGroupInfo><item><ownerId>${OWNER}</ownerId><groupId>${GROUP_ID}</groupId><groupName>eks-nodes</groupName><groupDescription>EKS nodes</groupDescription><vpcId>vpc-0a1b2c3d4e5f67890</vpcId><ipPermissions>${permissions}</ipPermissions><ipPermissionsEgress/><tagSet><item><key>Name</key><value>eks-nodes</value></item></tagSet></item></securityGroupInfo>`,
          ),
        );
      return;
    }
    if (action === "RevokeSecurityGroupIngress") {
      const rule = form.get("SecurityGroupRuleId.1");
      if (form.get("GroupId") !== GROUP_ID || rule !== RULE_ID || !open) {
        res.writeHead(400, headers).end(ec2Error("InvalidSecurityGroupRuleId.NotFound", `${rule} not found`));
        return;
      }
      open = false;
      res
        .writeHead(200, headers)
        .end(
          xml(
            action,
            `<return>true</return><revokedSecurityGroupRuleSet><item><securityGroupRuleId>${RULE_ID}</securityGroupRuleId><groupId>${GROUP_ID}</groupId><isEgress>false</isEgress><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><toPort>22</toPort><cidrIpv4>0.0.0.0/0</cidrIpv4></item></revokedSecurityGroupRuleSet>`,
          ),
        );
      return;
    }
    res.writeHead(400, headers).end(ec2Error("InvalidAction", `not stubbed: ${action}`));
  });
  const ec2Endpoint = await listen(ec2);

  return {
    env: {
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
      AWS_SECRET_ACCESS_KEY: "bench-secret",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
      AWS_ENDPOINT_URL_SSM: ssmEndpoint,
      AWS_ENDPOINT_URL_EC2: ec2Endpoint,
      TABLE_NAME: table,
      POLICY_PARAMETER_NAME: PARAMETERS.policy,
      KILL_SWITCH_PARAMETER_NAME: PARAMETERS.killSwitch,
      POWERTOOLS_SERVICE_NAME: "eks-responder",
      POWERTOOLS_LOG_LEVEL: "ERROR",
    },
    latency,
    reopen() {
      open = true;
    },
    setPolicy(policy) {
      parameters.set(PARAMETERS.policy, JSON.stringify(policy));
    },
    isOpen: () => open,
    async stop() {
      for (const server of [proxy, ssm, ec2]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      await dynamo.stop();
    },
  };
}

interface Call {
  name: string;
  sent: number;
  answered: number;
}

/** The calls of a trace, paired by their order: `sent X` … `answered X`. */
function callsOf(path: TracePoint[]): Call[] {
  const calls: Call[] = [];
  const open: { id: number; sent: number }[] = [];
  for (const p of path) {
    const sent = /^sent #(\d+)$/.exec(p.what);
    if (sent) open.push({ id: Number(sent[1]), sent: p.at });
    const answered = /^answered #(\d+) (.+)$/.exec(p.what);
    if (answered) {
      const id = Number(answered[1]);
      const at = open.findIndex((o) => o.id === id);
      const start = open[at];
      if (start) {
        open.splice(at, 1);
        calls.push({ name: answered[2] ?? "", sent: start.sent, answered: p.at });
      }
    }
  }
  return calls.sort((a, b) => a.sent - b.sent);
}

/** The longest chain of calls each sent after the previous one was answered (how many round trips waited in series). */
function chainDepth(calls: Call[]): number {
  const depth = new Map<Call, number>();
  let best = 0;
  for (const c of calls) {
    let d = 1;
    for (const p of calls) if (p.answered <= c.sent) d = Math.max(d, (depth.get(p) ?? 0) + 1);
    depth.set(c, d);
    best = Math.max(best, d);
  }
  return best;
}

/** The trace with the calls named: `sent ec2 RevokeSecurityGroupIngress` instead of the request's number. */
function readable(path: TracePoint[]): TracePoint[] {
  const names = new Map<string, string>();
  for (const p of path) {
    const m = /^answered #(\d+) (.+)$/.exec(p.what);
    if (m) names.set(m[1] ?? "", m[2] ?? "");
  }
  return path.map((p) => {
    const sent = /^sent #(\d+)$/.exec(p.what);
    if (sent) return { at: p.at, what: `sent ${names.get(sent[1] ?? "") ?? "(no answer)"}` };
    const answered = /^answered #\d+ (.+)$/.exec(p.what);
    return answered ? { at: p.at, what: `answered ${answered[1]}` } : p;
  });
}

const REVOKE = "ec2 RevokeSecurityGroupIngress";

/** One fresh process: trace hooks, import the bundle, hand it the event; the trace comes back on stdout. */
async function sample(
  entry: string,
  event: Record<string, unknown>,
  env: Record<string, string>,
  extraFlags: readonly string[] = [],
) {
  const trace = pathToFileURL(join(import.meta.dirname, "time-to-fix-trace.mjs")).href;
  const code = `const { handler } = await import(${JSON.stringify(pathToFileURL(entry).href)});
globalThis.__benchTrace("ready");
const context = { functionName: "respond", awsRequestId: "bench", invokedFunctionArn: "arn:aws:lambda:us-east-1:${OWNER}:function:respond", getRemainingTimeInMillis: () => 60000 };
const out = await handler(JSON.parse(process.env.BENCH_EVENT), context);
globalThis.__benchTrace("answered event");
process.stdout.write(JSON.stringify({ outcome: out.outcome, path: globalThis.__benchPath }));
process.exit(0);`;
  // TIME_TO_FIX_NODE_FLAGS: flags for the sampled processes only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/ttf-profiles"
  // to see where a sample's time goes (the figures of such a run are not comparable).
  const flags = (process.env.TIME_TO_FIX_NODE_FLAGS ?? "").split(" ").filter(Boolean);
  const args = [...flags, ...extraFlags, "--import", trace, "--input-type=module", "-e", code];
  const { stdout } = await run(process.execPath, args, {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", ...env, BENCH_EVENT: JSON.stringify(event), BENCH_TRACE_DIR: entry },
  });
  return answerOf(stdout) as { outcome: string; path: TracePoint[] };
}

function summarize(raw: TracePoint[], outcome: string): TimeToFixSample {
  const calls = callsOf(raw);
  const path = readable(raw);
  const at = (what: string) => path.find((p) => p.what === what)?.at ?? Number.NaN;
  const revoke = calls.find((c) => c.name === REVOKE);
  const readyMs = at("ready");
  const before = revoke ? calls.filter((c) => c.sent < revoke.sent) : calls;
  return {
    readyMs,
    fixedMs: revoke?.answered ?? Number.NaN,
    answeredMs: at("answered event"),
    outcome,
    calls: calls.length,
    callsBeforeFix: before.length,
    roundTripsBeforeFix: chainDepth(before),
    readyToRevokeSentMs: revoke ? revoke.sent - readyMs : Number.NaN,
    path,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const m = sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return Math.round(m * 10) / 10;
}

const round = (x: number) => Math.round(x * 10) / 10;

/**
 * `samples` fresh processes per latency. With `baseline` (the entry of a respond bundle built from other code, say
 * the commit before a change: `buildRespond`), that bundle is sampled in the same rounds, for a comparison that the
 * machine's load moves alike.
 */
export async function measureTimeToFix(
  samples = TIME_TO_FIX_SAMPLES,
  options: { baseline?: string; baselinePolicy?: object; compileCache?: boolean } = {},
): Promise<TimeToFixResult> {
  const started = performance.now();
  const loadStart = Number((loadavg()[0] ?? 0).toFixed(2));
  const tmp = mkdtempSync(join(tmpdir(), "eks-responder-time-to-fix-"));
  const stubs = await startStubs();
  try {
    const current = await buildRespond(join(tmp, "respond"));
    // Each variant: a bundle, the flags of its processes, and the policy it is given.
    const variants: { entry: string; flags: string[]; policy: object }[] = [
      { entry: current, flags: [], policy: TIME_TO_FIX_POLICY },
    ];
    // A baseline built from older code may not know every key of today's policy (its schema is strict).
    if (options.baseline) {
      variants.push({ entry: options.baseline, flags: [], policy: options.baselinePolicy ?? TIME_TO_FIX_POLICY });
    }
    if (options.compileCache) {
      const hook = join(tmp, "compile-cache.mjs");
      const cacheDir = join(tmp, "compile-cache");
      writeFileSync(
        hook,
        `import module from "node:module";\nmodule.enableCompileCache(${JSON.stringify(cacheDir)});\n`,
      );
      variants.push({ entry: current, flags: ["--import", pathToFileURL(hook).href], policy: TIME_TO_FIX_POLICY });
    }
    const byEntry = variants.map(() => new Map<number, TimeToFixSample[]>(TIME_TO_FIX_LATENCIES.map((l) => [l, []])));
    // The compile cache is filled by one process before the rounds (Node writes it as the process exits).
    const cached = variants.at(-1);
    let cacheFiles = 0;
    if (options.compileCache && cached) {
      stubs.latency.ms = 0;
      stubs.reopen();
      stubs.setPolicy(TIME_TO_FIX_POLICY);
      await sample(cached.entry, firstEvent("notified", 10_000_000), stubs.env, cached.flags);
      cacheFiles = readdirSync(join(tmp, "compile-cache"), { recursive: true }).length;
    }
    // Interleaved rounds: every latency (and bundle) once per round, so a slower moment of the machine hits all.
    for (let i = 0; i < samples; i++) {
      for (const latencyMs of TIME_TO_FIX_LATENCIES) {
        for (const [index, variant] of variants.entries()) {
          stubs.latency.ms = latencyMs;
          stubs.reopen();
          stubs.setPolicy(variant.policy);
          // A distinct event per sample: a repeated one would be a duplicate (skipped by the claim).
          const event = firstEvent("notified", i * 1000 + latencyMs * 10 + index);
          const out = await sample(variant.entry, event, stubs.env, variant.flags);
          const s = summarize(out.path, out.outcome);
          if (stubs.isOpen() || !Number.isFinite(s.fixedMs)) {
            throw new Error(`time-to-fix sample ${i} (${latencyMs} ms): the rule was not revoked (${out.outcome})`);
          }
          byEntry[index]?.get(latencyMs)?.push(s);
        }
      }
    }
    const figures = (byLatency: Map<number, TimeToFixSample[]> | undefined): TimeToFix[] =>
      TIME_TO_FIX_LATENCIES.map((latencyMs) => {
        const list = byLatency?.get(latencyMs) ?? [];
        const fixed = median(list.map((s) => s.fixedMs));
        const typical = [...list].sort((a, b) => a.fixedMs - b.fixedMs)[Math.floor(list.length / 2)];
        const outcomes: Record<string, number> = {};
        for (const s of list) outcomes[s.outcome] = (outcomes[s.outcome] ?? 0) + 1;
        return {
          latencyMs,
          samples: list.length,
          readyMs: median(list.map((s) => s.readyMs)),
          fixedMs: fixed,
          answeredMs: median(list.map((s) => s.answeredMs)),
          readyToRevokeSentMs: median(list.map((s) => s.readyToRevokeSentMs)),
          calls: typical?.calls ?? 0,
          callsBeforeFix: typical?.callsBeforeFix ?? 0,
          roundTripsBeforeFix: typical?.roundTripsBeforeFix ?? 0,
          outcomes,
          path: (typical?.path ?? []).map((p) => ({ at: round(p.at), what: p.what })),
        };
      });
    return {
      samplesPerLatency: samples,
      loadAverage: { start: loadStart, end: Number((loadavg()[0] ?? 0).toFixed(2)) },
      wallMs: Math.round(performance.now() - started),
      byLatency: figures(byEntry[0]),
      ...(options.baseline ? { baseline: { entry: options.baseline, byLatency: figures(byEntry[1]) } } : {}),
      ...(options.compileCache ? { compileCache: { byLatency: figures(byEntry.at(-1)), cacheFiles } } : {}),
    };
  } finally {
    await stubs.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The lines `npm run bench` and `node bench/time-to-fix.ts` print. */
export function timeToFixLines(r: TimeToFixResult): string[] {
  const lines = [
    `time to fix: ${r.samplesPerLatency} fresh processes per latency${r.baseline || r.compileCache ? " and variant" : ""}, load ${r.loadAverage.start} → ${r.loadAverage.end}, ${(r.wallMs / 1000).toFixed(1)} s`,
  ];
  if (r.baseline) {
    lines.push(`baseline ${r.baseline.entry}:`);
    lines.push(...figureLines(r.baseline.byLatency));
  }
  if (r.baseline || r.compileCache) lines.push("this code:");
  lines.push(...figureLines(r.byLatency));
  if (r.compileCache) {
    lines.push(
      `this code, with Node's compile cache filled by one earlier process (what-if; ${r.compileCache.cacheFiles} files in the cache):`,
    );
    lines.push(...figureLines(r.compileCache.byLatency));
  }
  return lines;
}

function figureLines(byLatency: TimeToFix[]): string[] {
  const lines: string[] = [];
  for (const t of byLatency) {
    lines.push(
      `  ${t.latencyMs} ms per call: ready ${t.readyMs} ms, revoked ${t.fixedMs} ms, answered ${t.answeredMs} ms; ready → revoke sent ${t.readyToRevokeSentMs} ms; ${t.calls} calls, ${t.callsBeforeFix} before the revoke in ${t.roundTripsBeforeFix} round trips in series; outcomes ${Object.entries(
        t.outcomes,
      )
        .map(([k, v]) => `${k} ×${v}`)
        .join(", ")}`,
    );
    lines.push(`  critical path of the median sample (${t.latencyMs} ms):`);
    for (const p of t.path) lines.push(`    ${p.at.toFixed(1).padStart(7)} ms  ${p.what}`);
  }
  return lines;
}

/**
 * `node bench/time-to-fix.ts [samples] [--json] [--baseline <entry.mjs> [--baseline-policy <file.json>]]
 * [--compile-cache]`, or
 * `--build <dir>` to only build this code's respond bundle (to measure it later as another commit's baseline).
 */
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const flag = (name: string) => {
    const at = process.argv.indexOf(name);
    return at > 0 ? process.argv[at + 1] : undefined;
  };
  const buildDir = flag("--build");
  if (buildDir) {
    process.stdout.write(`${await buildRespond(resolve(buildDir))}\n`);
    process.exit(0);
  }
  const samples = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? TIME_TO_FIX_SAMPLES);
  const baseline = flag("--baseline");
  const baselinePolicy = flag("--baseline-policy");
  const result = await measureTimeToFix(samples, {
    ...(baseline ? { baseline: resolve(baseline) } : {}),
    ...(baseline && baselinePolicy
      ? { baselinePolicy: JSON.parse(readFileSync(resolve(baselinePolicy), "utf8")) as object }
      : {}),
    ...(process.argv.includes("--compile-cache") ? { compileCache: true } : {}),
  });
  process.stdout.write(`${timeToFixLines(result).join("\n")}\n`);
  if (process.argv.includes("--json")) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
