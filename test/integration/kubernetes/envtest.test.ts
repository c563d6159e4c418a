import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKubeClient, KubeApiError } from "../../../packages/core/src/kubernetes/client.ts";
import {
  type KubeTestServerInfo,
  kubeServerSource,
  readCa,
  startKubeServer,
  stopKubeServer,
} from "../../../scripts/kube-test-server.ts";

/**
 * scripts/kube-envtest.ts, the `$KUBEBUILDER_ASSETS` way of getting a test API server: a temp folder in envtest's
 * layout holds the kube-apiserver binary start.sh unpacks (`${TMPDIR:-/tmp}/kube-apiserver-<version>-<sum>/`) and
 * Debian's etcd (`/usr/bin/etcd`, installed by start.sh).
 */
const ROOT = join(import.meta.dirname, "../../..");
const SCRIPT = join(ROOT, "scripts", "kube-envtest.ts");
const SHARED_START = join(ROOT, "..", "shared", "tools", "kube-apiserver", "start.sh");

function unpackedApiServer(): string | undefined {
  const cached = readdirSync(tmpdir())
    .filter((name) => name.startsWith("kube-apiserver-v"))
    .map((name) => join(tmpdir(), name))
    .find((dir) => existsSync(join(dir, ".verified")) && existsSync(join(dir, "kube-apiserver")));
  return cached && join(cached, "kube-apiserver");
}

/** start.sh unpacks and verifies its kube-apiserver once per machine: start and stop it once if nothing is there. */
function kubeApiServerBinary(): string {
  if (!unpackedApiServer()) {
    const line = execFileSync("bash", [SHARED_START], {
      encoding: "utf8",
      env: { ...process.env, KUBE_TEST_WATCH_PID: "0" },
    });
    const { dir } = JSON.parse(line.trim().split("\n").at(-1) ?? "{}") as { dir: string };
    execFileSync("bash", [SHARED_START, "stop", dir], { stdio: "ignore" });
  }
  const found = unpackedApiServer();
  if (!found) throw new Error("start.sh left no unpacked kube-apiserver");
  return found;
}

/** What the JSON line holds beyond what the helpers read. */
type EnvtestInfo = KubeTestServerInfo & { pids: number[]; supervisorPid: number; etcd: string };

function runs(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir);
  } catch {
    return false;
  }
}

/** Its etcd, API server and watcher have exited and its folder is removed. */
function gone(info: EnvtestInfo): boolean {
  return [...info.pids, info.supervisorPid].every((pid) => !runs(pid, info.dir)) && !existsSync(info.dir);
}

async function until(check: () => boolean, seconds: number): Promise<boolean> {
  for (let i = 0; i < seconds * 5; i++) {
    if (check()) return true;
    await new Promise((done) => setTimeout(done, 200));
  }
  return check();
}

describe("scripts/kube-envtest.ts with $KUBEBUILDER_ASSETS", () => {
  let assets = "";
  const saved = process.env.KUBEBUILDER_ASSETS;

  beforeAll(() => {
    assets = mkdtempSync(join(tmpdir(), "eks-envtest-assets-"));
    symlinkSync(kubeApiServerBinary(), join(assets, "kube-apiserver"));
    symlinkSync("/usr/bin/etcd", join(assets, "etcd"));
    process.env.KUBEBUILDER_ASSETS = assets;
  }, 180_000);

  afterAll(() => {
    if (saved === undefined) delete process.env.KUBEBUILDER_ASSETS;
    else process.env.KUBEBUILDER_ASSETS = saved;
    if (assets) rmSync(assets, { recursive: true, force: true });
  });

  it("starts etcd and kube-apiserver on 127.0.0.1 with the two users, answers /version, and stops on stop DIR or when the watched process exits", async () => {
    // prepare: the envtest assets are what kube-test-server.ts picks
    expect(kubeServerSource()).toEqual({ command: process.execPath, args: [SCRIPT, assets] });

    // act: start it as the tests do, and call it
    const info = startKubeServer() as EnvtestInfo;
    const caPem = readCa(info);
    const admin = createKubeClient({ server: info.server, caPem, token: () => info.adminToken });
    const limited = createKubeClient({ server: info.server, caPem, token: () => info.limitedToken });
    const version = (await admin.request({ method: "GET", path: "/version" })) as { gitVersion: string };
    const namespaces = (await admin.request({ method: "GET", path: "/api/v1/namespaces" })) as { items: unknown[] };
    const denied = await limited.request({ method: "GET", path: "/api/v1/nodes" }).catch((e: unknown) => e);
    stopKubeServer(info);

    // assess
    expect(info.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(info.etcd).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect([info.adminUser, info.limitedUser]).toEqual(["kube-test-admin", "kube-test-limited"]);
    expect(version.gitVersion).toBe(info.version);
    expect(info.version).toMatch(/^v1\.\d+\.\d+/);
    expect(namespaces.items.length).toBeGreaterThan(0);
    expect(denied).toBeInstanceOf(KubeApiError);
    expect(denied).toMatchObject({ status: 403, reason: "Forbidden" });
    expect(await until(() => gone(info), 20)).toBe(true);

    // and without stop: a server watching a process stops when that process exits
    const watched = spawn("sleep", ["600"], { stdio: "ignore" });
    const line = execFileSync(process.execPath, [SCRIPT, assets], {
      encoding: "utf8",
      env: { ...process.env, KUBE_TEST_WATCH_PID: String(watched.pid) },
    });
    const second = JSON.parse(line) as EnvtestInfo;
    expect(second.pids.every((pid) => runs(pid, second.dir))).toBe(true);
    watched.kill("SIGKILL");
    expect(await until(() => gone(second), 30)).toBe(true);
  }, 240_000);
});
