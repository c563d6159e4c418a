/**
 * A stand-in DynamoDB document client that records, for every command the real store code sends, the IAM action and
 * the partition key it touches (what `dynamodb:LeadingKeys` is in the request), and answers with fixed, minimal
 * outputs. Used by the IAM tests to run the key builders of packages/core/src/store/*, guardrails and notify/digest.ts
 * themselves rather than copy their key strings. Hand-written: aws-sdk-client-mock answers per command class, but the
 * tests need every key of every command, across the document client's five commands, in one list.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export interface TableCall {
  /** The IAM action: `dynamodb:GetItem`, `dynamodb:PutItem`, `dynamodb:UpdateItem`, `dynamodb:DeleteItem`, `dynamodb:Query`. */
  action: string;
  /** The partition key value of the request. */
  pk: string;
  /** The index a Query reads, if any. */
  index?: string;
}

const ACTIONS: Record<string, string> = {
  GetCommand: "dynamodb:GetItem",
  PutCommand: "dynamodb:PutItem",
  UpdateCommand: "dynamodb:UpdateItem",
  DeleteCommand: "dynamodb:DeleteItem",
  QueryCommand: "dynamodb:Query",
};

interface Input {
  Key?: Record<string, unknown>;
  Item?: Record<string, unknown>;
  IndexName?: string;
  ExpressionAttributeValues?: Record<string, unknown>;
}

export interface RecordingDynamo {
  client: DynamoDBDocumentClient;
  calls: TableCall[];
}

/**
 * `answers` may give a command's output by its IAM action (called with the request's input); the default is `{}`
 * (no item read, write accepted) and, for UpdateItem, the attributes an ADD returns (`seq`, `count`: 1).
 */
export function recordingDynamo(
  answers: Partial<Record<string, (input: Input) => Record<string, unknown>>> = {},
): RecordingDynamo {
  const calls: TableCall[] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: Input }) {
      const action = ACTIONS[command.constructor.name];
      if (!action) throw new Error(`recording-dynamo: unexpected command ${command.constructor.name}`);
      const { input } = command;
      const pk = input.Key?.pk ?? input.Item?.pk ?? input.ExpressionAttributeValues?.[":pk"];
      if (typeof pk !== "string") throw new Error(`recording-dynamo: no partition key in ${action}`);
      calls.push({ action, pk, ...(input.IndexName ? { index: input.IndexName } : {}) });
      const answer = answers[action];
      if (answer) return answer(input);
      return action === "dynamodb:UpdateItem" ? { Attributes: { seq: 1, count: 1 } } : {};
    },
  };
  return { client: client as unknown as DynamoDBDocumentClient, calls };
}
