import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { dynamoApprovalStore, handleApprovalRequest } from "@eks-responder/core";
import { loadOnce } from "@eks-responder/core/lazy.ts";
import middy from "@middy/core";
import { flushMetrics } from "./metrics.ts";
import { logger, runtime } from "./runtime.ts";

/** A Lambda Function URL request (payload format 2.0), the fields the callback reads. */
interface FunctionUrlEvent {
  rawPath?: string;
  rawQueryString?: string;
  headers?: Record<string, string | undefined>;
  queryStringParameters?: Record<string, string | undefined>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext?: { http?: { method?: string } };
}

/** The Step Functions client, imported and created when the first decision is sent (a page view needs none). */
const stepFunctions = loadOnce(async () => {
  const { SFNClient } = await import("@eks-responder/core/aws/sfn.ts");
  return new SFNClient({});
});

/**
 * The approval callback behind a Function URL (auth NONE): it verifies Slack signatures and signed links itself, and
 * only then tells Step Functions the decision.
 */
export const handler = middy(async (event: FunctionUrlEvent) => {
  const rt = runtime();
  const policy = await rt.policy();
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const rawBody = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, "base64").toString("utf8")
      : event.body
    : "";
  const response = await handleApprovalRequest(
    {
      method: event.requestContext?.http?.method ?? "GET",
      path: event.rawPath ?? "/",
      headers,
      rawBody,
      query: event.queryStringParameters ?? {},
    },
    {
      sfn: stepFunctions,
      store: dynamoApprovalStore(await rt.dynamo(), rt.config.tableName),
      slackSigningSecret: (await rt.secret(rt.config.slackSigningSecretParameterName)) ?? "",
      linkSecret: (await rt.secret(rt.config.approvalLinkSecretParameterName)) ?? "",
      approvers: policy.approvals.approvers,
      now: () => new Date(),
      audit: async (entry) => {
        logger.info("approval callback", { ...entry });
      },
    },
  );
  return response;
})
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(flushMetrics());
