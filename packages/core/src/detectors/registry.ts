import { ec2OpenIngress } from "./ec2-open-ingress.detector.ts";
import { eksClusterAdminGranted } from "./eks-cluster-admin-granted.detector.ts";
import { eksClusterDeleted } from "./eks-cluster-deleted.detector.ts";
import { eksClusterInsecureCreate } from "./eks-cluster-insecure-create.detector.ts";
import { eksLoggingDisabled } from "./eks-logging-disabled.detector.ts";
import { eksNodegroupSshOpen } from "./eks-nodegroup-ssh-open.detector.ts";
import { eksPublicEndpoint } from "./eks-public-endpoint.detector.ts";
import { guardDutyAttackSequence } from "./guardduty-attack-sequence.detector.ts";
import { guardDutyCompromisedNode } from "./guardduty-compromised-node.detector.ts";
import { guardDutyCompromisedUser } from "./guardduty-compromised-user.detector.ts";
import { guardDutyCompromisedWorkload } from "./guardduty-compromised-workload.detector.ts";
import { guardDutyConfigurationIssue } from "./guardduty-configuration-issue.detector.ts";
import { guardDutyRuntimeThreat } from "./guardduty-runtime-threat.detector.ts";
import type { DetectorDefinition } from "./types.ts";

/** Every detector, in one explicit list. The policy schema, the docs and the event rules are derived from it. */
export const DETECTORS: readonly DetectorDefinition[] = [
  ec2OpenIngress,
  eksPublicEndpoint,
  eksLoggingDisabled,
  eksClusterAdminGranted,
  eksNodegroupSshOpen,
  eksClusterInsecureCreate,
  eksClusterDeleted,
  guardDutyConfigurationIssue,
  guardDutyCompromisedUser,
  guardDutyCompromisedWorkload,
  guardDutyCompromisedNode,
  guardDutyRuntimeThreat,
  guardDutyAttackSequence,
];

export function detectorIds(): string[] {
  return DETECTORS.map((d) => d.id);
}
