import { ruleSpecs } from "../packages/core/src/eventbridge/rules.ts";
import { EVENT_DELIVERY } from "./naming.ts";

/**
 * EventBridge rules on the default bus, with the full patterns of packages/core/src/eventbridge/rules.ts (a raw aws.cloudwatch.EventRule:
 * SST's Bus.subscribe keeps only source, detail-type and detail), each targeting the respond function with a retry
 * policy and the dead-letter queue. Lambda may be invoked by each rule only (the permission names the rule's ARN),
 * the queue accepts messages from these rules only, and failed asynchronous invocations go to the same queue.
 */
export function createEventDelivery(
  respond: sst.aws.Function,
  deadLetterQueue: aws.sqs.Queue,
  /** Hub mode: the organization bus, which gets the same rules (named `<rule>Org`) as the default bus. */
  organizationBus?: aws.cloudwatch.EventBus,
) {
  const buses: { suffix: string; name: $util.Input<string> }[] = [
    { suffix: "", name: "default" },
    ...(organizationBus ? [{ suffix: "Org", name: organizationBus.name }] : []),
  ];
  const specs = buses.flatMap((bus) =>
    ruleSpecs().map((spec) => ({ ...spec, name: `${spec.name}${bus.suffix}`, bus: bus.name })),
  );
  const rules = specs.map((spec) => {
    const rule = new aws.cloudwatch.EventRule(spec.name, {
      description: spec.description,
      eventBusName: spec.bus,
      eventPattern: JSON.stringify(spec.pattern),
    });
    new aws.cloudwatch.EventTarget(`${spec.name}Target`, {
      rule: rule.name,
      eventBusName: spec.bus,
      arn: respond.arn,
      retryPolicy: EVENT_DELIVERY.target,
      deadLetterConfig: { arn: deadLetterQueue.arn },
    });
    new aws.lambda.Permission(`${spec.name}Invoke`, {
      action: "lambda:InvokeFunction",
      function: respond.name,
      principal: "events.amazonaws.com",
      sourceArn: rule.arn,
    });
    return rule;
  });
  new aws.sqs.QueuePolicy("DeadLetterQueuePolicy", {
    queueUrl: deadLetterQueue.url,
    policy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "EventBridgeRulesOfEksResponder",
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: deadLetterQueue.arn,
          Condition: { ArnEquals: { "aws:SourceArn": rules.map((r) => r.arn) } },
        },
      ],
    }),
  });
  new aws.lambda.FunctionEventInvokeConfig("RespondAsyncInvoke", {
    functionName: respond.name,
    ...EVENT_DELIVERY.invoke,
    destinationConfig: { onFailure: { destination: deadLetterQueue.arn } },
  });
  return rules;
}
