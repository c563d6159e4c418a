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
    description: `${settings.prefix}: encrypts the alerts topic`,
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
