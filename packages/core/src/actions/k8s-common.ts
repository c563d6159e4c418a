/**
 * What the Kubernetes actions (`k8s:*`) share in their definitions: the assessment label every object they create or
 * label carries, the names they accept, and merge patches of labels. What only their live code uses (the cluster's
 * client, the zod schemas of the object parts they read (metadata, ownerReferences), label changes that record what
 * they replace, the check) is k8s-common.live.ts, imported by their `*.apply.ts` modules.
 */
import { KubeApiError } from "../kubernetes/api.ts";
import * as z from "../zod.ts";

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

export function isKubeNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 404;
}

/**
 * A JSON merge patch of labels (RFC 7386): a value sets the label, `null` removes it; other labels stay.
 * @see https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/
 */
export function labelsPatch(labels: Readonly<Record<string, string | null>>): { metadata: { labels: object } } {
  return { metadata: { labels: { ...labels } } };
}
