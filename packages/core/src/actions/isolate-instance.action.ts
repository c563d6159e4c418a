import { z } from "zod";
import { clusterName, dryRunParam, instanceId, networkInterfaceId, vpcId } from "./ids.ts";
import type { ActionDefinition, PlannedCall } from "./types.ts";

const params = z.strictObject({
  instanceId,
  /** The EKS cluster the node belongs to; isolation is refused for instances that are not known nodes. */
  clusterName: clusterName.optional(),
  vpcId: vpcId.optional(),
  networkInterfaceIds: z.array(networkInterfaceId).min(1),
  autoScalingGroupName: z.string().min(1).optional(),
});

export const QUARANTINE_TAG = "eks-responder:quarantined";
export const QUARANTINE_GROUP_TAG = "eks-responder:quarantine-group";

export const isolateInstance: ActionDefinition<typeof params> = {
  id: "ec2:isolate-instance",
  summary:
    "Cut a compromised node off the network and keep it for forensics: quarantine security group, termination " +
    "protection, scale-in protection, tag, EBS snapshots.",
  params,
  permissions: [
    "ec2:DescribeSecurityGroups",
    "ec2:CreateSecurityGroup",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:DescribeInstances",
    "ec2:ModifyInstanceAttribute",
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:CreateTags",
    "ec2:CreateSnapshots",
    "autoscaling:SetInstanceProtection",
  ],
  destructive: true,
  reversible: true,
  preconditions: [
    "the instance is a node of a known EKS cluster",
    "the instance is running and its network interfaces are the ones named",
  ],
  rollback: "move every network interface back to its recorded groups and lift the protections (snapshots are kept)",
  plan(p, context) {
    if (p.clusterName === undefined) {
      return { refused: `${p.instanceId} is not a node of a known EKS cluster: isolation refused` };
    }
    if (p.vpcId === undefined) {
      return { refused: `the finding does not name the VPC of ${p.instanceId}: the quarantine group cannot be chosen` };
    }
    const dry = dryRunParam(context.dryRun);
    const transition = `<transition group of ${p.vpcId}>`;
    const quarantine = `<quarantine group of ${p.vpcId}>`;
    const calls: PlannedCall[] = [
      {
        service: "ec2",
        operation: "DescribeSecurityGroups",
        params: {
          Filters: [
            { Name: "vpc-id", Values: [p.vpcId] },
            { Name: `tag:${QUARANTINE_GROUP_TAG}`, Values: ["transition", "quarantine"] },
          ],
        },
        note: `find the transition and quarantine groups of ${p.vpcId}; each missing one is created once (CreateSecurityGroup, tagged ${QUARANTINE_GROUP_TAG}; the quarantine group's default egress rule is revoked so it has no rules; the transition group allows all traffic)`,
      },
      {
        service: "ec2",
        operation: "ModifyInstanceAttribute",
        params: { InstanceId: p.instanceId, DisableApiTermination: { Value: true }, ...dry },
        note: "termination protection on",
      },
      {
        service: "ec2",
        operation: "ModifyInstanceAttribute",
        params: { InstanceId: p.instanceId, InstanceInitiatedShutdownBehavior: { Value: "stop" }, ...dry },
        note: "a shutdown from inside stops the instance instead of terminating it",
      },
    ];
    if (p.autoScalingGroupName) {
      calls.push({
        service: "autoscaling",
        operation: "SetInstanceProtection",
        params: {
          AutoScalingGroupName: p.autoScalingGroupName,
          InstanceIds: [p.instanceId],
          ProtectedFromScaleIn: true,
        },
        note: "the Auto Scaling group will not scale this instance in",
      });
    }
    for (const eni of p.networkInterfaceIds) {
      calls.push(
        {
          service: "ec2",
          operation: "ModifyNetworkInterfaceAttribute",
          params: { NetworkInterfaceId: eni, Groups: [transition], ...dry },
          note: "first to a group that allows all traffic, so tracked connections become untracked",
        },
        {
          service: "ec2",
          operation: "ModifyNetworkInterfaceAttribute",
          params: { NetworkInterfaceId: eni, Groups: [quarantine], ...dry },
          note: "then to the empty quarantine group, which cuts every connection",
        },
      );
    }
    calls.push(
      {
        service: "ec2",
        operation: "CreateTags",
        params: { Resources: [p.instanceId], Tags: [{ Key: QUARANTINE_TAG, Value: context.assessmentId }], ...dry },
      },
      {
        service: "ec2",
        operation: "CreateSnapshots",
        params: {
          InstanceSpecification: { InstanceId: p.instanceId, ExcludeBootVolume: false },
          Description: `eks-responder forensic snapshot of ${p.instanceId} (${context.assessmentId})`,
          TagSpecifications: [
            { ResourceType: "snapshot", Tags: [{ Key: QUARANTINE_TAG, Value: context.assessmentId }] },
          ],
          CopyTagsFromSource: "volume",
          ...dry,
        },
        note: "snapshots of every EBS volume of the instance, for forensics",
      },
    );
    return { calls };
  },
  example: {
    instanceId: "i-0f1e2d3c4b5a69788",
    clusterName: "prod-eks",
    vpcId: "vpc-0a1b2c3d4e5f67890",
    networkInterfaceIds: ["eni-0a9b8c7d6e5f43210"],
    autoScalingGroupName: "eks-general-8ac6f1b2",
  },
};
