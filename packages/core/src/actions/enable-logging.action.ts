import { z } from "zod";
import { clusterName } from "./ids.ts";
import type { ActionDefinition } from "./types.ts";

const params = z.strictObject({
  clusterName,
  logTypes: z.array(z.enum(["api", "audit", "authenticator", "controllerManager", "scheduler"])).min(1),
});

export const enableLogging: ActionDefinition<typeof params> = {
  id: "eks:enable-logging",
  summary: "Turn control-plane log types back on.",
  params,
  permissions: ["eks:UpdateClusterConfig", "eks:DescribeCluster", "eks:DescribeUpdate"],
  destructive: false,
  reversible: true,
  preconditions: ["no other update is in progress on the cluster"],
  rollback: "turn the same log types off again",
  plan(p) {
    return {
      calls: [
        {
          service: "eks",
          operation: "UpdateClusterConfig",
          params: { name: p.clusterName, logging: { clusterLogging: [{ types: p.logTypes, enabled: true }] } },
          note: `turn ${p.logTypes.join(", ")} logging back on for ${p.clusterName}`,
        },
      ],
    };
  },
  example: { clusterName: "prod-eks", logTypes: ["api", "audit", "authenticator"] },
};
