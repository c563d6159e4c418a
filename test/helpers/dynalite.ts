/**
 * A real local DynamoDB (dynalite, in memory) for integration tests: `startDynalite()` in beforeAll, `stop()` in
 * afterAll. The server is unref'd and its connections are closed on stop, so it never keeps the test process alive, even
 * when a test fails before afterAll runs.
 */
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { tableDefinition } from "../../packages/core/src/store/table.ts";

interface DynaliteOptions {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
  maxItemSizeKb?: number;
}

// dynalite ships no types: load it through require and give it the one signature used here.
const require = createRequire(import.meta.url);
const dynalite = require("dynalite") as (options?: DynaliteOptions) => Server;

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  docClient: DynamoDBDocumentClient;
  /** Creates the eks-responder table (from `tableDefinition`) and returns its name. */
  createTable(name?: string): Promise<string>;
  stop(): Promise<void>;
}

let tables = 0;

export async function startDynalite(): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "fake-secret-for-dynalite" },
    maxAttempts: 1,
  });
  const docClient = DynamoDBDocumentClient.from(client);
  let stopped = false;

  return {
    endpoint,
    client,
    docClient,
    async createTable(name = `eks-responder-test-${++tables}`) {
      await client.send(new CreateTableCommand(tableDefinition(name)));
      return name;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** The environment that points the SDK's DynamoDB clients (a Runtime's among them) at a local server, fake credentials. */
export function localDynamoEnvironment(local: LocalDynamo): Record<string, string> {
  return {
    AWS_REGION: "eu-west-1",
    AWS_ACCESS_KEY_ID: "AKIDTEST",
    AWS_SECRET_ACCESS_KEY: "secret",
    AWS_ENDPOINT_URL_DYNAMODB: local.endpoint,
  };
}
