/** The Auto Scaling client and the commands the project sends, by name: imported instead of `@aws-sdk/client-auto-scaling` for the reason aws/ec2.ts gives. */
export {
  AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
  EnterStandbyCommand,
  ExitStandbyCommand,
  SetInstanceProtectionCommand,
} from "@aws-sdk/client-auto-scaling";
