/** The SNS client and Publish, by name: imported instead of `@aws-sdk/client-sns` for the reason aws/ec2.ts gives. */
export { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
