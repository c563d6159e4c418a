import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { ApprovalRecord, ApprovalStore } from "../approval/links.ts";
import { documentCommands } from "./document-commands.ts";
import { isConditionFailure } from "./idempotency.ts";
import { epochSeconds, keyPart, PK, SK, TTL_ATTRIBUTE } from "./table.ts";

/** Pending approvals are kept a day past their expiry, for the audit of late clicks. */
const KEEP_AFTER_EXPIRY_SECONDS = 24 * 3600;

function key(approvalId: string) {
  return { [PK]: `APPROVAL#${keyPart(approvalId)}`, [SK]: "APPROVAL" };
}

/** Pending approvals in the DynamoDB table: the task token stays server-side; single use is a conditional write. */
export function dynamoApprovalStore(
  client: DynamoDBDocumentClient,
  table: string,
): ApprovalStore & {
  put(record: ApprovalRecord): Promise<void>;
} {
  return {
    async put(record) {
      const expires = record.expiresAt ? new Date(record.expiresAt) : new Date(Date.now() + 7 * 24 * 3600 * 1000);
      await client.send(
        new (await documentCommands()).PutCommand({
          TableName: table,
          Item: {
            ...key(record.approvalId),
            record: JSON.stringify(record),
            [TTL_ATTRIBUTE]: epochSeconds(expires) + KEEP_AFTER_EXPIRY_SECONDS,
          },
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: { "#pk": PK },
        }),
      );
    },
    async get(approvalId) {
      const out = await client.send(
        new (await documentCommands()).GetCommand({ TableName: table, Key: key(approvalId), ConsistentRead: true }),
      );
      const text = out.Item?.record;
      return typeof text === "string" ? (JSON.parse(text) as ApprovalRecord) : undefined;
    },
    async markUsed(approvalId, nonce) {
      try {
        await client.send(
          new (await documentCommands()).UpdateCommand({
            TableName: table,
            Key: key(approvalId),
            UpdateExpression: "SET usedAt = :now, usedBy = :nonce",
            ConditionExpression: "attribute_exists(#pk) AND attribute_not_exists(usedAt)",
            ExpressionAttributeNames: { "#pk": PK },
            ExpressionAttributeValues: { ":now": new Date().toISOString(), ":nonce": nonce },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },
  };
}
