import * as z from "../zod.ts";
import { actorEvidence, makeAssessment } from "./common.ts";
import { openEndpoint, restrictEndpointPlaybook } from "./endpoint.ts";
import type { DetectorDefinition } from "./types.ts";

const settings = z._default(z.strictObject({}), {});

export const eksPublicEndpoint: DetectorDefinition<typeof settings> = {
  id: "eks-public-endpoint",
  title: "Cluster endpoint made public to the world",
  summary:
    "UpdateClusterConfig turned on public access to a cluster's Kubernetes API endpoint for 0.0.0.0/0, ::/0 or " +
    "another source wider than /8 (IPv4) or /32 (IPv6) that the policy does not allow. The fix narrows public access " +
    "to `endpoint.allowedPublicCidrs`, or turns it off when private access is on; it never leaves a cluster unreachable.",
  triggers: ["aws.eks UpdateClusterConfig"],
  actions: ["eks:restrict-endpoint"],
  defaultMode: "approve",
  defaultModeReason: "cutting public access can lock out people and CI systems that reach the API from outside",
  settings,
  detect(signal, _settings, context) {
    if (signal.family !== "cloudtrail" || signal.eventName !== "UpdateClusterConfig" || !signal.endpoint) return [];
    const open = openEndpoint(signal.endpoint, context);
    if (!open) return [];
    const playbook = restrictEndpointPlaybook(signal.cluster, signal.endpoint, context);
    return [
      makeAssessment(signal, 0, {
        detectorId: eksPublicEndpoint.id,
        severity: "high",
        title: open.known
          ? `Cluster ${signal.cluster} API endpoint made public to ${open.openCidrs.join(", ")}`
          : `Cluster ${signal.cluster} API endpoint made public (allowed sources not in the event)`,
        cluster: signal.cluster,
        resources: {},
        evidence: [
          `UpdateClusterConfig on ${signal.cluster}: endpointPublicAccess=true, endpointPrivateAccess=${signal.endpoint.privateAccess ?? "not in event"}, publicAccessCidrs=${signal.endpoint.publicAccessCidrs ? JSON.stringify(signal.endpoint.publicAccessCidrs) : "not in event"}`,
          ...actorEvidence(signal),
        ],
        ...playbook,
        doubts: open.known ? [] : ["the event does not say which CIDRs may reach the public endpoint"],
      }),
    ];
  },
};
