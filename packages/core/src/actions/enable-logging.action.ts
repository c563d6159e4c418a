import { builtOnce } from "../lazy.ts";
import * as z from "../zod.ts";
import { deferredReversible } from "./deferred.ts";
import { clusterName } from "./ids.ts";
import type { ActionDefinition } from "./types.ts";

export const logType = z.enum(["api", "audit", "authenticator", "controllerManager", "scheduler"]);
const params = builtOnce(() => z.strictObject({ clusterName, logTypes: z.array(logType).check(z.minLength(1)) }));
export type Params = z.output<ReturnType<typeof params>>;

/** The log group EKS writes the control-plane logs to (created by EKS on first use, with no retention period). */
export function controlPlaneLogGroup(cluster: string): string {
  return `/aws/eks/${cluster}/cluster`;
}

/**
 * What the logs cost, said in the plan: "CloudWatch Logs ingestion, archive storage, and data scanning rates apply to
 * exported control plane logs" (https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateClusterConfig.html;
 * rates: https://aws.amazon.com/cloudwatch/pricing/). The retention is recommended, not set: the log group may not
 * exist until the update has run, and how long audit logs are kept is the account's compliance decision, not a
 * responder's (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html).
 */
export function costNote(cluster: string): string {
  const group = controlPlaneLogGroup(cluster);
  return (
    `costs: CloudWatch Logs charges ingestion and storage for what the control plane writes to ${group} ` +
    "(see https://aws.amazon.com/cloudwatch/pricing/); EKS creates that log group without a retention period: set one " +
    `(aws logs put-retention-policy --log-group-name ${group} --retention-in-days <days>)`
  );
}

export const enableLogging: ActionDefinition<ReturnType<typeof params>> = {
  id: "eks:enable-logging",
  summary: "Turn control-plane log types back on.",
  get params() {
    return params();
  },
  permissions: ["eks:UpdateClusterConfig", "eks:DescribeCluster", "eks:DescribeUpdate"],
  rollbackPermissions: ["eks:UpdateClusterConfig", "eks:DescribeUpdate"],
  destructive: false,
  reversible: true,
  preconditions: [
    "only the required types that are off now are turned on",
    "a cluster whose live tags carry one of the policy's exemption tags is left alone (refused)",
    'an update already in progress is waited for (30 s by default, which fits the respond function; the event is then retried), and EKS\'s "no changes needed" answer counts as already done',
    "applied only when DescribeUpdate says Successful; an update that ends Failed or Cancelled (for example IpNotAvailable: a subnet of the cluster has no free IP address) is a failure with EKS's errors",
  ],
  notCovered: [
    "logs written while the types were off are not recovered",
    "CloudWatch Logs charges ingestion and storage for the control-plane logs (https://aws.amazon.com/cloudwatch/pricing/), and EKS creates /aws/eks/<cluster>/cluster without a retention period: the action recommends one in its plan and outcome but does not set it (no logs:PutRetentionPolicy grant)",
    "an update that stays in progress past the respond function's wait and every retry of the event ends in the dead-letter queue, with the change possibly made later by EKS and recorded by no outcome",
    "the approval's Apply task waits no longer than the respond function (30 s) for an update: it does not pass a longer updateWaitMs yet, so a slow update there ends as a failed apply",
    "a change that completes on a retry of the event is reported already done, without the undo the first attempt recorded (the respond path keeps the undo of applied outcomes only)",
    "whoever turned the types off can turn them off again; the next UpdateClusterConfig event is handled like this one",
  ],
  rollbackSummary: "turn the same log types off again",
  plan(p) {
    return {
      calls: [
        {
          service: "eks",
          operation: "UpdateClusterConfig",
          params: { name: p.clusterName, logging: { clusterLogging: [{ types: p.logTypes, enabled: true }] } },
          note: `turn ${p.logTypes.join(", ")} logging back on for ${p.clusterName} (only those still off); applied when DescribeUpdate says Successful; ${costNote(p.clusterName)}`,
        },
      ],
    };
  },
  ...deferredReversible(() => import("./runtimes.ts").then((m) => m.enableLogging)),
  example: { clusterName: "prod-eks", logTypes: ["api", "audit", "authenticator"] },
};
