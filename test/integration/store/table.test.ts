/** The table definition, created on a real local DynamoDB (dynalite) as the tests and the infra use it. */
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tableDefinition, ttlSpecification } from "../../../packages/core/src/store/table.ts";
import { type LocalDynamo, startDynalite } from "../../helpers/dynalite.ts";

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo.stop();
});

describe("tableDefinition", () => {
  it("creates an on-demand table keyed on pk/sk with the time and cluster indexes", async () => {
    // prepare
    const name = await dynamo.createTable("definition-test");

    // act
    const { Table } = await dynamo.client.send(new DescribeTableCommand({ TableName: name }));

    // assess
    expect(Table?.TableStatus).toBe("ACTIVE");
    expect(Table?.BillingModeSummary?.BillingMode).toBe("PAY_PER_REQUEST");
    expect(Table?.KeySchema).toEqual(tableDefinition(name).KeySchema);
    expect(Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema?.map((k) => k.AttributeName)])).toEqual([
      ["gsi1", ["gsi1pk", "gsi1sk"]],
      ["gsi2", ["gsi2pk", "gsi2sk"]],
    ]);
  });

  it("names expiresAt as the TTL attribute for the infra to enable", () => {
    // prepare
    const name = "any-table";

    // act
    const spec = ttlSpecification(name);

    // assess
    expect(spec).toEqual({ TableName: name, TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true } });
  });
});
