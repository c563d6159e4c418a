/**
 * The DynamoDB table's Pulumi arguments, mirrored from `tableDefinition()` (the CreateTable input the tests use on a
 * local server), so the deployed table and the tested one cannot drift. Pure: no SST or Pulumi globals.
 */
import { TTL_ATTRIBUTE, tableDefinition } from "../packages/core/src/store/table.ts";

type KeySchema = readonly { AttributeName: string; KeyType: "HASH" | "RANGE" }[];

export interface TableArgs {
  name: string;
  billingMode: "PAY_PER_REQUEST";
  hashKey: string;
  rangeKey?: string;
  attributes: { name: string; type: string }[];
  globalSecondaryIndexes: { name: string; hashKey: string; rangeKey?: string; projectionType: string }[];
  ttl: { attributeName: string; enabled: true };
  pointInTimeRecovery: { enabled: true };
  /** Encryption at rest with the AWS managed key (aws/dynamodb) rather than the AWS owned default. */
  serverSideEncryption: { enabled: true };
  deletionProtectionEnabled: boolean;
}

function keys(schema: KeySchema, where: string): { hashKey: string; rangeKey?: string } {
  const hash = schema.find((k) => k.KeyType === "HASH")?.AttributeName;
  if (!hash) throw new Error(`${where}: no HASH key`);
  const range = schema.find((k) => k.KeyType === "RANGE")?.AttributeName;
  return range ? { hashKey: hash, rangeKey: range } : { hashKey: hash };
}

/** `deletionProtection`: on for stages whose data must survive a mistaken `sst remove`. */
export function tableArgs(name: string, deletionProtection: boolean): TableArgs {
  const definition = tableDefinition(name);
  return {
    name: definition.TableName,
    billingMode: definition.BillingMode,
    ...keys(definition.KeySchema, "table"),
    attributes: definition.AttributeDefinitions.map((a) => ({ name: a.AttributeName, type: a.AttributeType })),
    globalSecondaryIndexes: definition.GlobalSecondaryIndexes.map((index) => ({
      name: index.IndexName,
      ...keys(index.KeySchema, index.IndexName),
      projectionType: index.Projection.ProjectionType,
    })),
    ttl: { attributeName: TTL_ATTRIBUTE, enabled: true },
    pointInTimeRecovery: { enabled: true },
    serverSideEncryption: { enabled: true },
    deletionProtectionEnabled: deletionProtection,
  };
}
