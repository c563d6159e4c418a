import { runSimulation, runUnsafeSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import { describe, expect, it } from "vitest";
import {
  FUNCTION_ACCESS,
  functionPolicy,
  type IamContext,
  iamContext,
  type PolicyDocument,
  REMEDIATION_SCOPES,
  remediationActions,
  stateMachinePolicy,
  topicKeyPolicy,
  toSstPermissions,
} from "../../../infra/iam.ts";
import { FUNCTION_IDS, type FunctionId, settings } from "../../../infra/naming.ts";
import { ACTIONS } from "../../../packages/core/src/actions/registry.ts";

const ACCOUNT = "111122223333";
const OTHER_ACCOUNT = "444455556666";
const REGION = "eu-west-1";
const OTHER_REGION = "us-east-1";
const names = settings("eks-responder", "prod");
const context: IamContext = iamContext(
  {
    partition: "aws",
    account: ACCOUNT,
    region: REGION,
    topicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:eks-responder-prod-alerts`,
    topicKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    deadLetterQueueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:eks-responder-prod-dlq`,
  },
  names,
);

/** One AWS request: the IAM action, the resource it touches, and the request's context keys. */
interface Call {
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
}

const ec2 = (resource: string, account = ACCOUNT) => `arn:aws:ec2:${REGION}:${account}:${resource}`;
const SG = ec2("security-group/sg-0632fa4ee8a8468a4");
const SGR = ec2("security-group-rule/sgr-09be5c962afdc06ed");
const INSTANCE = ec2("instance/i-0abcdef1234567890");
const VOLUME = ec2("volume/vol-0abcdef1234567890");
const ENI = ec2("network-interface/eni-0abcdef1234567890");
const SUBNET = ec2("subnet/subnet-0abcdef1234567890");
const VPC = ec2("vpc/vpc-0abcdef1234567890");
const SNAPSHOT = `arn:aws:ec2:${REGION}::snapshot/snap-0abcdef1234567890`;
const CLUSTER = `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/prod-eks`;
const ACCESS_ENTRY = `arn:aws:eks:${REGION}:${ACCOUNT}:access-entry/prod-eks/role/${ACCOUNT}/ci-admin/3ac6a6b8-0b7b-4a5e-9f3c-0123456789ab`;
const PATCH_DOCUMENT = `arn:aws:ssm:${REGION}::document/AWS-RunPatchBaseline`;
const ASG = `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:8f9e1c2d-1111-2222-3333-444455556666:autoScalingGroupName/eks-general-20250101`;
const TABLE = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/eks-responder-prod`;
const STATE_MACHINE = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:eks-responder-prod-approval`;
const QUARANTINE_TAG = "eks-responder:quarantined";

/**
 * Every AWS request the remediation actions make (check, apply and rollback), with the resources AWS authorizes for
 * it. Written independently of infra/iam.ts: the test below demands one entry per permission in ACTIONS.
 */
const REMEDIATION_CALLS: Record<string, Call[]> = {
  "ec2:DescribeInstances": [{ action: "ec2:DescribeInstances", resource: "*" }],
  "ec2:DescribeSecurityGroups": [{ action: "ec2:DescribeSecurityGroups", resource: "*" }],
  "ec2:DescribeSecurityGroupRules": [{ action: "ec2:DescribeSecurityGroupRules", resource: "*" }],
  "ec2:RevokeSecurityGroupIngress": [{ action: "ec2:RevokeSecurityGroupIngress", resource: SG }],
  "ec2:RevokeSecurityGroupEgress": [{ action: "ec2:RevokeSecurityGroupEgress", resource: SG }],
  "ec2:AuthorizeSecurityGroupIngress": [
    { action: "ec2:AuthorizeSecurityGroupIngress", resource: SG },
    { action: "ec2:AuthorizeSecurityGroupIngress", resource: SGR },
  ],
  "ec2:AuthorizeSecurityGroupEgress": [
    { action: "ec2:AuthorizeSecurityGroupEgress", resource: SG },
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
  ],
  "ec2:DeleteTags": [{ action: "ec2:DeleteTags", resource: INSTANCE, context: { "aws:TagKeys": [QUARANTINE_TAG] } }],
  "ec2:DescribeInstanceAttribute": [{ action: "ec2:DescribeInstanceAttribute", resource: INSTANCE }],
  "ec2:ModifyInstanceAttribute": [{ action: "ec2:ModifyInstanceAttribute", resource: INSTANCE }],
  "ec2:ModifyNetworkInterfaceAttribute": [ENI, INSTANCE, SG, SUBNET].map((resource) => ({
    action: "ec2:ModifyNetworkInterfaceAttribute",
    resource,
  })),
  "ec2:CreateSnapshots": [INSTANCE, VOLUME, SNAPSHOT].map((resource) => ({ action: "ec2:CreateSnapshots", resource })),
  "eks:DescribeCluster": [{ action: "eks:DescribeCluster", resource: CLUSTER }],
  "eks:UpdateClusterConfig": [{ action: "eks:UpdateClusterConfig", resource: CLUSTER }],
  "eks:CreateAccessEntry": [{ action: "eks:CreateAccessEntry", resource: CLUSTER }],
  "eks:ListAssociatedAccessPolicies": [{ action: "eks:ListAssociatedAccessPolicies", resource: ACCESS_ENTRY }],
  "eks:DescribeAccessEntry": [{ action: "eks:DescribeAccessEntry", resource: ACCESS_ENTRY }],
  "eks:DisassociateAccessPolicy": [{ action: "eks:DisassociateAccessPolicy", resource: ACCESS_ENTRY }],
  "eks:AssociateAccessPolicy": [{ action: "eks:AssociateAccessPolicy", resource: ACCESS_ENTRY }],
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
};

function parameter(name: string): string {
  return `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${name}`;
}

/** The calls each function's code makes besides the remediation actions. */
function ownCalls(id: FunctionId): Call[] {
  const p = names.parameterNames;
  const logs: Call[] = ["logs:CreateLogStream", "logs:PutLogEvents"].map((action) => ({
    action,
    resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${names.functionNames[id]}:log-stream:2025/06/15/[$LATEST]0123456789abcdef`,
  }));
  const table = (...actions: string[]) => actions.map((a) => ({ action: `dynamodb:${a}`, resource: TABLE }));
  const params = (...keys: (keyof typeof p)[]) =>
    keys.map((key) => ({ action: "ssm:GetParameter", resource: parameter(p[key]) }));
  const publish: Call[] = [
    { action: "sns:Publish", resource: context.topicArn },
    ...["kms:Decrypt", "kms:GenerateDataKey"].map((action) => ({
      action,
      resource: context.topicKeyArn,
      context: { "kms:ViaService": `sns.${REGION}.amazonaws.com` },
    })),
  ];
  switch (id) {
    case "respond":
      return [
        ...logs,
        ...table("GetItem", "PutItem", "UpdateItem", "DeleteItem"),
        ...params("policy", "killSwitch", "slackWebhook", "slackToken"),
        // The policy and the kill switch, read together (respondSettings).
        ...(["policy", "killSwitch"] as const).map((key) => ({
          action: "ssm:GetParameters",
          resource: parameter(p[key]),
        })),
        ...publish,
        { action: "states:StartExecution", resource: STATE_MACHINE },
        { action: "sqs:SendMessage", resource: context.deadLetterQueueArn },
      ];
    case "approval-request":
      return [...logs, ...table("PutItem"), ...params("policy", "slackToken", "approvalLinkSecret"), ...publish];
    case "approval-apply":
      return [...logs, ...params("policy", "killSwitch")];
    case "approval-notify":
      return [...logs, ...params("policy", "slackWebhook", "slackToken"), ...publish];
    case "approval-record":
      return [...logs, ...table("PutItem")];
    case "approval-callback":
      return [
        ...logs,
        ...table("GetItem", "UpdateItem"),
        ...params("policy", "slackSigningSecret", "approvalLinkSecret"),
        { action: "states:SendTaskSuccess", resource: "*" },
        { action: "states:SendTaskFailure", resource: "*" },
      ];
    case "digest":
      return [
        ...logs,
        ...table("DeleteItem", "PutItem", "Query", "UpdateItem"),
        ...params("slackWebhook", "slackToken"),
      ];
  }
}

function expectedCalls(id: FunctionId): Call[] {
  const remediation = FUNCTION_ACCESS[id].remediation ? Object.values(REMEDIATION_CALLS).flat() : [];
  return [...remediation, ...ownCalls(id)];
}

const PRINCIPAL = (id: string) => `arn:aws:iam::${ACCOUNT}:role/${id}`;

async function decide(
  policy: PolicyDocument,
  call: Call,
  options: { region?: string; resourceAccount?: string; principal?: string } = {},
): Promise<string> {
  const principal = options.principal ?? PRINCIPAL("eks-responder-prod-fn");
  const resourceAccount = options.resourceAccount ?? ACCOUNT;
  const simulation: Simulation = {
    request: {
      principal,
      action: call.action,
      resource: { resource: call.resource, accountId: resourceAccount },
      contextVariables: { "aws:RequestedRegion": options.region ?? REGION, ...call.context },
    },
    identityPolicies: [{ name: "inline", policy }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    // Another account's resource that trusts the role completely: only the role's own policy can deny. A KMS key
    // needs its key policy to delegate to IAM: the topic key's own policy.
    ...(resourceAccount !== ACCOUNT
      ? {
          resourcePolicy: {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { AWS: principal }, Action: call.action, Resource: "*" }],
          },
        }
      : call.action.startsWith("kms:")
        ? { resourcePolicy: topicKeyPolicy("aws", ACCOUNT) }
        : {}),
  };
  // ARNs of AWS-owned SSM documents have no account ("The account ID shouldn't be specified in the ARN for AWS owned
  // public documents", https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-setup-identity-based-policies.html);
  // iam-data's document ARN pattern requires one, so these requests skip the simulator's input validation.
  if (/^arn:aws:ssm:[^:]+::document\//.test(call.resource)) return runUnsafeSimulation(simulation, {});
  const result = await runSimulation(simulation, {});
  if (result.resultType === "error") throw new Error(`${call.action} ${call.resource}: ${result.errors.message}`);
  return result.overallResult;
}

/** The same resource in another account (ARNs without an account, such as snapshots, have none to change). */
function inAccount(arn: string, account: string): string | undefined {
  const parts = arn.split(":");
  if (parts.length < 6 || parts[4] !== ACCOUNT) return undefined;
  parts[4] = account;
  return parts.join(":");
}

function inRegion(arn: string, region: string): string {
  const parts = arn.split(":");
  if (parts.length < 6) return arn;
  parts[3] = region;
  return parts.join(":");
}

const DANGEROUS: Call[] = [
  { action: "ec2:TerminateInstances", resource: INSTANCE },
  { action: "ec2:DeleteSecurityGroup", resource: SG },
  { action: "ec2:RunInstances", resource: INSTANCE },
  { action: "eks:DeleteCluster", resource: CLUSTER },
  { action: "eks:DeleteNodegroup", resource: `arn:aws:eks:${REGION}:${ACCOUNT}:nodegroup/prod-eks/general/abcd` },
  { action: "iam:PassRole", resource: `arn:aws:iam::${ACCOUNT}:role/admin` },
  { action: "iam:CreateAccessKey", resource: `arn:aws:iam::${ACCOUNT}:user/admin` },
  { action: "iam:AttachRolePolicy", resource: `arn:aws:iam::${ACCOUNT}:role/eks-responder-prod-respond` },
  { action: "sts:AssumeRole", resource: `arn:aws:iam::${ACCOUNT}:role/admin` },
  { action: "sts:AssumeRole", resource: `arn:aws:iam::${OTHER_ACCOUNT}:role/admin` },
  { action: "dynamodb:DeleteTable", resource: TABLE },
  { action: "dynamodb:Scan", resource: TABLE },
  { action: "s3:GetObject", resource: "arn:aws:s3:::company-secrets/prod/db.env" },
  { action: "ssm:GetParameter", resource: parameter("/prod/database/password") },
  { action: "ssm:SendCommand", resource: `arn:aws:ssm:${REGION}::document/AWS-RunShellScript` },
  { action: "states:StartExecution", resource: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:other` },
  { action: "kms:Decrypt", resource: context.topicKeyArn },
  { action: "ec2:CreateTags", resource: INSTANCE, context: { "aws:TagKeys": ["eks:cluster-name"] } },
  { action: "ec2:CreateTags", resource: SG },
  { action: "ec2:DeleteTags", resource: INSTANCE, context: { "aws:TagKeys": ["Name"] } },
  {
    action: "ec2:CreateSecurityGroup",
    resource: SG,
    context: { "aws:RequestTag/eks-responder:quarantine-group": "anything-else" },
  },
];

describe("remediation permissions (iam.ts)", () => {
  it("cover exactly the union of the permissions of every action in ACTIONS, and every one has a resource scope", () => {
    const union = [...new Set(ACTIONS.flatMap((a) => a.permissions))].sort();
    expect(remediationActions()).toEqual(union);
    expect(Object.keys(REMEDIATION_CALLS).sort()).toEqual(union);
    expect(Object.keys(REMEDIATION_SCOPES).sort()).toEqual(union);
  });

  it("never grant a wildcard action or a service wildcard", () => {
    for (const id of FUNCTION_IDS) {
      for (const s of functionPolicy(id, context).Statement) {
        for (const action of s.Action) expect(action, `${id} ${s.Sid}`).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
      }
    }
    for (const s of stateMachinePolicy(context).Statement) {
      for (const action of s.Action) expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
    }
  });

  it('use "*" only for actions that support no resource type, always pinned to the region', () => {
    const wildcardOnly = new Set([
      "ec2:DescribeInstances",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSecurityGroupRules",
      "ssm:DescribeInstanceInformation",
      "ssm:ListCommandInvocations",
      "autoscaling:DescribeAutoScalingInstances",
      "states:SendTaskSuccess",
      "states:SendTaskFailure",
      "logs:CreateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:DescribeLogGroups",
      "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:UpdateLogDelivery",
    ]);
    const statements = [
      ...FUNCTION_IDS.flatMap((id) => functionPolicy(id, context).Statement),
      ...stateMachinePolicy(context).Statement,
    ];
    for (const s of statements.filter((s) => s.Resource.includes("*"))) {
      expect(s.Resource, s.Sid).toEqual(["*"]);
      for (const action of s.Action) expect(wildcardOnly.has(action), `${action} on *`).toBe(true);
      expect(s.Condition?.StringEquals?.["aws:RequestedRegion"], s.Sid).toEqual([REGION]);
    }
  });

  it("convert to SST's permissions without losing a condition", () => {
    const statements = functionPolicy("respond", context).Statement;
    const permissions = toSstPermissions(statements);
    expect(permissions).toHaveLength(statements.length);
    const tags = permissions.find((p) => p.actions.includes("ec2:DeleteTags"));
    expect(tags?.conditions).toEqual([
      { test: "ForAllValues:StringEquals", variable: "aws:TagKeys", values: [QUARANTINE_TAG] },
      { test: "Null", variable: "aws:TagKeys", values: ["false"] },
    ]);
  });
});

describe.each(FUNCTION_IDS)("the %s function's role", (id) => {
  const policy = functionPolicy(id, context);
  const calls = expectedCalls(id);

  it("grants exactly the actions its code calls", () => {
    const granted = [...new Set(policy.Statement.flatMap((s) => s.Action))].sort();
    const called = [...new Set(calls.map((c) => c.action))].sort();
    expect(granted).toEqual(called);
  });

  it("allows every call its code makes, on resources of the deployment account and region", async () => {
    for (const call of calls) expect(await decide(policy, call), `${call.action} ${call.resource}`).toBe("Allowed");
  });

  it("denies the same calls on another account's resources and in another region", async () => {
    for (const call of calls) {
      const foreign = inAccount(call.resource, OTHER_ACCOUNT);
      if (foreign) {
        expect(
          await decide(policy, { ...call, resource: foreign }, { resourceAccount: OTHER_ACCOUNT }),
          foreign,
        ).not.toBe("Allowed");
      }
      const elsewhere = inRegion(call.resource, OTHER_REGION);
      expect(
        await decide(policy, { ...call, resource: elsewhere }, { region: OTHER_REGION }),
        `${call.action} ${elsewhere}`,
      ).not.toBe("Allowed");
    }
  });

  it("denies dangerous calls", async () => {
    for (const call of DANGEROUS) {
      expect(await decide(policy, call), `${call.action} ${call.resource}`).not.toBe("Allowed");
    }
  });
});

describe("the approval state machine's role", () => {
  const policy = stateMachinePolicy(context);
  const fn = (id: FunctionId) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${names.functionNames[id]}`;
  const tasks: FunctionId[] = ["approval-request", "approval-apply", "approval-notify", "approval-record"];

  it("may invoke exactly the four task functions", async () => {
    for (const id of tasks)
      expect(await decide(policy, { action: "lambda:InvokeFunction", resource: fn(id) })).toBe("Allowed");
    for (const id of FUNCTION_IDS.filter((f) => !tasks.includes(f))) {
      expect(await decide(policy, { action: "lambda:InvokeFunction", resource: fn(id) }), id).not.toBe("Allowed");
    }
    const foreign = `arn:aws:lambda:${REGION}:${OTHER_ACCOUNT}:function:${names.functionNames["approval-apply"]}`;
    expect(
      await decide(policy, { action: "lambda:InvokeFunction", resource: foreign }, { resourceAccount: OTHER_ACCOUNT }),
    ).not.toBe("Allowed");
  });

  it("may deliver its logs, in its region only, and nothing else", async () => {
    expect(await decide(policy, { action: "logs:CreateLogDelivery", resource: "*" })).toBe("Allowed");
    expect(
      await decide(policy, { action: "logs:CreateLogDelivery", resource: "*" }, { region: OTHER_REGION }),
    ).not.toBe("Allowed");
    for (const call of DANGEROUS) expect(await decide(policy, call), call.action).not.toBe("Allowed");
  });
});

describe("the least-privilege checks themselves (negative cases)", () => {
  it("catch a deliberately over-broad statement added to a function's policy", async () => {
    const broken: PolicyDocument = {
      ...functionPolicy("respond", context),
      Statement: [
        ...functionPolicy("respond", context).Statement,
        { Sid: "OverBroad", Effect: "Allow", Action: ["ec2:*"], Resource: ["*"] },
      ],
    };
    const allowed: string[] = [];
    for (const call of DANGEROUS) if ((await decide(broken, call)) === "Allowed") allowed.push(call.action);
    // The "denies dangerous calls" check would fail on this policy: it lets EC2's dangerous calls through.
    expect(allowed).toContain("ec2:TerminateInstances");
    expect(allowed.every((a) => a.startsWith("ec2:"))).toBe(true);
  });

  it("catch a policy that is scoped to the wrong account", async () => {
    const elsewhere = iamContext(
      {
        partition: "aws",
        account: OTHER_ACCOUNT,
        region: REGION,
        topicArn: `arn:aws:sns:${REGION}:${OTHER_ACCOUNT}:t`,
        topicKeyArn: `arn:aws:kms:${REGION}:${OTHER_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
        deadLetterQueueArn: `arn:aws:sqs:${REGION}:${OTHER_ACCOUNT}:dlq`,
      },
      names,
    );
    // The "allows every call its code makes" check would fail: the revoke in this account is denied.
    expect(
      await decide(functionPolicy("respond", elsewhere), { action: "ec2:RevokeSecurityGroupIngress", resource: SG }),
    ).not.toBe("Allowed");
  });
});
