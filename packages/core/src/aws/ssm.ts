/**
 * The SSM client and the commands the project sends, re-exported by name; imported with `await import()` instead of
 * `@aws-sdk/client-ssm` itself, for the reason aws/ec2.ts gives. SSM's client matters more than most: the policy and
 * the kill switch are read with it before the first fix (functions/src/runtime.ts), and the chunk every SSM user shares
 * was the package's whole namespace (175 KiB: every command's schema, every error class and enum) as long as one of
 * them imported the namespace.
 */
export {
  DescribeInstanceInformationCommand,
  GetParametersCommand,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
