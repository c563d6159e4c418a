import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIONS } from "../../../packages/core/src/actions/registry.ts";
import type { KubernetesRule } from "../../../packages/core/src/actions/types.ts";
import { KubeApiError, type KubeClient, kubePath } from "../../../packages/core/src/kubernetes/client.ts";
import {
  CLUSTER_ROLE_NAME,
  forbiddenRule,
  type RbacManifests,
  rbacManifests,
  responderRules,
} from "../../../packages/core/src/kubernetes/rbac.ts";
import { type KubeTestServer, startKubeApiServer, uniqueName } from "../../helpers/kube-apiserver.ts";

/**
 * The shipped ClusterRole, bound to the limited identity's group on a real kube-apiserver (RBAC on), asked with
 * SelfSubjectAccessReviews and tried with real calls: what it must never allow is denied, and every rule it carries is
 * allowed. This file starts its own server: it binds a ClusterRole to the limited group cluster-wide, which would
 * change the answers other files get on the shared one.
 * @see https://kubernetes.io/docs/reference/kubernetes-api/authorization-resources/self-subject-access-review-v1/
 */
const ROOT = join(import.meta.dirname, "../../..");
const BIN = join(ROOT, "packages/cli/bin/eks-responder.js");
const RBAC = "/apis/rbac.authorization.k8s.io/v1";

interface Access {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** What a responder must never be able to do, as SelfSubjectAccessReview resource attributes. */
const DANGEROUS: readonly Access[] = [
  { verb: "get", group: "", resource: "secrets" },
  { verb: "list", group: "", resource: "secrets" },
  { verb: "get", group: "", resource: "secrets", namespace: "kube-system" },
  { verb: "list", group: "", resource: "secrets", namespace: "default" },
  { verb: "watch", group: "", resource: "secrets" },
  { verb: "create", group: "", resource: "pods", subresource: "exec", namespace: "default" },
  { verb: "get", group: "", resource: "pods", subresource: "exec", namespace: "default" },
  { verb: "create", group: "", resource: "pods", subresource: "attach", namespace: "default" },
  { verb: "create", group: "", resource: "pods", subresource: "portforward", namespace: "default" },
  { verb: "get", group: "", resource: "nodes", subresource: "proxy" },
  { verb: "create", group: "", resource: "serviceaccounts", subresource: "token", namespace: "kube-system" },
  ...["create", "update", "patch"].flatMap((verb) =>
    ["rolebindings", "clusterrolebindings", "roles", "clusterroles"].map((resource) => ({
      verb,
      group: "rbac.authorization.k8s.io",
      resource,
    })),
  ),
  { verb: "bind", group: "rbac.authorization.k8s.io", resource: "clusterroles", name: "cluster-admin" },
  { verb: "escalate", group: "rbac.authorization.k8s.io", resource: "clusterroles" },
  { verb: "bind", group: "rbac.authorization.k8s.io", resource: "roles", namespace: "default" },
  { verb: "escalate", group: "rbac.authorization.k8s.io", resource: "roles", namespace: "default" },
  { verb: "impersonate", group: "", resource: "users" },
  { verb: "impersonate", group: "", resource: "groups", name: "system:masters" },
  { verb: "impersonate", group: "", resource: "serviceaccounts", namespace: "kube-system" },
  { verb: "delete", group: "", resource: "namespaces" },
  { verb: "create", group: "", resource: "nodes" },
  { verb: "delete", group: "", resource: "nodes" },
  { verb: "create", group: "", resource: "pods", namespace: "default" },
  { verb: "create", group: "apps", resource: "daemonsets", namespace: "kube-system" },
  { verb: "patch", group: "apps", resource: "deployments", namespace: "default" },
  { verb: "get", group: "", resource: "configmaps", namespace: "kube-system", name: "aws-auth" },
  { verb: "update", group: "", resource: "configmaps", namespace: "kube-system", name: "aws-auth" },
  { verb: "deletecollection", group: "", resource: "pods", namespace: "default" },
  { verb: "update", group: "certificates.k8s.io", resource: "certificatesigningrequests", subresource: "approval" },
  { verb: "create", group: "admissionregistration.k8s.io", resource: "mutatingwebhookconfigurations" },
  { verb: "*", group: "*", resource: "*" },
  { verb: "*", group: "", resource: "pods", namespace: "default" },
  { verb: "get", group: "*", resource: "*" },
];

/**
 * More than the actions ask for today, all of it accepted by forbiddenRule: the same dangerous calls are denied under
 * this role too, so forbiddenRule's allowed space (not only today's role) is checked against the real authorizer.
 */
const WIDEST_ALLOWED: readonly KubernetesRule[] = [
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "update", "patch", "delete"] },
  { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
  { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch", "update", "patch"] },
  { apiGroups: [""], resources: ["namespaces", "serviceaccounts", "events"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["get", "list", "create", "delete"] },
  {
    apiGroups: ["rbac.authorization.k8s.io"],
    resources: ["rolebindings", "clusterrolebindings"],
    verbs: ["get", "list", "delete"],
  },
  { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles", "clusterroles"], verbs: ["get", "list"] },
  {
    apiGroups: ["apps"],
    resources: ["deployments", "replicasets", "statefulsets", "daemonsets"],
    verbs: ["get", "list", "delete"],
  },
  {
    apiGroups: ["apps"],
    resources: ["deployments/scale", "replicasets/scale", "statefulsets/scale"],
    verbs: ["get", "update", "patch"],
  },
];

let kube: KubeTestServer;
let ns = "";

beforeAll(async () => {
  kube = await startKubeApiServer({ own: true });
  ns = uniqueName("rbac");
  await kube.admin.request({ method: "POST", path: "/api/v1/namespaces", body: { metadata: { name: ns } } });
  await kube.admin.request({
    method: "POST",
    path: kubePath("api", "v1", "namespaces", ns, "pods"),
    body: { metadata: { name: "target" }, spec: { containers: [{ name: "app", image: "registry.k8s.io/pause:3.9" }] } },
  });
  await kube.admin.request({
    method: "POST",
    path: kubePath("api", "v1", "namespaces", ns, "secrets"),
    body: { metadata: { name: "credentials" }, stringData: { password: "hunter2" } },
  });
  await kube.admin.request({
    method: "POST",
    path: kubePath("api", "v1", "namespaces", "kube-system", "configmaps"),
    body: { metadata: { name: "aws-auth" }, data: { mapRoles: "[]" } },
  });
}, 120_000);

afterAll(async () => {
  await kube?.stop();
});

/** `kubectl apply` of one object, as the admin: created, or replaced when it exists. */
async function apply(client: KubeClient, item: Record<string, unknown>): Promise<void> {
  const kind = String(item.kind).toLowerCase();
  const collection = `${RBAC}/${kind}s`;
  const name = String((item.metadata as { name: string }).name);
  try {
    await client.request({ method: "POST", path: collection, body: item });
  } catch (error) {
    if (!(error instanceof KubeApiError) || error.reason !== "AlreadyExists") throw error;
    const live = (await client.request({ method: "GET", path: `${collection}/${name}` })) as {
      metadata: { resourceVersion: string };
    };
    const metadata = { ...(item.metadata as object), resourceVersion: live.metadata.resourceVersion };
    await client.request({ method: "PUT", path: `${collection}/${name}`, body: { ...item, metadata } });
  }
}

async function allowed(client: KubeClient, access: Access): Promise<boolean> {
  const review = (await client.request({
    method: "POST",
    path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
    body: {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      spec: { resourceAttributes: access },
    },
  })) as { status?: { allowed?: boolean } };
  return review.status?.allowed === true;
}

/** What the limited client may do of DANGEROUS (the empty list when nothing). */
async function allowedDangers(): Promise<Access[]> {
  const found: Access[] = [];
  for (const access of DANGEROUS) if (await allowed(kube.limited, access)) found.push(access);
  return found;
}

/** The real calls behind the dangerous list, made as the limited client: each answer's HTTP status. */
async function dangerousCalls(): Promise<Record<string, number | "allowed">> {
  const pod = kubePath("api", "v1", "namespaces", ns, "pods", "target");
  const calls: Record<string, { method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"; path: string; body?: unknown }> = {
    "list secrets cluster-wide": { method: "GET", path: "/api/v1/secrets" },
    "list secrets in a namespace": { method: "GET", path: kubePath("api", "v1", "namespaces", ns, "secrets") },
    "get a secret": { method: "GET", path: kubePath("api", "v1", "namespaces", ns, "secrets", "credentials") },
    "exec into a pod": { method: "POST", path: `${pod}/exec`, body: {} },
    "attach to a pod": { method: "POST", path: `${pod}/attach`, body: {} },
    "port-forward to a pod": { method: "POST", path: `${pod}/portforward`, body: {} },
    "create a pod": {
      method: "POST",
      path: kubePath("api", "v1", "namespaces", ns, "pods"),
      body: { metadata: { name: "evil" }, spec: { containers: [{ name: "x", image: "busybox" }] } },
    },
    "bind cluster-admin to itself": {
      method: "POST",
      path: `${RBAC}/clusterrolebindings`,
      body: {
        metadata: { name: uniqueName("escalation") },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: kube.limitedGroup }],
      },
    },
    "create a role binding": {
      method: "POST",
      path: `${RBAC}/namespaces/${ns}/rolebindings`,
      body: {
        metadata: { name: "edit" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: kube.limitedGroup }],
      },
    },
    "create a cluster role beyond its own rights (escalate)": {
      method: "POST",
      path: `${RBAC}/clusterroles`,
      body: {
        metadata: { name: uniqueName("escalation") },
        rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }],
      },
    },
    "widen its own cluster role": {
      method: "PATCH",
      path: `${RBAC}/clusterroles/${CLUSTER_ROLE_NAME}`,
      body: { rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }] },
    },
    "delete a namespace": { method: "DELETE", path: kubePath("api", "v1", "namespaces", ns) },
    "create a node": { method: "POST", path: "/api/v1/nodes", body: { metadata: { name: uniqueName("node") } } },
    "read aws-auth": {
      method: "GET",
      path: kubePath("api", "v1", "namespaces", "kube-system", "configmaps", "aws-auth"),
    },
    "edit aws-auth": {
      method: "PATCH",
      path: kubePath("api", "v1", "namespaces", "kube-system", "configmaps", "aws-auth"),
      body: { data: { mapRoles: "- rolearn: arn:aws:iam::111122223333:role/x\n  groups: [system:masters]" } },
    },
  };
  const answers: Record<string, number | "allowed"> = {};
  for (const [what, call] of Object.entries(calls)) {
    answers[what] = await kube.limited.request(call).then(
      () => "allowed" as const,
      (error: unknown) => (error instanceof KubeApiError ? error.status : Number.NaN),
    );
  }
  return answers;
}

/** One access per (group, resource, verb) of the rules; `a/b` is resource a, subresource b. */
function accessesOf(rules: readonly KubernetesRule[]): Access[] {
  return rules.flatMap((r) =>
    r.apiGroups.flatMap((group) =>
      r.resources.flatMap((full) => {
        const [resource = full, subresource] = full.split("/");
        return r.verbs.map((verb) => ({ verb, group, resource, ...(subresource ? { subresource } : {}) }));
      }),
    ),
  );
}

describe("the shipped ClusterRole on a real kube-apiserver", () => {
  let manifests: RbacManifests;

  beforeAll(async () => {
    // The bootstrap step a user runs (npx eks-responder kubernetes-rbac | kubectl apply -f -), as a real process.
    const run = spawnSync(process.execPath, [BIN, "kubernetes-rbac", "--group", kube.limitedGroup], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(run.status, run.stderr).toBe(0);
    manifests = JSON.parse(run.stdout) as RbacManifests;
    for (const item of manifests.items) await apply(kube.admin, item);
  }, 60_000);

  it("is exactly rbacManifests(ACTIONS) bound to the limited group, as stored by the server", async () => {
    expect(manifests).toEqual(rbacManifests(ACTIONS, kube.limitedGroup));
    const role = (await kube.admin.request({ method: "GET", path: `${RBAC}/clusterroles/${CLUSTER_ROLE_NAME}` })) as {
      rules?: KubernetesRule[];
    };
    expect(role.rules ?? []).toEqual(responderRules(ACTIONS));
    const binding = (await kube.admin.request({
      method: "GET",
      path: `${RBAC}/clusterrolebindings/${CLUSTER_ROLE_NAME}`,
    })) as { subjects: unknown[] };
    expect(binding.subjects).toEqual([
      { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: kube.limitedGroup },
    ]);
  });

  it("allows every (group, resource, verb) of its rules", async () => {
    const accesses = accessesOf(responderRules(ACTIONS));
    const denied: Access[] = [];
    for (const access of accesses) if (!(await allowed(kube.limited, access))) denied.push(access);
    expect(denied).toEqual([]);
  });

  it("denies every dangerous access, asked with SelfSubjectAccessReviews", async () => {
    // The review itself works: the limited identity may review its own access (system:basic-user).
    expect(
      await allowed(kube.limited, {
        verb: "create",
        group: "authorization.k8s.io",
        resource: "selfsubjectaccessreviews",
      }),
    ).toBe(true);
    expect(await allowedDangers()).toEqual([]);
  });

  it("is refused each dangerous call with 403 Forbidden, and nothing it tried was made", async () => {
    const answers = await dangerousCalls();
    expect(Object.entries(answers).filter(([, status]) => status !== 403)).toEqual([]);
    const list = (await kube.admin.request({ method: "GET", path: "/api/v1/nodes" })) as { items: unknown[] };
    expect(list.items).toEqual([]);
    const role = (await kube.admin.request({ method: "GET", path: `${RBAC}/clusterroles/${CLUSTER_ROLE_NAME}` })) as {
      rules?: KubernetesRule[];
    };
    expect(role.rules ?? []).toEqual(responderRules(ACTIONS));
  });

  it("still denies all of it with the widest role forbiddenRule accepts, which it does allow", async () => {
    for (const rule of WIDEST_ALLOWED) expect(forbiddenRule(rule), JSON.stringify(rule)).toBeUndefined();
    const [role, binding] = rbacManifests(ACTIONS, kube.limitedGroup).items;
    await apply(kube.admin, { ...role, rules: [...responderRules(ACTIONS), ...WIDEST_ALLOWED] });
    try {
      for (const access of accessesOf(WIDEST_ALLOWED))
        expect(await allowed(kube.limited, access), access.resource).toBe(true);
      expect(await allowedDangers()).toEqual([]);
      const answers = await dangerousCalls();
      expect(Object.entries(answers).filter(([, status]) => status !== 403)).toEqual([]);
    } finally {
      await apply(kube.admin, role);
      await apply(kube.admin, binding);
    }
  });
});
