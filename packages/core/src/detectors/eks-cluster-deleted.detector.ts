import * as z from "../zod.ts";
import { actorEvidence, makeAssessment } from "./common.ts";
import type { DetectorDefinition } from "./types.ts";

const settings = z._default(z.strictObject({}), {});

export const eksClusterDeleted: DetectorDefinition<typeof settings> = {
  id: "eks-cluster-deleted",
  title: "Cluster deleted",
  summary: "DeleteCluster removed a cluster. Nothing can undo it; the team is told who did it, from where and when.",
  triggers: ["aws.eks DeleteCluster"],
  actions: [],
  defaultMode: "alert",
  defaultModeReason: "a deletion cannot be reversed by any action",
  settings,
  detect(signal) {
    if (signal.family !== "cloudtrail" || signal.eventName !== "DeleteCluster") return [];
    return [
      makeAssessment(signal, 0, {
        detectorId: eksClusterDeleted.id,
        severity: "medium",
        title: `Cluster ${signal.cluster} deleted`,
        cluster: signal.cluster,
        resources: {},
        evidence: [`DeleteCluster ${signal.cluster}`, ...actorEvidence(signal)],
        notes: ["a deleted cluster cannot be restored; check that the deletion was planned"],
      }),
    ];
  },
};
