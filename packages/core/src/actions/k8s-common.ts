/**
 * What the Kubernetes actions (`k8s:*`) share: the client of the cluster from `ApplyContext.kubernetes` (a refusal,
 * never a throw, when there is none), the assessment label every object they create or label carries, the zod schemas
 * of the object parts they read (metadata, ownerReferences), and merge patches of labels that record what they replace.
 */
import { KubeApiError, type KubeClient } from "../kubernetes/client.ts";
import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import type { ApplyContext, CheckResult } from "./types.ts";

/** The label naming the assessment that made an object, or labelled it. */
export const ASSESSMENT_LABEL = "eks-responder.io/assessment";

/**
 * A label value: at most 63 characters, alphanumerics with `-`, `_` and `.` inside.
 * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set
 */
export function labelValue(text: string): string {
  return text
    .replace(/[^A-Za-z0-9._-]/g, "-")
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}

/** The assessment label of `assessmentId`, cut to 63 characters. */
export function assessmentLabels(assessmentId: string): Record<string, string> {
  return { [ASSESSMENT_LABEL]: labelValue(assessmentId) };
}

/**
 * Object names (pods, nodes, NetworkPolicies): DNS subdomains, RFC 1123, at most 253 characters. Kubernetes' own
 * rule, written out because no maintained package of this ecosystem exports it.
 * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-subdomain-names
 */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const objectName = z
  .string()
  .check(z.maxLength(253), z.regex(DNS_SUBDOMAIN, "expected a Kubernetes object name (a DNS subdomain)"));
/** Namespaces are DNS labels: at most 63 characters, no dots. */
export const namespaceName = z
  .string()
  .check(z.maxLength(63), z.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "expected a Kubernetes namespace name"));

/** @see https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/owner-reference/ */
export const ownerReference = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  name: z.string(),
  uid: z.string(),
  controller: z.optional(z.boolean()),
});
export type OwnerReference = z.output<typeof ownerReference>;

/** The parts of ObjectMeta the actions read. @see https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/object-meta/ */
export const objectMeta = z.looseObject({
  name: z.string(),
  namespace: z.optional(z.string()),
  uid: z.string(),
  resourceVersion: z.optional(z.string()),
  labels: z.optional(z.record(z.string(), z.string())),
  ownerReferences: z.optional(z.array(ownerReference)),
});

/** The Kubernetes client of `cluster`, or the reason there is none (no Kubernetes access is set up here). */
export async function kubeClientOf(
  ctx: Pick<ApplyContext, "kubernetes">,
  cluster: string,
): Promise<{ client: KubeClient } | { refused: string }> {
  if (!ctx.kubernetes) {
    return {
      refused: `no Kubernetes access is set up here (ApplyContext.kubernetes): cluster ${cluster} cannot be reached, nothing was changed`,
    };
  }
  return { client: await ctx.kubernetes(cluster) };
}

export function isKubeNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 404;
}

/** An object as recorded in an outcome's `before`: as read, without `metadata.managedFields` (server bookkeeping). */
export function evidence(object: unknown): Record<string, unknown> {
  if (object === null || typeof object !== "object") return {};
  const { metadata, ...rest } = object as { metadata?: Record<string, unknown> };
  if (!metadata) return rest;
  const { managedFields: _managed, ...meta } = metadata;
  return { ...rest, metadata: meta };
}

/**
 * The labels to set so that `wanted` holds, and what undoes exactly that: for each label changed, its value before
 * (`null`: it was absent, so undoing removes it). Labels already at their value are left out of both.
 */
export function labelChange(
  current: Readonly<Record<string, string>> | undefined,
  wanted: Readonly<Record<string, string>>,
): { set: Record<string, string>; restore: Record<string, string | null> } {
  const set: Record<string, string> = {};
  const restore: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(wanted)) {
    const before = current?.[key];
    if (before === value) continue;
    set[key] = value;
    restore[key] = before ?? null;
  }
  return { set, restore };
}

/**
 * A JSON merge patch of labels (RFC 7386): a value sets the label, `null` removes it; other labels stay.
 * @see https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/
 */
export function labelsPatch(labels: Readonly<Record<string, string | null>>): { metadata: { labels: object } } {
  return { metadata: { labels: { ...labels } } };
}

/** Labels recorded in an undo: a label's value before the change, or `null` when it was absent. */
export const labelRestore = z.record(z.string(), z.nullable(z.string()));

/** A check's answer, with what apply needs of the live state (`live`) when the change is needed. */
export type Inspected<L> =
  | Exclude<CheckResult, { status: "needed" }>
  | { status: "needed"; before: Record<string, unknown>; live: L };

/** `check` of a Kubernetes action: its live reads (`inspect`) through the cluster's client, without `live`. */
export async function checkLive<L>(
  cluster: string,
  ctx: ApplyContext,
  inspect: (client: KubeClient, log: CallLog) => Promise<Inspected<L>>,
): Promise<CheckResult> {
  const access = await kubeClientOf(ctx, cluster);
  if ("refused" in access) return { status: "refused", reason: access.refused };
  const result = await inspect(access.client, new CallLog(ctx));
  return result.status === "needed" ? { status: "needed", before: result.before } : result;
}
