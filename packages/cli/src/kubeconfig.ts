import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { delimiter, dirname, isAbsolute, resolve } from "node:path";
import type { AwsClients } from "@eks-responder/core/aws/clients.ts";
import type { KubeClient, KubernetesAccess } from "@eks-responder/core/kubernetes/api.ts";
import { createKubeClient } from "@eks-responder/core/kubernetes/client.ts";
import { parse as parseYaml } from "yaml";

/**
 * The CLI's way into a cluster's Kubernetes API when the operator has a kubeconfig (`--kubeconfig FILE`, else the first
 * file of `$KUBECONFIG`): the context whose name, or whose cluster's name, is the EKS cluster's name (or an EKS cluster
 * ARN ending in `cluster/<name>`, as `aws eks update-kubeconfig` writes them), else the current context, as kubectl
 * picks. The server and CA (`certificate-authority-data`, or the `certificate-authority` file), and a bearer `token`,
 * `tokenFile` or `exec` credential plugin (`aws eks get-token`: its ExecCredential's `status.token`) are read. Client
 * certificates and auth providers are refused with the reason, as is `insecure-skip-tls-verify`.
 * @see https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/
 * @see https://kubernetes.io/docs/reference/config-api/kubeconfig.v1/
 * @see https://kubernetes.io/docs/reference/config-api/client-authentication.v1/ (ExecCredential)
 *
 * The file is read here rather than with @kubernetes/client-node's KubeConfig: that package stays out of the CLI's
 * dependencies (bench/kubernetes-client.ts), and only the few fields above are needed, each with an error that names
 * the file, the context and what is missing.
 */
export class KubeconfigError extends Error {
  override name = "KubeconfigError";
  readonly code = "CLI.KUBECONFIG";
}

/** The kubeconfig to use: `--kubeconfig`, else the first file of `$KUBECONFIG` (a list, as kubectl reads it). */
export function kubeconfigPath(flag: string | undefined, env: Record<string, string | undefined>): string | undefined {
  if (flag) return flag;
  const first = (env.KUBECONFIG ?? "").split(delimiter).find((p) => p !== "");
  return first;
}

/** The ExecCredential API versions read (`aws eks get-token` writes v1beta1 unless asked for v1). */
const EXEC_API_VERSIONS = ["client.authentication.k8s.io/v1beta1", "client.authentication.k8s.io/v1"];
/** How long a credential plugin may run. */
const EXEC_TIMEOUT_MS = 30_000;
/** A plugin's token with no expirationTimestamp is asked for again after this long. */
const EXEC_TOKEN_REUSE_MS = 50_000;
/** A token is not used within this margin of its expirationTimestamp. */
const EXPIRY_MARGIN_MS = 30_000;

type Named = { name: string; entry: Record<string, unknown> };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A kubeconfig list (`clusters`, `contexts`, `users`) as name → the object under its `cluster` / `context` / `user`. */
function namedList(doc: Record<string, unknown>, list: string, field: string): Named[] {
  const items = doc[list] ?? [];
  if (!Array.isArray(items)) throw new Error(`"${list}" is not a list`);
  return items.flatMap((item) =>
    isRecord(item) && typeof item.name === "string" && isRecord(item[field])
      ? [{ name: item.name, entry: item[field] }]
      : [],
  );
}

/** Whether a kubeconfig name stands for EKS cluster `cluster`: the name itself, or an EKS cluster ARN of it. */
function namesCluster(name: string, cluster: string): boolean {
  return name === cluster || /^arn:aws[a-z-]*:eks:[^:]+:\d{12}:cluster\/(.+)$/.exec(name)?.[1] === cluster;
}

export interface KubeconfigOptions {
  env?: Record<string, string | undefined>;
  now?: () => number;
  /** Per-call timeout of the clients (kubernetes/client.ts). */
  timeoutMs?: number;
}

export interface Kubeconfig {
  file: string;
  /** The client of `cluster`'s context, as `kubernetesAccess` resolves it. */
  access: KubernetesAccess;
  /** Which context `cluster` resolves to (for messages). */
  contextFor(cluster: string): string;
}

/** Reads and parses a kubeconfig; a file that cannot be read or is not a kubeconfig throws KubeconfigError. */
export async function loadKubeconfig(file: string, options: KubeconfigOptions = {}): Promise<Kubeconfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new KubeconfigError(`kubeconfig ${file} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new KubeconfigError(`kubeconfig ${file} is not YAML: ${(error as Error).message}`, { cause: error });
  }
  if (!isRecord(doc)) throw new KubeconfigError(`kubeconfig ${file} is not a kubeconfig (no mapping at its top)`);
  let contexts: Named[];
  let clusters: Named[];
  let users: Named[];
  try {
    contexts = namedList(doc, "contexts", "context");
    clusters = namedList(doc, "clusters", "cluster");
    users = namedList(doc, "users", "user");
  } catch (error) {
    throw new KubeconfigError(`kubeconfig ${file}: ${(error as Error).message}`);
  }
  const current = typeof doc["current-context"] === "string" ? doc["current-context"] : undefined;
  const base = dirname(resolve(file));
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;

  function contextFor(cluster: string): Named {
    const chosen =
      contexts.find((c) => namesCluster(c.name, cluster)) ??
      contexts.find((c) => typeof c.entry.cluster === "string" && namesCluster(c.entry.cluster, cluster)) ??
      contexts.find((c) => c.name === current);
    if (!chosen) {
      throw new KubeconfigError(
        `kubeconfig ${file} has no context named ${cluster} or for a cluster of that name, and ` +
          (current ? `its current-context ${current} is not among its contexts` : "no current-context"),
      );
    }
    return chosen;
  }

  async function clientFor(cluster: string): Promise<KubeClient> {
    const context = contextFor(cluster);
    const where = `kubeconfig ${file}, context ${context.name}`;
    const clusterName = context.entry.cluster;
    const userName = context.entry.user;
    const c = clusters.find((x) => x.name === clusterName)?.entry;
    if (!c) throw new KubeconfigError(`${where}: cluster ${String(clusterName)} is not among the file's clusters`);
    const u = users.find((x) => x.name === userName)?.entry;
    if (!u) throw new KubeconfigError(`${where}: user ${String(userName)} is not among the file's users`);
    if (typeof c.server !== "string" || c.server === "")
      throw new KubeconfigError(`${where}: the cluster has no server`);
    if (c["insecure-skip-tls-verify"] === true) {
      throw new KubeconfigError(`${where}: insecure-skip-tls-verify is refused: give the cluster's CA instead`);
    }
    const caPem = await caOf(c, where, base);
    return createKubeClient({
      server: c.server,
      caPem,
      token: tokenOf(u, where, base, env, now),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  const clientsByContext = new Map<string, Promise<KubeClient>>();
  return {
    file,
    contextFor: (cluster) => contextFor(cluster).name,
    access: async (cluster) => {
      const name = contextFor(cluster).name;
      let client = clientsByContext.get(name);
      if (!client) {
        client = clientFor(cluster);
        clientsByContext.set(name, client);
        client.catch(() => clientsByContext.delete(name));
      }
      return client;
    },
  };
}

async function caOf(c: Record<string, unknown>, where: string, base: string): Promise<string> {
  const data = c["certificate-authority-data"];
  if (typeof data === "string" && data !== "") return Buffer.from(data, "base64").toString("utf8");
  const path = c["certificate-authority"];
  if (typeof path === "string" && path !== "") {
    const full = isAbsolute(path) ? path : resolve(base, path); // relative to the kubeconfig, as kubectl reads it
    try {
      return await readFile(full, "utf8");
    } catch (error) {
      throw new KubeconfigError(`${where}: certificate-authority ${full} cannot be read: ${(error as Error).message}`);
    }
  }
  throw new KubeconfigError(`${where}: the cluster has neither certificate-authority-data nor certificate-authority`);
}

/** The user's bearer token provider: `token`, `tokenFile` (read at each call) or `exec` (run when its token expires). */
function tokenOf(
  u: Record<string, unknown>,
  where: string,
  base: string,
  env: Record<string, string | undefined>,
  now: () => number,
): () => Promise<string> {
  if (u["client-certificate"] || u["client-certificate-data"] || u["client-key"] || u["client-key-data"]) {
    throw new KubeconfigError(
      `${where}: client certificates are not supported: give the user a token, tokenFile or exec plugin (aws eks get-token)`,
    );
  }
  if (u["auth-provider"]) {
    throw new KubeconfigError(
      `${where}: auth-provider is not supported: give the user a token, tokenFile or exec plugin`,
    );
  }
  const token = u.token;
  if (typeof token === "string" && token !== "") return async () => token;
  const tokenFile = u.tokenFile;
  if (typeof tokenFile === "string" && tokenFile !== "") {
    const full = isAbsolute(tokenFile) ? tokenFile : resolve(base, tokenFile);
    return async () => {
      const read = (
        await readFile(full, "utf8").catch((error: Error) => {
          throw new KubeconfigError(`${where}: tokenFile ${full} cannot be read: ${error.message}`);
        })
      ).trim();
      if (read === "") throw new KubeconfigError(`${where}: tokenFile ${full} is empty`);
      return read;
    };
  }
  if (isRecord(u.exec)) return execToken(u.exec, where, env, now);
  throw new KubeconfigError(`${where}: the user has no token, tokenFile or exec plugin`);
}

function execToken(
  exec: Record<string, unknown>,
  where: string,
  env: Record<string, string | undefined>,
  now: () => number,
): () => Promise<string> {
  const { command, apiVersion } = exec;
  if (typeof command !== "string" || command === "") throw new KubeconfigError(`${where}: exec has no command`);
  if (typeof apiVersion !== "string" || !EXEC_API_VERSIONS.includes(apiVersion)) {
    throw new KubeconfigError(
      `${where}: exec apiVersion ${String(apiVersion)} is not supported (${EXEC_API_VERSIONS.join(" or ")})`,
    );
  }
  const args = Array.isArray(exec.args) ? exec.args.map(String) : [];
  const extra: Record<string, string> = {};
  for (const e of Array.isArray(exec.env) ? exec.env : []) {
    if (isRecord(e) && typeof e.name === "string") extra[e.name] = String(e.value ?? "");
  }
  const info = JSON.stringify({ apiVersion, kind: "ExecCredential", spec: { interactive: false } });
  let cached: { token: string; until: number } | undefined;
  return async () => {
    if (cached && now() < cached.until) return cached.token;
    const stdout = await new Promise<string>((ok, fail) => {
      execFile(
        command,
        args,
        { env: { ...env, ...extra, KUBERNETES_EXEC_INFO: info }, timeout: EXEC_TIMEOUT_MS, encoding: "utf8" },
        (error, out, err) => {
          if (error) {
            const said = String(err).trim().slice(0, 500);
            fail(new KubeconfigError(`${where}: exec ${command} failed: ${error.message}${said ? `: ${said}` : ""}`));
          } else ok(out);
        },
      );
    });
    let credential: unknown;
    try {
      credential = JSON.parse(stdout);
    } catch {
      throw new KubeconfigError(`${where}: exec ${command} printed no ExecCredential JSON`);
    }
    const status = isRecord(credential) && isRecord(credential.status) ? credential.status : undefined;
    if (!isRecord(credential) || credential.kind !== "ExecCredential" || typeof status?.token !== "string") {
      throw new KubeconfigError(`${where}: exec ${command} printed an ExecCredential with no status.token`);
    }
    if (credential.apiVersion !== apiVersion) {
      throw new KubeconfigError(
        `${where}: exec ${command} answered apiVersion ${String(credential.apiVersion)}, not ${apiVersion}`,
      );
    }
    const expires =
      typeof status.expirationTimestamp === "string" ? Date.parse(status.expirationTimestamp) : Number.NaN;
    const until = Number.isFinite(expires) ? expires - EXPIRY_MARGIN_MS : now() + EXEC_TOKEN_REUSE_MS;
    cached = { token: status.token, until };
    return status.token;
  };
}

/**
 * The Kubernetes access of `replay --apply` and `rollback`, per region: the kubeconfig's (any region: a context names
 * its server), or, with no kubeconfig, EKS tokens made with the operator's AWS credentials. The operator may sit on a
 * network that reaches private endpoints (a VPN, a bastion), so a private-only endpoint is tried, not refused.
 */
export function cliKubernetes(
  kubeconfig: Kubeconfig | undefined,
  clientsFor: (region: string) => AwsClients,
): (region: string) => KubernetesAccess {
  if (kubeconfig) return () => kubeconfig.access;
  const byRegion = new Map<string, KubernetesAccess>();
  return (region) => {
    let access = byRegion.get(region);
    if (!access) {
      const load = import("@eks-responder/core/kubernetes/access.ts").then(({ eksKubernetesAccess }) =>
        eksKubernetesAccess(clientsFor(region), undefined, { reachesPrivateEndpoints: true }),
      );
      access = async (cluster) => (await load)(cluster);
      byRegion.set(region, access);
    }
    return access;
  };
}
