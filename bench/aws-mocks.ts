/**
 * AWS clients mocked (aws-sdk-client-mock) to answer every call the actions make on their happy path: shared by the
 * benchmarks that count AWS calls or run the respond path without AWS.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
  EnterStandbyCommand,
  SetInstanceProtectionCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  type DescribeSecurityGroupsCommandInput,
  DescribeVpcAttributeCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import {
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  DescribeUpdateCommand,
  DisassociateAccessPolicyCommand,
  EKSClient,
  ListAssociatedAccessPoliciesCommand,
  UpdateClusterConfigCommand,
} from "@aws-sdk/client-eks";
import {
  DescribeInstanceInformationCommand,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { liveGroups } from "../test/helpers/ec2-groups.ts";

/** Answers every call the actions make on their happy path. */
export function mockHappyPath() {
  const ec2 = mockClient(EC2Client);
  const eks = mockClient(EKSClient);
  const ssm = mockClient(SSMClient);
  const asg = mockClient(AutoScalingClient);
  ec2
    .on(RevokeSecurityGroupIngressCommand)
    .callsFake(async (input: { GroupId?: string; SecurityGroupRuleIds?: string[] }) => ({
      Return: true,
      RevokedSecurityGroupRules: (input.SecurityGroupRuleIds ?? []).map((id) => ({
        SecurityGroupRuleId: id,
        GroupId: input.GroupId,
        IsEgress: false,
        IpProtocol: "tcp",
        FromPort: 22,
        ToPort: 22,
        CidrIpv4: "0.0.0.0/0",
      })),
    }));
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({
    SecurityGroupRules: [
      {
        SecurityGroupRuleId: "sgr-09be5c962afdc06ed",
        GroupId: "sg-0632fa4ee8a8468a4",
        IsEgress: false,
        IpProtocol: "tcp",
        FromPort: 22,
        ToPort: 22,
        CidrIpv4: "0.0.0.0/0",
      },
    ],
  });
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: "i-0f1e2d3c4b5a69788",
            VpcId: "vpc-0a1b2c3d4e5f67890",
            State: { Name: "running" },
            Tags: [
              { Key: "eks:cluster-name", Value: "prod-eks" },
              { Key: "aws:autoscaling:groupName", Value: "eks-general" },
            ],
            NetworkInterfaces: [
              { NetworkInterfaceId: "eni-0a9b8c7d6e5f43210", Groups: [{ GroupId: "sg-0c1d2e3f4a5b6c7d8" }] },
            ],
          },
        ],
      },
    ],
  });
  ec2
    .on(DescribeInstanceAttributeCommand)
    .resolves({ DisableApiTermination: { Value: false }, InstanceInitiatedShutdownBehavior: { Value: "terminate" } });
  // By id: revoke-ingress reading a group's tags for the policy's exemption tags (untagged). By filter:
  // isolate-instance finding its quarantine groups.
  const untagged = liveGroups();
  ec2.on(DescribeSecurityGroupsCommand).callsFake((input: DescribeSecurityGroupsCommandInput) =>
    input.GroupIds
      ? untagged(input)
      : {
          SecurityGroups: [
            { GroupId: "sg-0aaaaaaaaaaaaaaaa", Tags: [{ Key: "eks-responder:quarantine-group", Value: "transition" }] },
            { GroupId: "sg-0bbbbbbbbbbbbbbbb", Tags: [{ Key: "eks-responder:quarantine-group", Value: "quarantine" }] },
          ],
        },
  );
  ec2.on(ModifyInstanceAttributeCommand).resolves({});
  ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
  ec2.on(CreateTagsCommand).resolves({});
  ec2.on(CreateSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: "snap-1" }] });
  eks.on(DescribeClusterCommand).resolves({
    cluster: {
      resourcesVpcConfig: {
        vpcId: "vpc-0a1b2c3d4e5f67890",
        endpointPublicAccess: true,
        endpointPrivateAccess: false,
        publicAccessCidrs: ["0.0.0.0/0"],
      },
      logging: { clusterLogging: [{ types: ["api", "audit", "authenticator"], enabled: false }] },
    },
  });
  // The VPC resolves the private endpoint (restrict-endpoint turns private access on):
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcAttribute.html
  ec2
    .on(DescribeVpcAttributeCommand)
    .resolves({ EnableDnsSupport: { Value: true }, EnableDnsHostnames: { Value: true } });
  // An update starts InProgress and DescribeUpdate says Successful:
  // https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeUpdate.html
  eks.on(UpdateClusterConfigCommand).resolves({ update: { id: "u-1", status: "InProgress" } });
  eks.on(DescribeUpdateCommand).resolves({ update: { id: "u-1", status: "Successful" } });
  eks.on(ListAssociatedAccessPoliciesCommand).resolves({
    associatedAccessPolicies: [
      {
        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        accessScope: { type: "cluster" },
      },
    ],
  });
  eks.on(DescribeAccessEntryCommand).resolves({ accessEntry: { kubernetesGroups: [], tags: {} } });
  eks.on(DisassociateAccessPolicyCommand).resolves({});
  // Each instance asked about is in service in the node group's Auto Scaling group (the isolate-instance example's
  // tag), so the happy path includes its scale-in protection. An instance in no group would be left out of the answer:
  // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingInstances.html
  asg.on(DescribeAutoScalingInstancesCommand).callsFake((input: { InstanceIds?: string[] }) => ({
    AutoScalingInstances: (input.InstanceIds ?? []).map((InstanceId) => ({
      InstanceId,
      AutoScalingGroupName: "eks-general",
      AvailabilityZone: "eu-west-1a",
      LifecycleState: "InService",
      HealthStatus: "HEALTHY",
      ProtectedFromScaleIn: false,
    })),
  }));
  asg.on(SetInstanceProtectionCommand).resolves({});
  // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_EnterStandby.html: the activities it started.
  asg.on(EnterStandbyCommand).resolves({ Activities: [] });
  ssm.on(DescribeInstanceInformationCommand).resolves({
    InstanceInformationList: [
      { InstanceId: "i-0aaaaaaaaaaaaaaaa", PingStatus: "Online", PlatformType: "Linux", PlatformName: "Amazon Linux" },
      { InstanceId: "i-0bbbbbbbbbbbbbbbb", PingStatus: "Online", PlatformType: "Linux", PlatformName: "Amazon Linux" },
    ],
  });
  ssm.on(SendCommandCommand).resolves({ Command: { CommandId: "cmd-1" } });
  ssm.on(ListCommandInvocationsCommand).resolves({
    CommandInvocations: [
      { InstanceId: "i-0aaaaaaaaaaaaaaaa", Status: "Success" },
      { InstanceId: "i-0bbbbbbbbbbbbbbbb", Status: "Success" },
    ],
  });
  const mocks = [ec2, eks, ssm, asg];
  return {
    calls: () => mocks.reduce((n, m) => n + m.calls().length, 0),
    /** The operations sent, in order (the command's class name without `Command`). */
    operations: () =>
      mocks.flatMap((m) => m.calls().map((c) => (c.args[0] as object).constructor.name.replace(/Command$/, ""))),
    reset: () => {
      for (const m of mocks) m.resetHistory();
    },
    restore: () => {
      for (const m of mocks) m.restore();
    },
  };
}
