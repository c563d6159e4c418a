/**
 * Cold start to the first answer: a fresh `node` process imports the bundled respond handler and hands it one event,
 * with AWS behind local endpoints: DynamoDB is dynalite (real conditional writes for the claim, the audit and the Slack
 * gate), SSM and the Slack webhook are a small local server (GetParameter answers from a map; the webhook answers
 * "ok"). The import alone is what bench/cold-start.ts compares with the empty handler; this adds what the first event
 * pays on top, mostly the SDK clients the handler imports on first use, so the lazy loading is seen to move work, not
 * hide it.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { type LocalDynamo, startDynalite } from "../test/helpers/dynalite.ts";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..");

/** The first events measured: one the policy skips (no notification), one it alerts on (a Slack post). */
export const FIRST_EVENTS = {
  skipped: {
    file: "examples/events/gd-01-persistence-k8s-successful-anonymous-access.json",
    path: "a GuardDuty sample finding (skipped: policy, claim and audit in DynamoDB)",
  },
  notified: {
    file: "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json",
    path: "a world-open SSH rule under the example policy (dry-run: also the Slack secret, the Slack gate and the post)",
  },
} as const;
export type FirstEventKind = keyof typeof FIRST_EVENTS;

const PARAMETERS = {
  policy: "/eks-responder/bench/policy",
  killSwitch: "/eks-responder/bench/kill-switch",
  slackWebhook: "/eks-responder/bench/slack-webhook",
};

export interface FirstEventStubs {
  /** The environment of the function under test: endpoints, table and parameter names. */
  env: Record<string, string>;
  /** Requests answered by the stub, by kind (for the report: what the first events asked for). */
  requests: Map<string, number>;
  stop(): Promise<void>;
}

/** dynalite with the table, and one local server for SSM's GetParameter and the Slack webhook. */
export async function startFirstEventStubs(): Promise<FirstEventStubs> {
  const dynamo: LocalDynamo = await startDynalite();
  const table = await dynamo.createTable("eks-responder-bench");
  const requests = new Map<string, number>();
  const count = (kind: string) => requests.set(kind, (requests.get(kind) ?? 0) + 1);
  let baseUrl = "";
  const values = new Map<string, string>([
    [PARAMETERS.policy, JSON.stringify(JSON.parse(readFileSync(join(ROOT, "examples/policy.json"), "utf8")))],
    [PARAMETERS.killSwitch, "off"],
  ]);
  const server: Server = createServer(async (request, response) => {
    const payload = await text(request);
    if (request.url === "/slack") {
      count("slack webhook");
      response.writeHead(200, { "content-type": "text/plain" }).end("ok");
      return;
    }
    const target = request.headers["x-amz-target"];
    if (target !== "AmazonSSM.GetParameter") {
      response.writeHead(400, { "content-type": "application/x-amz-json-1.1" });
      response.end(JSON.stringify({ __type: "UnknownOperationException", message: `not stubbed: ${String(target)}` }));
      return;
    }
    count("ssm GetParameter");
    const name = (JSON.parse(payload) as { Name?: string }).Name ?? "";
    const value = name === PARAMETERS.slackWebhook ? `${baseUrl}/slack` : values.get(name);
    response.writeHead(value === undefined ? 400 : 200, { "content-type": "application/x-amz-json-1.1" });
    response.end(
      JSON.stringify(
        value === undefined
          ? { __type: "ParameterNotFound", message: `no parameter ${name}` }
          : { Parameter: { Name: name, Type: "String", Value: value, Version: 1 } },
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    env: {
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
      AWS_SECRET_ACCESS_KEY: "bench-secret",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SSM: baseUrl,
      TABLE_NAME: table,
      POLICY_PARAMETER_NAME: PARAMETERS.policy,
      KILL_SWITCH_PARAMETER_NAME: PARAMETERS.killSwitch,
      SLACK_WEBHOOK_PARAMETER_NAME: PARAMETERS.slackWebhook,
      POWERTOOLS_SERVICE_NAME: "eks-responder",
      POWERTOOLS_LOG_LEVEL: "ERROR",
    },
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dynamo.stop();
    },
  };
}

/** The event of `kind` with ids of its own, so every sample is a first delivery (not a duplicate of the last one). */
export function firstEvent(kind: FirstEventKind, sample: number): Record<string, unknown> {
  const event = JSON.parse(readFileSync(join(ROOT, FIRST_EVENTS[kind].file), "utf8")) as Record<string, unknown>;
  const suffix = `bench-${process.pid}-${sample}`;
  const detail = event.detail as Record<string, unknown>;
  event.id = `${String(event.id)}-${suffix}`;
  if (typeof detail.eventID === "string") detail.eventID = `${detail.eventID}-${suffix}`;
  if (typeof detail.id === "string") detail.id = `${detail.id}-${suffix}`;
  return event;
}

export interface FirstEventSample {
  /** ms from process start until the handler was imported. */
  importMs: number;
  /** ms from process start until the handler answered the event. */
  answeredMs: number;
  outcome: string;
}

/**
 * The answer a sample process writes last, after whatever the handler printed before it (its logs, and the EMF
 * records of its metrics, which Powertools prints to stdout one per line).
 */
export function answerOf(stdout: string): unknown {
  return JSON.parse(stdout.trimEnd().split("\n").at(-1) ?? "");
}

/** One fresh process: import the bundle, hand it the event, print the two times and the outcome. */
export async function sampleFirstEvent(
  bundlePath: string,
  event: Record<string, unknown>,
  env: Record<string, string>,
): Promise<FirstEventSample> {
  const url = pathToFileURL(bundlePath).href;
  const code = `const { handler } = await import(${JSON.stringify(url)});
const importMs = performance.now();
const context = { functionName: "respond", awsRequestId: "bench", invokedFunctionArn: "arn:aws:lambda:us-east-1:111122223333:function:respond", getRemainingTimeInMillis: () => 60000 };
const out = await handler(JSON.parse(process.env.BENCH_EVENT), context);
process.stdout.write(JSON.stringify({ importMs, answeredMs: performance.now(), outcome: out.outcome }));
process.exit(0);`;
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", code], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", ...env, BENCH_EVENT: JSON.stringify(event) },
  });
  const parsed = answerOf(stdout) as FirstEventSample;
  if (!Number.isFinite(parsed.importMs) || !Number.isFinite(parsed.answeredMs)) {
    throw new Error(`first-event sample of ${bundlePath} printed ${JSON.stringify(stdout)}`);
  }
  return parsed;
}
