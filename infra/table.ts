import type { Settings } from "./naming.ts";
import { tableArgs } from "./table-args.ts";

/**
 * The one table (idempotency, approvals, audit), mirrored from tableDefinition(): on-demand, TTL on expiresAt,
 * point-in-time recovery, encrypted with the AWS managed key. Deletion protection when the stage retains its data.
 */
export function createTable(settings: Settings) {
  return new aws.dynamodb.Table("Table", tableArgs(settings.tableName, $app.removal !== "remove"));
}
