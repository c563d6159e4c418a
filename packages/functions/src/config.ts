import { isRolePathName } from "@eks-responder/core/aws/member.ts";
import { isRoleArn, parseRoleArn, ROLE_ARN_MESSAGE } from "@eks-responder/core/guardrails/own-calls.ts";

/**
 * Hub mode (EKS_RESPONDER_MODE=hub): one deployment in the security account acts in every member account through the
 * member role. Standalone (the default): it acts in its own account only, with its own role.
 */
export interface HubConfig {
  /** The hub's own account: its events are acted on with the function's own role (no AssumeRole). */
  account: string;
  /** MEMBER_ROLE_NAME: the execution role's name (with its path, if any) in every member account. */
  memberRoleName: string;
  /** MEMBER_EXTERNAL_ID_PARAMETER_NAME: the SSM parameter holding the ExternalId of the member role's trust policy. */
  externalIdParameterName: string;
}

/** The environment contract of the functions (set by infra/functions.ts). A missing variable fails at cold start. */
export interface FunctionConfig {
  tableName: string;
  policyParameterName: string;
  killSwitchParameterName?: string;
  stateMachineArn?: string;
  snsTopicArn?: string;
  slackWebhookParameterName?: string;
  slackTokenParameterName?: string;
  slackSigningSecretParameterName?: string;
  approvalLinkSecretParameterName?: string;
  approvalCallbackUrl?: string;
  /** The approvals topic: signed links go there, one message per approver (never to snsTopicArn, the alerts). */
  approvalsTopicArn?: string;
  /** The approver addresses the approvals topic has a filtered subscription for (APPROVER_EMAILS, comma-separated). */
  approverEmails?: string[];
  /**
   * The IAM role ARNs of this deployment (every function role and the rollback role; RESPONDER_ROLE_ARNS,
   * comma-separated, set by infra/functions.ts): calls made with them are the responder's own, never acted on.
   */
  responderRoleArns: string[];
  /**
   * The function runs in the VPC of the clusters it acts in (KUBERNETES_IN_VPC=true, set by infra/functions.ts when
   * EKS_RESPONDER_VPC_SUBNET_IDS is): it may then reach a private-only cluster endpoint, which it refuses otherwise.
   */
  kubernetesInVpc: boolean;
  /** Present in hub mode only (EKS_RESPONDER_MODE=hub). */
  hub?: HubConfig;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

function roleArns(value: string | undefined): string[] {
  const arns = (value ?? "")
    .split(",")
    .map((a) => a.trim())
    .filter((a) => a !== "");
  for (const arn of arns) {
    if (!isRoleArn(arn)) throw new ConfigError(`RESPONDER_ROLE_ARNS: "${arn}": ${ROLE_ARN_MESSAGE}`);
  }
  return arns;
}

/**
 * The hub settings, checked: in hub mode a missing role name, ExternalId parameter or hub account is a configuration
 * error at cold start, never a hub that acts with its own role in other accounts. The hub's account is HUB_ACCOUNT_ID,
 * or else the one account of RESPONDER_ROLE_ARNS (the hub's own function roles).
 */
function hubConfig(env: Record<string, string | undefined>, roleArns: readonly string[]): HubConfig | undefined {
  const mode = env.EKS_RESPONDER_MODE ?? "standalone";
  if (mode === "standalone" || mode === "") return undefined;
  if (mode !== "hub") {
    throw new ConfigError(`EKS_RESPONDER_MODE: "${mode}": expected standalone or hub`);
  }
  const memberRoleName = env.MEMBER_ROLE_NAME ?? "";
  if (!isRolePathName(memberRoleName)) {
    throw new ConfigError(
      `MEMBER_ROLE_NAME: "${memberRoleName}": hub mode needs the member execution role's name (path/name allowed)`,
    );
  }
  const externalIdParameterName = env.MEMBER_EXTERNAL_ID_PARAMETER_NAME ?? "";
  if (!externalIdParameterName) {
    throw new ConfigError("MEMBER_EXTERNAL_ID_PARAMETER_NAME is not set: hub mode assumes member roles with it");
  }
  const accounts = [...new Set(roleArns.map((arn) => parseRoleArn(arn)?.account))];
  const account = env.HUB_ACCOUNT_ID ?? (accounts.length === 1 ? accounts[0] : undefined);
  if (!account || !/^\d{12}$/.test(account)) {
    throw new ConfigError(
      "hub mode needs the hub's own account: set HUB_ACCOUNT_ID, or RESPONDER_ROLE_ARNS with the hub's roles",
    );
  }
  return { account, memberRoleName, externalIdParameterName };
}

export function readConfig(env: Record<string, string | undefined>): FunctionConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new ConfigError(`environment variable ${name} is not set: the function cannot run without it`);
    return value;
  };
  const optional = (name: string) => (env[name] ? { value: env[name] } : undefined);
  const config: FunctionConfig = {
    tableName: required("TABLE_NAME"),
    policyParameterName: required("POLICY_PARAMETER_NAME"),
    responderRoleArns: roleArns(env.RESPONDER_ROLE_ARNS),
    kubernetesInVpc: env.KUBERNETES_IN_VPC === "true",
  };
  const map: [
    Exclude<keyof FunctionConfig, "approverEmails" | "responderRoleArns" | "kubernetesInVpc" | "hub">,
    string,
  ][] = [
    ["killSwitchParameterName", "KILL_SWITCH_PARAMETER_NAME"],
    ["stateMachineArn", "STATE_MACHINE_ARN"],
    ["snsTopicArn", "SNS_TOPIC_ARN"],
    ["slackWebhookParameterName", "SLACK_WEBHOOK_PARAMETER_NAME"],
    ["slackTokenParameterName", "SLACK_TOKEN_PARAMETER_NAME"],
    ["slackSigningSecretParameterName", "SLACK_SIGNING_SECRET_PARAMETER_NAME"],
    ["approvalLinkSecretParameterName", "APPROVAL_LINK_SECRET_PARAMETER_NAME"],
    ["approvalCallbackUrl", "APPROVAL_CALLBACK_URL"],
    ["approvalsTopicArn", "APPROVALS_TOPIC_ARN"],
  ];
  for (const [key, name] of map) {
    const found = optional(name);
    if (found?.value) config[key] = found.value;
  }
  const hub = hubConfig(env, config.responderRoleArns);
  if (hub) config.hub = hub;
  const emails = env.APPROVER_EMAILS?.split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  if (emails && emails.length > 0) config.approverEmails = emails;
  return config;
}

/**
 * The message the respond function logs when an outcome could not be notified. infra/alarms.ts counts these lines
 * with a metric filter and alarms on them: keep the two in step through this constant.
 */
export const NOTIFICATION_FAILED_MESSAGE = "notification failed";
