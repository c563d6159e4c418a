import type { ActionDefinition, KubernetesRule } from "../actions/types.ts";

/** The Kubernetes group the responder's EKS access entries carry, bound to the shipped ClusterRole. */
export const DEFAULT_KUBERNETES_GROUP = "eks-responder";
export const CLUSTER_ROLE_NAME = "eks-responder";

/** Letters, digits, `-`, `_`, `.` and `:`, starting and ending with a letter or digit, at most 100 characters. */
const GROUP_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._:-]{0,98}[A-Za-z0-9])?$/;
/**
 * Prefixes of groups the cluster itself gives out: `system:` is reserved for Kubernetes (binding the role to
 * `system:authenticated` would give it to every user), `eks:` holds EKS's own components.
 * @see https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-subjects
 */
const RESERVED_GROUP_PREFIXES = ["system:", "eks:"];

/** Why `name` cannot be the responder's Kubernetes group, or undefined when it can. */
export function kubernetesGroupProblem(name: string): string | undefined {
  const reserved = RESERVED_GROUP_PREFIXES.find((prefix) => name.toLowerCase().startsWith(prefix));
  if (reserved) return `"${name}" starts with ${reserved}, a prefix the cluster gives its own groups`;
  if (!GROUP_NAME.test(name)) {
    return `"${name}" is not a group name: letters, digits, -, _, . and :, starting and ending with a letter or digit, at most 100 characters`;
  }
  return undefined;
}

/**
 * What the shipped ClusterRole must never grant, whatever an action declares: reading secrets (credentials), exec /
 * attach / port-forward / proxy into pods, nodes and services, writing (Cluster)Roles or bindings, the `bind`,
 * `escalate`, `impersonate`, `approve` and `deletecollection` verbs, namespace writes, creating pods or writing what
 * makes pods (a pod template runs with any service account of its namespace, and privileged on a node), configmaps
 * (`kube-system/aws-auth` maps IAM roles to `system:masters`), minting service-account tokens, approving certificate
 * requests, webhook configurations (they see every object written, secrets included), creating or deleting nodes,
 * and wildcards. A responder holding any of these could be turned into cluster-admin, or into an outage.
 * @see https://kubernetes.io/docs/concepts/security/rbac-good-practices/
 * @see https://kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping
 */
const FORBIDDEN_VERBS = new Set(["*", "bind", "escalate", "impersonate", "approve", "deletecollection"]);
const READ_VERBS = ["get", "list", "watch"];
/** Resources never granted, whatever the verb. */
const FORBIDDEN_RESOURCES = new Set([
  "secrets",
  "configmaps",
  "pods/exec",
  "pods/attach",
  "pods/portforward",
  "serviceaccounts/token",
  "certificatesigningrequests/approval",
]);
/**
 * The verbs allowed on a resource beyond which nothing is (read and delete on bindings: revoking one is a response;
 * read, update and patch on pods: labelling one; read only on what makes pods, apart from its `/scale` subresource).
 */
const ALLOWED_VERBS: Readonly<Record<string, readonly string[]>> = {
  roles: READ_VERBS,
  clusterroles: READ_VERBS,
  rolebindings: [...READ_VERBS, "delete"],
  clusterrolebindings: [...READ_VERBS, "delete"],
  namespaces: READ_VERBS,
  pods: [...READ_VERBS, "update", "patch", "delete"],
  nodes: [...READ_VERBS, "update", "patch"],
  deployments: [...READ_VERBS, "delete"],
  replicasets: [...READ_VERBS, "delete"],
  statefulsets: [...READ_VERBS, "delete"],
  daemonsets: [...READ_VERBS, "delete"],
  replicationcontrollers: [...READ_VERBS, "delete"],
  jobs: [...READ_VERBS, "delete"],
  cronjobs: [...READ_VERBS, "delete"],
  mutatingwebhookconfigurations: READ_VERBS,
  validatingwebhookconfigurations: READ_VERBS,
};

/** Why a rule may not be in the ClusterRole, or undefined when it may. */
export function forbiddenRule(rule: KubernetesRule): string | undefined {
  if (rule.apiGroups.length === 0 || rule.resources.length === 0 || rule.verbs.length === 0) return "an empty list";
  for (const verb of rule.verbs) if (FORBIDDEN_VERBS.has(verb)) return `verb ${verb}`;
  for (const group of rule.apiGroups) if (group === "*") return "apiGroup *";
  for (const resource of rule.resources) {
    if (resource === "*" || resource.includes("*")) return `resource ${resource}`;
    if (FORBIDDEN_RESOURCES.has(resource) || resource.endsWith("/proxy")) return resource;
    const allowed = ALLOWED_VERBS[resource];
    if (allowed) {
      const other = rule.verbs.filter((v) => !allowed.includes(v));
      if (other.length > 0) return `${resource} ${other.join(",")}`;
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
  const problem = kubernetesGroupProblem(group);
  if (problem) throw new Error(`Kubernetes group ${problem}`);
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
