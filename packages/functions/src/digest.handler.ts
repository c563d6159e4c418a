import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { flushDigests, slackPoster } from "@eks-responder/core";
import middy from "@middy/core";
import { flushMetrics } from "./metrics.ts";
import { logger, runtime } from "./runtime.ts";

/** Every minute: post the Slack digests of alerts held back under a burst (what fails stays for the next run). */
export const handler = middy(async () => {
  const rt = runtime();
  const token = await rt.secret(rt.config.slackTokenParameterName);
  const webhookUrl = await rt.secret(rt.config.slackWebhookParameterName);
  const report = await flushDigests(await rt.dynamo(), rt.config.tableName, {
    post: slackPoster({ ...(token ? { token } : {}), ...(webhookUrl ? { webhookUrl } : {}) }),
    now: new Date(),
  });
  if (report.errors.length > 0)
    logger.error("digests kept for the next run", { errors: report.errors, kept: report.kept });
  return { messages: report.messages.length, posted: report.posted, kept: report.kept, errors: report.errors.length };
})
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(flushMetrics());
