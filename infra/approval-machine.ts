import { approvalDefinition } from "./approval.ts";
import { type IamContext, stateMachinePolicy, stateMachineTrustPolicy } from "./iam.ts";
import type { Settings } from "./naming.ts";

export interface ApprovalTasks {
  requestApproval: sst.aws.Function;
  apply: sst.aws.Function;
  notify: sst.aws.Function;
  record: sst.aws.Function;
}

/**
 * The approval workflow (approval.asl.json, JSONPath) as a standard state machine. Its role may invoke exactly the
 * four task functions. Logs at ERROR level without execution data: the request's Lambda parameters carry the task
 * token, which must never reach a log.
 */
export function createApprovalMachine(settings: Settings, iam: $util.Output<IamContext>, tasks: ApprovalTasks) {
  const logGroup = new aws.cloudwatch.LogGroup("ApprovalLogs", {
    name: settings.stateMachineLogGroupName,
    retentionInDays: settings.logRetentionDays,
  });
  const role = new aws.iam.Role("ApprovalRole", {
    name: `${settings.prefix}-approval`,
    assumeRolePolicy: iam.apply((c) => JSON.stringify(stateMachineTrustPolicy(c))),
    inlinePolicies: [{ name: "approval", policy: iam.apply((c) => JSON.stringify(stateMachinePolicy(c))) }],
  });
  const definition = $resolve([tasks.requestApproval.arn, tasks.apply.arn, tasks.notify.arn, tasks.record.arn]).apply(
    ([requestApproval, apply, notify, record]) =>
      JSON.stringify(approvalDefinition({ requestApproval, apply, notify, record })),
  );
  return new aws.sfn.StateMachine(
    "Approval",
    {
      name: settings.stateMachineName,
      type: "STANDARD",
      roleArn: role.arn,
      definition,
      loggingConfiguration: {
        logDestination: $interpolate`${logGroup.arn}:*`,
        includeExecutionData: false,
        level: "ERROR",
      },
    },
    { dependsOn: [role] },
  );
}
