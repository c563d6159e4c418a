import type { Cluster, EKSClient, ErrorDetail, Update } from "@aws-sdk/client-eks";
import { awsErrorCode, awsErrorMessage } from "../aws/errors.ts";
import type { CallLog } from "./calls.ts";
import { type ApplyContext, type ApplyResult, RESPOND_UPDATE_WAIT_MS } from "./types.ts";

/**
 * EKS cluster updates are asynchronous: UpdateClusterConfig starts one and answers its id, DescribeUpdate says when it
 * is `Successful`, `Failed` (with its errors) or `Cancelled`; EKS runs one update at a time and answers
 * ResourceInUseException (409, "Cannot LoggingUpdate because cluster <name> currently has update <id> in progress")
 * while another runs.
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateClusterConfig.html
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeUpdate.html
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_Update.html
 */

/** How often an update in progress (ours or another) is looked at again. */
export const UPDATE_POLL_MS = 5_000;
/**
 * The error code of an outcome whose update did not end within the wait: another update kept the cluster busy, or
 * ours is still InProgress. guardrails/faults.ts counts it as transient.
 */
export const UPDATE_STILL_IN_PROGRESS = "EksUpdateStillInProgress";
/** The error code of an update that EKS accepted and then reported Failed or Cancelled (permanent). */
export const UPDATE_FAILED = "EksUpdateFailed";

export async function describeCluster(ctx: ApplyContext, log: CallLog, name: string): Promise<Cluster> {
  const { DescribeClusterCommand } = await import("../aws/eks.ts");
  const eks = await ctx.clients.eks();
  const output = await log.send("eks", "DescribeCluster", { name }, () =>
    eks.send(new DescribeClusterCommand({ name })),
  );
  if (output === "dry-run-ok" || !output.cluster) throw new Error(`DescribeCluster returned no cluster for ${name}`);
  return output.cluster;
}

type UpdateInput = ConstructorParameters<typeof import("@aws-sdk/client-eks").UpdateClusterConfigCommand>[0];

/**
 * EKS's answer to a change the cluster already has: InvalidParameterException with "No changes needed for the logging
 * config provided", or "Cluster is already at the desired configuration with endpointPrivateAccess: …" for the
 * endpoint (as EKS answers them, e.g. aws-quickstart/quickstart-amazon-eks-cluster-resource-provider#38 and
 * crossplane-contrib/provider-aws#1047). A retry of a change an earlier attempt made meets it.
 */
export function isNoChangeNeeded(error: unknown): boolean {
  if (awsErrorCode(error) !== "InvalidParameterException") return false;
  return /no changes needed|already at the desired configuration|is already enabled/i.test(awsErrorMessage(error));
}

/** How one cluster update ended, as the actions report it. */
export type UpdateOutcome =
  | { status: "successful"; updateId: string; update: Update }
  | { status: "no-change"; message: string }
  | { status: "failed"; updateId: string; updateStatus: string; errors: string }
  /** `started`: EKS accepted our update and it is still running (it may yet succeed); false: another one kept it busy. */
  | { status: "still-in-progress"; started: boolean; reason: string };

/** The errors of a Failed update, in one line: "IpNotAvailable: … (subnet-…)". */
function errorsOf(errors: readonly ErrorDetail[] | undefined): string {
  const parts = (errors ?? []).map((e) => {
    const ids = e.resourceIds?.length ? ` (${e.resourceIds.join(", ")})` : "";
    return `${e.errorCode ?? "Unknown"}: ${e.errorMessage ?? "no message"}${ids}`;
  });
  return parts.length > 0 ? parts.join("; ") : "EKS gave no error detail";
}

/**
 * Starts one UpdateClusterConfig and follows it to its end, within the caller's wait (ApplyContext.updateWaitMs):
 * ResourceInUseException is waited out and the call sent again; "no changes needed" means the change is already
 * there; then DescribeUpdate is polled until Successful, Failed or Cancelled. Waits are counted, not timed: each is
 * UPDATE_POLL_MS through ctx.sleep. Any other error is thrown (the action records it as failed).
 */
export async function runClusterUpdate(ctx: ApplyContext, log: CallLog, input: UpdateInput): Promise<UpdateOutcome> {
  const { UpdateClusterConfigCommand } = await import("../aws/eks.ts");
  const eks: EKSClient = await ctx.clients.eks();
  return runEksUpdate(ctx, log, {
    operation: "UpdateClusterConfig",
    params: { ...input },
    what: input.name ?? "the cluster",
    describe: { name: input.name ?? "" },
    start: async () => (await eks.send(new UpdateClusterConfigCommand(input))).update,
  });
}

/** One EKS update to start and follow: the call that starts it, and what DescribeUpdate needs besides its id. */
export interface EksUpdateStart {
  operation: string;
  params: Record<string, unknown>;
  /** What is updated, for the reasons: the cluster, or "node group <name> of <cluster>". */
  what: string;
  /** DescribeUpdate's `name` (the cluster) and, for a node group's update, `nodegroupName`. */
  describe: { name: string; nodegroupName?: string };
  start(): Promise<Update | undefined>;
}

/**
 * Starts an EKS update (a cluster's, or a node group's) and follows it through DescribeUpdate as runClusterUpdate
 * describes; DescribeUpdate takes the node group's name for a node group's update
 * (https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeUpdate.html).
 */
export async function runEksUpdate(ctx: ApplyContext, log: CallLog, start: EksUpdateStart): Promise<UpdateOutcome> {
  const { DescribeUpdateCommand } = await import("../aws/eks.ts");
  const eks: EKSClient = await ctx.clients.eks();
  const budget = ctx.updateWaitMs ?? RESPOND_UPDATE_WAIT_MS;
  let waited = 0;
  let update: Update | undefined;
  while (update === undefined) {
    try {
      const output = await log.send("eks", start.operation, start.params, () => start.start());
      update = output === "dry-run-ok" || !output ? {} : output;
    } catch (error) {
      if (isNoChangeNeeded(error)) return { status: "no-change", message: awsErrorMessage(error) };
      if (awsErrorCode(error) !== "ResourceInUseException") throw error;
      if (waited + UPDATE_POLL_MS > budget) {
        return {
          status: "still-in-progress",
          started: false,
          reason: `another update of ${start.what} was still in progress after ${waited / 1000} s (${awsErrorMessage(error)})`,
        };
      }
      await ctx.sleep(UPDATE_POLL_MS);
      waited += UPDATE_POLL_MS;
    }
  }
  const updateId = update.id;
  if (!updateId) throw new Error(`${start.operation} of ${start.what} answered no update id: its outcome is unknown`);
  for (;;) {
    const status = update.status;
    if (status === "Successful") return { status: "successful", updateId, update };
    if (status === "Failed" || status === "Cancelled") {
      return { status: "failed", updateId, updateStatus: status, errors: errorsOf(update.errors) };
    }
    if (waited + UPDATE_POLL_MS > budget) {
      return {
        status: "still-in-progress",
        started: true,
        reason: `update ${updateId} of ${start.what} was still ${status ?? "InProgress"} after ${waited / 1000} s`,
      };
    }
    await ctx.sleep(UPDATE_POLL_MS);
    waited += UPDATE_POLL_MS;
    const request = { ...start.describe, updateId };
    const output = await log.send("eks", "DescribeUpdate", request, () => eks.send(new DescribeUpdateCommand(request)));
    if (output === "dry-run-ok" || !output.update) throw new Error(`DescribeUpdate returned no update ${updateId}`);
    update = output.update;
  }
}

/**
 * The ApplyResult of an update that did not succeed (or needed no change), for apply and rollback alike. A change
 * still in progress keeps its `before` and `undo`: it may succeed, and then this is how it is undone.
 */
export function updateResult(
  log: CallLog,
  action: string,
  outcome: Exclude<UpdateOutcome, { status: "successful" }>,
  what: string,
  extra: Partial<ApplyResult> = {},
): ApplyResult {
  switch (outcome.status) {
    case "no-change":
      return log.result(action, "already-done", `${what}: EKS answered that no change is needed (${outcome.message})`, {
        ...(extra.before ? { before: extra.before } : {}),
      });
    case "failed":
      return log.result(
        action,
        "failed",
        `${what}: update ${outcome.updateId} ${outcome.updateStatus}: ${outcome.errors}`,
        {
          ...(extra.before ? { before: extra.before } : {}),
          error: {
            code: UPDATE_FAILED,
            message: `update ${outcome.updateId} ${outcome.updateStatus}: ${outcome.errors}`,
          },
        },
      );
    case "still-in-progress":
      return log.result(action, "failed", `${what}: ${outcome.reason}; to be tried again`, {
        ...(outcome.started ? extra : extra.before ? { before: extra.before } : {}),
        error: { code: UPDATE_STILL_IN_PROGRESS, message: outcome.reason },
      });
  }
}
