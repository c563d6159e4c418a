import { approverFilterPolicy } from "../packages/core/src/approval/approver-channel.ts";
import { approvalsTopicPolicy } from "./approvals-policy.ts";
import type { DeploymentContext } from "./context.ts";
import { topicKeyPolicy } from "./iam.ts";
import type { Settings } from "./naming.ts";

/**
 * The notification and alarm topic, encrypted with a dedicated KMS key: CloudWatch alarms cannot publish to a topic
 * under the AWS managed alias/aws/sns key, whose policy cannot grant them kms:GenerateDataKey
 * (https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns).
 */
export function createTopic(settings: Settings, context: DeploymentContext) {
  const { account, region, partition } = context;
  const key = new aws.kms.Key("TopicKey", {
    description: `${settings.prefix}: encrypts the alerts and approvals topics`,
    enableKeyRotation: true,
    deletionWindowInDays: 30,
    policy: $resolve([partition, account]).apply(([p, a]) => JSON.stringify(topicKeyPolicy(p, a))),
  });
  new aws.kms.Alias("TopicKeyAlias", { name: `alias/${settings.prefix}-alerts`, targetKeyId: key.keyId });
  const topic = new aws.sns.Topic("Alerts", { name: settings.topicName, kmsMasterKeyId: key.arn });
  new aws.sns.TopicPolicy("AlertsPolicy", {
    arn: topic.arn,
    policy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "CloudWatchAlarmsOfThisAccount",
          Effect: "Allow",
          Principal: { Service: "cloudwatch.amazonaws.com" },
          Action: "sns:Publish",
          Resource: topic.arn,
          Condition: {
            StringEquals: { "aws:SourceAccount": account },
            ArnLike: { "aws:SourceArn": $interpolate`arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
          },
        },
        {
          Sid: "TlsOnly",
          Effect: "Deny",
          Principal: "*",
          Action: "sns:Publish",
          Resource: topic.arn,
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ],
    }),
  });
  if (settings.alertEmail) {
    new aws.sns.TopicSubscription("AlertsEmail", {
      topic: topic.arn,
      protocol: "email",
      endpoint: settings.alertEmail,
    });
  }
  return { topic, key };
}

/**
 * The approvals topic: signed approval links, one message per approver, never on the alerts topic (whose
 * subscribers, the alert e-mail among them, would get every approver's link). One email subscription per approver
 * (EKS_RESPONDER_APPROVER_EMAILS) with the filter policy `{"approver": ["<address>"]}` on the message attributes, so
 * each receives only the message meant for them; the topic policy (approvals-policy.ts) refuses every other
 * subscription. Why one filtered topic and not one topic per approver: packages/core/src/approval/approver-channel.ts.
 * Encrypted with the alerts topic's key (the request function's kms grant covers it).
 */
export function createApprovalsTopic(settings: Settings, key: aws.kms.Key) {
  const topic = new aws.sns.Topic("Approvals", { name: settings.approvalsTopicName, kmsMasterKeyId: key.arn });
  new aws.sns.TopicPolicy("ApprovalsPolicy", {
    arn: topic.arn,
    policy: topic.arn.apply((arn) => JSON.stringify(approvalsTopicPolicy(arn, settings.approverEmails))),
  });
  for (const email of settings.approverEmails) {
    new aws.sns.TopicSubscription(`ApprovalsEmail-${email.replace(/[^a-z0-9]+/g, "-")}`, {
      topic: topic.arn,
      protocol: "email",
      endpoint: email,
      filterPolicy: JSON.stringify(approverFilterPolicy(email)),
      filterPolicyScope: "MessageAttributes",
    });
  }
  return topic;
}
