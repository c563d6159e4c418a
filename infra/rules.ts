import { ruleSpecs } from "./patterns.ts";

/**
 * EventBridge rules on the default bus, with full patterns. A raw aws.cloudwatch.EventRule is used because SST's
 * Bus.subscribe keeps only source, detail-type and detail. Targets (the respond function, its dead-letter queue and
 * retry policy) are added with the handlers.
 */
export function createRules() {
  return ruleSpecs().map(
    (spec) =>
      new aws.cloudwatch.EventRule(spec.name, {
        description: spec.description,
        eventBusName: "default",
        eventPattern: JSON.stringify(spec.pattern),
      }),
  );
}
