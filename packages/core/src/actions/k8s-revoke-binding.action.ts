import { builtOnce } from "../lazy.ts";
import * as z from "../zod.ts";
import { deferredReversible } from "./deferred.ts";
import { clusterName } from "./ids.ts";
import { namespaceName, RBAC_GROUP, rbacName, rbacPath } from "./k8s-objects.ts";
import type { ActionDefinition, PlannedCall } from "./types.ts";

const params = builtOnce(() =>
  z
    .strictObject({
      cluster: clusterName,
      kind: z.enum(["ClusterRoleBinding", "RoleBinding"]),
      name: rbacName,
      /** Required for a RoleBinding, forbidden for a ClusterRoleBinding. */
      namespace: z.optional(namespaceName),
    })
    .check(
      z.refine((p) => (p.kind === "RoleBinding") === (p.namespace !== undefined), {
        message: "namespace is required for a RoleBinding and forbidden for a ClusterRoleBinding",
        path: ["namespace"],
      }),
    ),
);
export type Params = z.output<ReturnType<typeof params>>;

export const RESOURCE = { ClusterRoleBinding: "clusterrolebindings", RoleBinding: "rolebindings" } as const;

export function bindingPath(p: Pick<Params, "kind" | "name" | "namespace">): string {
  return rbacPath(RESOURCE[p.kind], p.name, p.namespace);
}

export function bindingText(p: Pick<Params, "kind" | "name" | "namespace">): string {
  return `${p.kind} ${p.namespace ? `${p.namespace}/` : ""}${p.name}`;
}

export const revokeBinding: ActionDefinition<ReturnType<typeof params>> = {
  id: "k8s:revoke-binding",
  summary:
    "Delete a ClusterRoleBinding or RoleBinding that grants an admin role to system:anonymous, system:unauthenticated or a default service account, after recording it whole, only if it is unchanged since it was read.",
  get params() {
    return params();
  },
  permissions: [],
  rollbackPermissions: [],
  kubernetesPermissions: [
    { apiGroups: [RBAC_GROUP], resources: ["clusterrolebindings", "rolebindings"], verbs: ["get", "delete"] },
    { apiGroups: [RBAC_GROUP], resources: ["clusterroles", "roles"], verbs: ["get"] },
  ],
  kubernetesRollbackPermissions: [
    { apiGroups: [RBAC_GROUP], resources: ["clusterrolebindings", "rolebindings"], verbs: ["create"] },
    { apiGroups: [RBAC_GROUP], resources: ["clusterroles", "roles"], verbs: ["bind"] },
  ],
  destructive: true,
  reversible: true,
  preconditions: [
    "the binding still exists and still binds system:anonymous, system:unauthenticated or a default service account (otherwise: already done)",
    "its name does not start with system: or eks:, and it carries no kubernetes.io/bootstrapping: rbac-defaults label: Kubernetes' and EKS's own bindings are refused",
    "the bound role is an admin role, read live: cluster-admin, admin or edit, or a rule with a wildcard, bind, escalate, impersonate, secrets or RBAC writes",
    "a binding that has other subjects too is deleted only when approved: the outcome names each of them",
    "the delete carries the uid and resourceVersion read: a binding changed since is not deleted (409 Conflict), and the outcome says so",
  ],
  notCovered: [
    "other bindings that grant the same subjects the same or other rights are not looked for: each is its own finding",
    "access granted outside RBAC bindings stays: the aws-auth ConfigMap and EKS access entries (eks:revoke-access handles those)",
    "tokens already issued stay valid until they expire, and whatever was done with the access (workloads, other bindings, copied secrets) stays",
    "watches opened before the delete and clients' cached discovery keep what they already read: RBAC is checked when a request starts",
    "whoever made the binding, or a GitOps controller (Argo CD, Flux) that manages it, can create it again",
  ],
  rollbackSummary:
    "an operator action with the operator's own kubeconfig: recreate the exact recorded binding (without uid, resourceVersion, creationTimestamp and managedFields); the responder's ClusterRole cannot, since creating a binding needs create on its kind and bind on its role",
  plan(p, context) {
    const path = bindingPath(p);
    const what = bindingText(p);
    const rolePathText =
      p.kind === "ClusterRoleBinding"
        ? `/apis/${RBAC_GROUP}/v1/clusterroles/<the role its roleRef names>`
        : `/apis/${RBAC_GROUP}/v1/namespaces/${p.namespace}/roles/<the role its roleRef names>`;
    const others = context.approvedBy
      ? `approved by ${context.approvedBy}: any other subject of the binding loses this access too, and the outcome names each`
      : "a binding with other subjects too is refused (not approved): the outcome names whose access would go with it";
    const calls: PlannedCall[] = [
      {
        service: "kubernetes",
        operation: `GET ${path}`,
        params: {},
        note: `read ${what} whole (the evidence, kept in before and the undo); refused when its name starts with system: or eks: or it is labelled kubernetes.io/bootstrapping: rbac-defaults; already done when it is gone or binds none of system:anonymous, system:unauthenticated and default service accounts`,
      },
      {
        service: "kubernetes",
        operation: `GET ${rolePathText}`,
        params: {},
        note:
          p.kind === "RoleBinding"
            ? `read the role it binds (/apis/${RBAC_GROUP}/v1/clusterroles/<the role its roleRef names> when roleRef is a ClusterRole): refused unless it is an admin role`
            : "read the ClusterRole it binds: refused unless it is an admin role",
      },
      {
        service: "kubernetes",
        operation: `DELETE ${path}`,
        params: {
          apiVersion: "v1",
          kind: "DeleteOptions",
          preconditions: { uid: "<uid read>", resourceVersion: "<resourceVersion read>" },
        },
        note: `delete it only if unchanged since read (else 409 Conflict: not deleted, re-read and said); ${others}${context.dryRun ? "; dry-run: sent with dryRun=All" : ""}`,
      },
    ];
    return { calls };
  },
  ...deferredReversible(() => import("./runtimes.ts").then((m) => m.revokeBinding)),
  example: { cluster: "prod-eks", kind: "ClusterRoleBinding", name: "anonymous-cluster-admin" },
};
