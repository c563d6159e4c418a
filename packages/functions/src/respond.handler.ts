import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { flushMetrics } from "./metrics.ts";
import { handleEvent } from "./respond.ts";
import { logger, runtime } from "./runtime.ts";

/** EventBridge target: one CloudTrail call or GuardDuty finding. A throw sends the event to its retry policy and DLQ. */
export const handler = middy(async (event: unknown, context: { getRemainingTimeInMillis(): number }) => {
  const result = await handleEvent(event, runtime(), context);
  return { outcome: result.outcome, eventId: result.eventId, duplicate: result.duplicate === true };
})
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(flushMetrics());
