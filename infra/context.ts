/** The account, region and partition of the deployment, as outputs of the AWS provider. */
export function deploymentContext() {
  return {
    account: aws.getCallerIdentityOutput({}).accountId,
    region: aws.getRegionOutput({}).region,
    partition: aws.getPartitionOutput({}).partition,
  };
}

export type DeploymentContext = ReturnType<typeof deploymentContext>;
