import * as z from "../zod.ts";
import { actorEvidence, makeAssessment } from "./common.ts";
import type { DetectorDefinition } from "./types.ts";

const LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

const settings = z._default(
  z.strictObject({
    /** Control-plane log types that must stay on. */
    requiredTypes: z._default(z.array(z.enum(LOG_TYPES)).check(z.minLength(1)), ["api", "audit", "authenticator"]),
  }),
  { requiredTypes: ["api", "audit", "authenticator"] },
);

export const eksLoggingDisabled: DetectorDefinition<typeof settings> = {
  id: "eks-logging-disabled",
  title: "Control-plane log types turned off",
  summary:
    "UpdateClusterConfig turned off control-plane log types the policy requires (by default api, audit and " +
    "authenticator): the record of who did what in the cluster stops. The fix turns exactly those types back on.",
  triggers: ["aws.eks UpdateClusterConfig"],
  actions: ["eks:enable-logging"],
  defaultMode: "auto",
  defaultModeReason: "turning logging back on changes nothing the cluster's users depend on",
  settings,
  detect(signal, s) {
    if (signal.family !== "cloudtrail" || signal.eventName !== "UpdateClusterConfig" || !signal.logging) return [];
    const required = new Set<string>(s.requiredTypes);
    const off = signal.logging.disabled.filter((type) => required.has(type));
    if (off.length === 0) return [];
    return [
      makeAssessment(signal, 0, {
        detectorId: eksLoggingDisabled.id,
        severity: off.includes("audit") ? "high" : "medium",
        title: `Cluster ${signal.cluster} control-plane logging turned off: ${off.join(", ")}`,
        cluster: signal.cluster,
        resources: {},
        evidence: [
          `UpdateClusterConfig on ${signal.cluster} disabled ${signal.logging.disabled.join(", ")}`,
          ...actorEvidence(signal),
        ],
        actions: [{ action: "eks:enable-logging", params: { clusterName: signal.cluster, logTypes: off } }],
      }),
    ];
  },
};
