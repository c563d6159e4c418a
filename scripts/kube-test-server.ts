/**
 * A real Kubernetes API server (kube-apiserver + etcd, RBAC on, 127.0.0.1 only) for the tests. Found, in order:
 * - `EKS_RESPONDER_TEST_KUBE`: the JSON line of a server already started for this run (`npm test` starts one and
 *   passes it on, so every test file shares it);
 * - `$KUBEBUILDER_ASSETS/kube-apiserver` and `etcd`, the envtest convention (scripts/kube-envtest.ts starts them
 *   with the same users and prints the same JSON line as start.sh);
 * - `../shared/tools/kube-apiserver/start.sh` beside the repository (kube-apiserver v1.20.2, for local tests only).
 * The servers stop by themselves when the process that started them exits (start.sh's watch), or at `stop`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface KubeTestServerInfo {
  server: string;
  kubeconfig: string;
  limitedKubeconfig: string;
  caFile: string;
  adminToken: string;
  limitedToken: string;
  adminUser: string;
  limitedUser: string;
  dir: string;
  version: string;
}

export const KUBE_ENV = "EKS_RESPONDER_TEST_KUBE";
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SHARED_START = resolve(ROOT, "..", "shared", "tools", "kube-apiserver", "start.sh");
const ENVTEST_START = join(ROOT, "scripts", "kube-envtest.ts");

/** Where a server would come from, or why none can be started (with what to set). */
export function kubeServerSource(): { command: string; args: string[] } | { missing: string } {
  const assets = process.env.KUBEBUILDER_ASSETS;
  if (assets && existsSync(join(assets, "kube-apiserver")) && existsSync(join(assets, "etcd"))) {
    // Run by this very Node (it strips the types): the project's Node 22 under npm and vitest.
    return { command: process.execPath, args: [ENVTEST_START, assets] };
  }
  if (existsSync(SHARED_START)) return { command: "bash", args: [SHARED_START] };
  return {
    missing:
      "no Kubernetes API server for the tests: set KUBEBUILDER_ASSETS to a folder with kube-apiserver and etcd " +
      `(envtest's layout), or provide ${SHARED_START}`,
  };
}

function parse(line: string): KubeTestServerInfo {
  const info = JSON.parse(line) as KubeTestServerInfo;
  if (typeof info.server !== "string" || typeof info.adminToken !== "string") {
    throw new Error(`not a Kubernetes test server description: ${line.slice(0, 200)}`);
  }
  return info;
}

/** The server of this run (`EKS_RESPONDER_TEST_KUBE`), if one was started for it. */
export function sharedKubeServer(): KubeTestServerInfo | undefined {
  const line = process.env[KUBE_ENV];
  return line ? parse(line) : undefined;
}

/** Starts a server watched by this process: it stops when this process exits, or at `stopKubeServer`. */
export function startKubeServer(): KubeTestServerInfo {
  const source = kubeServerSource();
  if ("missing" in source) throw new Error(source.missing);
  const out = execFileSync(source.command, source.args, {
    encoding: "utf8",
    env: { ...process.env, KUBE_TEST_WATCH_PID: String(process.pid) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const line = out.trim().split("\n").at(-1) ?? "";
  return parse(line);
}

export function stopKubeServer(info: KubeTestServerInfo): void {
  const source = kubeServerSource();
  if ("missing" in source) return;
  execFileSync(source.command, [...source.args, "stop", info.dir], { stdio: "ignore" });
}

export function readCa(info: KubeTestServerInfo): string {
  return readFileSync(info.caFile, "utf8");
}
