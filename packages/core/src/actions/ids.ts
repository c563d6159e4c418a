import * as z from "../zod.ts";

/** Resource id formats, shared by the action parameter schemas. */
export const securityGroupId = z.string().check(z.regex(/^sg-[0-9a-f]{8,17}$/, "expected a security group id (sg-…)"));
export const securityGroupRuleId = z
  .string()
  .check(z.regex(/^sgr-[0-9a-f]{8,17}$/, "expected a security group rule id (sgr-…)"));
export const instanceId = z.string().check(z.regex(/^i-[0-9a-f]{8,17}$/, "expected an instance id (i-…)"));
export const vpcId = z.string().check(z.regex(/^vpc-[0-9a-f]{8,17}$/, "expected a VPC id (vpc-…)"));
export const networkInterfaceId = z
  .string()
  .check(z.regex(/^eni-[0-9a-f]{8,17}$/, "expected a network interface id (eni-…)"));
/** EKS cluster names: 1-100 characters, letters, digits, hyphens and underscores, starting with a letter or digit. */
export const clusterName = z
  .string()
  .check(z.regex(/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/, "expected an EKS cluster name"));
export const principalArn = z
  .string()
  .check(z.regex(/^arn:aws[a-z-]*:(iam|sts)::\d{12}:\S+$/, "expected an IAM principal ARN"));

export function dryRunParam(dryRun: boolean): { DryRun?: true } {
  return dryRun ? { DryRun: true } : {};
}
