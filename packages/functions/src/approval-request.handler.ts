import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { approvalTasks } from "./approval-tasks.ts";
import { flushMetrics } from "./metrics.ts";
import { logger, runtime } from "./runtime.ts";

/** The Request task of the approval state machine (infra/approval.asl.json); its input is parsed by its contract first. */
export const handler = middy(async (input: unknown) => approvalTasks.requestApproval(input, runtime()))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(flushMetrics());
