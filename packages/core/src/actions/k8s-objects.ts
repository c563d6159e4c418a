/**
 * What the definitions of `k8s:revoke-binding` and `k8s:scale-workload` share: the names their params take and the API
 * paths of RBAC objects. Their live code's part (the Kubernetes client, the API objects they read, the walk from a pod
 * up its controller owners) is k8s-objects.live.ts, imported by their `*.apply.ts` modules.
 */
import { kubePath } from "../kubernetes/api.ts";
import * as z from "../zod.ts";

/** A DNS-1123 label: namespaces. */
export const namespaceName = z
  .string()
  .check(z.regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "expected a Kubernetes namespace name"));
/** A DNS-1123 subdomain: pods, workloads. */
export const objectName = z
  .string()
  .check(
    z.maxLength(253),
    z.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, "expected a Kubernetes object name"),
  );
/** RBAC object names are path segments, which allow `:` (`system:public-info-viewer`), not `/` or `%`. */
export const rbacName = z
  .string()
  .check(z.minLength(1), z.maxLength(253), z.regex(/^[^/%]+$/, "expected an RBAC object name (no / or %)"));

export const RBAC_GROUP = "rbac.authorization.k8s.io";

/** The API path of a binding or role of RBAC: cluster-scoped without `namespace`. */
export function rbacPath(resource: string, name: string, namespace?: string): string {
  return namespace === undefined
    ? kubePath("apis", RBAC_GROUP, "v1", resource, name)
    : kubePath("apis", RBAC_GROUP, "v1", "namespaces", namespace, resource, name);
}
