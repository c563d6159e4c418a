import { NOTIFICATION_FAILED_MESSAGE } from "../packages/functions/src/config.ts";

/**
 * Alarms to the alerts topic: something is in the dead-letter queue (an event was not handled), the respond function
 * failed, an approval execution failed (a failed apply or request ends the execution FAILED, see APPROVAL.md), or the
 * respond function could not notify an outcome (a remediation is never held back by a failed notification, so a
 * broken Slack secret or topic would otherwise go unseen: the function logs "notification failed", a metric filter
 * counts those lines). SQS publishes its metrics every 5 minutes, so every alarm looks at 5-minute periods.
 */
export function createAlarms(args: {
  prefix: string;
  topicArn: $util.Input<string>;
  deadLetterQueueName: $util.Input<string>;
  respondFunctionName: $util.Input<string>;
  /** The respond function: the metric filter waits for it, since it creates the log group the filter reads. */
  respondFunction: sst.aws.Function;
  stateMachineArn: $util.Input<string>;
}) {
  const common = {
    comparisonOperator: "GreaterThanThreshold",
    threshold: 0,
    evaluationPeriods: 1,
    period: 300,
    treatMissingData: "notBreaching",
    alarmActions: [args.topicArn],
    okActions: [args.topicArn],
  };
  const notificationsFailed = `${args.prefix}-notifications-failed`;
  new aws.cloudwatch.LogMetricFilter(
    "NotificationsFailedFilter",
    {
      name: notificationsFailed,
      logGroupName: $interpolate`/aws/lambda/${args.respondFunctionName}`,
      pattern: `{ $.message = "${NOTIFICATION_FAILED_MESSAGE}" }`,
      metricTransformation: { name: notificationsFailed, namespace: "eks-responder", value: "1", unit: "Count" },
    },
    { dependsOn: [args.respondFunction] },
  );
  return [
    new aws.cloudwatch.MetricAlarm("NotificationsFailed", {
      ...common,
      name: notificationsFailed,
      alarmDescription:
        "eks-responder: an outcome could not be notified (Slack or SNS); it is in the audit as notifyError, see the respond logs",
      namespace: "eks-responder",
      metricName: notificationsFailed,
      statistic: "Sum",
    }),
    new aws.cloudwatch.MetricAlarm("DeadLetterQueueNotEmpty", {
      ...common,
      name: `${args.prefix}-dlq-not-empty`,
      alarmDescription: "eks-responder: events in the dead-letter queue were not handled; inspect and replay them",
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: args.deadLetterQueueName },
      statistic: "Maximum",
    }),
    new aws.cloudwatch.MetricAlarm("RespondErrors", {
      ...common,
      name: `${args.prefix}-respond-errors`,
      alarmDescription: "eks-responder: the respond function failed (it is retried; see its logs)",
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: args.respondFunctionName },
      statistic: "Sum",
    }),
    new aws.cloudwatch.MetricAlarm("ApprovalExecutionsFailed", {
      ...common,
      name: `${args.prefix}-approval-failed`,
      alarmDescription: "eks-responder: an approval execution failed (apply or request failed; see the execution)",
      namespace: "AWS/States",
      metricName: "ExecutionsFailed",
      dimensions: { StateMachineArn: args.stateMachineArn },
      statistic: "Sum",
    }),
  ];
}
