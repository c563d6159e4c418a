import { z } from "zod";
import { clusterName, principalArn } from "./ids.ts";
import type { ActionDefinition } from "./types.ts";

const params = z
  .strictObject({
    clusterName,
    principalArn,
    /** The access policy association to remove. */
    policyArn: z.string().startsWith("arn:").optional(),
    /** For an access entry that put the principal in system:masters: the groups it keeps. */
    remainingGroups: z.array(z.string()).optional(),
    /** Delete the whole access entry instead. */
    deleteAccessEntry: z.boolean().default(false),
  })
  .refine((p) => p.policyArn !== undefined || p.remainingGroups !== undefined || p.deleteAccessEntry, {
    message: "one of policyArn, remainingGroups or deleteAccessEntry is required",
  });

export const revokeAccess: ActionDefinition<typeof params> = {
  id: "eks:revoke-access",
  summary: "Remove an unapproved cluster-admin grant: the access policy association, the group, or the access entry.",
  params,
  permissions: [
    "eks:DisassociateAccessPolicy",
    "eks:AssociateAccessPolicy",
    "eks:UpdateAccessEntry",
    "eks:DeleteAccessEntry",
    "eks:DescribeAccessEntry",
    "eks:ListAssociatedAccessPolicies",
  ],
  destructive: true,
  reversible: true,
  preconditions: ["the association or entry still exists", "the principal is not on the policy's allowlist"],
  rollback: "re-associate the same access policy with the same scope, or restore the entry's groups",
  plan(p) {
    const target = { clusterName: p.clusterName, principalArn: p.principalArn };
    if (p.deleteAccessEntry) {
      return {
        calls: [
          {
            service: "eks",
            operation: "DeleteAccessEntry",
            params: target,
            note: `delete the access entry of ${p.principalArn} (and every policy associated with it)`,
          },
        ],
      };
    }
    if (p.policyArn !== undefined) {
      return {
        calls: [
          {
            service: "eks",
            operation: "DisassociateAccessPolicy",
            params: { ...target, policyArn: p.policyArn },
            note: `remove ${p.policyArn.split("/").pop()} from ${p.principalArn}`,
          },
        ],
      };
    }
    return {
      calls: [
        {
          service: "eks",
          operation: "UpdateAccessEntry",
          params: { ...target, kubernetesGroups: p.remainingGroups ?? [] },
          note: `take ${p.principalArn} out of system:masters`,
        },
      ],
    };
  },
  example: {
    clusterName: "prod-eks",
    principalArn: "arn:aws:iam::111122223333:role/external-ci-deployer",
    policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
  },
};
