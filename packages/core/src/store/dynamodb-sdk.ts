/**
 * The DynamoDB clients and the document commands the store sends, re-exported by name and imported with
 * `await import()`: a dynamic import of `@aws-sdk/client-dynamodb` or `@aws-sdk/lib-dynamodb` itself needs the whole
 * namespace, so a bundler would keep every command of both packages (see aws/ec2.ts for the same with EC2).
 */
export { DynamoDBClient } from "@aws-sdk/client-dynamodb";
export {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
