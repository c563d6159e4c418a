/**
 * `node bench/kubernetes-client.ts` (also a phase of `npm run bench`): the Kubernetes client choice and the first
 * Kubernetes call, measured against a real kube-apiserver (scripts/kube-test-server.ts: the run's shared one, else one
 * started for this run).
 *
 * - kubernetesClient: this project's small client (packages/core/src/kubernetes/client.ts) against
 *   `@kubernetes/client-node` (a devDependency, for this measurement only), each bundled alone as SST bundles the
 *   functions (bench/cold-start.ts `bundle`): the bytes loaded at import, the import in a fresh `node` process, and the
 *   first call (GET /api/v1/namespaces/default with the server's static admin token) answered in that process.
 * - kubernetesFirstCall: what a Kubernetes action's first call costs in a fresh process, as the functions make it
 *   (eksKubernetesAccess): DescribeCluster answered by a local EKS stand-in (an HTTP server answering the API
 *   reference's shape), an EKS token signed (the token source signs one, then sends the test server's static token,
 *   since that server knows no other), and the call to the kube-apiserver.
 *
 * Every number is a median over SAMPLES fresh processes, in ms since the process started (Node's start included).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import {
  type KubeTestServerInfo,
  readCa,
  sharedKubeServer,
  startKubeServer,
  stopKubeServer,
} from "../scripts/kube-test-server.ts";
import { bundle, median } from "./cold-start.ts";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..");
const CORE = join(ROOT, "packages/core/src");
export const KUBERNETES_SAMPLES = 11;
export const KUBERNETES_BENCH_COMMAND = "node bench/kubernetes-client.ts";

/** Each entry reads the server from BENCH_KUBE (JSON: server, caPem, token) and prints `importMs answeredMs`. */
const PROBE_PREAMBLE = `const t0 = performance.now();
const { server, caPem, token } = JSON.parse(process.env.BENCH_KUBE);`;

const SMALL = `import { createKubeClient } from ${JSON.stringify(join(CORE, "kubernetes/client.ts"))};
export async function probe() {
  ${PROBE_PREAMBLE}
  const client = createKubeClient({ server, caPem, token: () => token });
  const ns = await client.request({ method: "GET", path: "/api/v1/namespaces/default" });
  return ns.metadata.name;
}`;

const CLIENT_NODE = `import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
export async function probe() {
  ${PROBE_PREAMBLE}
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server, caData: Buffer.from(caPem).toString("base64") }],
    users: [{ name: "u", token }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  const ns = await kc.makeApiClient(CoreV1Api).readNamespace({ name: "default" });
  return ns.metadata.name;
}`;

/** As the functions reach a cluster: DescribeCluster (local stand-in), an EKS token signed, the first call. */
const FIRST_CALL = `import { createAwsClients } from ${JSON.stringify(join(CORE, "aws/clients.ts"))};
import { eksKubernetesAccess, eksTokenSource } from ${JSON.stringify(join(CORE, "kubernetes/access.ts"))};
export async function probe() {
  const { token, eksEndpoint } = JSON.parse(process.env.BENCH_KUBE);
  const clients = createAwsClients("eu-west-1", { endpoint: eksEndpoint, maxAttempts: 1 });
  // The EKS token is signed with the EKS client's credentials, as in the functions; the test server gets its own token.
  const eksTokens = eksTokenSource("eu-west-1", async () => (await clients.eks()).config.credentials);
  const access = eksKubernetesAccess(clients, undefined, {
    tokens: (cluster) => {
      const signed = eksTokens(cluster);
      return async () => {
        if (!(await signed()).startsWith("k8s-aws-v1.")) throw new Error("no EKS token");
        return token;
      };
    },
  });
  const client = await access("prod-eks");
  const ns = await client.request({ method: "GET", path: "/api/v1/namespaces/default" });
  return ns.metadata.name;
}`;

const RUNNER = (url: string) => `const t = performance.now();
const m = await import(${JSON.stringify(url)});
const imported = performance.now();
const name = await m.probe();
if (name !== "default") throw new Error("unexpected answer " + name);
process.stdout.write(imported + " " + performance.now());`;

export interface ProbeResult {
  /** Bytes Node reads at import (entry and static chunks), and in all. */
  bundleBytes: number;
  totalBytes: number;
  importMsMedian: number;
  /** ms since the process started until the first call was answered. */
  firstCallAnsweredMsMedian: number;
  /** firstCallAnsweredMsMedian − importMsMedian: the call itself, with what it loads on first use. */
  firstCallMsMedian: number;
}

async function sampleProbe(entryPath: string, env: Record<string, string>): Promise<[number, number]> {
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", RUNNER(pathToFileURL(entryPath).href)], {
    env: {
      PATH: process.env.PATH ?? "",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_REGION: "eu-west-1",
      // What the Lambda runtime puts in the environment of a function's role (fake here: nothing leaves the machine).
      AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "bench-secret",
      AWS_SESSION_TOKEN: "bench-session",
      ...env,
    },
    encoding: "utf8",
  });
  const [imported, answered] = stdout.trim().split(" ").map(Number);
  if (!Number.isFinite(imported) || !Number.isFinite(answered)) throw new Error(`probe printed ${stdout}`);
  return [imported ?? 0, answered ?? 0];
}

/** A local EKS stand-in: DescribeCluster (GET /clusters/<name>) answers the test server as the cluster's endpoint. */
async function startEks(info: KubeTestServerInfo, caPem: string) {
  const server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? "").replace(/^\/clusters\//, "").split("?")[0] ?? "");
    // https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeCluster.html
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        cluster: {
          name,
          status: "ACTIVE",
          endpoint: info.server,
          certificateAuthority: { data: Buffer.from(caPem).toString("base64") },
          resourcesVpcConfig: { endpointPublicAccess: true, endpointPrivateAccess: false },
        },
      }),
    );
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise<void>((ok) => server.close(() => ok())) };
}

export interface KubernetesBench {
  command: string;
  samples: number;
  server: string;
  kubernetesClient: Record<"small (kubernetes/client.ts)" | "@kubernetes/client-node", ProbeResult>;
  kubernetesFirstCall: ProbeResult & { path: string };
}

export async function measureKubernetes(samples = KUBERNETES_SAMPLES): Promise<KubernetesBench> {
  const shared = sharedKubeServer();
  const info = shared ?? startKubeServer();
  const tmp = mkdtempSync(join(tmpdir(), "eks-responder-kube-bench-"));
  const caPem = readCa(info);
  const eks = await startEks(info, caPem);
  try {
    const sources = {
      small: SMALL,
      clientNode: CLIENT_NODE,
      firstCall: FIRST_CALL,
    };
    const bundles: Record<string, Awaited<ReturnType<typeof bundle>>> = {};
    for (const [key, source] of Object.entries(sources)) {
      writeFileSync(join(tmp, `${key}.ts`), source);
      bundles[key] = await bundle(join(tmp, `${key}.ts`), join(tmp, "out", key));
    }
    const env = {
      BENCH_KUBE: JSON.stringify({ server: info.server, caPem, token: info.adminToken, eksEndpoint: eks.url }),
    };
    const times = new Map<string, [number, number][]>(Object.keys(sources).map((k) => [k, []]));
    // Interleaved rounds, as bench/cold-start.ts samples: a slower moment of the machine hits every probe alike.
    for (let round = 0; round < samples; round++) {
      for (const key of Object.keys(sources)) {
        const b = bundles[key];
        if (b) times.get(key)?.push(await sampleProbe(b.entryPath, env));
      }
    }
    const result = (key: string): ProbeResult => {
      const list = times.get(key) ?? [];
      const b = bundles[key];
      return {
        bundleBytes: b?.loadBytes ?? 0,
        totalBytes: b?.totalBytes ?? 0,
        importMsMedian: median(list.map(([i]) => i)),
        firstCallAnsweredMsMedian: median(list.map(([, a]) => a)),
        firstCallMsMedian: median(list.map(([i, a]) => a - i)),
      };
    };
    return {
      command: KUBERNETES_BENCH_COMMAND,
      samples,
      server: info.version,
      kubernetesClient: {
        "small (kubernetes/client.ts)": result("small"),
        "@kubernetes/client-node": result("clientNode"),
      },
      kubernetesFirstCall: {
        path: "eksKubernetesAccess: DescribeCluster (local EKS stand-in), an EKS token signed, GET /api/v1/namespaces/default",
        ...result("firstCall"),
      },
    };
  } finally {
    await eks.stop();
    rmSync(tmp, { recursive: true, force: true });
    if (!shared) stopKubeServer(info);
  }
}

const kib = (bytes: number) => Math.round(bytes / 1024).toLocaleString("en-US");

/** The lines `npm run bench` and this script print. */
export function kubernetesLines(k: KubernetesBench): string[] {
  const line = (name: string, r: ProbeResult) =>
    `  ${name}: ${kib(r.bundleBytes)} KiB at import (${kib(r.totalBytes)} KiB in all), imported at ${r.importMsMedian} ms, first call answered at ${r.firstCallAnsweredMsMedian} ms (+${r.firstCallMsMedian} ms)`;
  return [
    `kubernetes client (${k.samples} fresh processes each, kube-apiserver ${k.server}; reproduce: ${k.command}):`,
    ...Object.entries(k.kubernetesClient).map(([name, r]) => line(name, r)),
    `kubernetes first call (${k.kubernetesFirstCall.path}):`,
    line("respond's path", k.kubernetesFirstCall),
  ];
}

/** The docs/performance.md section (between the bench markers, written by `npm run bench`). */
export function kubernetesSection(k: KubernetesBench): string {
  const row = (name: string, r: ProbeResult) =>
    `| ${name} | ${kib(r.bundleBytes)} | ${kib(r.totalBytes)} | ${r.importMsMedian} | ${r.firstCallAnsweredMsMedian} | ${r.firstCallMsMedian} |`;
  return `### Kubernetes: the client and the first call
\`bench/kubernetes-client.ts\` (alone: \`${k.command}\`): ${k.samples} fresh \`node\` processes per row, against a real kube-apiserver (${k.server}) on 127.0.0.1; ms since the process started. The first two rows import a Kubernetes client bundled as SST bundles a function and make one call; the last is the functions' own first Kubernetes call: ${k.kubernetesFirstCall.path}.

| | KiB at import | KiB, all chunks | imported, median ms | first call answered, median ms | the call itself, ms |
| --- | ---: | ---: | ---: | ---: | ---: |
${Object.entries(k.kubernetesClient)
  .map(([name, r]) => row(name, r))
  .join("\n")}
${row("the functions' first Kubernetes call", k.kubernetesFirstCall)}

The small client is the one the actions use; \`@kubernetes/client-node\` is a devDependency for this comparison only, and no function bundle contains it (test/unit/infra/bundles.test.ts).`;
}

if (import.meta.main) {
  const k = await measureKubernetes();
  for (const l of kubernetesLines(k)) process.stdout.write(`${l}\n`);
  // --write: these two keys of bench/results.json, as `npm run bench` writes them, without rerunning the other benches.
  if (process.argv.includes("--write")) {
    const file = join(ROOT, "bench/results.json");
    const results = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    results.kubernetesClient = { command: k.command, samples: k.samples, ...k.kubernetesClient };
    results.kubernetesFirstCall = { command: k.command, samples: k.samples, ...k.kubernetesFirstCall };
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  }
}
