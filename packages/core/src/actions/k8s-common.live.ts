/**
 * What the live code of the Kubernetes actions (`k8s-*.apply.ts`, imported on first use: actions/runtimes.ts) shares:
 * the client of the cluster from `ApplyContext.kubernetes` (a refusal, never a throw, when there is none), the objects
 * as recorded in an outcome, label changes that record what they replace, and the check through the cluster's client.
 */
import type { KubeClient } from "../kubernetes/api.ts";
import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import type { ApplyContext, CheckResult } from "./types.ts";

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
