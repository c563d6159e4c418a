import type { CreateClusterSignal, UpdateClusterConfigSignal } from "../signals/types.ts";
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

/**
 * CreateCluster: a required type that the request does not turn on is off, whether the request leaves `logging` out
 * or lists the type as disabled. "By default, cluster control plane logs aren't exported to CloudWatch Logs."
 * @see https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html (request member `logging`)
 */
function detectCreate(signal: CreateClusterSignal, requiredTypes: readonly string[]) {
  const enabled = new Set(signal.logging?.enabled ?? []);
  const off = requiredTypes.filter((type) => !enabled.has(type));
  if (off.length === 0) return [];
  return [
    assessment(signal, off, `Cluster ${signal.cluster} created with control-plane logging off: ${off.join(", ")}`, [
      signal.logging
        ? `CreateCluster ${signal.cluster} enabled ${signal.logging.enabled.join(", ") || "no log type"}${signal.logging.disabled.length ? ` and disabled ${signal.logging.disabled.join(", ")}` : ""}`
        : `CreateCluster ${signal.cluster} did not set logging: EKS then exports no control-plane logs`,
      ...actorEvidence(signal),
    ]),
  ];
}

function assessment(
  signal: CreateClusterSignal | UpdateClusterConfigSignal,
  off: string[],
  title: string,
  evidence: string[],
) {
  return makeAssessment(signal, 0, {
    detectorId: eksLoggingDisabled.id,
    severity: off.includes("audit") ? "high" : "medium",
    title,
    cluster: signal.cluster,
    resources: {},
    evidence,
    actions: [{ action: "eks:enable-logging", params: { clusterName: signal.cluster, logTypes: off } }],
  });
}

export const eksLoggingDisabled: DetectorDefinition<typeof settings> = {
  id: "eks-logging-disabled",
  title: "Control-plane log types turned off",
  summary:
    "UpdateClusterConfig turned off control-plane log types the policy requires (by default api, audit and " +
    "authenticator), or CreateCluster made a cluster without them (EKS exports no control-plane logs unless the " +
    "request turns them on): the record of who did what in the cluster stops, or never starts. The fix turns " +
    "exactly those types on.",
  triggers: ["aws.eks UpdateClusterConfig", "aws.eks CreateCluster"],
  actions: ["eks:enable-logging"],
  defaultMode: "auto",
  defaultModeReason: "turning logging back on changes nothing the cluster's users depend on",
  settings,
  detect(signal, s) {
    if (signal.family !== "cloudtrail") return [];
    if (signal.eventName === "CreateCluster") return detectCreate(signal, s.requiredTypes);
    if (signal.eventName !== "UpdateClusterConfig" || !signal.logging) return [];
    const required = new Set<string>(s.requiredTypes);
    const off = signal.logging.disabled.filter((type) => required.has(type));
    if (off.length === 0) return [];
    return [
      assessment(signal, off, `Cluster ${signal.cluster} control-plane logging turned off: ${off.join(", ")}`, [
        `UpdateClusterConfig on ${signal.cluster} disabled ${signal.logging.disabled.join(", ")}`,
        ...actorEvidence(signal),
      ]),
    ];
  },
};
