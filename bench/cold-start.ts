/**
 * Cold start per Lambda function: each packages/functions/src/*.handler.ts bundled by esbuild as SST builds it (ESM,
 * platform node, target node22, minified, code splitting, the AWS SDK bundled, nothing external) into a temporary
 * folder, then imported by fresh `node` processes. A sample is `performance.now()` once `await import(bundle)` has
 * resolved: milliseconds since the process's time origin, so Node's own start-up is included, as in Lambda's init.
 *
 * Two references are bundled the same way and sampled in the same rounds (interleaved, so drift hits all alike): an
 * empty handler (`export const handler = async () => ({})`, the floor) and a naive one (middy, and the EC2 client
 * imported and created at top level). The size of a bundle is what Node reads at import: the entry and the chunks it
 * imports statically (transitively); chunks behind `await import()` load only when a path needs them.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Metafile, type Plugin } from "esbuild";
// The plugins SST bundles the functions with (infra/functions.ts `nodejs.plugins`).
import plugins from "../infra/esbuild-plugins.mjs";
import {
  FIRST_EVENTS,
  type FirstEventKind,
  type FirstEventSample,
  firstEvent,
  sampleFirstEvent,
  startFirstEventStubs,
} from "./first-event.ts";

const ROOT = join(import.meta.dirname, "..");
const FUNCTIONS_SRC = join(ROOT, "packages/functions/src");

/** Processes per bundle (the brief: at least 15). */
export const COLD_START_SAMPLES = 21;
/** How many of an entry's largest inputs are reported. */
const TOP_INPUTS = 8;
/** The respond function needs no AWS call for most events: its import must stay close to an empty module's. */
export const RESPOND_TARGET_RATIO = 1.5;

/** The require shim SST puts in ESM bundles, for CommonJS dependencies that call require() on Node built-ins. */
const BANNER =
  'import { createRequire as __bannerCreateRequire } from "module"; const require = __bannerCreateRequire(import.meta.url);';

const EMPTY_SOURCE = "export const handler = async () => ({});\n";
const NAIVE_SOURCE = `import middy from "@middy/core";
import { EC2Client } from "@aws-sdk/client-ec2";
const ec2 = new EC2Client({});
export const handler = middy(async () => ({ region: typeof ec2.config.region }));
`;

const CORE = join(ROOT, "packages/core/src");

/**
 * What the handlers load at import, one part at a time, each bundled alone the same way: its cost over the empty
 * handler says what making it lazy would save (the parts share the SDK's core, so the costs do not add up).
 */
const PROBES: Record<string, string> = {
  "zod (classic, which the schemas used before zod/mini)": `import { z } from "zod";
export const handler = async () => z.object({ a: z.string() }).parse({ a: "x" });`,
  "zod/mini (the tree-shakable API)": `import * as z from "zod/mini";
export const handler = async () => z.object({ a: z.string() }).parse({ a: "x" });`,
  "core: respond() alone (pipeline/respond.ts)": `import { respond } from ${JSON.stringify(join(CORE, "pipeline/respond.ts"))};
export const handler = async () => typeof respond;`,
  "core: signals/parse.ts (event schemas)": `import { parseEvent } from ${JSON.stringify(join(CORE, "signals/parse.ts"))};
export const handler = async () => typeof parseEvent;`,
  "core: detectors/registry.ts": `import { DETECTORS } from ${JSON.stringify(join(CORE, "detectors/registry.ts"))};
export const handler = async () => DETECTORS.length;`,
  "core: actions/registry.ts": `import { ACTIONS } from ${JSON.stringify(join(CORE, "actions/registry.ts"))};
export const handler = async () => ACTIONS.length;`,
  "core: policy/load.ts (policy schema)": `import { parsePolicy } from ${JSON.stringify(join(CORE, "policy/load.ts"))};
export const handler = async () => typeof parsePolicy;`,
  "core: the whole index (@eks-responder/core)": `import * as core from "@eks-responder/core";
export const handler = async () => Object.keys(core).length;`,
  "powertools parameters/ssm (SSM client; imported on the first parameter read)": `import { getParameter } from "@aws-lambda-powertools/parameters/ssm";
export const handler = async () => typeof getParameter;`,
  "DynamoDB client + lib-dynamodb (imported on the first table access)": `import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
export const handler = async () => [typeof DynamoDBDocumentClient.from(new DynamoDBClient({})), typeof PutCommand];`,
  "the first event's clients as respond imports them: DynamoDB (store/dynamodb-sdk.ts) alone": `import { DynamoDBClient, DynamoDBDocumentClient } from ${JSON.stringify(join(CORE, "store/dynamodb-sdk.ts"))};
export const handler = async () => typeof DynamoDBDocumentClient.from(new DynamoDBClient({}));`,
  "the first event's clients as respond imports them: DynamoDB and SSM (aws/ssm.ts, the policy and kill switch read)": `import { DynamoDBClient, DynamoDBDocumentClient } from ${JSON.stringify(join(CORE, "store/dynamodb-sdk.ts"))};
import { GetParametersCommand, SSMClient } from ${JSON.stringify(join(CORE, "aws/ssm.ts"))};
export const handler = async () => [typeof DynamoDBDocumentClient.from(new DynamoDBClient({})), typeof new SSMClient({}), typeof GetParametersCommand];`,
  "SNS client (imported on the first SNS notification)": `import { SNSClient } from "@aws-sdk/client-sns";
export const handler = async () => typeof new SNSClient({});`,
  "SFN client + task commands (imported on the first approval)": `import { SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";
export const handler = async () => [typeof SFNClient, typeof SendTaskSuccessCommand];`,
  "node:crypto + node:net (assessment ids and claims; CIDRs)": `import { hash, randomUUID } from "node:crypto";
import { isIPv4 } from "node:net";
export const handler = async () => [hash("sha256", randomUUID(), "hex"), isIPv4("10.0.0.1")];`,
  "middy + powertools logger": `import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
const logger = new Logger({ serviceName: "probe" });
export const handler = middy(async () => ({})).use(injectLambdaContext(logger));`,
};

/**
 * Replaces every action module (packages/core/src/actions/*.action.ts) with a stub that exports the action's name
 * and nothing else: what a handler would load at import if no action code were loaded before an event needed it.
 */
const stubActions: Plugin = {
  name: "stub-actions",
  setup(b) {
    b.onLoad({ filter: /[\\/]actions[\\/][^\\/]+\.action\.ts$/ }, (args) => {
      // k8s-cordon-node.action.ts exports cordonNode: the plane's prefix is not part of the name.
      const name = basename(args.path, ".action.ts")
        .replace(/^k8s-/, "")
        .replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
      return { contents: `export const ${name} = { id: ${JSON.stringify(name)} };\n`, loader: "ts" };
    });
    // The actions' live code imports from the definitions, which are stubs here: keep only the Kubernetes access that
    // the module also carries for the functions (functions/src/runtime.ts imports it from there).
    b.onLoad({ filter: /[\\/]actions[\\/]runtimes\.ts$/ }, (args) => ({
      contents: 'export { kubernetesFor } from "../kubernetes/access.ts";\n',
      loader: "ts",
      resolveDir: dirname(args.path),
    }));
  },
};

/** The respond handler with no action code at import: the most that loading the actions on first use could save. */
export const RESPOND_WITHOUT_ACTIONS =
  "respond, every action module replaced by a stub (what-if: no action code at import)";

/** What-if bundles: a real handler bundled with part of its code replaced, sampled and reported like the probes. */
export const WHAT_IF: Record<string, { entry: string; plugins: Plugin[] }> = {
  [RESPOND_WITHOUT_ACTIONS]: { entry: join(FUNCTIONS_SRC, "respond.handler.ts"), plugins: [stubActions] },
};

export interface Probe {
  bundleBytes: number;
  importMsMedian: number;
  /** importMsMedian minus the empty handler's. */
  overEmptyMs: number;
}

export interface InputShare {
  /** A package (node_modules) or a source folder of this repository. */
  input: string;
  /** Minified bytes it contributes to what is loaded at import. */
  bytes: number;
}

export interface BundleInfo {
  /** The entry file and the chunks it imports statically: what Node reads at cold start. */
  loadBytes: number;
  /** Every output file (the entry, static and lazy chunks). */
  totalBytes: number;
  files: number;
  /** The largest inputs of what is loaded at import, by package or source folder. */
  largestInputs: InputShare[];
  /** Every input file of what is loaded at import, relative to the repository. */
  inputsAtImport: string[];
  /** The minified bytes each input file contributes to what is loaded at import. */
  inputBytesAtImport: Record<string, number>;
  /** The modules left external (Node built-ins) that what is loaded at import imports statically. */
  externalsAtImport: string[];
  /** Every input file esbuild read, whether or not any of it was kept. */
  allInputs: string[];
  /** Every input file with code in some output (the entry, static or lazy chunks), relative to the repository. */
  bundledInputs: string[];
  /** How many files Node loads at import: the entry and its static chunks (each one more module for the loader). */
  filesAtImport: number;
  entryPath: string;
}

export interface ColdStartFunction {
  /** Bytes loaded at import (entry + static chunks); `totalBytes` has every chunk. */
  bundleBytes: number;
  totalBytes: number;
  importMsMedian: number;
  emptyMsMedian: number;
  naiveMsMedian: number;
  /** importMsMedian / emptyMsMedian. */
  ratioToEmpty: number;
  largestInputs: InputShare[];
}

export interface FirstEvent {
  /** The event and the path it takes. */
  path: string;
  importMsMedian: number;
  /** ms from process start until the handler answered the event. */
  answeredMsMedian: number;
  /** answeredMsMedian − importMsMedian: what the first event adds to the import. */
  firstEventMsMedian: number;
  outcomes: Record<string, number>;
}

export interface ColdStart {
  samples: number;
  /** The respond handler answering its first event in a fresh process (bench/first-event.ts). */
  firstEvent: Record<FirstEventKind, FirstEvent>;
  /** The same for the empty handler (its "event" returns at once). */
  emptyFirstEvent: { answeredMsMedian: number };
  /** SSM GetParameter calls and Slack posts the respond samples made, in all. */
  firstEventRequests: Record<string, number>;
  empty: { bundleBytes: number; importMsMedian: number };
  naive: { bundleBytes: number; importMsMedian: number; largestInputs: InputShare[] };
  functions: Record<string, ColdStartFunction>;
  probes: Record<string, Probe>;
}

/** `node_modules/@aws-sdk/client-ec2/dist-es/…` → `@aws-sdk/client-ec2`; `packages/core/src/x/y.ts` → `packages/core/src/x`. */
function inputGroup(path: string): string {
  const marker = "node_modules/";
  const at = path.lastIndexOf(marker);
  if (at >= 0) {
    const rest = path.slice(at + marker.length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1] ?? ""}` : (rest[0] ?? path);
  }
  const rel = relative(ROOT, join(ROOT, path)).split("/");
  return rel.length > 1 ? rel.slice(0, -1).join("/") : (rel[0] ?? path);
}

/** The output files Node loads when it imports `entry`: the entry and, transitively, its static imports. */
function loadedAtImport(metafile: Metafile, entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const imp of metafile.outputs[file]?.imports ?? []) {
      if (imp.kind === "import-statement" && !imp.external) visit(imp.path);
    }
  };
  visit(entry);
  return [...seen];
}

/** Bundles one entry as SST does, into `outdir`; test/unit/infra/bundles.test.ts checks what the handlers load. */
export async function bundle(entry: string, outdir: string, extraPlugins: Plugin[] = []): Promise<BundleInfo> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    target: "node22",
    format: "esm",
    splitting: true,
    minify: true,
    outdir,
    outExtension: { ".js": ".mjs" },
    entryNames: "[name]",
    chunkNames: "chunks/[name]-[hash]",
    mainFields: ["module", "main"],
    banner: { js: BANNER },
    // The references live in the temporary folder: resolve their packages from the workspace.
    nodePaths: [join(ROOT, "packages/functions/node_modules"), join(ROOT, "node_modules")],
    metafile: true,
    plugins: [...plugins, ...extraPlugins],
    logLevel: "silent",
    absWorkingDir: ROOT,
  });
  const { metafile } = result;
  const outputs = Object.entries(metafile.outputs);
  // Lazily imported modules are entry points of their chunks too: pick the output of this entry.
  const entryOut = outputs.find(([, o]) => o.entryPoint !== undefined && join(ROOT, o.entryPoint) === entry)?.[0];
  if (!entryOut) throw new Error(`esbuild wrote no entry for ${entry}`);
  const loaded = loadedAtImport(metafile, entryOut);
  const groups = new Map<string, number>();
  const inputsAtImport = new Set<string>();
  const inputBytesAtImport: Record<string, number> = {};
  const externalsAtImport = new Set<string>();
  for (const file of loaded) {
    for (const imp of metafile.outputs[file]?.imports ?? []) {
      if (imp.kind === "import-statement" && imp.external) externalsAtImport.add(imp.path);
    }
    for (const [input, share] of Object.entries(metafile.outputs[file]?.inputs ?? {})) {
      inputsAtImport.add(input);
      inputBytesAtImport[input] = (inputBytesAtImport[input] ?? 0) + share.bytesInOutput;
      const group = inputGroup(input);
      groups.set(group, (groups.get(group) ?? 0) + share.bytesInOutput);
    }
  }
  return {
    loadBytes: loaded.reduce((n, f) => n + (metafile.outputs[f]?.bytes ?? 0), 0),
    totalBytes: outputs.reduce((n, [, o]) => n + o.bytes, 0),
    files: outputs.length,
    largestInputs: [...groups.entries()]
      .sort(([, a], [, b]) => b - a)
      .slice(0, TOP_INPUTS)
      .map(([input, bytes]) => ({ input, bytes })),
    inputsAtImport: [...inputsAtImport].sort(),
    inputBytesAtImport,
    externalsAtImport: [...externalsAtImport].sort(),
    allInputs: Object.keys(metafile.inputs).sort(),
    bundledInputs: [
      ...new Set(
        outputs.flatMap(([, o]) =>
          Object.entries(o.inputs)
            .filter(([, share]) => share.bytesInOutput > 0)
            .map(([input]) => input),
        ),
      ),
    ].sort(),
    filesAtImport: loaded.length,
    entryPath: join(ROOT, entryOut),
  };
}

/** One fresh process: ms from its time origin until the bundle is imported. */
function sample(bundlePath: string): number {
  const url = pathToFileURL(bundlePath).href;
  const code = `await import(${JSON.stringify(url)}); process.stdout.write(String(performance.now()));`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", code], {
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "",
      AWS_REGION: "us-east-1",
      AWS_EC2_METADATA_DISABLED: "true",
      POWERTOOLS_SERVICE_NAME: "eks-responder",
    },
  });
  const ms = Number(out.trim());
  if (!Number.isFinite(ms)) throw new Error(`cold-start sample of ${bundlePath} printed ${JSON.stringify(out)}`);
  return ms;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const m = sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return Math.round(m * 10) / 10;
}

export function handlerNames(): string[] {
  return readdirSync(FUNCTIONS_SRC)
    .filter((f) => f.endsWith(".handler.ts"))
    .sort()
    .map((f) => basename(f, ".handler.ts"));
}

export async function measureColdStart(samples = COLD_START_SAMPLES): Promise<ColdStart> {
  const tmp = mkdtempSync(join(tmpdir(), "eks-responder-cold-start-"));
  try {
    writeFileSync(join(tmp, "empty.ts"), EMPTY_SOURCE);
    writeFileSync(join(tmp, "naive.ts"), NAIVE_SOURCE);
    const names = handlerNames();
    const bundles = new Map<string, BundleInfo>();
    bundles.set("(empty)", await bundle(join(tmp, "empty.ts"), join(tmp, "out/empty")));
    bundles.set("(naive)", await bundle(join(tmp, "naive.ts"), join(tmp, "out/naive")));
    for (const name of names) {
      bundles.set(name, await bundle(join(FUNCTIONS_SRC, `${name}.handler.ts`), join(tmp, "out", name)));
    }
    const probeKeys = [...Object.keys(PROBES), ...Object.keys(WHAT_IF)];
    for (const [index, key] of probeKeys.entries()) {
      const whatIf = WHAT_IF[key];
      const file = whatIf?.entry ?? join(tmp, `probe-${index}.ts`);
      if (!whatIf) writeFileSync(file, `${PROBES[key] ?? ""}\n`);
      bundles.set(`probe:${key}`, await bundle(file, join(tmp, "out", `probe-${index}`), whatIf?.plugins));
    }
    const info = (key: string): BundleInfo => {
      const b = bundles.get(key);
      if (!b) throw new Error(`no bundle ${key}`);
      return b;
    };
    // Interleaved rounds: every bundle once per round, so a slower moment of the machine hits them all.
    const times = new Map<string, number[]>([...bundles.keys()].map((k) => [k, []]));
    for (let round = 0; round < samples; round++) {
      for (const [key, info] of bundles) times.get(key)?.push(sample(info.entryPath));
    }
    // Then the respond handler's first event, in fresh processes against local endpoints (interleaved likewise).
    const stubs = await startFirstEventStubs();
    const kinds = Object.keys(FIRST_EVENTS) as FirstEventKind[];
    const firsts = new Map<string, FirstEventSample[]>([...kinds, "(empty)"].map((k) => [k, []]));
    try {
      for (let round = 0; round < samples; round++) {
        firsts.get("(empty)")?.push(await sampleFirstEvent(info("(empty)").entryPath, {}, stubs.env));
        for (const kind of kinds) {
          const event = firstEvent(kind, round);
          firsts.get(kind)?.push(await sampleFirstEvent(info("respond").entryPath, event, stubs.env));
        }
      }
    } finally {
      await stubs.stop();
    }
    const firstEventOf = (kind: FirstEventKind): FirstEvent => {
      const list = firsts.get(kind) ?? [];
      const importMs = median(list.map((f) => f.importMs));
      const answeredMs = median(list.map((f) => f.answeredMs));
      const outcomes: Record<string, number> = {};
      for (const f of list) outcomes[f.outcome] = (outcomes[f.outcome] ?? 0) + 1;
      return {
        path: FIRST_EVENTS[kind].path,
        importMsMedian: importMs,
        answeredMsMedian: answeredMs,
        firstEventMsMedian: median(list.map((f) => f.answeredMs - f.importMs)),
        outcomes,
      };
    };
    const med = (key: string) => median(times.get(key) ?? []);
    const emptyMs = med("(empty)");
    const naiveMs = med("(naive)");
    const functions: Record<string, ColdStartFunction> = {};
    for (const name of names) {
      const b = info(name);
      const importMs = med(name);
      functions[name] = {
        bundleBytes: b.loadBytes,
        totalBytes: b.totalBytes,
        importMsMedian: importMs,
        emptyMsMedian: emptyMs,
        naiveMsMedian: naiveMs,
        ratioToEmpty: Math.round((importMs / emptyMs) * 100) / 100,
        largestInputs: b.largestInputs,
      };
    }
    const probes: Record<string, Probe> = {};
    for (const key of probeKeys) {
      const ms = med(`probe:${key}`);
      probes[key] = {
        bundleBytes: info(`probe:${key}`).loadBytes,
        importMsMedian: ms,
        overEmptyMs: Math.round((ms - emptyMs) * 10) / 10,
      };
    }
    return {
      samples,
      firstEvent: Object.fromEntries(kinds.map((k) => [k, firstEventOf(k)])) as Record<FirstEventKind, FirstEvent>,
      emptyFirstEvent: { answeredMsMedian: median((firsts.get("(empty)") ?? []).map((f) => f.answeredMs)) },
      firstEventRequests: Object.fromEntries(stubs.requests),
      probes,
      empty: { bundleBytes: info("(empty)").loadBytes, importMsMedian: emptyMs },
      naive: {
        bundleBytes: info("(naive)").loadBytes,
        importMsMedian: naiveMs,
        largestInputs: info("(naive)").largestInputs,
      },
      functions,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface RespondComparison {
  samples: number;
  baseline: { checkout: string; bundleBytes: number; files: number; importMsMedian: number; ratioToEmpty: number };
  current: { bundleBytes: number; files: number; importMsMedian: number; ratioToEmpty: number };
  emptyMsMedian: number;
}

/**
 * The respond handler's cold start against another checkout's (a `git worktree` of an earlier commit, its
 * node_modules installed), in the same interleaved rounds as this code's and the empty handler's, so that a slower
 * moment of the machine hits all three. The baseline is bundled by its own bench/cold-start.ts when it has one (the
 * plugins and options of its time), else by this one.
 */
export async function compareRespond(checkout: string, samples = COLD_START_SAMPLES): Promise<RespondComparison> {
  const tmp = mkdtempSync(join(tmpdir(), "eks-responder-cold-compare-"));
  try {
    const theirs = join(checkout, "bench/cold-start.ts");
    let bundleBaseline = bundle;
    try {
      bundleBaseline = ((await import(pathToFileURL(theirs).href)) as { bundle: typeof bundle }).bundle;
    } catch {
      // an older checkout without this bench: this bundle function
    }
    writeFileSync(join(tmp, "empty.ts"), EMPTY_SOURCE);
    const entries = {
      empty: await bundle(join(tmp, "empty.ts"), join(tmp, "out/empty")),
      baseline: await bundleBaseline(join(checkout, "packages/functions/src/respond.handler.ts"), join(tmp, "out/b")),
      current: await bundle(join(FUNCTIONS_SRC, "respond.handler.ts"), join(tmp, "out/c")),
    };
    const times: Record<keyof typeof entries, number[]> = { empty: [], baseline: [], current: [] };
    for (let round = 0; round < samples; round++) {
      for (const key of Object.keys(entries) as (keyof typeof entries)[])
        times[key].push(sample(entries[key].entryPath));
    }
    const emptyMs = median(times.empty);
    const of = (key: "baseline" | "current") => ({
      bundleBytes: entries[key].loadBytes,
      files: entries[key].filesAtImport ?? 0,
      importMsMedian: median(times[key]),
      ratioToEmpty: Math.round((median(times[key]) / emptyMs) * 100) / 100,
    });
    return { samples, baseline: { checkout, ...of("baseline") }, current: of("current"), emptyMsMedian: emptyMs };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** `node bench/cold-start.ts --respond-baseline <checkout> [samples]`: compareRespond, printed. */
// Run as a script, not imported: compareRespond imports an earlier checkout's copy of this module for its bundle
// function, and that copy must not run this block again.
if (
  process.argv[1] &&
  resolve(process.argv[1]) === fileURLToPath(import.meta.url) &&
  process.argv.includes("--respond-baseline")
) {
  const checkout = process.argv[process.argv.indexOf("--respond-baseline") + 1];
  if (!checkout) throw new Error("--respond-baseline needs the path of a checkout of an earlier commit");
  const samples = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? COLD_START_SAMPLES);
  const started = performance.now();
  const load = loadavg()[0]?.toFixed(2);
  const c = await compareRespond(checkout, samples);
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  process.stdout.write(
    `respond cold start: ${samples} fresh processes per bundle, interleaved, load ${load} → ${loadavg()[0]?.toFixed(2)}, ${((performance.now() - started) / 1000).toFixed(1)} s\n` +
      `  empty handler: ${c.emptyMsMedian} ms\n` +
      `  baseline ${checkout}: ${c.baseline.importMsMedian} ms (${c.baseline.ratioToEmpty}× empty), ${kib(c.baseline.bundleBytes)} in ${c.baseline.files || "?"} files at import\n` +
      `  this code: ${c.current.importMsMedian} ms (${c.current.ratioToEmpty}× empty), ${kib(c.current.bundleBytes)} in ${c.current.files} files at import\n`,
  );
}
