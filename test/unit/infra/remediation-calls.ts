/**
 * Every AWS request check and apply of the actions make (account 111122223333, eu-west-1), written independently
 * of infra/iam.ts: iam.test.ts checks the function roles against them, organization.test.ts the member role.
 */
export const ACCOUNT = "111122223333";
export const REGION = "eu-west-1";

/** One AWS request: the IAM action, the resource it touches, and the request's context keys. */
export interface Call {
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
}

export const ec2 = (resource: string, account = ACCOUNT) => `arn:aws:ec2:${REGION}:${account}:${resource}`;
export const SG = ec2("security-group/sg-0632fa4ee8a8468a4");
export const SGR = ec2("security-group-rule/sgr-09be5c962afdc06ed");
export const INSTANCE = ec2("instance/i-0abcdef1234567890");
export const VOLUME = ec2("volume/vol-0abcdef1234567890");
export const ENI = ec2("network-interface/eni-0abcdef1234567890");
export const SUBNET = ec2("subnet/subnet-0abcdef1234567890");
export const VPC = ec2("vpc/vpc-0abcdef1234567890");
export const SNAPSHOT = `arn:aws:ec2:${REGION}::snapshot/snap-0abcdef1234567890`;
export const CLUSTER = `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/prod-eks`;
export const NODEGROUP = `arn:aws:eks:${REGION}:${ACCOUNT}:nodegroup/prod-eks/bottlerocket/4ac6b2f0-1111-2222-3333-444455556666`;
export const ACCESS_ENTRY = `arn:aws:eks:${REGION}:${ACCOUNT}:access-entry/prod-eks/role/${ACCOUNT}/ci-admin/3ac6a6b8-0b7b-4a5e-9f3c-0123456789ab`;
export const PATCH_DOCUMENT = `arn:aws:ssm:${REGION}::document/AWS-RunPatchBaseline`;
export const ASG = `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:8f9e1c2d-1111-2222-3333-444455556666:autoScalingGroupName/eks-general-20250101`;
export const TABLE = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/eks-responder-prod`;
export const STATE_MACHINE = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:eks-responder-prod-approval`;
export const QUARANTINE_TAG = "eks-responder:quarantined";
export const PATCH_RUN_TAG = "eks-responder:patch-run";

export const GROUP_ROLE_TAG = "aws:ResourceTag/eks-responder:quarantine-group";
export const ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

/** ModifySecurityGroupRules on the cluster security group (tagged aws:eks:cluster-name by EKS) and its rule. */
export const CLUSTER_SG_MODIFY: Call[] = [
  {
    action: "ec2:ModifySecurityGroupRules",
    resource: SG,
    context: { "aws:ResourceTag/aws:eks:cluster-name": "prod-eks" },
  },
  { action: "ec2:ModifySecurityGroupRules", resource: SGR },
];

/**
 * Every AWS request check and apply of the actions make, with the resources AWS authorizes for it and the request's
 * condition keys. Written independently of infra/iam.ts: the test below demands one entry per `permissions` entry.
 */
export const APPLY_CALLS: Record<string, Call[]> = {
  "ec2:DescribeInstances": [{ action: "ec2:DescribeInstances", resource: "*" }],
  "ec2:DescribeNetworkInterfaces": [{ action: "ec2:DescribeNetworkInterfaces", resource: "*" }],
  "ec2:DescribeSecurityGroups": [{ action: "ec2:DescribeSecurityGroups", resource: "*" }],
  "ec2:DescribeSecurityGroupRules": [{ action: "ec2:DescribeSecurityGroupRules", resource: "*" }],
  // revoke-ingress on any group; isolate-instance empties its quarantine group
  "ec2:RevokeSecurityGroupIngress": [{ action: "ec2:RevokeSecurityGroupIngress", resource: SG }],
  "ec2:RevokeSecurityGroupEgress": [
    { action: "ec2:RevokeSecurityGroupEgress", resource: SG, context: { [GROUP_ROLE_TAG]: "quarantine" } },
  ],
  // revoke-ingress turns a widened rule of an EKS cluster security group back into its self reference
  "ec2:ModifySecurityGroupRules": CLUSTER_SG_MODIFY,
  // isolate-instance opens its new transition group only
  "ec2:AuthorizeSecurityGroupIngress": [
    { action: "ec2:AuthorizeSecurityGroupIngress", resource: SG, context: { [GROUP_ROLE_TAG]: "transition" } },
    { action: "ec2:AuthorizeSecurityGroupIngress", resource: SGR },
  ],
  "ec2:AuthorizeSecurityGroupEgress": [
    { action: "ec2:AuthorizeSecurityGroupEgress", resource: SG, context: { [GROUP_ROLE_TAG]: "transition" } },
    { action: "ec2:AuthorizeSecurityGroupEgress", resource: SGR },
  ],
  "ec2:CreateSecurityGroup": ["quarantine", "transition"].flatMap((role) =>
    [SG, VPC].map((resource) => ({
      action: "ec2:CreateSecurityGroup",
      resource,
      context: {
        "aws:RequestTag/eks-responder:quarantine-group": role,
        "aws:TagKeys": ["eks-responder:quarantine-group"],
      },
    })),
  ),
  "ec2:CreateTags": [
    { action: "ec2:CreateTags", resource: SG, context: { "ec2:CreateAction": "CreateSecurityGroup" } },
    { action: "ec2:CreateTags", resource: SNAPSHOT, context: { "ec2:CreateAction": "CreateSnapshots" } },
    { action: "ec2:CreateTags", resource: INSTANCE, context: { "aws:TagKeys": [QUARANTINE_TAG] } },
    // patch-nodes' run tag (more than 50 nodes)
    { action: "ec2:CreateTags", resource: INSTANCE, context: { "aws:TagKeys": [PATCH_RUN_TAG] } },
  ],
  // patch-nodes' run tag removed after the command (the quarantine tag is removed by rollback only)
  "ec2:DeleteTags": [{ action: "ec2:DeleteTags", resource: INSTANCE, context: { "aws:TagKeys": [PATCH_RUN_TAG] } }],
  "ec2:DescribeInstanceAttribute": [{ action: "ec2:DescribeInstanceAttribute", resource: INSTANCE }],
  "ec2:ModifyInstanceAttribute": [{ action: "ec2:ModifyInstanceAttribute", resource: INSTANCE }],
  "ec2:ModifyNetworkInterfaceAttribute": [ENI, INSTANCE, SG, SUBNET].map((resource) => ({
    action: "ec2:ModifyNetworkInterfaceAttribute",
    resource,
  })),
  "ec2:CreateSnapshots": [INSTANCE, VOLUME, SNAPSHOT].map((resource) => ({ action: "ec2:CreateSnapshots", resource })),
  "eks:DescribeCluster": [{ action: "eks:DescribeCluster", resource: CLUSTER }],
  // restrict-endpoint and enable-logging follow their update to its end, patch-nodes a node group's AMI update
  "eks:DescribeUpdate": [
    { action: "eks:DescribeUpdate", resource: CLUSTER },
    { action: "eks:DescribeUpdate", resource: NODEGROUP },
  ],
  // patch-nodes: the AMI update of a managed node group whose nodes Patch Manager does not patch
  "eks:DescribeNodegroup": [{ action: "eks:DescribeNodegroup", resource: NODEGROUP }],
  "eks:UpdateNodegroupVersion": [{ action: "eks:UpdateNodegroupVersion", resource: NODEGROUP }],
  // restrict-endpoint reads the VPC's DNS attributes before it turns private access on
  "ec2:DescribeVpcAttribute": [{ action: "ec2:DescribeVpcAttribute", resource: VPC }],
  // restrict-endpoint (narrow with private on, or public off with private on) and enable-logging (types on)
  "eks:UpdateClusterConfig": [
    {
      action: "eks:UpdateClusterConfig",
      resource: CLUSTER,
      context: { "eks:endpointPublicAccess": "true", "eks:endpointPrivateAccess": "true" },
    },
    {
      action: "eks:UpdateClusterConfig",
      resource: CLUSTER,
      context: { "eks:endpointPublicAccess": "false", "eks:endpointPrivateAccess": "true" },
    },
    {
      action: "eks:UpdateClusterConfig",
      resource: CLUSTER,
      context: {
        "eks:loggingType/api": "true",
        "eks:loggingType/audit": "true",
        "eks:loggingType/authenticator": "true",
      },
    },
  ],
  "eks:ListAssociatedAccessPolicies": [{ action: "eks:ListAssociatedAccessPolicies", resource: ACCESS_ENTRY }],
  "eks:DescribeAccessEntry": [{ action: "eks:DescribeAccessEntry", resource: ACCESS_ENTRY }],
  "eks:DisassociateAccessPolicy": [
    {
      action: "eks:DisassociateAccessPolicy",
      resource: ACCESS_ENTRY,
      context: { "eks:policyArn": ADMIN_POLICY, "eks:accessScope": "cluster" },
    },
  ],
  // revoke-access narrows an association back to namespaces (never cluster-wide: REOPENING)
  "eks:AssociateAccessPolicy": [
    {
      action: "eks:AssociateAccessPolicy",
      resource: ACCESS_ENTRY,
      context: { "eks:policyArn": ADMIN_POLICY, "eks:accessScope": "namespace", "eks:namespaces": ["team-a"] },
    },
  ],
  "eks:UpdateAccessEntry": [{ action: "eks:UpdateAccessEntry", resource: ACCESS_ENTRY }],
  "eks:DeleteAccessEntry": [{ action: "eks:DeleteAccessEntry", resource: ACCESS_ENTRY }],
  "ssm:DescribeInstanceInformation": [{ action: "ssm:DescribeInstanceInformation", resource: "*" }],
  "ssm:ListCommandInvocations": [{ action: "ssm:ListCommandInvocations", resource: "*" }],
  "ssm:SendCommand": [
    { action: "ssm:SendCommand", resource: PATCH_DOCUMENT },
    { action: "ssm:SendCommand", resource: INSTANCE },
  ],
  "autoscaling:DescribeAutoScalingInstances": [{ action: "autoscaling:DescribeAutoScalingInstances", resource: "*" }],
  "autoscaling:SetInstanceProtection": [{ action: "autoscaling:SetInstanceProtection", resource: ASG }],
  "autoscaling:EnterStandby": [{ action: "autoscaling:EnterStandby", resource: ASG }],
};

/** Every AWS request the actions' rollbacks make: one entry per `rollbackPermissions` entry. */
export const ROLLBACK_CALLS: Record<string, Call[]> = {
  // revoke-ingress: the revoked rules back on the (ordinary) group
  "ec2:AuthorizeSecurityGroupIngress": [
    { action: "ec2:AuthorizeSecurityGroupIngress", resource: SG },
    { action: "ec2:AuthorizeSecurityGroupIngress", resource: SGR },
  ],
  // revoke-ingress: a cluster security group's rule modified back to what it was
  "ec2:ModifySecurityGroupRules": CLUSTER_SG_MODIFY,
  "ec2:DeleteTags": [{ action: "ec2:DeleteTags", resource: INSTANCE, context: { "aws:TagKeys": [QUARANTINE_TAG] } }],
  "ec2:ModifyInstanceAttribute": [{ action: "ec2:ModifyInstanceAttribute", resource: INSTANCE }],
  "ec2:ModifyNetworkInterfaceAttribute": [ENI, INSTANCE, SG, SUBNET].map((resource) => ({
    action: "ec2:ModifyNetworkInterfaceAttribute",
    resource,
  })),
  "eks:UpdateClusterConfig": [
    {
      action: "eks:UpdateClusterConfig",
      resource: CLUSTER,
      context: { "eks:endpointPublicAccess": "true", "eks:endpointPrivateAccess": "false" },
    },
    { action: "eks:UpdateClusterConfig", resource: CLUSTER, context: { "eks:loggingType/audit": "false" } },
  ],
  "eks:DescribeUpdate": [{ action: "eks:DescribeUpdate", resource: CLUSTER }],
  "eks:AssociateAccessPolicy": [
    {
      action: "eks:AssociateAccessPolicy",
      resource: ACCESS_ENTRY,
      context: { "eks:policyArn": ADMIN_POLICY, "eks:accessScope": "cluster" },
    },
  ],
  "eks:UpdateAccessEntry": [{ action: "eks:UpdateAccessEntry", resource: ACCESS_ENTRY }],
  "eks:CreateAccessEntry": [
    {
      action: "eks:CreateAccessEntry",
      resource: CLUSTER,
      context: {
        "eks:principalArn": `arn:aws:iam::${ACCOUNT}:role/external-ci-deployer`,
        "eks:kubernetesGroups": ["system:masters"],
        "eks:accessEntryType": "STANDARD",
      },
    },
  ],
  "autoscaling:ExitStandby": [{ action: "autoscaling:ExitStandby", resource: ASG }],
  "autoscaling:SetInstanceProtection": [{ action: "autoscaling:SetInstanceProtection", resource: ASG }],
};
