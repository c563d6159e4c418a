import { loadOnce } from "../lazy.ts";

/**
 * The DynamoDB document commands, imported on first use rather than with the module: a Lambda bundle that imports the
 * store then pays for the DynamoDB SDK when an event reaches the table, not while it loads.
 */
export const documentCommands = loadOnce(() => import("./dynamodb-sdk.ts"));
