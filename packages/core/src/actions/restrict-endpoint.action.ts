import { z } from "zod";
import { clusterName } from "./ids.ts";
import type { ActionDefinition } from "./types.ts";

const params = z.strictObject({
  clusterName,
  /** The CIDRs public access is narrowed to; empty turns public access off (private access must be on). */
  publicAccessCidrs: z.array(z.string()).max(40),
});

export const restrictEndpoint: ActionDefinition<typeof params> = {
  id: "eks:restrict-endpoint",
  summary: "Narrow a cluster's public API endpoint to the allowed CIDRs, or turn it off when private access is on.",
  params,
  permissions: ["eks:UpdateClusterConfig", "eks:DescribeCluster", "eks:DescribeUpdate"],
  destructive: false,
  reversible: true,
  preconditions: [
    "public access is turned off only when private access is on: a cluster is never left unreachable",
    "no other update is in progress on the cluster (EKS refuses concurrent updates)",
  ],
  rollback: "restore the previous endpointPublicAccess and publicAccessCidrs recorded before the change",
  plan(p) {
    const resourcesVpcConfig =
      p.publicAccessCidrs.length > 0
        ? { endpointPublicAccess: true, publicAccessCidrs: p.publicAccessCidrs }
        : { endpointPublicAccess: false, endpointPrivateAccess: true };
    return {
      calls: [
        {
          service: "eks",
          operation: "UpdateClusterConfig",
          params: { name: p.clusterName, resourcesVpcConfig },
          note:
            p.publicAccessCidrs.length > 0
              ? `allow the public endpoint of ${p.clusterName} only from ${p.publicAccessCidrs.join(", ")}`
              : `turn the public endpoint of ${p.clusterName} off (private access stays on)`,
        },
      ],
    };
  },
  example: { clusterName: "prod-eks", publicAccessCidrs: ["203.0.113.0/24"] },
};
