import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { handleApply } from "./approval-tasks.ts";
import { logger, runtime } from "./runtime.ts";

/** The Apply task of the approval state machine (infra/approval.asl.json). */
export const handler = middy(async (input: Parameters<typeof handleApply>[0]) => handleApply(input, runtime())).use(
  injectLambdaContext(logger, { clearState: true }),
);
