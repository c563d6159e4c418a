import type { Cluster, EKSClient } from "@aws-sdk/client-eks";
import { awsErrorCode } from "../aws/errors.ts";
import type { CallLog } from "./calls.ts";
import type { ApplyContext } from "./types.ts";

/** EKS refuses a second update while one is in progress; wait and try again this many times. */
export const UPDATE_ATTEMPTS = 6;
export const UPDATE_RETRY_WAIT_MS = 10_000;

export async function describeCluster(ctx: ApplyContext, log: CallLog, name: string): Promise<Cluster> {
  const { DescribeClusterCommand } = await import("@aws-sdk/client-eks");
  const eks = await ctx.clients.eks();
  const output = await log.send("eks", "DescribeCluster", { name }, () =>
    eks.send(new DescribeClusterCommand({ name })),
  );
  if (output === "dry-run-ok" || !output.cluster) throw new Error(`DescribeCluster returned no cluster for ${name}`);
  return output.cluster;
}

type UpdateInput = ConstructorParameters<typeof import("@aws-sdk/client-eks").UpdateClusterConfigCommand>[0];

/**
 * UpdateClusterConfig with a bounded wait when another update is in progress (ResourceInUseException): at most
 * UPDATE_ATTEMPTS tries, UPDATE_RETRY_WAIT_MS apart. Returns the update id.
 */
export async function updateClusterConfig(
  ctx: ApplyContext,
  log: CallLog,
  input: UpdateInput,
): Promise<string | undefined> {
  const { UpdateClusterConfigCommand } = await import("@aws-sdk/client-eks");
  const eks: EKSClient = await ctx.clients.eks();
  for (let attempt = 1; ; attempt++) {
    try {
      const output = await log.send("eks", "UpdateClusterConfig", { ...input }, () =>
        eks.send(new UpdateClusterConfigCommand(input)),
      );
      return output === "dry-run-ok" ? undefined : output.update?.id;
    } catch (error) {
      if (awsErrorCode(error) !== "ResourceInUseException" || attempt >= UPDATE_ATTEMPTS) throw error;
      await ctx.sleep(UPDATE_RETRY_WAIT_MS);
    }
  }
}
