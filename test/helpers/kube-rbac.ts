/**
 * For the Kubernetes action tests: the shipped ClusterRole (rbacManifests(ACTIONS)) bound to the test server's limited
 * identity, an ApplyContext that reaches the cluster through a given client, and the RBAC rule each recorded call needs.
 */
import type { ApplyContext, CallRecord, KubernetesRule } from "../../packages/core/src/actions/types.ts";
import { createAwsClients } from "../../packages/core/src/aws/clients.ts";
import { ACTIONS } from "../../packages/core/src/index.ts";
import { type KubeClient, kubePath } from "../../packages/core/src/kubernetes/client.ts";
import { rbacManifests } from "../../packages/core/src/kubernetes/rbac.ts";
import { type KubeTestServer, uniqueName } from "./kube-apiserver.ts";

const RBAC = ["apis", "rbac.authorization.k8s.io", "v1"];

/**
 * Binds the ClusterRole the project ships, built from every action's rules, to the limited identity's group, under a
 * name of this test file's own (the server is shared by every test file of a run). Returns what removes it.
 */
export async function bindShippedRole(kube: KubeTestServer): Promise<() => Promise<void>> {
  const [role, binding] = rbacManifests(ACTIONS, kube.limitedGroup).items;
  const name = uniqueName("eks-responder-test");
  const meta = (o: Record<string, unknown>) => ({ ...(o.metadata as object), name });
  await kube.admin.request({
    method: "POST",
    path: kubePath(...RBAC, "clusterroles"),
    body: { ...role, metadata: meta(role) },
  });
  await kube.admin.request({
    method: "POST",
    path: kubePath(...RBAC, "clusterrolebindings"),
    body: { ...binding, metadata: meta(binding), roleRef: { ...(binding.roleRef as object), name } },
  });
  return async () => {
    await kube.admin.request({ method: "DELETE", path: kubePath(...RBAC, "clusterrolebindings", name) });
    await kube.admin.request({ method: "DELETE", path: kubePath(...RBAC, "clusterroles", name) });
  };
}

/** A live (or dry-run) ApplyContext whose Kubernetes access answers `client` for every cluster. */
export function kubeContext(client: KubeClient | undefined, extra: Partial<ApplyContext> = {}): ApplyContext {
  return {
    dryRun: false,
    assessmentId: "asm-3f6c2a9d0b1e4c7a",
    account: "111122223333",
    region: "eu-west-1",
    clients: createAwsClients("eu-west-1"),
    exemptTags: [],
    sleep: async () => {},
    ...(client ? { kubernetes: async () => client } : {}),
    ...extra,
  };
}

/** Guardrails that refuse (the blast-radius slot): an action must send no write, only reads. */
export const REFUSED_SLOT: Partial<ApplyContext> = {
  beforeChange: async () => {
    throw new Error("blast-radius slot refused");
  },
};

/**
 * The RBAC verb, API group and resource a Kubernetes call (`METHOD /path`) needs.
 * @see https://kubernetes.io/docs/reference/access-authn-authz/authorization/#determine-the-request-verb
 */
export function rbacOf(operation: string): { verb: string; group: string; resource: string } {
  const [method = "", path = ""] = operation.split(" ");
  const parts = path.split("/").filter(Boolean);
  const group = parts[0] === "api" ? "" : (parts[1] ?? "");
  const rest = parts.slice(parts[0] === "api" ? 2 : 3);
  const tail = rest[0] === "namespaces" && rest.length > 2 ? rest.slice(2) : rest;
  const named = tail.length > 1;
  const verbs: Record<string, string> = { POST: "create", PATCH: "patch", PUT: "update", DELETE: "delete" };
  return {
    verb: method === "GET" ? (named ? "get" : "list") : (verbs[method] ?? method),
    group,
    resource: tail[0] ?? "",
  };
}

/** The Kubernetes calls of `calls` that no rule of `rules` allows, as `verb group/resource` (empty: all allowed). */
export function notAllowed(calls: readonly CallRecord[], rules: readonly KubernetesRule[]): string[] {
  return calls
    .filter((c) => c.service === "kubernetes")
    .map((c) => rbacOf(c.operation))
    .filter(
      (need) =>
        !rules.some(
          (r) => r.apiGroups.includes(need.group) && r.resources.includes(need.resource) && r.verbs.includes(need.verb),
        ),
    )
    .map((need) => `${need.verb} ${need.group}/${need.resource}`);
}

/** An object as compared before and after a rollback: without what the server changes on every write. */
export function comparable(object: unknown): unknown {
  const { metadata, ...rest } = object as { metadata: Record<string, unknown> };
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = metadata;
  return { ...rest, metadata: meta };
}
