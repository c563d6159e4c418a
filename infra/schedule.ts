import { DIGEST_SCHEDULE } from "./naming.ts";

/** Runs the digest function every minute: it posts the Slack digests of alerts held back under a burst. */
export function createDigestSchedule(digest: sst.aws.Function) {
  const rule = new aws.cloudwatch.EventRule("DigestSchedule", {
    description: "eks-responder: post pending Slack digests",
    scheduleExpression: DIGEST_SCHEDULE,
  });
  new aws.cloudwatch.EventTarget("DigestScheduleTarget", { rule: rule.name, arn: digest.arn });
  new aws.lambda.Permission("DigestScheduleInvoke", {
    action: "lambda:InvokeFunction",
    function: digest.name,
    principal: "events.amazonaws.com",
    sourceArn: rule.arn,
  });
  return rule;
}
