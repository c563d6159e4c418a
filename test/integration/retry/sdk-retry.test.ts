/**
 * The SDK's retry, for real: the clients of createAwsClients talk to a local HTTP server that speaks the EC2 Query and
 * EKS REST-JSON protocols, so the whole SDK middleware stack (signing, retry, deserialization) runs. aws-sdk-client-mock
 * replaces `send` and cannot show this.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { enableLogging } from "../../../packages/core/src/actions/enable-logging.action.ts";
import { revokeIngress } from "../../../packages/core/src/actions/revoke-ingress.action.ts";
import type { ApplyContext } from "../../../packages/core/src/actions/types.ts";
import { type AwsClients, createAwsClients } from "../../../packages/core/src/aws/clients.ts";

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

type Handler = (request: Seen) => Reply;

const seen: Seen[] = [];
let handler: Handler = () => ({ status: 500, body: "no handler" });
let server: Server;
let endpoint = "";
let clients: AwsClients | undefined;

const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
  AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/EXAMPLEKEY",
};
const savedEnv = new Map<string, string | undefined>();

const EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/";

function ec2Error(status: number, code: string, message: string): Reply {
  return {
    status,
    headers: { "content-type": "text/xml;charset=UTF-8" },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>7f3c2a10-1b2c-4d5e-8f90-0a1b2c3d4e5f</RequestID></Response>`,
  };
}

const EC2_REVOKED: Reply = {
  status: 200,
  headers: { "content-type": "text/xml;charset=UTF-8" },
  body: `<?xml version="1.0" encoding="UTF-8"?>\n<RevokeSecurityGroupIngressResponse xmlns="${EC2_NS}"><requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId><return>true</return></RevokeSecurityGroupIngressResponse>`,
};

function eksJson(status: number, body: unknown, errorType?: string): Reply {
  return {
    status,
    headers: {
      "content-type": "application/json",
      "x-amzn-requestid": "0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f",
      ...(errorType ? { "x-amzn-errortype": errorType } : {}),
    },
    body: JSON.stringify(body),
  };
}

const CLUSTER_WITH_LOGGING_OFF = eksJson(200, {
  cluster: {
    name: "prod-eks",
    arn: "arn:aws:eks:eu-west-1:111122223333:cluster/prod-eks",
    status: "ACTIVE",
    logging: { clusterLogging: [{ types: ["api", "audit", "authenticator"], enabled: false }] },
  },
});
const UPDATE_STARTED = eksJson(200, {
  update: { id: "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d", status: "InProgress", type: "LoggingUpdate" },
});

/** DescribeUpdate (GET /clusters/<name>/updates/<id>): https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeUpdate.html */
const UPDATE_PATH = "/clusters/prod-eks/updates/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d";
const UPDATE_SUCCESSFUL = eksJson(200, {
  update: { id: "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d", status: "Successful", type: "LoggingUpdate" },
});

/** The cluster with logging off, its update's DescribeUpdate Successful, and UpdateClusterConfig answered by `update`. */
function loggingCluster(update: () => Reply): (request: Seen) => Reply {
  return (request) =>
    request.method === "GET" && request.path === "/clusters/prod-eks"
      ? CLUSTER_WITH_LOGGING_OFF
      : request.path.startsWith(UPDATE_PATH)
        ? UPDATE_SUCCESSFUL
        : update();
}

/** Answers each request of one kind with the next reply of the list (the last one repeats). */
function inTurn(replies: Reply[]): () => Reply {
  let next = 0;
  return () => {
    const reply = replies[Math.min(next, replies.length - 1)];
    next++;
    if (!reply) throw new Error("no reply configured");
    return reply;
  };
}

function context(): ApplyContext {
  clients = createAwsClients("eu-west-1", { endpoint, maxAttempts: 5 });
  return {
    dryRun: false,
    assessmentId: "asm-retry-test",
    account: "111122223333",
    region: "eu-west-1",
    clients,
    exemptTags: [],
    sleep: async () => {},
  };
}

function ec2Requests(): Seen[] {
  return seen.filter((r) => r.body.startsWith("Action="));
}

function updateConfigRequests(): Seen[] {
  return seen.filter((r) => r.method === "POST" && r.path === "/clusters/prod-eks/update-config");
}

/** Two throttled attempts under adaptive retry take 2 to 4 s (the client-side token bucket plus the random backoff). */
const RETRY_TEST_TIMEOUT_MS = 15_000;

async function retryMode(client: { config: { retryStrategy(): Promise<unknown> } }): Promise<unknown> {
  const strategy = await client.config.retryStrategy();
  return typeof strategy === "object" && strategy !== null && "mode" in strategy ? strategy.mode : undefined;
}

/**
 * Whether the client's adaptive retry turned its client-side rate limiting on (it does at the first throttling
 * error): what standard retry does not have. Read through the client's own memoized retry strategy.
 */
async function rateLimitingOn(client: { config: { retryStrategy(): Promise<unknown> } }): Promise<boolean> {
  const strategy = await client.config.retryStrategy();
  if (typeof strategy !== "object" || strategy === null || !("rateLimiter" in strategy)) return false;
  const limiter = strategy.rateLimiter;
  return typeof limiter === "object" && limiter !== null && "enabled" in limiter && limiter.enabled === true;
}

const revokeParams = revokeIngress.params.parse(revokeIngress.example);
const loggingParams = enableLogging.params.parse(enableLogging.example);

beforeAll(async () => {
  for (const [key, value] of Object.entries(CREDENTIALS)) {
    savedEnv.set(key, process.env[key]);
    process.env[key] = value;
  }
  for (const key of ["AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"]) {
    savedEnv.set(key, process.env[key]);
    delete process.env[key];
  }
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request: Seen = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      seen.push(request);
      const reply = handler(request);
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  seen.length = 0;
  for (const client of clients ? [await clients.ec2(), await clients.eks()] : []) client.destroy();
  clients = undefined;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  for (const [key, value] of savedEnv) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe("createAwsClients retry", () => {
  it("configures the SDK's adaptive retry with the attempts asked for", async () => {
    const ctx = context();

    const ec2 = await ctx.clients.ec2();
    const eks = await ctx.clients.eks();

    expect(await retryMode(ec2)).toBe("adaptive");
    expect(await retryMode(eks)).toBe("adaptive");
    expect(await ec2.config.maxAttempts()).toBe(5);
  });

  it(
    "EC2: retries RequestLimitExceeded (503) twice, then ec2:revoke-ingress is applied after 3 requests",
    async () => {
      const ctx = context();
      const reply = inTurn([
        ec2Error(503, "RequestLimitExceeded", "Request limit exceeded."),
        ec2Error(503, "RequestLimitExceeded", "Request limit exceeded."),
        EC2_REVOKED,
      ]);
      handler = () => reply();

      const result = await revokeIngress.apply(revokeParams, ctx);

      expect(result.status).toBe("applied");
      const requests = ec2Requests();
      expect(requests).toHaveLength(3);
      for (const request of requests) {
        expect(request.method).toBe("POST");
        const form = new URLSearchParams(request.body);
        expect(form.get("Action")).toBe("RevokeSecurityGroupIngress");
        expect(form.get("GroupId")).toBe("sg-0632fa4ee8a8468a4");
        expect(form.get("SecurityGroupRuleId.1")).toBe("sgr-09be5c962afdc06ed");
        expect(request.headers.authorization).toContain("Credential=AKIAIOSFODNN7EXAMPLE/");
      }
      expect(requests.map((r) => r.headers["amz-sdk-request"])).toEqual([
        "attempt=1; max=5",
        "attempt=2; max=5",
        "attempt=3; max=5",
      ]);
      // The action itself recorded a single call: the retries are the SDK's.
      expect(result.calls).toHaveLength(1);
      expect(await rateLimitingOn(await ctx.clients.ec2())).toBe(true);
    },
    RETRY_TEST_TIMEOUT_MS,
  );

  it("EC2: does not retry UnauthorizedOperation (403): ec2:revoke-ingress fails after exactly 1 request", async () => {
    const ctx = context();
    handler = () => ec2Error(403, "UnauthorizedOperation", "You are not authorized to perform this operation.");

    const result = await revokeIngress.apply(revokeParams, ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("UnauthorizedOperation");
    expect(ec2Requests()).toHaveLength(1);
    expect(await rateLimitingOn(await ctx.clients.ec2())).toBe(false);
  });

  it(
    "EKS: retries ThrottlingException (429) twice, then eks:enable-logging is applied after 3 update requests",
    async () => {
      const ctx = context();
      const update = inTurn([
        eksJson(429, { message: "Rate exceeded" }, "ThrottlingException"),
        eksJson(429, { message: "Rate exceeded" }, "ThrottlingException"),
        UPDATE_STARTED,
      ]);
      handler = loggingCluster(update);

      const result = await enableLogging.apply(loggingParams, ctx);

      expect(result.status).toBe("applied");
      expect(seen.filter((r) => r.method === "GET" && r.path === "/clusters/prod-eks")).toHaveLength(1);
      const updates = updateConfigRequests();
      expect(updates).toHaveLength(3);
      expect(seen.filter((r) => r.method === "GET" && r.path.startsWith(UPDATE_PATH))).toHaveLength(1);
      expect(seen).toHaveLength(5);
      expect(updates.map((r) => r.headers["amz-sdk-request"])).toEqual([
        "attempt=1; max=5",
        "attempt=2; max=5",
        "attempt=3; max=5",
      ]);
      const bodies = updates.map((r) => JSON.parse(r.body) as { clientRequestToken?: unknown; logging?: unknown });
      for (const body of bodies) {
        expect(body.logging).toEqual({
          clusterLogging: [{ types: ["api", "audit", "authenticator"], enabled: true }],
        });
      }
      // The SDK retries the same serialized request: one idempotency token for the three attempts.
      expect(typeof bodies[0]?.clientRequestToken).toBe("string");
      expect(new Set(bodies.map((b) => b.clientRequestToken)).size).toBe(1);
      expect(await rateLimitingOn(await ctx.clients.eks())).toBe(true);
    },
    RETRY_TEST_TIMEOUT_MS,
  );

  it("EKS: ResourceInUseException (409) as the SDK reads it is waited out, not retried by the SDK; then DescribeUpdate says Successful", async () => {
    const ctx = context();
    const update = inTurn([
      eksJson(
        409,
        {
          message:
            "Cannot LoggingUpdate because cluster prod-eks currently has update 408c0738-828c-42b2-aaa5-38691b63f738 in progress",
        },
        "ResourceInUseException",
      ),
      UPDATE_STARTED,
    ]);
    handler = loggingCluster(update);

    const result = await enableLogging.apply(loggingParams, ctx);

    expect(result.status).toBe("applied");
    // Two update requests, each a first attempt: the SDK does not retry a 409 itself; the action waits and resends.
    expect(updateConfigRequests().map((r) => r.headers["amz-sdk-request"])).toEqual([
      "attempt=1; max=5",
      "attempt=1; max=5",
    ]);
  });

  it('EKS: "No changes needed" (400 InvalidParameterException) as the SDK reads it is already done', async () => {
    const ctx = context();
    handler = (request) =>
      request.method === "GET" && request.path === "/clusters/prod-eks"
        ? CLUSTER_WITH_LOGGING_OFF
        : eksJson(400, { message: "No changes needed for the logging config provided" }, "InvalidParameterException");

    const result = await enableLogging.apply(loggingParams, ctx);

    expect(result.status).toBe("already-done");
    expect(updateConfigRequests()).toHaveLength(1);
  });

  it("EKS: does not retry AccessDeniedException (403): eks:enable-logging fails after exactly 1 update request", async () => {
    const ctx = context();
    handler = (request) =>
      request.method === "GET" && request.path === "/clusters/prod-eks"
        ? CLUSTER_WITH_LOGGING_OFF
        : eksJson(
            403,
            { message: "User is not authorized to perform: eks:UpdateClusterConfig" },
            "AccessDeniedException",
          );

    const result = await enableLogging.apply(loggingParams, ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("AccessDeniedException");
    expect(updateConfigRequests()).toHaveLength(1);
    expect(await rateLimitingOn(await ctx.clients.eks())).toBe(false);
  });
});
