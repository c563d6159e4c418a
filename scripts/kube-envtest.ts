/**
 * A throwaway Kubernetes API server from envtest's assets (`$KUBEBUILDER_ASSETS/kube-apiserver` and `etcd`), for the
 * tests: etcd and kube-apiserver on 127.0.0.1 with free ports, RBAC authorization, a static token file with an admin
 * (`kube-test-admin`, group `system:masters`) and a limited user (`kube-test-limited`, group `kube-test:limited`), a
 * CA and serving certificate made here with openssl. It prints one JSON line (the same keys as
 * `../shared/tools/kube-apiserver/start.sh`, see scripts/kube-test-server.ts) and returns; a watcher stops both servers
 * and removes the folder when the watched process (`KUBE_TEST_WATCH_PID`, default: the caller; 0: never) exits.
 * Written in TypeScript rather than shell so that it is type-checked and linted with the rest; nothing but openssl
 * and the two assets is needed.
 *
 * Usage: node scripts/kube-envtest.ts ASSETS            start, print the JSON line
 *        node scripts/kube-envtest.ts ASSETS stop DIR   stop the servers of DIR (the JSON's `dir`) and remove it
 * Flags: https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/ (static token file:
 * https://kubernetes.io/docs/reference/access-authn-authz/authentication/#static-token-file)
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const MARKER = ".kube-envtest";
const ADMIN_USER = "kube-test-admin";
const LIMITED_USER = "kube-test-limited";
const SELF = import.meta.filename;

interface Pids {
  apiserver: number;
  etcd: number;
  watcher?: number;
}

function fail(message: string): never {
  throw new Error(`kube-envtest: ${message}`);
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** A port nothing listens on at this moment (the kernel's choice); a server that then loses it is retried. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True while `pid` is one of the processes of `dir` (its command line names the folder): a reused pid is left alone. */
function ownedBy(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir);
  } catch {
    return false;
  }
}

async function stopPid(pid: number | undefined, dir: string): Promise<void> {
  if (!pid || pid === process.pid || !ownedBy(pid, dir)) return;
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 100 && ownedBy(pid, dir); i++) await sleep(100);
  if (ownedBy(pid, dir)) process.kill(pid, "SIGKILL");
  for (let i = 0; i < 50 && ownedBy(pid, dir); i++) await sleep(100);
}

/** Stops the servers (and the watcher, unless it is the caller) of a folder this script made, then removes it. */
export async function stopDir(dir: string): Promise<void> {
  if (!existsSync(join(dir, MARKER))) fail(`${dir} is not a folder made by kube-envtest`);
  const pidsFile = join(dir, "pids.json");
  const pids: Partial<Pids> = existsSync(pidsFile) ? (JSON.parse(readFileSync(pidsFile, "utf8")) as Pids) : {};
  await stopPid(pids.watcher, dir);
  await stopPid(pids.apiserver, dir);
  await stopPid(pids.etcd, dir);
  rmSync(dir, { recursive: true, force: true });
}

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    fail(`openssl ${args[0]} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The CA, the API server's serving certificate (127.0.0.1 and the in-cluster names) and the service-account keys. */
function makeCertificates(dir: string): void {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "3650"];
  openssl(dir, [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-subj",
    "/CN=kube-envtest-ca",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  openssl(dir, [
    "req",
    "-x509",
    ...ec,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-keyout",
    "server.key",
    "-out",
    "server.crt",
    "-subj",
    "/CN=kube-apiserver",
    "-addext",
    "basicConstraints=critical,CA:FALSE",
    "-addext",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    "-addext",
    "extendedKeyUsage=serverAuth",
    "-addext",
    "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc",
  ]);
  openssl(dir, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "sa.key"]);
  openssl(dir, ["pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);
  for (const key of ["ca.key", "server.key", "sa.key"]) chmodSync(join(dir, key), 0o600);
}

/** Starts a long-running process of its own process group, its output in `<dir>/<name>.log`. */
function startDetached(dir: string, name: string, command: string, args: string[]): number {
  const log = openSync(join(dir, `${name}.log`), "a");
  const child = spawn(command, args, { cwd: dir, detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  child.unref();
  if (!child.pid) fail(`${name} did not start`);
  return child.pid;
}

function get(url: string, options: { ca?: string; token?: string } = {}): Promise<{ status: number; body: string }> {
  const send = url.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        timeout: 2000,
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.token ? { headers: { authorization: `Bearer ${options.token}` } } : {}),
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

/** Waits until `ready()` holds while `pid` lives; false when the process exits first or the time is up. */
async function waitFor(pid: number, seconds: number, ready: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (!alive(pid)) return false;
    if (await ready().catch(() => false)) return true;
    await sleep(200);
  }
  return false;
}

function logTail(dir: string, name: string): string {
  const file = join(dir, `${name}.log`);
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-25).join("\n") : "";
}

/** Up to five attempts on fresh ports: a port found free can be taken by another process before the server binds. */
async function startEtcd(assets: string, dir: string): Promise<{ pid: number; url: string }> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const client = await freePort();
    const peer = await freePort();
    const url = `http://127.0.0.1:${client}`;
    rmSync(join(dir, "etcd-data"), { recursive: true, force: true });
    const pid = startDetached(dir, "etcd", join(assets, "etcd"), [
      "--name=envtest",
      `--data-dir=${join(dir, "etcd-data")}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=envtest=http://127.0.0.1:${peer}`,
      "--initial-cluster-state=new",
    ]);
    const ok = await waitFor(pid, 30, async () => (await get(`${url}/health`)).body.includes('"health":"true"'));
    if (ok) return { pid, url };
    await stopPid(pid, dir);
  }
  fail(`etcd did not start:\n${logTail(dir, "etcd")}`);
}

async function startApiServer(
  assets: string,
  dir: string,
  etcd: string,
  adminToken: string,
): Promise<{ pid: number; server: string }> {
  const ca = readFileSync(join(dir, "ca.crt"), "utf8");
  for (let attempt = 1; attempt <= 5; attempt++) {
    const port = await freePort();
    const server = `https://127.0.0.1:${port}`;
    const pid = startDetached(dir, "kube-apiserver", join(assets, "kube-apiserver"), [
      `--etcd-servers=${etcd}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${port}`,
      `--cert-dir=${join(dir, "cert-dir")}`,
      `--tls-cert-file=${join(dir, "server.crt")}`,
      `--tls-private-key-file=${join(dir, "server.key")}`,
      `--client-ca-file=${join(dir, "ca.crt")}`,
      `--token-auth-file=${join(dir, "tokens.csv")}`,
      "--authorization-mode=RBAC",
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${join(dir, "sa.pub")}`,
      `--service-account-signing-key-file=${join(dir, "sa.key")}`,
      "--service-cluster-ip-range=10.0.0.0/24",
      // No controller-manager makes the "default" ServiceAccount: with this plugin on, every pod would be refused.
      "--disable-admission-plugins=ServiceAccount",
      "--allow-privileged=true",
      "--profiling=false",
    ]);
    const ok = await waitFor(pid, 120, async () => {
      const answer = await get(`${server}/readyz`, { ca, token: adminToken });
      return answer.status === 200 && answer.body === "ok";
    });
    if (ok) return { pid, server };
    const lostPort = /address already in use/i.test(logTail(dir, "kube-apiserver"));
    await stopPid(pid, dir);
    if (!lostPort) break;
  }
  fail(`kube-apiserver did not become ready:\n${logTail(dir, "kube-apiserver")}`);
}

function kubeconfig(server: string, caPem: string, user: string, token: string): string {
  // JSON is YAML: kubectl and the client libraries read it as a kubeconfig.
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: "envtest", cluster: { server, "certificate-authority-data": Buffer.from(caPem).toString("base64") } },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: user, context: { cluster: "envtest", user, namespace: "default" } }],
    "current-context": user,
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export async function start(assets: string, watch: number): Promise<Record<string, unknown>> {
  for (const binary of ["kube-apiserver", "etcd"]) {
    if (!existsSync(join(assets, binary))) fail(`${join(assets, binary)} is missing (envtest's layout)`);
  }
  const began = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "kube-envtest-"));
  chmodSync(dir, 0o700);
  writeFileSync(join(dir, MARKER), "");
  try {
    makeCertificates(dir);
    const adminToken = randomBytes(24).toString("hex");
    const limitedToken = randomBytes(24).toString("hex");
    writeFileSync(
      join(dir, "tokens.csv"),
      `${adminToken},${ADMIN_USER},uid-${ADMIN_USER},"system:masters"\n${limitedToken},${LIMITED_USER},uid-${LIMITED_USER},"kube-test:limited"\n`,
      { mode: 0o600 },
    );
    const etcd = await startEtcd(assets, dir);
    writeFileSync(join(dir, "pids.json"), JSON.stringify({ etcd: etcd.pid, apiserver: 0 }));
    const api = await startApiServer(assets, dir, etcd.url, adminToken);
    const pids: Pids = { apiserver: api.pid, etcd: etcd.pid };
    writeFileSync(join(dir, "pids.json"), JSON.stringify(pids));
    const caPem = readFileSync(join(dir, "ca.crt"), "utf8");
    writeFileSync(join(dir, "admin.kubeconfig"), kubeconfig(api.server, caPem, ADMIN_USER, adminToken), {
      mode: 0o600,
    });
    writeFileSync(join(dir, "limited.kubeconfig"), kubeconfig(api.server, caPem, LIMITED_USER, limitedToken), {
      mode: 0o600,
    });
    const version = /v\d+\.\d+\.\d+\S*/.exec(
      execFileSync(join(assets, "kube-apiserver"), ["--version"], { encoding: "utf8" }),
    )?.[0];
    const watcher = startDetached(dir, "watcher", process.execPath, [SELF, "__watch", dir, String(watch)]);
    writeFileSync(join(dir, "pids.json"), JSON.stringify({ ...pids, watcher }));
    return {
      server: api.server,
      kubeconfig: join(dir, "admin.kubeconfig"),
      limitedKubeconfig: join(dir, "limited.kubeconfig"),
      caFile: join(dir, "ca.crt"),
      adminToken,
      limitedToken,
      adminUser: ADMIN_USER,
      limitedUser: LIMITED_USER,
      pids: [api.pid, etcd.pid],
      supervisorPid: watcher,
      dir,
      etcd: etcd.url,
      version: version ?? "unknown",
      readySeconds: Number(((Date.now() - began) / 1000).toFixed(2)),
    };
  } catch (error) {
    await stopDir(dir);
    throw error;
  }
}

/** The watcher: stops everything when the watched process, etcd or the API server ends. */
async function watchDir(dir: string, watch: number): Promise<void> {
  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, () => (stopping = true));
  const pids = JSON.parse(readFileSync(join(dir, "pids.json"), "utf8")) as Pids;
  while (!stopping && (watch === 0 || alive(watch)) && alive(pids.apiserver) && alive(pids.etcd)) await sleep(500);
  await stopDir(dir);
}

if (import.meta.main) {
  const [assets = "", command, dir = ""] = process.argv.slice(2);
  const main = async () => {
    if (assets === "__watch") return watchDir(command ?? "", Number(dir));
    if (command === "stop") return stopDir(dir);
    if (command !== undefined) fail(`unknown command "${command}" (usage: kube-envtest.ts ASSETS [stop DIR])`);
    const watch = Number(process.env.KUBE_TEST_WATCH_PID ?? process.ppid);
    if (!Number.isInteger(watch) || watch < 0)
      fail(`KUBE_TEST_WATCH_PID: "${process.env.KUBE_TEST_WATCH_PID}" is not a pid`);
    process.stdout.write(`${JSON.stringify(await start(assets, watch))}\n`);
  };
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
