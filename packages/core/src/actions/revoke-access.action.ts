import { builtOnce } from "../lazy.ts";
import * as z from "../zod.ts";
import { deferredReversible } from "./deferred.ts";
import { clusterName, principalArn } from "./ids.ts";
import type { ActionDefinition, PlannedCall } from "./types.ts";

const params = builtOnce(() =>
  z
    .strictObject({
      clusterName,
      principalArn,
      /** The access policy association to remove (or, with narrowTo, to narrow). */
      policyArn: z.optional(z.string().check(z.startsWith("arn:"))),
      /**
       * With policyArn: narrow the association to these namespaces (those of them it still covers) instead of removing
       * it; removed only when it covers none of them.
       */
      narrowTo: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
      /** For an access entry that put the principal in system:masters: the groups it keeps. */
      remainingGroups: z.optional(z.array(z.string())),
      /** Delete the whole access entry instead. */
      deleteAccessEntry: z._default(z.boolean(), false),
    })
    .check(
      z.refine((p) => p.policyArn !== undefined || p.remainingGroups !== undefined || p.deleteAccessEntry, {
        message: "one of policyArn, remainingGroups or deleteAccessEntry is required",
      }),
      z.refine((p) => p.narrowTo === undefined || (p.policyArn !== undefined && !p.deleteAccessEntry), {
        message: "narrowTo needs policyArn, and cannot go with deleteAccessEntry",
      }),
    ),
);
export type Params = z.output<ReturnType<typeof params>>;

export function mode(p: Params): "entry" | "association" | "narrow" | "groups" {
  if (p.deleteAccessEntry) return "entry";
  if (p.policyArn !== undefined) return p.narrowTo ? "narrow" : "association";
  return "groups";
}

export const revokeAccess: ActionDefinition<ReturnType<typeof params>> = {
  id: "eks:revoke-access",
  summary:
    "Remove an unapproved cluster-admin grant: the access policy association (or narrow it back to the namespaces the policy allows), the group, or the access entry.",
  get params() {
    return params();
  },
  permissions: [
    "eks:DescribeCluster",
    "eks:ListAssociatedAccessPolicies",
    "eks:DescribeAccessEntry",
    "eks:DisassociateAccessPolicy",
    "eks:AssociateAccessPolicy",
    "eks:UpdateAccessEntry",
    "eks:DeleteAccessEntry",
  ],
  rollbackPermissions: ["eks:AssociateAccessPolicy", "eks:UpdateAccessEntry", "eks:CreateAccessEntry"],
  destructive: true,
  reversible: true,
  preconditions: [
    "the association or entry still exists (otherwise: already done); a narrowing is already done when the association covers only allowed namespaces",
    "the cluster's authentication mode is API or API_AND_CONFIG_MAP (DescribeCluster): in CONFIG_MAP there is no access entry to revoke, and it refuses",
    "the principal is not on the policy's allowlist",
    "the live cluster carries no exemption tag of the policy (the access entry's own tags are not honoured: they are set with the grant)",
  ],
  notCovered: [
    "grants made through the aws-auth ConfigMap are outside its reach: in API_AND_CONFIG_MAP mode the outcome and the decision's reasons say so, and in CONFIG_MAP mode it refuses",
    "a narrowing keeps the namespaces the policy declares (settings.namespaceAdmins), not an earlier scope EKS no longer reports: neither the event nor ListAssociatedAccessPolicies says what a re-association replaced",
    "a namespace-scoped admin grant to a principal the policy declares nothing for is removed whole, not narrowed",
    "Kubernetes RBAC bindings of the principal's groups or username are not changed",
    "sessions already authenticated keep their token until it expires (up to 15 minutes)",
  ],
  rollbackSummary:
    "re-associate the same access policy with the exact scope read before the change (a narrowing is undone the same way: associating again replaces the scope), restore the entry's groups, or recreate the entry",
  plan(p) {
    const target = { clusterName: p.clusterName, principalArn: p.principalArn };
    const calls: PlannedCall[] = [];
    const configMap =
      "grants made through the aws-auth ConfigMap are outside its reach: the cluster's authentication mode is read first (DescribeCluster), and in CONFIG_MAP mode it refuses";
    switch (mode(p)) {
      case "narrow":
        calls.push({
          service: "eks",
          operation: "AssociateAccessPolicy",
          params: {
            ...target,
            policyArn: p.policyArn,
            accessScope: { type: "namespace", namespaces: [...new Set(p.narrowTo)].sort() },
          },
          note: `narrow ${p.policyArn?.split("/").pop()} of ${p.principalArn} back to namespaces ${[...new Set(p.narrowTo)].sort().join(", ")} (associating again replaces the scope; of a namespace-scoped association only the namespaces it has are kept, and it is removed with DisassociateAccessPolicy when it has none of them); ${configMap}`,
        });
        break;
      case "association":
        calls.push({
          service: "eks",
          operation: "DisassociateAccessPolicy",
          params: { ...target, policyArn: p.policyArn },
          note: `remove ${p.policyArn?.split("/").pop()} from ${p.principalArn}; ${configMap}`,
        });
        break;
      case "groups":
        calls.push({
          service: "eks",
          operation: "UpdateAccessEntry",
          params: { ...target, kubernetesGroups: p.remainingGroups ?? [] },
          note: `take ${p.principalArn} out of system:masters: the entry keeps its live groups but that one (at the event: ${JSON.stringify(p.remainingGroups ?? [])}); ${configMap}`,
        });
        break;
      default:
        calls.push({
          service: "eks",
          operation: "DeleteAccessEntry",
          params: target,
          note: `delete the access entry of ${p.principalArn}; ${configMap}`,
        });
    }
    return { calls };
  },
  ...deferredReversible(() => import("./runtimes.ts").then((m) => m.revokeAccess)),
  example: {
    clusterName: "prod-eks",
    principalArn: "arn:aws:iam::111122223333:role/external-ci-deployer",
    policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
  },
};
