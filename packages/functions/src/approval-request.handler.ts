import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { handleRequest } from "./approval-tasks.ts";
import { logger, runtime } from "./runtime.ts";

/** The Request task of the approval state machine (infra/approval.asl.json). */
export const handler = middy(async (input: Parameters<typeof handleRequest>[0]) => handleRequest(input, runtime())).use(
  injectLambdaContext(logger, { clearState: true }),
);
