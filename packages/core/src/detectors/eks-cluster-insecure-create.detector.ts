import * as z from "../zod.ts";
import { actorEvidence, makeAssessment } from "./common.ts";
import { openEndpoint, restrictEndpointPlaybook } from "./endpoint.ts";
import type { Assessment, DetectorDefinition } from "./types.ts";

const settings = z._default(
  z.strictObject({
    /** Flag clusters created without envelope encryption of Kubernetes secrets. */
    requireSecretsEncryption: z._default(z.boolean(), true),
  }),
  { requireSecretsEncryption: true },
);

export const eksClusterInsecureCreate: DetectorDefinition<typeof settings> = {
  id: "eks-cluster-insecure-create",
  title: "Cluster created with a world-open endpoint or without secrets encryption",
  summary:
    "CreateCluster made a cluster whose public API endpoint is open to the world (EKS's default when the request " +
    "does not say otherwise) or whose Kubernetes secrets are not envelope-encrypted with a KMS key. The endpoint is " +
    "restricted like `eks-public-endpoint` does; encryption needs a key the team chooses, so it is alerted.",
  triggers: ["aws.eks CreateCluster"],
  actions: ["eks:restrict-endpoint"],
  defaultMode: "approve",
  defaultModeReason: "a new cluster may still be reached by the tooling that created it from outside",
  settings,
  detect(signal, s, context) {
    if (signal.family !== "cloudtrail" || signal.eventName !== "CreateCluster") return [];
    const found: Assessment[] = [];
    const open = openEndpoint(signal.endpoint, context);
    if (open) {
      found.push(
        makeAssessment(signal, found.length, {
          detectorId: eksClusterInsecureCreate.id,
          severity: "high",
          title: `Cluster ${signal.cluster} created with its API endpoint public to ${open.openCidrs.join(", ")}`,
          cluster: signal.cluster,
          resources: {},
          evidence: [
            `CreateCluster ${signal.cluster}: endpointPublicAccess=${signal.endpoint.publicAccess}, endpointPrivateAccess=${signal.endpoint.privateAccess}, publicAccessCidrs=${JSON.stringify(signal.endpoint.publicAccessCidrs)}`,
            ...(signal.endpointDefaults ? ["the request did not set endpoint access: these are EKS's defaults"] : []),
            ...actorEvidence(signal),
          ],
          ...restrictEndpointPlaybook(signal.cluster, signal.endpoint, context),
        }),
      );
    }
    if (s.requireSecretsEncryption && !signal.secretsEncrypted) {
      found.push(
        makeAssessment(signal, found.length, {
          detectorId: eksClusterInsecureCreate.id,
          severity: "medium",
          title: `Cluster ${signal.cluster} created without KMS encryption of Kubernetes secrets`,
          cluster: signal.cluster,
          resources: {},
          evidence: [`CreateCluster ${signal.cluster} has no encryptionConfig for "secrets"`, ...actorEvidence(signal)],
          notes: [
            `encryption needs a KMS key of the team's choosing: \`aws eks associate-encryption-config --cluster-name ${signal.cluster} --encryption-config '[{"resources":["secrets"],"provider":{"keyArn":"<key arn>"}}]'\``,
          ],
        }),
      );
    }
    return found;
  },
};
