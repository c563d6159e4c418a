/**
 * The approvals topic's policy, as plain data (tested with @cloud-copilot/iam-simulate, deployed by topic.ts).
 *
 * Signed approval links go to this topic, one message per approver, each delivered only to that approver's email
 * subscription by its filter policy (packages/core/src/approval/approver-channel.ts). A subscription without that
 * filter would receive every approver's link, so nobody may subscribe anything but the configured approvers' email
 * addresses, over the email protocol: a Deny for everyone else, which no IAM policy of any account can override.
 * SNS gives Subscribe requests the condition keys sns:Endpoint (the address) and sns:Protocol
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-language-api-permissions-reference.html).
 * The deploy's own subscriptions (one per approver, with the filter) are the only ones these statements let through.
 */
export function approvalsTopicPolicy(topicArn: string, approverEmails: readonly string[]) {
  const deny = (sid: string, action: string, condition?: Record<string, Record<string, string | string[]>>) => ({
    Sid: sid,
    Effect: "Deny" as const,
    Principal: "*",
    Action: action,
    Resource: topicArn,
    ...(condition ? { Condition: condition } : {}),
  });
  return {
    Version: "2012-10-17" as const,
    Id: "eks-responder-approvals",
    Statement: [
      deny("SubscribeByEmailOnly", "sns:Subscribe", { StringNotEquals: { "sns:Protocol": "email" } }),
      // With no approver configured, nobody may subscribe at all.
      approverEmails.length > 0
        ? deny("SubscribeApproversOnly", "sns:Subscribe", { StringNotEquals: { "sns:Endpoint": [...approverEmails] } })
        : deny("SubscribeApproversOnly", "sns:Subscribe"),
      deny("TlsOnly", "sns:Publish", { Bool: { "aws:SecureTransport": "false" } }),
    ],
  };
}
