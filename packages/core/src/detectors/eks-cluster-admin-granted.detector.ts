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
  }),
  { allowedPrincipals: [], adminPolicies: ADMIN_POLICIES, deleteAccessEntry: false },
);

export const eksClusterAdminGranted: DetectorDefinition<typeof settings> = {
  id: "eks-cluster-admin-granted",
  title: "Cluster-admin granted to a principal that is not allowed",
  summary:
    "AssociateAccessPolicy gave AmazonEKSClusterAdminPolicy or AmazonEKSAdminPolicy (or another policy listed in " +
    "`adminPolicies`) to a principal outside `allowedPrincipals`, or CreateAccessEntry put a principal in the " +
    "`system:masters` group. The fix removes exactly that grant.",
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
      return [
        makeAssessment(signal, 0, {
          detectorId: eksClusterAdminGranted.id,
          severity: signal.accessScope.type === "cluster" ? "critical" : "high",
          title: `${policyName} granted on cluster ${signal.cluster} to ${signal.principalArn}`,
          cluster: signal.cluster,
          resources: { principalArn: signal.principalArn },
          evidence: [`AssociateAccessPolicy ${signal.policyArn} on ${scope}`, ...actorEvidence(signal)],
          actions: [
            {
              action: "eks:revoke-access",
              params: {
                clusterName: signal.cluster,
                principalArn: signal.principalArn,
                policyArn: signal.policyArn,
                deleteAccessEntry: s.deleteAccessEntry,
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
