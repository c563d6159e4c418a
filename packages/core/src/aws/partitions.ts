/**
 * The shapes of AWS Region codes and ARN partitions, in every partition: `aws`, `aws-cn` (cn-north-1),
 * `aws-us-gov` (us-gov-west-1), `aws-iso` (us-iso-east-1), `aws-iso-b` (us-isob-east-1), `aws-iso-e`
 * (eu-isoe-west-1), `aws-iso-f` (us-isof-south-1) and `aws-eusc` (eusc-de-east-1).
 * @see https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html (partition: aws, aws-cn, aws-us-gov, …)
 *
 * Written here rather than taken from the SDK's partition table (`partition()` of `@aws-sdk/core/client`): that
 * function answers `aws` for any string, so it cannot refuse a malformed region, and its module would be loaded on
 * the parse path of every event. test/unit/aws/partitions.test.ts checks these shapes against that table.
 * The region shape stays general (a 2-4 letter area, words, a number) so that a Region AWS opens tomorrow is read.
 */
export const REGION_PATTERN = /^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$/;

/** `aws`, or `aws-` and lower-case words: every partition an ARN can name. */
export const ARN_PARTITION = "aws(?:-[a-z]+)*";

export const REGION_MESSAGE =
  "expected an AWS Region code such as eu-west-1 (any partition: cn-north-1, us-gov-west-1, …)";

/** The ARN with its partition written as `aws`: the same AWS-managed resource in every partition compares equal. */
export function withoutPartition(arn: string): string {
  return arn.replace(new RegExp(`^arn:${ARN_PARTITION}:`), "arn:aws:");
}
