import { isRoleArn, ROLE_ARN_MESSAGE } from "@eks-responder/core/guardrails/own-calls.ts";

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
  const map: [Exclude<keyof FunctionConfig, "approverEmails" | "responderRoleArns" | "kubernetesInVpc">, string][] = [
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
