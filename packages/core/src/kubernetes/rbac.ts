import type { ActionDefinition, KubernetesRule } from "../actions/types.ts";

/** The Kubernetes group the responder's EKS access entries carry, bound to the shipped ClusterRole. */
export const DEFAULT_KUBERNETES_GROUP = "eks-responder";
export const CLUSTER_ROLE_NAME = "eks-responder";

/**
 * What the shipped ClusterRole must never grant, whatever an action declares: reading secrets (credentials), exec /
 * attach / port-forward into pods, writing (Cluster)Roles or bindings, the `bind`, `escalate` and `impersonate` verbs,
 * deleting namespaces, and wildcards. A responder holding any of these could be turned into cluster-admin.
 * @see https://kubernetes.io/docs/concepts/security/rbac-good-practices/
 */
const FORBIDDEN_VERBS = new Set(["*", "bind", "escalate", "impersonate"]);
const RBAC_KINDS = new Set(["roles", "clusterroles", "rolebindings", "clusterrolebindings"]);
const POD_SUBRESOURCES_FORBIDDEN = new Set(["pods/exec", "pods/attach", "pods/portforward", "pods/proxy"]);

/** Why a rule may not be in the ClusterRole, or undefined when it may. Deleting a binding is the one RBAC write allowed. */
export function forbiddenRule(rule: KubernetesRule): string | undefined {
  for (const verb of rule.verbs) if (FORBIDDEN_VERBS.has(verb)) return `verb ${verb}`;
  for (const group of rule.apiGroups) if (group === "*") return "apiGroup *";
  for (const resource of rule.resources) {
    if (resource === "*" || resource.endsWith("/*")) return `resource ${resource}`;
    if (resource === "secrets") return "secrets";
    if (POD_SUBRESOURCES_FORBIDDEN.has(resource)) return resource;
    if (resource === "namespaces" && rule.verbs.some((v) => v !== "get" && v !== "list")) return "namespace writes";
    if (RBAC_KINDS.has(resource) && resource.endsWith("bindings")) {
      const writes = rule.verbs.filter((v) => !["get", "list", "watch", "delete"].includes(v));
      if (writes.length > 0) return `${resource} ${writes.join(",")}`;
    } else if (RBAC_KINDS.has(resource)) {
      const writes = rule.verbs.filter((v) => !["get", "list", "watch"].includes(v));
      if (writes.length > 0) return `${resource} ${writes.join(",")}`;
    }
  }
  return undefined;
}

/**
 * The union of the actions' `kubernetesPermissions`, one rule per (apiGroup, resource) with its verbs sorted, in a
 * stable order. Throws when an action declares a forbidden rule: the registry-wide test fails before a deploy could.
 */
export function responderRules(actions: readonly ActionDefinition[]): KubernetesRule[] {
  const verbs = new Map<string, Set<string>>();
  for (const action of actions) {
    for (const rule of action.kubernetesPermissions ?? []) {
      const why = forbiddenRule(rule);
      if (why) throw new Error(`${action.id}: kubernetesPermissions may not grant ${why}`);
      for (const group of rule.apiGroups) {
        for (const resource of rule.resources) {
          const key = `${group}\u0000${resource}`;
          const set = verbs.get(key) ?? new Set<string>();
          for (const verb of rule.verbs) set.add(verb);
          verbs.set(key, set);
        }
      }
    }
  }
  return [...verbs.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, set]) => {
      const [group = "", resource = ""] = key.split("\u0000");
      return { apiGroups: [group], resources: [resource], verbs: [...set].sort() };
    });
}

export interface RbacManifests {
  apiVersion: "v1";
  kind: "List";
  items: [Record<string, unknown>, Record<string, unknown>];
}

/**
 * The ClusterRole with exactly the verbs the actions use, and the ClusterRoleBinding that gives it to the group the
 * responder's access entries carry: a `List`, ready for `kubectl apply -f -`.
 */
export function rbacManifests(actions: readonly ActionDefinition[], group = DEFAULT_KUBERNETES_GROUP): RbacManifests {
  const labels = { "app.kubernetes.io/name": "eks-responder", "app.kubernetes.io/component": "responder-rbac" };
  return {
    apiVersion: "v1",
    kind: "List",
    items: [
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: CLUSTER_ROLE_NAME, labels },
        rules: responderRules(actions),
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: CLUSTER_ROLE_NAME, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: CLUSTER_ROLE_NAME },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: group }],
      },
    ],
  };
}
