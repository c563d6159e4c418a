import { type KubeClient, kubePath } from "../kubernetes/api.ts";
import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import { clusterName } from "./ids.ts";
import {
  type Binding,
  bindingSchema,
  getObject,
  isKubeStatus,
  kubeClientFor,
  objectMetaSchema,
  parseObject,
  type Role,
  roleSchema,
  type Subject,
} from "./k8s-objects.live.ts";
import { namespaceName, RBAC_GROUP, rbacPath } from "./k8s-objects.ts";
import { bindingPath, bindingText, type Params, RESOURCE, revokeBinding } from "./k8s-revoke-binding.action.ts";
import type { ApplyContext, ApplyResult, CheckResult, PlanContext } from "./types.ts";

/** k8s:revoke-binding's live reads and changes: imported with every action's, on first use (actions/runtimes.ts). */

const undoSchema = z.strictObject({
  cluster: clusterName,
  kind: z.enum(["ClusterRoleBinding", "RoleBinding"]),
  namespace: z.optional(namespaceName),
  /** The binding as read before the delete, without the fields the API server sets. */
  object: z.record(z.string(), z.unknown()),
});

export function subjectText(s: Subject): string {
  return `${s.kind} ${s.kind === "ServiceAccount" && s.namespace ? `${s.namespace}/` : ""}${s.name}`;
}

/**
 * The subjects this action removes a grant to: everyone (system:anonymous, system:unauthenticated) or a namespace's
 * default service account, which every pod of the namespace without its own service account runs as.
 * @see https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-subjects
 */
export function riskySubject(s: Subject): boolean {
  if (s.kind === "User") return s.name === "system:anonymous" || /^system:serviceaccount:[^:]+:default$/.test(s.name);
  if (s.kind === "Group") return s.name === "system:unauthenticated";
  return s.kind === "ServiceAccount" && s.name === "default";
}

/**
 * Bindings Kubernetes (and EKS) make and keep for themselves, never touched: `system:` names are the control plane's
 * (system:public-info-viewer binds system:unauthenticated by design), every default binding carries the label
 * `kubernetes.io/bootstrapping: rbac-defaults` (the API server recreates them at start), and `eks:` names are
 * those Amazon EKS manages.
 * @see https://kubernetes.io/docs/reference/access-authn-authz/rbac/#default-roles-and-role-bindings
 */
function protectedBinding(b: Binding): string | undefined {
  const name = b.metadata.name;
  if (name.startsWith("system:")) return `its name starts with system:, a binding of Kubernetes itself`;
  if (name.startsWith("eks:")) return `its name starts with eks:, a binding Amazon EKS manages`;
  if (b.metadata.labels?.["kubernetes.io/bootstrapping"] === "rbac-defaults")
    return "it carries kubernetes.io/bootstrapping: rbac-defaults, a default binding of Kubernetes";
  return undefined;
}

/** The user-facing default ClusterRoles that write: cluster-admin (everything), admin and edit (a namespace's objects). */
const ADMIN_CLUSTER_ROLES = new Set(["cluster-admin", "admin", "edit"]);
const ESCALATING_VERBS = new Set(["*", "bind", "escalate", "impersonate"]);
const RBAC_OBJECTS = new Set(["roles", "clusterroles", "rolebindings", "clusterrolebindings"]);
const READ_VERBS = new Set(["get", "list", "watch"]);

/**
 * What makes the bound role an admin role, or undefined: the default admin roles by name, and any rule with a
 * wildcard verb or resource, an escalating verb (bind, escalate, impersonate), access to secrets, or writes to RBAC
 * objects: each lets its holder reach cluster-admin or read credentials.
 * @see https://kubernetes.io/docs/concepts/security/rbac-good-practices/#privilege-escalation-risks
 */
export function adminRights(roleRef: Binding["roleRef"], role: Role): string | undefined {
  if (roleRef.kind === "ClusterRole" && ADMIN_CLUSTER_ROLES.has(roleRef.name))
    return `the default ClusterRole ${roleRef.name}`;
  for (const rule of role.rules ?? []) {
    const resources = rule.resources ?? [];
    const where = `${rule.verbs.join(",")} on ${resources.join(",") || (rule.nonResourceURLs ?? []).join(",")}`;
    if (rule.verbs.some((v) => ESCALATING_VERBS.has(v))) return `a rule granting ${where}`;
    if (resources.includes("*") || (rule.apiGroups ?? []).includes("*")) return `a rule granting ${where}`;
    if (resources.includes("secrets")) return `a rule granting ${where}`;
    if (resources.some((r) => RBAC_OBJECTS.has(r)) && rule.verbs.some((v) => !READ_VERBS.has(v)))
      return `a rule granting ${where}`;
  }
  return undefined;
}

function rolePath(b: Binding, namespace: string | undefined): string {
  return b.roleRef.kind === "ClusterRole"
    ? rbacPath("clusterroles", b.roleRef.name)
    : rbacPath("roles", b.roleRef.name, namespace);
}

/** The recorded binding without what the API server sets on create: what rollback sends back. */
function recreatable(raw: Record<string, unknown>): Record<string, unknown> {
  const metadata = { ...(raw.metadata as Record<string, unknown>) };
  for (const key of ["uid", "resourceVersion", "creationTimestamp", "managedFields"]) delete metadata[key];
  const { status: _status, ...rest } = raw;
  return { ...rest, metadata };
}

/** The check's answer; when the delete is needed, the binding as read and its subjects other than the risky ones. */
type Inspected =
  | { check: Exclude<CheckResult, { status: "needed" }> }
  | {
      check: Extract<CheckResult, { status: "needed" }>;
      binding: Binding;
      raw: Record<string, unknown>;
      others: Subject[];
    };

async function inspect(p: Params, ctx: PlanContext, client: KubeClient, log: CallLog): Promise<Inspected> {
  const what = bindingText(p);
  const read = await getObject(log, client, bindingPath(p));
  if (read === undefined) return { check: { status: "already-done", reason: `${what} no longer exists` } };
  const binding = parseObject(bindingSchema, read, what);
  const raw = read as Record<string, unknown>;
  const before: Record<string, unknown> = { binding: raw };
  const done = (check: Exclude<CheckResult, { status: "needed" }>): Inspected => ({ check });
  const subjects = binding.subjects ?? [];
  const risky = subjects.filter(riskySubject);
  const others = subjects.filter((s) => !riskySubject(s));
  const protection = protectedBinding(binding);
  if (protection) return done({ status: "refused", reason: `${what} is never touched: ${protection}`, before });
  if (risky.length === 0) {
    return done({
      status: "already-done",
      reason: `${what} no longer binds system:anonymous, system:unauthenticated or a default service account: nothing to remove`,
      before,
    });
  }
  const granted = risky.map(subjectText).join(", ");
  const roleText = `${binding.roleRef.kind} ${binding.roleRef.name}`;
  const roleRead = await getObject(log, client, rolePath(binding, p.namespace));
  if (roleRead === undefined) {
    return done({
      status: "refused",
      reason: `${what} binds ${granted} to ${roleText}, which does not exist: it grants nothing now (it would once the role is made), so it is left for the operator`,
      before,
    });
  }
  const role = parseObject(roleSchema, roleRead, roleText);
  const admin = adminRights(binding.roleRef, role);
  before.role = { kind: binding.roleRef.kind, name: binding.roleRef.name, rules: role.rules ?? [] };
  if (!admin) {
    return done({
      status: "refused",
      reason: `${what} binds ${granted} to ${roleText}, which is not an admin role (no wildcard, escalating verb, secrets or RBAC writes): left for the operator`,
      before,
    });
  }
  before.admin = admin;
  if (others.length > 0 && !ctx.approvedBy) {
    return done({
      status: "refused",
      reason: `${what} also grants ${roleText} to ${others.map(subjectText).join(", ")}: deleting it removes their access too, which needs an approval`,
      before,
    });
  }
  return { check: { status: "needed", before }, binding, raw, others };
}

export async function check(p: Params, ctx: ApplyContext): Promise<CheckResult> {
  const log = new CallLog(ctx);
  const access = await kubeClientFor(ctx, p.cluster);
  if ("refused" in access) return { status: "refused", reason: access.refused };
  return (await inspect(p, ctx, access.client, log)).check;
}

export async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
  const id = revokeBinding.id;
  const log = new CallLog(ctx);
  const what = bindingText(p);
  try {
    const access = await kubeClientFor(ctx, p.cluster);
    if ("refused" in access) return log.result(id, "refused", access.refused);
    const { client } = access;
    const found = await inspect(p, ctx, client, log);
    if (!("binding" in found)) {
      const { status, reason, before } = found.check;
      return log.result(id, status, reason, before ? { before } : {});
    }
    const { binding, raw, others } = found;
    const before = found.check.before;
    const undo = {
      cluster: p.cluster,
      kind: p.kind,
      ...(p.namespace ? { namespace: p.namespace } : {}),
      object: recreatable(raw),
    };
    const { uid, resourceVersion } = binding.metadata;
    // The delete goes only if the binding is still the one judged above: same uid (not recreated) and same
    // resourceVersion (not edited). Otherwise the API server answers 409 Conflict and deletes nothing.
    // https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/delete-options/
    const body = { apiVersion: "v1", kind: "DeleteOptions", preconditions: { uid, resourceVersion } };
    try {
      await log.sendKube(client, { method: "DELETE", path: bindingPath(p), body }, { dryRun: ctx.dryRun });
    } catch (error) {
      if (isKubeStatus(error, 404)) return log.result(id, "already-done", `${what} was deleted meanwhile`, { before });
      if (!isKubeStatus(error, 409)) throw error;
      const now = await getObject(log, client, bindingPath(p));
      if (now === undefined) return log.result(id, "already-done", `${what} was deleted meanwhile`, { before });
      const meta = parseObject(z.looseObject({ metadata: objectMetaSchema }), now, what).metadata;
      return log.result(
        id,
        "refused",
        `${what} changed after it was read (uid ${uid} resourceVersion ${resourceVersion}, now uid ${meta.uid} resourceVersion ${meta.resourceVersion}): the API server refused the delete (409 Conflict) and it was not deleted; it was read again, and the action must be run again to judge it as it is now`,
        { before },
      );
    }
    const removed = (binding.subjects ?? []).filter(riskySubject).map(subjectText).join(", ");
    const alsoText = others.length
      ? `; approved by ${ctx.approvedBy}, this also removed the access of ${others.map(subjectText).join(", ")}`
      : "";
    const grant = `${what}, which bound ${removed} to ${binding.roleRef.kind} ${binding.roleRef.name} (${String(before.admin)})${alsoText}`;
    if (ctx.dryRun) {
      return log.result(id, "would-succeed", `dry-run: the API server accepted deleting ${grant} (dryRun=All)`, {
        before,
      });
    }
    return log.result(id, "applied", `deleted ${grant}`, { before, undo });
  } catch (error) {
    return log.failed(id, error);
  }
}

/** A recorded binding: what the API server sets (uid, resourceVersion) was taken out. */
const recordedSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), namespace: z.optional(z.string()) }),
  subjects: bindingSchema.shape.subjects,
  roleRef: bindingSchema.shape.roleRef,
});
type Recorded = z.output<typeof recordedSchema>;

function sameGrant(a: Recorded, b: Recorded): boolean {
  const key = (x: Recorded) =>
    JSON.stringify([x.roleRef.kind, x.roleRef.name, (x.subjects ?? []).map((s) => [s.kind, s.name, s.namespace])]);
  return key(a) === key(b);
}

export async function rollback(undo: Record<string, unknown>, ctx: ApplyContext): Promise<ApplyResult> {
  const id = revokeBinding.id;
  const log = new CallLog(ctx);
  try {
    const u = undoSchema.parse(undo);
    const recorded = parseObject(recordedSchema, u.object, "the recorded binding");
    const target = { kind: u.kind, name: recorded.metadata.name, namespace: u.namespace };
    const what = bindingText(target);
    const access = await kubeClientFor(ctx, u.cluster);
    if ("refused" in access) return log.result(id, "refused", access.refused);
    const collection =
      u.namespace === undefined
        ? kubePath("apis", RBAC_GROUP, "v1", RESOURCE[u.kind])
        : kubePath("apis", RBAC_GROUP, "v1", "namespaces", u.namespace, RESOURCE[u.kind]);
    try {
      await log.sendKube(access.client, { method: "POST", path: collection, body: u.object }, { dryRun: ctx.dryRun });
    } catch (error) {
      if (isKubeStatus(error, 403)) {
        return log.failed(id, error, {
          reason: `recreating ${what} was refused (403 Forbidden): it needs create on ${RESOURCE[u.kind]} and bind on ${recorded.roleRef.kind} ${recorded.roleRef.name}, which the responder's ClusterRole never grants; an operator runs the rollback with their own kubeconfig`,
        });
      }
      if (!isKubeStatus(error, 409)) throw error;
      const live = await getObject(log, access.client, bindingPath(target));
      if (live !== undefined && sameGrant(parseObject(bindingSchema, live, what), recorded)) {
        return log.result(id, "already-done", `${what} exists again with the recorded role and subjects`);
      }
      return log.result(
        id,
        "refused",
        `a binding ${what} exists again with another role or other subjects: it was not replaced; compare it with the recorded one by hand`,
      );
    }
    if (ctx.dryRun) return log.result(id, "would-succeed", `dry-run: the API server accepted recreating ${what}`);
    return log.result(id, "applied", `recreated ${what} as recorded`);
  } catch (error) {
    return log.failed(id, error);
  }
}
