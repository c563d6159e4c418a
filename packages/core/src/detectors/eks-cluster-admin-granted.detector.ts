import { withoutPartition } from "../aws/partitions.ts";
import * as z from "../zod.ts";
import { anyArnMatches } from "./arn-pattern.ts";
import { actorEvidence, makeAssessment } from "./common.ts";
import type { DetectorDefinition } from "./types.ts";

const ADMIN_POLICIES = [
  "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
  "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy",
];

const settings = z._default(
  z.strictObject({
    /** Principals (ARN patterns, `*` wildcard) that may hold cluster-admin. */
    allowedPrincipals: z._default(z.array(z.string().check(z.minLength(1))), []),
    /** Access policies that count as cluster-admin. */
    adminPolicies: z._default(z.array(z.string().check(z.startsWith("arn:"))).check(z.minLength(1)), ADMIN_POLICIES),
    /** Also delete the access entry, not only the association or the group. */
    deleteAccessEntry: z._default(z.boolean(), false),
    /**
     * Principals (ARN patterns) that may hold an admin policy in these namespaces only: a grant to them within those
     * namespaces is not a finding; one wider (the cluster, or other namespaces) is narrowed back to them, not removed.
     */
    namespaceAdmins: z._default(
      z.array(
        z.strictObject({
          principal: z.string().check(z.startsWith("arn:")),
          namespaces: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
        }),
      ),
      [],
    ),
  }),
  () => ({ allowedPrincipals: [], adminPolicies: [...ADMIN_POLICIES], deleteAccessEntry: false, namespaceAdmins: [] }),
);

/** The namespaces the settings let this principal hold an admin policy in (every matching entry), sorted. */
function declaredNamespaces(principalArn: string, entries: readonly { principal: string; namespaces: string[] }[]) {
  const namespaces = entries.filter((e) => anyArnMatches(principalArn, [e.principal])).flatMap((e) => e.namespaces);
  return [...new Set(namespaces)].sort();
}

export const eksClusterAdminGranted: DetectorDefinition<typeof settings> = {
  id: "eks-cluster-admin-granted",
  title: "Cluster-admin granted to a principal that is not allowed",
  summary:
    "AssociateAccessPolicy gave AmazonEKSClusterAdminPolicy or AmazonEKSAdminPolicy (or another policy listed in " +
    "`adminPolicies`) to a principal outside `allowedPrincipals`, or CreateAccessEntry put a principal in the " +
    "`system:masters` group. The fix removes exactly that grant; for a principal declared in `namespaceAdmins`, a " +
    "grant wider than its namespaces is narrowed back to them instead.",
  triggers: ["aws.eks AssociateAccessPolicy", "aws.eks CreateAccessEntry"],
  actions: ["eks:revoke-access"],
  defaultMode: "approve",
  defaultModeReason: "revoking access can break a deployment pipeline that was meant to have it",
  settings,
  detect(signal, s) {
    if (signal.family !== "cloudtrail") return [];
    if (signal.eventName === "AssociateAccessPolicy") {
      // AWS-managed access policies have one ARN per partition (arn:aws-cn:eks::aws:cluster-access-policy/…):
      // compared without it, the default list covers clusters in China, GovCloud and the other partitions too.
      // @see https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html
      const policy = withoutPartition(signal.policyArn);
      if (!s.adminPolicies.some((p) => withoutPartition(p) === policy)) return [];
      if (anyArnMatches(signal.principalArn, s.allowedPrincipals)) return [];
      const policyName = signal.policyArn.split("/").pop() ?? signal.policyArn;
      const scope =
        signal.accessScope.type === "namespace"
          ? `namespaces ${signal.accessScope.namespaces.join(", ")}`
          : "the whole cluster";
      // A principal declared as a namespace admin keeps its namespaces: a grant within them is no finding, a wider
      // one is narrowed back to them (neither the event nor EKS says what scope a re-association replaced).
      const declared = declaredNamespaces(signal.principalArn, s.namespaceAdmins);
      const requested = signal.accessScope.type === "namespace" ? signal.accessScope.namespaces : undefined;
      if (declared.length > 0 && requested?.every((ns) => declared.includes(ns))) return [];
      const narrow = declared.length > 0;
      return [
        makeAssessment(signal, 0, {
          detectorId: eksClusterAdminGranted.id,
          severity: signal.accessScope.type === "cluster" ? "critical" : "high",
          title: narrow
            ? `${policyName} widened on cluster ${signal.cluster} for ${signal.principalArn} beyond namespaces ${declared.join(", ")}`
            : `${policyName} granted on cluster ${signal.cluster} to ${signal.principalArn}`,
          cluster: signal.cluster,
          resources: { principalArn: signal.principalArn },
          evidence: [
            `AssociateAccessPolicy ${signal.policyArn} on ${scope}`,
            ...(narrow ? [`the policy lets this principal hold it in namespaces ${declared.join(", ")} only`] : []),
            ...actorEvidence(signal),
          ],
          actions: [
            {
              action: "eks:revoke-access",
              params: {
                clusterName: signal.cluster,
                principalArn: signal.principalArn,
                policyArn: signal.policyArn,
                ...(narrow ? { narrowTo: declared } : { deleteAccessEntry: s.deleteAccessEntry }),
              },
            },
          ],
        }),
      ];
    }
    if (signal.eventName === "CreateAccessEntry") {
      if (!signal.kubernetesGroups.includes("system:masters")) return [];
      if (anyArnMatches(signal.principalArn, s.allowedPrincipals)) return [];
      const remainingGroups = signal.kubernetesGroups.filter((g) => g !== "system:masters");
      return [
        makeAssessment(signal, 0, {
          detectorId: eksClusterAdminGranted.id,
          severity: "critical",
          title: `Access entry on cluster ${signal.cluster} puts ${signal.principalArn} in system:masters`,
          cluster: signal.cluster,
          resources: { principalArn: signal.principalArn },
          evidence: [
            `CreateAccessEntry with kubernetesGroups ${JSON.stringify(signal.kubernetesGroups)}`,
            ...actorEvidence(signal),
          ],
          actions: [
            {
              action: "eks:revoke-access",
              params: {
                clusterName: signal.cluster,
                principalArn: signal.principalArn,
                remainingGroups,
                deleteAccessEntry: s.deleteAccessEntry,
              },
            },
          ],
        }),
      ];
    }
    return [];
  },
};
