import { approverChannelKey } from "../packages/core/src/approval/approver-channel.ts";
import { DEFAULT_KUBERNETES_GROUP, kubernetesGroupProblem } from "../packages/core/src/kubernetes/rbac.ts";
import {
  type DeploymentMode,
  deploymentMode,
  listSetting,
  type OrganizationSettings,
  organizationSettings,
} from "./deployment-settings.ts";

/**
 * Names and settings of one deployment, as plain data: no SST or Pulumi globals, so the tests and the synth import
 * the same values the infra uses. Every physical name is fixed here (not generated), so IAM documents can name exact
 * ARNs without waiting for the resources, and the wiring has no cycles.
 */

/** The Lambda functions, by id. Each id is also the handler file `packages/functions/src/<id>.handler.ts`. */
export const FUNCTION_IDS = [
  "respond",
  "approval-request",
  "approval-apply",
  "approval-notify",
  "approval-record",
  "approval-callback",
  "digest",
] as const;
export type FunctionId = (typeof FUNCTION_IDS)[number];

/** The SSM parameters the functions read. `policy` and `killSwitch` are created by the deploy; the others by you. */
export const PARAMETER_KEYS = [
  "policy",
  "killSwitch",
  "slackWebhook",
  "slackToken",
  "slackSigningSecret",
  "approvalLinkSecret",
] as const;
export type ParameterKey = (typeof PARAMETER_KEYS)[number];

/** The SecureString parameters you create before deploying, the env variable that renames each, and what it holds. */
export const SECRET_PARAMETERS = [
  { key: "slackWebhook", env: "EKS_RESPONDER_SLACK_WEBHOOK_PARAMETER", holds: "Slack incoming webhook URL" },
  { key: "slackToken", env: "EKS_RESPONDER_SLACK_TOKEN_PARAMETER", holds: "Slack bot token (xoxb-…)" },
  {
    key: "slackSigningSecret",
    env: "EKS_RESPONDER_SLACK_SIGNING_SECRET_PARAMETER",
    holds: "Slack app signing secret (verifies button clicks)",
  },
  {
    key: "approvalLinkSecret",
    env: "EKS_RESPONDER_APPROVAL_LINK_SECRET_PARAMETER",
    holds: "HMAC key of the signed approval links (32+ random bytes)",
  },
] as const satisfies readonly { key: ParameterKey; env: string; holds: string }[];

export interface FunctionSpec {
  handler: string;
  description: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** Why this memory and timeout. */
  sizing: string;
}

/**
 * Memory and timeout per function. On Lambda, CPU scales with memory (1,769 MB = one vCPU), so the functions that
 * parse, plan and call AWS get 512 MB, and the small ones 256 MB.
 */
export const FUNCTIONS: Record<FunctionId, FunctionSpec> = {
  respond: {
    handler: "packages/functions/src/respond.handler.handler",
    description: "eks-responder: parse, assess, decide and act on one security event",
    memoryMb: 512,
    timeoutSeconds: 60,
    sizing:
      "512 MB: zod parsing and the lazily imported EC2/EKS clients want CPU; 60 s: an auto action waits (bounded) for an EKS update in progress and retries",
  },
  "approval-request": {
    handler: "packages/functions/src/approval-request.handler.handler",
    description: "eks-responder approval: store the task token and ask the approvers (Slack, signed links)",
    memoryMb: 256,
    timeoutSeconds: 30,
    sizing: "256 MB / 30 s: one DynamoDB write and one or two HTTPS posts",
  },
  "approval-apply": {
    handler: "packages/functions/src/approval-apply.handler.handler",
    description: "eks-responder approval: carry out the approved plan",
    memoryMb: 512,
    timeoutSeconds: 900,
    sizing:
      "512 MB as respond; 900 s (the Lambda maximum, the Apply state's TimeoutSeconds): isolating a node moves every interface through two groups, and patching follows SSM commands (polls 15 s apart)",
  },
  "approval-notify": {
    handler: "packages/functions/src/approval-notify.handler.handler",
    description: "eks-responder approval: tell people the outcome",
    memoryMb: 256,
    timeoutSeconds: 30,
    sizing: "256 MB / 30 s: formatting and one or two HTTPS posts; the Notify states time out at 60 s",
  },
  "approval-record": {
    handler: "packages/functions/src/approval-record.handler.handler",
    description: "eks-responder approval: write the audit record",
    memoryMb: 256,
    timeoutSeconds: 30,
    sizing: "256 MB / 30 s: one DynamoDB write; the Record state times out at 60 s",
  },
  "approval-callback": {
    handler: "packages/functions/src/approval-callback.handler.handler",
    description: "eks-responder approval: the approvers' answer (Slack buttons, signed links) to Step Functions",
    memoryMb: 256,
    timeoutSeconds: 30,
    sizing:
      "256 MB / 30 s: verify a signature, read and update one item, one Step Functions call; Slack waits 3 s at most",
  },
  digest: {
    handler: "packages/functions/src/digest.handler.handler",
    description: "eks-responder: post the Slack digests of alerts held back under a burst (every minute)",
    memoryMb: 256,
    timeoutSeconds: 120,
    sizing:
      "256 MB / 120 s: up to 10 messages per busy channel, at least 1 s apart (Slack's limit), each after one DynamoDB write",
  },
};

/**
 * Reserved concurrency of the respond function: at most 10 events are handled at once, the rest wait in Lambda's
 * asynchronous queue. Under a storm this paces EC2 calls to what EC2's throttle allows (about 5 security-group changes
 * per second after a burst of 50) instead of failing hundreds of calls at once; with EC2_THROTTLE_RETRY
 * (packages/core/src/aws/clients.ts), `npm run bench` measured every rule of a 1,000-event storm revoked within the
 * time the throttle allows. It also keeps a storm from taking the account's whole Lambda concurrency.
 */
export const RESPOND_RESERVED_CONCURRENCY = 10;

/** How often the digest function runs. */
export const DIGEST_SCHEDULE = "rate(1 minute)";

/**
 * How long and how often EventBridge retries delivering an event to the respond function (asynchronous invoke), and
 * then Lambda retries a failed invocation. A response an hour late still helps; a day late it is noise, and the
 * dead-letter queue alarm has told someone long before. Lambda's default is 2 retries over 6 hours.
 */
export const EVENT_DELIVERY = {
  target: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 10 },
  invoke: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 2 },
} as const;

/** The files the policy parameter's value is read from, first found wins (paths from the repository root). */
export const POLICY_FILES = ["eks-responder.policy.json", "examples/policy.json"] as const;

export interface Settings {
  app: string;
  stage: string;
  /** `<app>-<stage>`: the prefix of every physical name. */
  prefix: string;
  tableName: string;
  topicName: string;
  /** The approvals topic: signed approval links, one message per approver, each delivered to that approver only. */
  approvalsTopicName: string;
  deadLetterQueueName: string;
  stateMachineName: string;
  stateMachineLogGroupName: string;
  functionNames: Record<FunctionId, string>;
  /**
   * The execution role of each function, named (not generated) so the functions know their own roles: CloudTrail
   * names the role of every call they make, and those calls are never acted on (guardrails/own-calls.ts).
   */
  functionRoleNames: Record<FunctionId, string>;
  parameterNames: Record<ParameterKey, string>;
  /** An email address subscribed to the alarm topic, if any (EKS_RESPONDER_ALERT_EMAIL). */
  alertEmail: string | undefined;
  /** The operator rollback role (`eks-responder rollback`): its name and who may assume it. */
  rollbackRoleName: string;
  /**
   * IAM principal ARN patterns of this account allowed to assume the rollback role (EKS_RESPONDER_OPERATOR_ARNS,
   * comma-separated, `*` allowed as in ArnLike). Empty: principals tagged `eks-responder:operator = <app>-<stage>`.
   */
  operatorPrincipalArns: string[];
  /**
   * The email approvers the approvals topic gets a filtered subscription for (EKS_RESPONDER_APPROVER_EMAILS, comma
   * separated), in approverChannelKey spelling. An email approver of the policy not in this list is never sent a
   * link: the request fails closed.
   */
  approverEmails: string[];
  /** Days the function and state machine logs are kept. */
  logRetentionDays: number;
  /**
   * The EKS clusters (names, in the deployment's account and region) the responder acts inside
   * (EKS_RESPONDER_KUBERNETES_CLUSTERS, comma-separated): each gets an access entry per function role that runs
   * Kubernetes actions. Empty: no access entry, and the `k8s:*` actions refuse.
   */
  kubernetesClusters: string[];
  /** The Kubernetes group of those access entries, bound to the shipped ClusterRole (EKS_RESPONDER_KUBERNETES_GROUP). */
  kubernetesGroup: string;
  /**
   * The subnets and security groups the functions that make Kubernetes calls run in, for private or CIDR-restricted
   * cluster endpoints (EKS_RESPONDER_VPC_SUBNET_IDS, EKS_RESPONDER_VPC_SECURITY_GROUP_IDS). Undefined: outside a VPC.
   */
  vpc: FunctionVpc | undefined;
  /** EKS_RESPONDER_DEPLOYMENT: standalone (one account and region), hub (the security account) or member. */
  deployment: DeploymentMode;
  /** The hub and member settings (infra/deployment-settings.ts); undefined in standalone mode. */
  organization: OrganizationSettings | undefined;
  /** The hub's organization event bus, which the member accounts' forwarding rules put events on. */
  organizationBusName: string;
  /** The String parameter the hub creates with the ExternalId its functions pass to the member roles. */
  memberExternalIdParameterName: string;
}

/** The region a deployment runs in when EKS_RESPONDER_REGION is unset (sst.config.ts uses the same default). */
export const DEFAULT_REGION = "eu-west-1";

export interface FunctionVpc {
  subnetIds: string[];
  securityGroupIds: string[];
}

/** EKS cluster names: 1 to 100 characters (CreateCluster's `name`). */
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
const SUBNET_ID = /^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const SECURITY_GROUP_ID = /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
/** A Lambda function's VPC configuration takes at most 16 subnets and 5 security groups (VpcConfig). */
const MAX_SUBNETS = 16;
const MAX_SECURITY_GROUPS = 5;

function checkAll(variable: string, values: readonly string[], pattern: RegExp, what: string): void {
  for (const value of values) {
    if (!pattern.test(value)) throw new Error(`${variable}: "${value}" is not ${what}`);
  }
}

/**
 * The Kubernetes settings of a deployment: the clusters, their access entries' group, and the functions' VPC. A
 * malformed value throws with the variable and the value; a VPC needs both its subnets and its security groups.
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html (cluster names)
 * https://docs.aws.amazon.com/lambda/latest/api/API_VpcConfig.html (16 subnets, 5 security groups)
 */
export function kubernetesSettings(
  env: Readonly<Record<string, string | undefined>>,
): Pick<Settings, "kubernetesClusters" | "kubernetesGroup" | "vpc"> {
  const clusters = listSetting(env, "EKS_RESPONDER_KUBERNETES_CLUSTERS");
  checkAll(
    "EKS_RESPONDER_KUBERNETES_CLUSTERS",
    clusters,
    CLUSTER_NAME,
    "an EKS cluster name (1-100 letters, digits, - and _)",
  );
  const group = env.EKS_RESPONDER_KUBERNETES_GROUP?.trim() || DEFAULT_KUBERNETES_GROUP;
  const problem = kubernetesGroupProblem(group);
  if (problem) throw new Error(`EKS_RESPONDER_KUBERNETES_GROUP: ${problem}`);
  const subnetIds = listSetting(env, "EKS_RESPONDER_VPC_SUBNET_IDS");
  const securityGroupIds = listSetting(env, "EKS_RESPONDER_VPC_SECURITY_GROUP_IDS");
  checkAll("EKS_RESPONDER_VPC_SUBNET_IDS", subnetIds, SUBNET_ID, "a subnet id (subnet-0123456789abcdef0)");
  checkAll(
    "EKS_RESPONDER_VPC_SECURITY_GROUP_IDS",
    securityGroupIds,
    SECURITY_GROUP_ID,
    "a security group id (sg-0123456789abcdef0)",
  );
  if ((subnetIds.length === 0) !== (securityGroupIds.length === 0)) {
    throw new Error(
      "EKS_RESPONDER_VPC_SUBNET_IDS and EKS_RESPONDER_VPC_SECURITY_GROUP_IDS go together: set both, or neither",
    );
  }
  if (subnetIds.length > MAX_SUBNETS) throw new Error(`EKS_RESPONDER_VPC_SUBNET_IDS: at most ${MAX_SUBNETS} subnets`);
  if (securityGroupIds.length > MAX_SECURITY_GROUPS) {
    throw new Error(`EKS_RESPONDER_VPC_SECURITY_GROUP_IDS: at most ${MAX_SECURITY_GROUPS} security groups`);
  }
  return {
    kubernetesClusters: clusters,
    kubernetesGroup: group,
    vpc: subnetIds.length > 0 ? { subnetIds, securityGroupIds } : undefined,
  };
}

/** An IAM role or user ARN (pattern), as ArnLike takes it. */
const OPERATOR_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/*-]{1,512}$/;
/** IAM role names: 64 characters at most. */
const MAX_ROLE_NAME = 64;

/** The operator principal patterns of EKS_RESPONDER_OPERATOR_ARNS; a malformed one throws (never trusted loosely). */
export function operatorPrincipalArns(value: string | undefined): string[] {
  const arns = (value ?? "")
    .split(",")
    .map((a) => a.trim())
    .filter((a) => a !== "");
  for (const a of arns) {
    if (!OPERATOR_ARN.test(a) || a.endsWith(":role/*") || a.endsWith(":user/*")) {
      throw new Error(
        `EKS_RESPONDER_OPERATOR_ARNS: "${a}" is not an IAM role or user ARN of one principal or path (arn:aws:iam::<account>:role/<name>)`,
      );
    }
  }
  return arns;
}

const EMAIL = /^[^@\s,]+@[^@\s,]+$/;
const SSM_NAME = /^\/[A-Za-z0-9_.\-/]{1,1010}$/;
const STAGE = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** Lambda function names: 64 characters at most. */
const MAX_FUNCTION_NAME = 64;

function parameterName(env: Readonly<Record<string, string | undefined>>, variable: string, fallback: string): string {
  const value = env[variable]?.trim() || fallback;
  if (!SSM_NAME.test(value) || value.includes("//")) {
    throw new Error(`${variable}: "${value}" is not an SSM parameter name (a path such as /eks-responder/prod/slack)`);
  }
  return value;
}

/**
 * The settings of a deployment of `app` at `stage`. Parameter names of the secrets can be changed through the
 * environment of `sst deploy` (see SECRET_PARAMETERS); everything else follows from app and stage.
 */
export function settings(app: string, stage: string, env: Readonly<Record<string, string | undefined>> = {}): Settings {
  if (!STAGE.test(stage)) throw new Error(`stage "${stage}": lower-case letters, digits and -, at most 32`);
  const prefix = `${app}-${stage}`;
  const functionNames = Object.fromEntries(FUNCTION_IDS.map((id) => [id, `${prefix}-${id}`])) as Record<
    FunctionId,
    string
  >;
  for (const name of Object.values(functionNames)) {
    if (name.length > MAX_FUNCTION_NAME) throw new Error(`function name ${name} is longer than 64 characters`);
  }
  const base = `/${app}/${stage}`;
  const mode = deploymentMode(env);
  const secrets = Object.fromEntries(
    SECRET_PARAMETERS.map((p) => [
      p.key,
      parameterName(env, p.env, `${base}/${p.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`),
    ]),
  ) as Record<(typeof SECRET_PARAMETERS)[number]["key"], string>;
  const alertEmail = env.EKS_RESPONDER_ALERT_EMAIL?.trim() || undefined;
  if (alertEmail !== undefined && !/^[^@\s]+@[^@\s]+$/.test(alertEmail)) {
    throw new Error(`EKS_RESPONDER_ALERT_EMAIL: "${alertEmail}" is not an email address`);
  }
  const rollbackRoleName = `${prefix}-rollback`;
  if (rollbackRoleName.length > MAX_ROLE_NAME)
    throw new Error(`role name ${rollbackRoleName} is longer than 64 characters`);
  const approverEmails = [
    ...new Set(
      (env.EKS_RESPONDER_APPROVER_EMAILS ?? "")
        .split(",")
        .map(approverChannelKey)
        .filter((e) => e !== ""),
    ),
  ];
  for (const email of approverEmails) {
    if (!EMAIL.test(email)) throw new Error(`EKS_RESPONDER_APPROVER_EMAILS: "${email}" is not an email address`);
  }
  return {
    app,
    stage,
    prefix,
    tableName: prefix,
    topicName: `${prefix}-alerts`,
    approvalsTopicName: `${prefix}-approvals`,
    deadLetterQueueName: `${prefix}-dlq`,
    stateMachineName: `${prefix}-approval`,
    stateMachineLogGroupName: `/aws/vendedlogs/states/${prefix}-approval`,
    functionNames,
    // Role names and function names are separate namespaces: each role is named after its function (64 at most).
    functionRoleNames: { ...functionNames },
    parameterNames: { policy: `${base}/policy`, killSwitch: `${base}/kill-switch`, ...secrets },
    alertEmail,
    rollbackRoleName,
    operatorPrincipalArns: operatorPrincipalArns(env.EKS_RESPONDER_OPERATOR_ARNS),
    approverEmails,
    logRetentionDays: 90,
    ...kubernetesSettings(env),
    deployment: mode,
    organization: organizationSettings(mode, env, env.EKS_RESPONDER_REGION?.trim() || DEFAULT_REGION, prefix),
    organizationBusName: `${prefix}-org`,
    memberExternalIdParameterName: `${base}/member-external-id`,
  };
}

/** The first policy file that exists, given a test for existence (the infra passes fs.existsSync). */
export function policyFile(exists: (path: string) => boolean): string {
  const found = POLICY_FILES.find((path) => exists(path));
  if (!found) throw new Error(`no policy file: create ${POLICY_FILES[0]} (see docs/configuration.md)`);
  return found;
}

/** SSM standard parameters hold 4 KB, advanced ones 8 KB. */
export function parameterTier(value: string): "Standard" | "Advanced" {
  const bytes = new TextEncoder().encode(value).length;
  if (bytes <= 4096) return "Standard";
  if (bytes <= 8192) return "Advanced";
  throw new Error(`the policy is ${bytes} bytes once minified; an SSM parameter holds 8,192 at most`);
}

/**
 * The IAM role ARNs of a deployment: every function's execution role and the rollback role. The functions get them
 * (RESPONDER_ROLE_ARNS) so that CloudTrail events of their own calls are recognised and never acted on.
 */
export function responderRoleArns(partition: string, account: string, s: Settings): string[] {
  return [...FUNCTION_IDS.map((id) => s.functionRoleNames[id]), s.rollbackRoleName].map(
    (name) => `arn:${partition}:iam::${account}:role/${name}`,
  );
}
