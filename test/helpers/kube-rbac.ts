/**
 * RBAC for the Kubernetes action tests: what rule a call needs (read from its `METHOD /path`, the way the API server's
 * request info does), the shipped ClusterRole bound to the test server's limited identity, and objects compared before
 * and after a rollback.
 * @see https://kubernetes.io/docs/reference/access-authn-authz/authorization/#determine-the-request-verb
 */
import { afterAll, beforeAll } from "vitest";
import type { ActionDefinition, CallRecord, KubernetesRule } from "../../packages/core/src/actions/types.ts";
import { ACTIONS } from "../../packages/core/src/index.ts";
import { rbacManifests } from "../../packages/core/src/kubernetes/rbac.ts";
import { type KubeTestServer, startKubeApiServer, uniqueName } from "./kube-apiserver.ts";

export { kubeContext, REFUSED_SLOT } from "./kube-actions.ts";

export interface RbacRequest {
  group: string;
  resource: string;
  verb: string;
}

const VERBS: Record<string, string> = { POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" };

/**
 * `GET /apis/apps/v1/namespaces/shop/deployments/web/scale` → apps, deployments/scale, get. A path without an object
 * name is a list (GET) or a create (POST). Placeholders such as `<owner of the pod>` count as an object name.
 */
export function rbacOf(operation: string): RbacRequest {
  const [method = "", path = ""] = operation.split(" ", 2);
  const parts = path.split("/").filter((s) => s !== "");
  const rest = parts[0] === "api" ? parts.slice(2) : parts.slice(3);
  const group = parts[0] === "api" ? "" : (parts[1] ?? "");
  const scoped = rest[0] === "namespaces" && rest.length > 2 ? rest.slice(2) : rest;
  const [resource = "", name, subresource] = scoped;
  const verb = method === "GET" ? (name === undefined ? "list" : "get") : (VERBS[method] ?? method.toLowerCase());
  return { group, resource: subresource ? `${resource}/${subresource}` : resource, verb };
}

export function allows(rules: readonly KubernetesRule[], req: RbacRequest): boolean {
  return rules.some(
    (r) => r.apiGroups.includes(req.group) && r.resources.includes(req.resource) && r.verbs.includes(req.verb),
  );
}

/** The Kubernetes calls of `calls` that no rule of `rules` allows, as `verb group/resource` (empty: all allowed). */
export function notAllowed(calls: readonly CallRecord[], rules: readonly KubernetesRule[]): string[] {
  return calls
    .filter((c) => c.service === "kubernetes")
    .map((c) => rbacOf(c.operation))
    .filter((need) => !allows(rules, need))
    .map((need) => `${need.verb} ${need.group}/${need.resource}`);
}

/**
 * Binds the ClusterRole `rbacManifests(actions)` builds to the limited identity's group, under names of its own (test
 * files share one server). Returns a function that removes both again.
 */
export async function bindShippedRole(
  kube: KubeTestServer,
  actions: readonly ActionDefinition[] = ACTIONS,
): Promise<() => Promise<void>> {
  const [role, binding] = rbacManifests(actions, kube.limitedGroup).items;
  const name = uniqueName("eks-responder-test");
  const rbac = "/apis/rbac.authorization.k8s.io/v1";
  await kube.admin.request({
    method: "POST",
    path: `${rbac}/clusterroles`,
    body: { ...role, metadata: { ...(role.metadata as object), name } },
  });
  await kube.admin.request({
    method: "POST",
    path: `${rbac}/clusterrolebindings`,
    body: {
      ...binding,
      metadata: { ...(binding.metadata as object), name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
    },
  });
  return async () => {
    await kube.admin.request({ method: "DELETE", path: `${rbac}/clusterrolebindings/${name}` });
    await kube.admin.request({ method: "DELETE", path: `${rbac}/clusterroles/${name}` });
  };
}

/**
 * For a test file: the API server (started before its tests), with the shipped ClusterRole of `actions` bound to the
 * limited identity; both undone after them. Call at the top of a `describe`; the getter is valid inside its tests.
 */
export function kubeWithShippedRole(actions: readonly ActionDefinition[]): () => KubeTestServer {
  let kube: KubeTestServer | undefined;
  let unbind: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    kube = await startKubeApiServer();
    unbind = await bindShippedRole(kube, actions);
  });
  afterAll(async () => {
    await unbind?.();
    await kube?.stop();
  });
  return () => {
    if (!kube) throw new Error("the Kubernetes API server is not started yet: use the getter inside a test");
    return kube;
  };
}

/** An object as compared before and after a rollback: without what the server changes on every write. */
export function comparable(object: unknown): unknown {
  const { metadata, ...rest } = object as { metadata: Record<string, unknown> };
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = metadata;
  return { ...rest, metadata: meta };
}
