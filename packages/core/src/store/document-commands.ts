import type * as LibDynamoDb from "@aws-sdk/lib-dynamodb";

let loading: Promise<typeof LibDynamoDb> | undefined;

/**
 * The DynamoDB document commands, imported on first use rather than with the module: a Lambda bundle that imports the
 * store then pays for the DynamoDB SDK when an event reaches the table, not while it loads (bench/cold-start.ts). A
 * failed import is not cached, so the next call tries again.
 */
export function documentCommands(): Promise<typeof LibDynamoDb> {
  if (!loading) {
    loading = import("@aws-sdk/lib-dynamodb");
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}
