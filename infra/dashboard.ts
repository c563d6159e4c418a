import { dashboardBody } from "./dashboard-body.ts";

/**
 * The CloudWatch dashboard of the numbers (body: dashboard-body.ts), named after the deployment (`<prefix>-numbers`),
 * in the deployment's region. The standalone deployment creates it; a hub deployment calls the same function.
 */
export function createDashboard(args: { prefix: string; region: $util.Input<string> }): aws.cloudwatch.Dashboard {
  return new aws.cloudwatch.Dashboard("Dashboard", {
    dashboardName: `${args.prefix}-numbers`,
    dashboardBody: $output(args.region).apply((region) => JSON.stringify(dashboardBody(region))),
  });
}
