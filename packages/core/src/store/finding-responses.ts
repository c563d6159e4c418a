/**
 * The response in place for a GuardDuty finding, by finding id, across its repeats. GuardDuty aggregates later
 * occurrences of a finding into the same finding id and publishes it again (every 6 hours by default; 15 minutes or
 * 1 hour when configured) with a new `updatedAt` and a higher `service.count`: each repeat is a new event, and without
 * this record each could open a second response.
 * https://docs.aws.amazon.com/guardduty/latest/ug/finding-aggregation.html
 * https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html
 *
 * | item             | pk                                           | sk        |
 * | ---------------- | -------------------------------------------- | --------- |
 * | finding response | `FINDING#<account>:<region>:<findingId>`      | `FINDING` |
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { FindingResponse } from "../pipeline/finding-repeats.ts";
import { documentCommands } from "./document-commands.ts";
import { epochSeconds, keyPart, PK, SK, TTL_ATTRIBUTE, wellFormed } from "./table.ts";

/** GuardDuty keeps a finding 90 days: a repeat can come that long after the first response. */
export const FINDING_RESPONSE_TTL_SECONDS = 90 * 24 * 3600;

function key(account: string, region: string, findingId: string) {
  return { [PK]: `FINDING#${keyPart(`${account}:${region}:${findingId}`)}`, [SK]: "FINDING" };
}

export interface FindingResponseStore {
  get(account: string, region: string, findingId: string, now?: Date): Promise<FindingResponse | undefined>;
  put(response: FindingResponse, now?: Date): Promise<void>;
}

function isFindingResponse(value: unknown): value is FindingResponse {
  if (value === null || typeof value !== "object") return false;
  const v = value as Partial<Record<keyof FindingResponse, unknown>>;
  return (
    typeof v.findingId === "string" &&
    typeof v.assessmentId === "string" &&
    (v.how === "applied" || v.how === "approval") &&
    typeof v.severity === "number" &&
    Array.isArray(v.resources) &&
    v.resources.every((r) => typeof r === "string") &&
    typeof v.at === "string"
  );
}

/** The finding responses in the single table; an unreadable item counts as a response in place (fail closed). */
export function findingResponseStore(client: DynamoDBDocumentClient, table: string): FindingResponseStore {
  return {
    async get(account, region, findingId, now = new Date()) {
      const out = await client.send(
        new (await documentCommands()).GetCommand({
          TableName: table,
          Key: key(account, region, findingId),
          ConsistentRead: true,
        }),
      );
      const item = out.Item;
      if (!item) return undefined;
      // DynamoDB deletes expired items lazily: one past its TTL is absent.
      if (typeof item[TTL_ATTRIBUTE] === "number" && item[TTL_ATTRIBUTE] <= epochSeconds(now)) return undefined;
      let response: unknown;
      try {
        response = JSON.parse(String(item.response));
      } catch {
        response = undefined;
      }
      if (isFindingResponse(response)) return response;
      // Our own item, unreadable: something answered this finding, so a repeat is an alert, never a second response.
      return {
        account,
        region,
        findingId,
        assessmentId: "(an unreadable record)",
        how: "applied",
        severity: 10,
        resources: [],
        at: "",
      };
    },
    async put(response, now = new Date()) {
      const item = { ...response, findingId: wellFormed(response.findingId) };
      await client.send(
        new (await documentCommands()).PutCommand({
          TableName: table,
          Item: {
            ...key(item.account, item.region, item.findingId),
            response: JSON.stringify(item),
            [TTL_ATTRIBUTE]: epochSeconds(now) + FINDING_RESPONSE_TTL_SECONDS,
          },
        }),
      );
    },
  };
}
