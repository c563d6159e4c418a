import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { handleNotify } from "./approval-tasks.ts";
import { logger, runtime } from "./runtime.ts";

/** The Notify task of the approval state machine (infra/approval.asl.json). */
export const handler = middy(async (input: Parameters<typeof handleNotify>[0]) => handleNotify(input, runtime())).use(
  injectLambdaContext(logger, { clearState: true }),
);
