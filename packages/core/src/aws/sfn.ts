/** The Step Functions client and the commands the project sends, by name: imported instead of `@aws-sdk/client-sfn` for the reason aws/ec2.ts gives. */
export { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
