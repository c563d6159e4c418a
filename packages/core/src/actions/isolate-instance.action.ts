import { builtOnce } from "../lazy.ts";
import * as z from "../zod.ts";
import { deferredReversible } from "./deferred.ts";
import { clusterName, dryRunParam, instanceId, networkInterfaceId, vpcId } from "./ids.ts";
import type { ActionDefinition, PlannedCall } from "./types.ts";

export const QUARANTINE_TAG = "eks-responder:quarantined";
export const QUARANTINE_GROUP_TAG = "eks-responder:quarantine-group";

/**
 * The tag the VPC resource controller puts on each branch interface it creates, naming the trunk interface of the
 * node the pod runs on (the controller's own tag, shown on branch interfaces in
 * https://docs.aws.amazon.com/eks/latest/userguide/security-groups-for-pods.html setups; no AWS API page lists it).
 */
export const TRUNK_ENI_TAG = "vpcresources.k8s.aws/trunk-eni-id";

/** The branch-interface filter for the instance's trunk interfaces (the plan shows the same request). */
export function branchFilter(trunks: readonly string[]) {
  return [
    { Name: "interface-type", Values: ["branch"] },
    { Name: `tag:${TRUNK_ENI_TAG}`, Values: [...trunks] },
  ];
}

const params = builtOnce(() =>
  z.strictObject({
    instanceId,
    /** The EKS cluster the node belongs to; isolation is refused for instances that are not known nodes. */
    clusterName: z.optional(clusterName),
    vpcId: z.optional(vpcId),
    /** The interfaces the finding named; every interface the instance has when it is isolated is moved, not only these. */
    networkInterfaceIds: z.array(networkInterfaceId).check(z.minLength(1)),
    autoScalingGroupName: z.optional(z.string().check(z.minLength(1))),
    /** Isolate even when live tags do not show an EKS node (policy must say so). */
    allowNonEks: z._default(z.boolean(), false),
  }),
);
export type Params = z.output<ReturnType<typeof params>>;

/**
 * Why no network ACL is changed (decided for this action; what stays open is in the plan and in notCovered):
 * - A network ACL entry matches one CIDR, the source of inbound traffic and the destination of outbound traffic, so
 *   the ACL of the node's own subnet cannot single the node out: denying its addresses there matches nothing of its
 *   traffic. Cutting it takes deny entries in the ACLs of the *other* subnets (of the NAT gateways, load balancers,
 *   transit gateway attachments it talks to), ACLs shared by every workload of those subnets.
 *   https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html
 * - Traffic inside a subnet never crosses its ACL: peers in the node's own subnet stay reachable whatever the ACLs.
 * - An ACL holds 20 inbound and 20 outbound rules by default (40 at most), and a VPC CNI node has an address per pod
 *   or /28 prefixes: the entries would not fit, and a wrong rule number in a shared ACL cuts other workloads.
 *   https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html
 * The node's addresses are in the outcome (`details.addresses`) for the operator who decides to add those entries.
 */
const STAYS_OPEN =
  "still open: connections EC2 tracks automatically (NAT gateway, Network and Gateway Load Balancer, transit gateway, interface endpoint) until they close, and DNS to the Route 53 Resolver; no network ACL is changed (see the action's page)";

/** The node role's credentials, which no network change revokes (said in the plan and in the outcome). */
export const CREDENTIALS =
  "the node role's credentials stay valid: any already taken from the instance work until they expire; to cut only this instance's, deny all to the role on condition ec2:SourceInstanceARN = this instance (revoking the role's sessions cuts every node of the role until it refreshes)";

export const isolateInstance: ActionDefinition<ReturnType<typeof params>> = {
  id: "ec2:isolate-instance",
  summary:
    "Cut a compromised node off the network and keep it for forensics: quarantine security group on every interface " +
    "(its pods' branch interfaces too), tag, then termination protection, stop on shutdown, scale-in protection, " +
    "Standby and EBS snapshots, each reported when AWS refuses it.",
  get params() {
    return params();
  },
  permissions: [
    "ec2:DescribeSecurityGroups",
    "ec2:CreateSecurityGroup",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkInterfaces",
    "ec2:ModifyInstanceAttribute",
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:CreateTags",
    "ec2:CreateSnapshots",
    "ec2:DescribeInstanceAttribute",
    "ec2:DescribeSecurityGroupRules",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:SetInstanceProtection",
    "autoscaling:EnterStandby",
  ],
  // Apply's own undo after a failure partway only moves interfaces back (the tag is the last step that can fail, and
  // the protections come after it), so the functions keep ModifyNetworkInterfaceAttribute only; removing the tag,
  // lifting the protections and leaving Standby are rollback only (DeleteTags is scoped to the quarantine tag).
  rollbackPermissions: [
    "ec2:DeleteTags",
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:ModifyInstanceAttribute",
    "autoscaling:ExitStandby",
    "autoscaling:SetInstanceProtection",
  ],
  destructive: true,
  reversible: true,
  preconditions: [
    "the instance is a node of a known EKS cluster",
    "the instance is running and its network interfaces are the ones named",
  ],
  notCovered: [
    "connections EC2 tracks automatically (through NAT gateways, Network and Gateway Load Balancers, transit gateways, interface endpoints) stay open until they close: security groups only refuse new ones, and no network ACL is changed (an ACL entry cannot single out a node in its own subnet, and the ACLs of the other subnets are shared and hold 20 rules a direction by default); the outcome lists the node's addresses for entries an operator adds",
    "DNS queries to the Route 53 Resolver are never blocked by security groups",
    "pods scheduled on the node after the isolation get new branch interfaces with their own security groups: cordon the node",
    "the node role's credentials stay valid on the instance and wherever they were taken: deny the role on condition ec2:SourceInstanceARN of this instance, or revoke its sessions (every node of the role then refreshes)",
    "EKS node auto repair is set per managed node group (nodeRepairConfig), with no per-node opt-out: a node group with it on can still replace the node once it turns NotReady",
    "EC2 refuses termination protection for Spot instances and can still interrupt them (two-minute notice): the outcome reports the refusal, and only the snapshots keep the disks",
    "Standby is refused when the group is at its minimum size (the desired capacity cannot drop below it): the outcome reports it, scale-in protection still holds, Auto Scaling health checks can still replace the instance",
  ],
  rollbackSummary:
    "move every network interface (branch ones too) back to its recorded groups, take the instance out of Standby and lift the protections (snapshots are kept)",
  ...deferredReversible(() => import("./runtimes.ts").then((m) => m.isolateInstance)),
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
        operation: "DescribeNetworkInterfaces",
        params: { Filters: branchFilter([`<trunk interfaces of ${p.instanceId}>`]), MaxResults: 1000 },
        note: "only when the instance has a trunk interface (security groups for pods): its pods' branch interfaces, which DescribeInstances does not list; each is moved like the instance's own interfaces",
      },
    ];
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
          note: `then to the empty quarantine group, which cuts every untracked connection; ${STAYS_OPEN}`,
        },
      );
    }
    calls.push(
      {
        service: "ec2",
        operation: "CreateTags",
        params: { Resources: [p.instanceId], Tags: [{ Key: QUARANTINE_TAG, Value: context.assessmentId }], ...dry },
        note: `the network is cut once this is done; every step after it is reported when AWS refuses it, never undoing the isolation. Then: ${CREDENTIALS}`,
      },
      {
        service: "ec2",
        operation: "ModifyInstanceAttribute",
        params: { InstanceId: p.instanceId, DisableApiTermination: { Value: true }, ...dry },
        note: "termination protection on (EC2 refuses it for Spot instances: reported)",
      },
      {
        service: "ec2",
        operation: "ModifyInstanceAttribute",
        params: { InstanceId: p.instanceId, InstanceInitiatedShutdownBehavior: { Value: "stop" }, ...dry },
        note: "a shutdown from inside stops the instance instead of terminating it",
      },
    );
    if (p.autoScalingGroupName) {
      calls.push(
        {
          service: "autoscaling",
          operation: "SetInstanceProtection",
          params: {
            AutoScalingGroupName: p.autoScalingGroupName,
            InstanceIds: [p.instanceId],
            ProtectedFromScaleIn: true,
          },
          note: "the Auto Scaling group will not scale this instance in; sent to the group DescribeAutoScalingInstances names when the node is isolated, and not at all if it is in no Auto Scaling group any more (detached)",
        },
        {
          service: "autoscaling",
          operation: "EnterStandby",
          params: {
            AutoScalingGroupName: p.autoScalingGroupName,
            InstanceIds: [p.instanceId],
            ShouldDecrementDesiredCapacity: true,
          },
          note: "Standby: no health-check replacement, no scale-in, and no replacement launched (desired capacity decremented); only when the instance is InService; refused at the group's minimum size (reported)",
        },
      );
    }
    calls.push({
      service: "ec2",
      operation: "CreateSnapshots",
      params: {
        InstanceSpecification: { InstanceId: p.instanceId, ExcludeBootVolume: false },
        Description: `eks-responder forensic snapshot of ${p.instanceId} (${context.assessmentId})`,
        TagSpecifications: [{ ResourceType: "snapshot", Tags: [{ Key: QUARANTINE_TAG, Value: context.assessmentId }] }],
        CopyTagsFromSource: "volume",
        ...dry,
      },
      note: "snapshots of every EBS volume of the instance, for forensics",
    });
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
