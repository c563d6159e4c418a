/**
 * `npm run synth`: runs `run()` of sst.config.ts offline, under Pulumi mocks, and writes every resource it creates
 * to `.sst/synth/resources.json` as `[{ type, name, inputs }]`. Nothing calls AWS: the AWS provider is never
 * loaded (mocks answer every resource and invoke), and SST's own RPC calls to its CLI (function builds, the bootstrap
 * bucket) are answered by a local stub.
 *
 * It does what `sst deploy` does before Pulumi runs (SST 4.17.1, pkg/project/run.go and pkg/js/js.go; `sst` is pinned
 * exactly because this leans on those internals): esbuild bundles an entry that imports
 * `.sst/platform/src/auto/run.ts` and sst.config.ts, with `$app`, `$cli` and `$dev` defined, the platform's
 * `src/shim/run.js` injected (`$config`, `$interpolate`, `$resolve`, …) and `aws` / `sst` injected as the provider
 * and component namespaces; `@pulumi/*` stays external so the bundle and this script share one Pulumi runtime.
 *
 * Usage: node scripts/synth.ts [--stage <stage>] [--out <dir>] [--docs]   (after `npm run sst:install`)
 * --docs also rewrites the resource table of docs/deploy.md.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { withMarkedSection } from "./markers.ts";

/** The account, region and partition the mocks report (documentation values, RFC-style: never a real account). */
export const SYNTH_ACCOUNT = "111122223333";
export const SYNTH_REGION = "eu-west-1";
export const SYNTH_PARTITION = "aws";
/** The email approvers the synth deploys for when EKS_RESPONDER_APPROVER_EMAILS is not set (documentation values). */
export const SYNTH_APPROVER_EMAILS = "alice@example.com,bob@example.com";
/**
 * The organization settings the synth deploys for in hub and member mode when they are not set (documentation
 * values: no real organization, and an ExternalId used nowhere else).
 */
export const SYNTH_ORGANIZATION: Readonly<Record<string, string>> = {
  EKS_RESPONDER_ORGANIZATION_ID: "o-a1b2c3d4e5",
  EKS_RESPONDER_ORGANIZATION_ROOT: "r-a1b2",
  EKS_RESPONDER_HUB_ACCOUNT: SYNTH_ACCOUNT,
  EKS_RESPONDER_HUB_REGION: SYNTH_REGION,
  EKS_RESPONDER_REGIONS: "eu-west-1,us-east-1",
  EKS_RESPONDER_EXTERNAL_ID: "synth-external-id-0123456789abcdef",
};
/** The StackSet whose template the synth writes to member-template.json (hub mode). */
const STACK_SET_TYPE = "aws:cloudformation/stackSet:StackSet";

export interface SynthResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

interface MockResourceArgs {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  custom?: boolean;
  id?: string;
}

interface MockCallArgs {
  token: string;
  inputs: Record<string, unknown>;
}

interface Mocks {
  newResource(args: MockResourceArgs): Promise<{ id: string | undefined; state: Record<string, unknown> }>;
  call(args: MockCallArgs): Promise<Record<string, unknown>>;
}

interface PulumiRuntime {
  setMocks(mocks: Mocks, project?: string, stack?: string, preview?: boolean): Promise<void>;
  runInPulumiStack(init: () => Promise<unknown>): Promise<unknown>;
  waitForRPCs(): Promise<void>;
}

interface AppConfig {
  name: string;
  home?: string;
  removal?: string;
  providers?: Record<string, unknown>;
}

interface SstConfig {
  app(input: { stage: string }): AppConfig;
  run(): Promise<unknown>;
}

interface Bundle {
  run(program: () => Promise<unknown>): Promise<unknown>;
  config: SstConfig;
}

interface SynthGlobals {
  app: Record<string, unknown>;
  cli: Record<string, unknown>;
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function arg(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? process.argv[index + 1] : undefined;
  return value ?? fallback;
}

/** Pulumi's marker of a serialized special value, and the marker of a secret (sdk/nodejs/runtime/rpc.ts). */
const SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/**
 * Plain JSON of a mock input: promises (asset paths) awaited, secrets unwrapped (the synth has no real secret),
 * internal fields dropped, keys sorted.
 */
async function plain(value: unknown): Promise<unknown> {
  const settled = await value;
  if (settled === null || typeof settled !== "object") return settled;
  if (Array.isArray(settled)) return Promise.all(settled.map(plain));
  const record = settled as Record<string, unknown>;
  if (record[SPECIAL_SIG_KEY] === SECRET_SIG) return plain(record.value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(settled).sort()) {
    if (key.startsWith("__")) continue;
    out[key] = await plain((settled as Record<string, unknown>)[key]);
  }
  return out;
}

function text(value: unknown, fallback: string): string {
  return typeof value === "string" && value !== "" ? value : fallback;
}

/** The outputs a real provider would add: ARNs, names, URLs, in the synth account and region. */
function outputsOf(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const account = SYNTH_ACCOUNT;
  const region = SYNTH_REGION;
  const physical = text(inputs.name, `${name.toLowerCase()}-synth`);
  const base = (service: string, resource: string) =>
    `arn:${SYNTH_PARTITION}:${service}:${region}:${account}:${resource}`;
  switch (type) {
    case "aws:dynamodb/table:Table":
      return { name: physical, arn: base("dynamodb", `table/${physical}`) };
    case "aws:sns/topic:Topic":
      return { name: physical, arn: base("sns", physical) };
    case "aws:kms/key:Key":
      return {
        keyId: "0000aaaa-bbbb-cccc-dddd-synth0000key",
        arn: base("kms", "key/0000aaaa-bbbb-cccc-dddd-synth0000key"),
      };
    case "aws:sqs/queue:Queue":
      return {
        name: physical,
        arn: base("sqs", physical),
        url: `https://sqs.${region}.amazonaws.com/${account}/${physical}`,
      };
    case "aws:lambda/function:Function":
      return {
        name: physical,
        arn: base("lambda", `function:${physical}`),
        invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${base("lambda", `function:${physical}`)}/invocations`,
      };
    case "aws:lambda/functionUrl:FunctionUrl":
      return { functionUrl: `https://synth${name.length}.lambda-url.${region}.on.aws/` };
    case "aws:sfn/stateMachine:StateMachine":
      return { name: physical, arn: base("states", `stateMachine:${physical}`) };
    case "aws:cloudwatch/eventBus:EventBus":
      return { name: physical, arn: base("events", `event-bus/${physical}`) };
    case "aws:cloudformation/stackSet:StackSet":
      return {
        name: physical,
        arn: base("cloudformation", `stackset/${physical}:synth`),
        stackSetId: `${physical}:synth`,
      };
    case "aws:cloudwatch/eventRule:EventRule":
      return { name: physical, arn: base("events", `rule/${physical}`) };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { name: physical, arn: base("logs", `log-group:${physical}`) };
    case "aws:iam/role:Role":
      return { name: physical, arn: `arn:${SYNTH_PARTITION}:iam::${account}:role/${physical}` };
    case "aws:ssm/parameter:Parameter":
      return { name: physical, arn: base("ssm", `parameter/${physical.replace(/^\//, "")}`) };
    case "random:index/randomBytes:RandomBytes":
      return { base64: Buffer.alloc(32, 7).toString("base64"), hex: Buffer.alloc(32, 7).toString("hex") };
    default:
      return {};
  }
}

/** Answers the invokes the program makes; an unknown one fails the synth (it would be a new AWS read). */
function invoke(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return {
        accountId: SYNTH_ACCOUNT,
        arn: `arn:aws:iam::${SYNTH_ACCOUNT}:user/synth`,
        userId: "SYNTH",
        id: SYNTH_ACCOUNT,
      };
    case "aws:index/getRegion:getRegion":
      return {
        region: SYNTH_REGION,
        name: SYNTH_REGION,
        endpoint: `ec2.${SYNTH_REGION}.amazonaws.com`,
        id: SYNTH_REGION,
      };
    case "aws:index/getPartition:getPartition":
      return { partition: SYNTH_PARTITION, dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws", id: "aws" };
    case "aws:iam/getPolicyDocument:getPolicyDocument": {
      // What the real data source renders from SST's statements (effect, actions, resources, conditions).
      const statements = Array.isArray(inputs.statements) ? (inputs.statements as Record<string, unknown>[]) : [];
      const document = {
        Version: "2012-10-17",
        Statement: statements.map((s) => {
          const condition: Record<string, Record<string, unknown>> = {};
          for (const c of Array.isArray(s.conditions) ? (s.conditions as Record<string, unknown>[]) : []) {
            const test = String(c.test);
            condition[test] = { ...condition[test], [String(c.variable)]: c.values };
          }
          const principal: Record<string, unknown> = {};
          for (const p of Array.isArray(s.principals) ? (s.principals as Record<string, unknown>[]) : []) {
            principal[String(p.type)] = p.identifiers;
          }
          return {
            Effect: s.effect ?? "Allow",
            ...(Object.keys(principal).length > 0 ? { Principal: principal } : {}),
            Action: s.actions,
            Resource: s.resources,
            ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
          };
        }),
      };
      const json = JSON.stringify(document);
      return { json, minifiedJson: json, statements, id: "synth" };
    }
    default:
      throw new Error(`synth: no mock for the invoke ${token}`);
  }
}

/** A stand-in for SST's CLI RPC server: function builds and the bootstrap bucket, answered without AWS. */
function rpcStub(outDir: string, builds: Record<string, unknown>[]) {
  return async (request: IncomingMessage, response: ServerResponse) => {
    let body = "";
    for await (const chunk of request) body += String(chunk);
    const { method, params } = JSON.parse(body) as { method: string; params: Record<string, unknown>[] };
    const input = params[0] ?? {};
    let result: unknown;
    let error: string | undefined;
    if (method === "Provider.Aws.Bootstrap") {
      result = {
        asset: "sst-asset-synth",
        assetEcrRegistryId: SYNTH_ACCOUNT,
        assetEcrUrl: `${SYNTH_ACCOUNT}.dkr.ecr.${SYNTH_REGION}.amazonaws.com/sst-asset`,
        state: "sst-state-synth",
        appsyncHttp: "",
        appsyncRealtime: "",
      };
    } else if (method === "Runtime.Build") {
      // The build request is recorded (handler, runtime, nodejs options, architecture); the bundle is a placeholder:
      // the synth checks the infrastructure, not the handlers' code.
      builds.push(input);
      const out = join(outDir, "builds", String(input.functionID));
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, "placeholder.mjs"), "export const handler = async () => {};\n");
      result = { handler: input.handler, out, errors: [], sourcemaps: [] };
    } else {
      error = `rpc: can't find method ${method}`;
    }
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(error ? { error } : { result }));
  };
}

/** What `run()` creates, as a Markdown table by resource type, columns padded as the formatter pads them. */
export function resourceTable(resources: readonly SynthResource[]): string {
  const byType = new Map<string, string[]>();
  for (const r of resources) {
    if (r.type === "pulumi:pulumi:Stack" || r.type.startsWith("sst:sst:")) continue;
    byType.set(r.type, [...(byType.get(r.type) ?? []), r.name].sort());
  }
  const rows = [...byType]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, names]) => [`\`${type}\``, String(names.length), names.join(", ")]);
  const header = ["resource type", "count", "names"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line), ""].join("\n");
}

/** docs/deploy.md with the resource table between its markers (`synth:resources`) replaced by `table`. */
export function withResourceTable(markdown: string, table: string): string {
  return withMarkedSection(markdown, "synth:resources", table, "docs/deploy.md");
}

export async function synth(options: { root: string; stage: string; outDir: string }): Promise<SynthResource[]> {
  const { root, stage, outDir } = options;
  const platform = join(root, ".sst", "platform");
  if (!existsSync(join(platform, "src", "auto", "run.ts"))) {
    throw new Error("synth: .sst/platform is missing; run `npm run sst:install` first");
  }
  mkdirSync(outDir, { recursive: true });
  // What SST prepends to the program's own files (not to its platform's): the provider and component namespaces.
  const globalsImport = [
    'import * as aws from "@pulumi/aws";',
    `import * as sst from ${JSON.stringify(join(platform, "src", "components", "index.ts"))};`,
    "",
  ].join("\n");
  const programFiles = new RegExp(`^${escapeRegExp(root)}/(sst\\.config\\.ts|infra/[^/]+\\.ts)$`);
  // The bundle lives in .sst/platform so Node resolves its external @pulumi/* imports from the platform's modules.
  const outfile = join(platform, `synth.${process.pid}.mjs`);
  await build({
    stdin: {
      contents: [
        `import { run } from ${JSON.stringify(join(platform, "src", "auto", "run.ts"))};`,
        `import config from ${JSON.stringify(join(root, "sst.config.ts"))};`,
        "export { run, config };",
      ].join("\n"),
      resolveDir: root,
      sourcefile: "synth-entry.ts",
      loader: "ts",
    },
    banner: {
      js: [
        'import { createRequire as topLevelCreateRequire } from "module";',
        "const require = topLevelCreateRequire(import.meta.url);",
        'import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url";',
        "const __filename = topLevelFileUrlToPath(import.meta.url);",
        'const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url));',
      ].join("\n"),
    },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node22",
    mainFields: ["module", "main"],
    nodePaths: [join(platform, "node_modules")],
    external: ["@pulumi/*", "@pulumiverse/*", "@sst-provider/*", "esbuild", "archiver", "glob", "vite", "undici"],
    define: {
      $app: "globalThis.__eksResponderSynth.app",
      $cli: "globalThis.__eksResponderSynth.cli",
      $dev: "false",
    },
    inject: [join(platform, "src", "shim", "run.js")],
    plugins: [
      {
        name: "sst-globals",
        setup(pluginBuild) {
          pluginBuild.onLoad({ filter: programFiles }, (args) => ({
            contents: globalsImport + readFileSync(args.path, "utf8"),
            loader: "ts",
          }));
        },
      },
    ],
    outfile,
    write: true,
    logLevel: "error",
  });

  const requireFromPlatform = createRequire(join(platform, "package.json"));
  const runtime = requireFromPlatform("@pulumi/pulumi/runtime") as PulumiRuntime;
  const globals: SynthGlobals = { app: {}, cli: {} };
  (globalThis as { __eksResponderSynth?: SynthGlobals }).__eksResponderSynth = globals;

  const builds: Record<string, unknown>[] = [];
  const server = createServer(rpcStub(outDir, builds));
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const previousServer = process.env.SST_SERVER;
  const previousCwd = process.cwd();
  process.env.SST_SERVER = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const resources: SynthResource[] = [];
  const pending: Promise<void>[] = [];
  try {
    const bundle = (await import(pathToFileURL(outfile).href)) as Bundle;
    const app = bundle.config.app({ stage });
    globals.app = {
      name: app.name,
      stage,
      removal: app.removal ?? "retain",
      providers: app.providers ?? {},
      home: app.home ?? "aws",
      protect: false,
    };
    globals.cli = {
      command: "deploy",
      dev: false,
      paths: { home: join(outDir, "home"), root, work: join(outDir, "work"), platform },
      state: { version: {} },
    };
    let count = 0;
    await runtime.setMocks(
      {
        async newResource(args) {
          const index = count++;
          const recorded = plain(args.inputs).then((inputs) => {
            resources[index] = { type: args.type, name: args.name, inputs: inputs as Record<string, unknown> };
          });
          pending.push(recorded);
          await recorded;
          const state = { ...args.inputs, ...outputsOf(args.type, args.name, args.inputs) };
          return { id: args.custom === false ? undefined : `${args.name}-id`, state };
        },
        async call(args) {
          return invoke(args.token, args.inputs);
        },
      },
      app.name,
      stage,
      false,
    );
    await runtime.runInPulumiStack(() => bundle.run(() => bundle.config.run()));
    // Resources created inside apply() callbacks register after the program returns: wait until nothing moves.
    let seen = -1;
    while (seen !== count) {
      seen = count;
      await runtime.waitForRPCs();
      await Promise.all(pending);
      await new Promise((done) => setTimeout(done, 200));
    }
  } finally {
    rmSync(outfile, { force: true });
    server.close();
    process.chdir(previousCwd);
    if (previousServer === undefined) delete process.env.SST_SERVER;
    else process.env.SST_SERVER = previousServer;
  }
  const all = resources.filter((r): r is SynthResource => r !== undefined);
  writeFileSync(join(outDir, "resources.json"), `${JSON.stringify(all, null, 2)}\n`);
  writeFileSync(join(outDir, "builds.json"), `${JSON.stringify(builds, null, 2)}\n`);
  writeFileSync(join(outDir, "resources.md"), resourceTable(all));
  const stackSet = all.find((r) => r.type === STACK_SET_TYPE);
  if (stackSet && typeof stackSet.inputs.templateBody === "string") {
    const template: unknown = JSON.parse(stackSet.inputs.templateBody);
    writeFileSync(join(outDir, "member-template.json"), `${JSON.stringify(template, null, 2)}\n`);
  }
  return all;
}

if (import.meta.main) {
  const root = resolve(import.meta.dirname, "..");
  const outDir = resolve(root, arg("--out", ".sst/synth"));
  const stage = arg("--stage", "prod");
  process.env.AWS_EC2_METADATA_DISABLED = "true";
  process.env.EKS_RESPONDER_APPROVER_EMAILS ||= SYNTH_APPROVER_EMAILS;
  const mode = process.env.EKS_RESPONDER_DEPLOYMENT;
  if (mode === "hub" || mode === "member") {
    for (const [variable, value] of Object.entries(SYNTH_ORGANIZATION)) process.env[variable] ||= value;
  }
  synth({ root, stage, outDir }).then(
    (resources) => {
      const types = new Map<string, number>();
      for (const r of resources) types.set(r.type, (types.get(r.type) ?? 0) + 1);
      process.stdout.write(
        `synth: ${resources.length} resources (stage ${stage}, ${mode || "standalone"}) in ${join(outDir, "resources.json")}\n`,
      );
      if (existsSync(join(outDir, "member-template.json"))) {
        process.stdout.write(`synth: member template in ${join(outDir, "member-template.json")}\n`);
      }
      for (const [type, n] of [...types].sort()) process.stdout.write(`  ${String(n).padStart(3)}  ${type}\n`);
      if (process.argv.includes("--docs")) {
        const docs = join(root, "docs", "deploy.md");
        writeFileSync(docs, withResourceTable(readFileSync(docs, "utf8"), resourceTable(resources)));
        process.stdout.write(`synth: resource table written to ${docs}\n`);
      }
      // Pulumi keeps handles open; the work is done.
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(
        `synth failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
