import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { KubeconfigError, kubeconfigPath, loadKubeconfig } from "../../../packages/cli/src/kubeconfig.ts";
import { main } from "../../../packages/cli/src/main.ts";
import type { Io } from "../../../packages/cli/src/terminal.ts";
import { type KubeTestServer, startKubeApiServer } from "../../helpers/kube-apiserver.ts";

/**
 * The CLI's kubeconfig access against a real kube-apiserver: the kubeconfigs the test server writes, and hand-written
 * ones (a CA file, a tokenFile, an exec plugin: a script in the temporary folder that prints an ExecCredential).
 */
const dir = mkdtempSync(join(tmpdir(), "eks-responder-kubeconfig-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function write(doc: unknown): string {
  const file = join(dir, `kubeconfig-${++n}.yaml`);
  writeFileSync(file, typeof doc === "string" ? doc : stringify(doc));
  return file;
}

interface Context {
  name: string;
  cluster: string;
  user: string;
}
function kubeconfig(
  server: string,
  cluster: Record<string, unknown>,
  users: Record<string, Record<string, unknown>>,
  contexts: Context[],
  current?: string,
) {
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "c", cluster: { server, ...cluster } }],
    users: Object.entries(users).map(([name, user]) => ({ name, user })),
    contexts: contexts.map(({ name, cluster: c, user }) => ({ name, context: { cluster: c, user } })),
    ...(current ? { "current-context": current } : {}),
  };
}

/** An exec plugin: prints `credential` as its ExecCredential, and appends KUBERNETES_EXEC_INFO and $EXTRA to a log. */
function plugin(name: string, credential: unknown): { command: string; log: string } {
  const command = join(dir, `${name}.sh`);
  const log = join(dir, `${name}.log`);
  writeFileSync(
    command,
    `#!/bin/sh\nprintf '%s|%s|%s\\n' "$KUBERNETES_EXEC_INFO" "$EXTRA" "$1" >> ${JSON.stringify(log)}\ncat <<'JSON'\n${JSON.stringify(credential)}\nJSON\n`,
  );
  chmodSync(command, 0o755);
  return { command, log };
}

const get = (client: { request(r: { method: "GET"; path: string }): Promise<unknown> }, path: string) =>
  client.request({ method: "GET", path });

describe("loadKubeconfig against a real kube-apiserver", () => {
  let kube: KubeTestServer;
  let caData: string;
  beforeAll(async () => {
    kube = await startKubeApiServer();
    caData = Buffer.from(kube.caPem).toString("base64");
  });
  afterAll(async () => {
    await kube?.stop();
  });

  it("uses the test server's own kubeconfigs: the admin's reads, the limited user's is answered 403", async () => {
    const admin = await loadKubeconfig(kube.info.kubeconfig);
    const limited = await loadKubeconfig(kube.info.limitedKubeconfig);

    const ns = (await get(await admin.access("prod-eks"), "/api/v1/namespaces/default")) as {
      metadata: { name: string };
    };
    const denied = await get(await limited.access("prod-eks"), "/api/v1/nodes").catch((e: unknown) => e);

    expect(ns.metadata.name).toBe("default");
    expect(admin.contextFor("prod-eks")).toBe("kube-test-admin@kube-test"); // no context of that name: the current one
    expect(denied).toMatchObject({ name: "KubeApiError", status: 403, reason: "Forbidden" });
  });

  it("picks the context named after the EKS cluster (or its ARN), else the one whose cluster is, else the current", async () => {
    const file = write({
      ...kubeconfig(
        kube.info.server,
        { "certificate-authority": kube.info.caFile },
        { admin: { token: kube.info.adminToken }, limited: { token: kube.info.limitedToken } },
        [
          { name: "arn:aws:eks:eu-west-1:111122223333:cluster/prod-eks", cluster: "c", user: "admin" },
          { name: "elsewhere", cluster: "c", user: "limited" },
        ],
        "elsewhere",
      ),
    });
    const config = await loadKubeconfig(file);

    expect(config.contextFor("prod-eks")).toBe("arn:aws:eks:eu-west-1:111122223333:cluster/prod-eks");
    expect(config.contextFor("dev-eks")).toBe("elsewhere");
    expect(config.contextFor("c")).toBe("arn:aws:eks:eu-west-1:111122223333:cluster/prod-eks");
    // The ARN's context holds the admin token: it reads nodes, which the current (limited) context may not.
    await expect(get(await config.access("prod-eks"), "/api/v1/nodes")).resolves.toMatchObject({ kind: "NodeList" });
    await expect(get(await config.access("dev-eks"), "/api/v1/nodes")).rejects.toMatchObject({ status: 403 });
  });

  it("reads a tokenFile before every call, relative to the kubeconfig's folder", async () => {
    writeFileSync(join(dir, "token"), `${kube.info.limitedToken}\n`);
    const file = write(
      kubeconfig(kube.info.server, { "certificate-authority-data": caData }, { u: { tokenFile: "token" } }, [
        { name: "prod-eks", cluster: "c", user: "u" },
      ]),
    );
    const client = await (await loadKubeconfig(file)).access("prod-eks");

    await expect(get(client, "/api/v1/nodes")).rejects.toMatchObject({ status: 403 });
    writeFileSync(join(dir, "token"), kube.info.adminToken);
    await expect(get(client, "/api/v1/nodes")).resolves.toMatchObject({ kind: "NodeList" });
  });

  it.each(["client.authentication.k8s.io/v1beta1", "client.authentication.k8s.io/v1"])(
    "runs an exec plugin of %s once while its token lasts, with KUBERNETES_EXEC_INFO and its env",
    async (apiVersion) => {
      const expires = new Date(Date.now() + 14 * 60_000).toISOString();
      const { command, log } = plugin(`exec-${apiVersion.split("/")[1]}`, {
        kind: "ExecCredential",
        apiVersion,
        spec: {},
        status: { expirationTimestamp: expires, token: kube.info.adminToken },
      });
      const file = write(
        kubeconfig(
          kube.info.server,
          { "certificate-authority-data": caData },
          { aws: { exec: { apiVersion, command, args: ["prod-eks"], env: [{ name: "EXTRA", value: "yes" }] } } },
          [{ name: "prod-eks", cluster: "c", user: "aws" }],
        ),
      );
      const client = await (await loadKubeconfig(file, { env: { PATH: process.env.PATH ?? "" } })).access("prod-eks");

      await get(client, "/api/v1/nodes");
      await get(client, "/api/v1/namespaces/default");

      const runs = readFileSync(log, "utf8").trim().split("\n");
      expect(runs).toHaveLength(1);
      const [info, extra, arg] = (runs[0] ?? "").split("|");
      expect(JSON.parse(info ?? "")).toEqual({ apiVersion, kind: "ExecCredential", spec: { interactive: false } });
      expect([extra, arg]).toEqual(["yes", "prod-eks"]);
    },
  );

  it("says which file, which context and what is missing or not supported", async () => {
    const server = kube.info.server;
    const ca = { "certificate-authority-data": caData };
    const ctx = [{ name: "prod-eks", cluster: "c", user: "u" }];
    const cases: [Record<string, unknown>, Record<string, unknown>, RegExp][] = [
      [ca, { "client-certificate-data": "eA==", "client-key-data": "eA==" }, /client certificates are not supported/],
      [ca, { "auth-provider": { name: "oidc" } }, /auth-provider is not supported/],
      [ca, {}, /the user has no token, tokenFile or exec plugin/],
      [{}, { token: "t" }, /neither certificate-authority-data nor certificate-authority/],
      [{ ...ca, "insecure-skip-tls-verify": true }, { token: "t" }, /insecure-skip-tls-verify is refused/],
      [
        ca,
        { exec: { apiVersion: "client.authentication.k8s.io/v1alpha1", command: "aws" } },
        /v1alpha1 is not supported/,
      ],
    ];
    for (const [cluster, user, message] of cases) {
      const file = write(kubeconfig(server, cluster, { u: user }, ctx));
      const error = await (await loadKubeconfig(file)).access("prod-eks").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KubeconfigError);
      expect((error as Error).message).toMatch(new RegExp(`^kubeconfig ${file}, context prod-eks: `));
      expect((error as Error).message).toMatch(message);
    }
  });

  it("refuses an exec plugin whose output is no ExecCredential with a token", async () => {
    const { command } = plugin("bad", {
      kind: "ExecCredential",
      apiVersion: "client.authentication.k8s.io/v1",
      status: {},
    });
    const file = write(
      kubeconfig(
        kube.info.server,
        { "certificate-authority-data": caData },
        { u: { exec: { apiVersion: "client.authentication.k8s.io/v1", command } } },
        [{ name: "prod-eks", cluster: "c", user: "u" }],
      ),
    );
    const client = await (await loadKubeconfig(file)).access("prod-eks");

    await expect(get(client, "/api/v1/nodes")).rejects.toThrow(
      /context prod-eks: exec .*bad\.sh printed an ExecCredential with no status\.token/,
    );
  });

  it("refuses a file that is not a kubeconfig, and one with no context to use", async () => {
    await expect(loadKubeconfig(join(dir, "missing.yaml"))).rejects.toThrow(
      /kubeconfig .*missing\.yaml cannot be read/,
    );
    await expect(loadKubeconfig(write("clusters: [unclosed"))).rejects.toThrow(/is not YAML/);
    const none = await loadKubeconfig(write(kubeconfig(kube.info.server, {}, {}, [])));
    expect(() => none.contextFor("prod-eks")).toThrow(/no context named prod-eks .*and no current-context/);
  });
});

describe("kubeconfigPath", () => {
  it("takes --kubeconfig, else the first file of $KUBECONFIG", () => {
    expect(kubeconfigPath("/a", { KUBECONFIG: "/b:/c" })).toBe("/a");
    expect(kubeconfigPath(undefined, { KUBECONFIG: ":/b:/c" })).toBe("/b");
    expect(kubeconfigPath(undefined, {})).toBeUndefined();
  });
});

describe("eks-responder with --kubeconfig", () => {
  function capture(env: Record<string, string> = {}): { io: Io; stderr: () => string } {
    let err = "";
    return {
      io: { stdout: { write: () => true }, stderr: { write: (t: string) => (err += t) }, env, cwd: dir },
      stderr: () => err,
    };
  }

  it("replay --apply refuses an unreadable kubeconfig before acting, naming it", async () => {
    const c = capture();
    const code = await main(["replay", "--apply", "--yes", "--kubeconfig", join(dir, "nope.yaml"), dir], c.io);
    expect(code).toBe(2);
    expect(c.stderr()).toMatch(/kubeconfig .*nope\.yaml cannot be read/);
  });

  it("takes --kubeconfig only with --apply", async () => {
    const c = capture();
    expect(await main(["replay", "--kubeconfig", "k.yaml", dir], c.io)).toBe(2);
    expect(c.stderr()).toMatch(/--kubeconfig only goes with --apply/);
  });
});
