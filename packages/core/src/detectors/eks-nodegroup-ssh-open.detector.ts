import * as z from "../zod.ts";
import { actorEvidence, makeAssessment } from "./common.ts";
import type { DetectorDefinition } from "./types.ts";

const settings = z._default(z.strictObject({}), {});

export const eksNodegroupSshOpen: DetectorDefinition<typeof settings> = {
  id: "eks-nodegroup-ssh-open",
  title: "Node group created with SSH open to the world",
  summary:
    "CreateNodegroup set `remoteAccess.ec2SshKey` without `sourceSecurityGroups`. EKS then opens port 22 on the " +
    "nodes to 0.0.0.0/0 through a security group it creates after the call, so its id is not in the event.",
  triggers: ["aws.eks CreateNodegroup"],
  actions: [],
  defaultMode: "alert",
  defaultModeReason: "the security group to fix does not exist yet when the event arrives, so there is no exact plan",
  settings,
  detect(signal) {
    if (signal.family !== "cloudtrail" || signal.eventName !== "CreateNodegroup") return [];
    const remote = signal.remoteAccess;
    if (!remote?.ec2SshKey || remote.sourceSecurityGroups.length > 0) return [];
    return [
      makeAssessment(signal, 0, {
        detectorId: eksNodegroupSshOpen.id,
        severity: "high",
        title: `Node group ${signal.nodegroup} on cluster ${signal.cluster} opens SSH (tcp/22) to 0.0.0.0/0`,
        cluster: signal.cluster,
        resources: { nodegroup: signal.nodegroup },
        evidence: [
          `CreateNodegroup ${signal.nodegroup} with ec2SshKey ${remote.ec2SshKey} and no sourceSecurityGroups`,
          ...actorEvidence(signal),
        ],
        notes: [
          `EKS creates the remote-access security group after the call: find it with \`aws eks describe-nodegroup --cluster-name ${signal.cluster} --nodegroup-name ${signal.nodegroup}\` (resources.remoteAccessSecurityGroup) and revoke tcp/22 from 0.0.0.0/0, or recreate the node group with sourceSecurityGroups`,
        ],
      }),
    ];
  },
};
