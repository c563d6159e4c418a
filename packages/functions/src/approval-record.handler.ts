import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { handleRecord } from "./approval-tasks.ts";
import { logger, runtime } from "./runtime.ts";

/** The Record task of the approval state machine (infra/approval.asl.json). */
export const handler = middy(async (input: Parameters<typeof handleRecord>[0]) => handleRecord(input, runtime())).use(
  injectLambdaContext(logger, { clearState: true }),
);
