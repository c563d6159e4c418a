import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { EKSClient } from "@aws-sdk/client-eks";
import type { SSMClient } from "@aws-sdk/client-ssm";

/**
 * The AWS clients of one region, created on first use. Each SDK is imported only when an action needs it, so events
 * that call no AWS API never pay for loading the EC2 client (its chunk in the respond bundle, with the schemas of the
 * commands it sends only: `npm run bench` prints the sizes).
 */
export interface AwsClients {
  region: string;
  ec2(): Promise<EC2Client>;
  eks(): Promise<EKSClient>;
  ssm(): Promise<SSMClient>;
  autoscaling(): Promise<AutoScalingClient>;
}

export interface ClientOptions {
  /** Attempts per call, first try included, under the SDK's adaptive retry (client-side rate limiting). */
  maxAttempts?: number;
  /** Overrides the endpoint of every client (tests against a local server); the SDK also honours AWS_ENDPOINT_URL. */
  endpoint?: string;
}

const DEFAULT_MAX_ATTEMPTS = 5;

/**
 * EC2 allows about 5 security-group changes per second after a burst of 50 per account and region. Under a storm, a
 * throttled EC2 call keeps retrying for most of the respond function's 60 s timeout with short waits (random × at
 * most 2 s), instead of giving up after 5 attempts and sending the event through Lambda's minutes-long redelivery.
 * Measured by `npm run bench` (storm): with the respond function's reserved concurrency, every rule of a 1,000-event
 * storm is revoked within the time the throttle allows.
 */
export const EC2_THROTTLE_RETRY = { maxAttempts: 25, baseMs: 500, capMs: 2_000 } as const;

function lazy<T>(create: () => Promise<T>): () => Promise<T> {
  let client: Promise<T> | undefined;
  return () => {
    client ??= create();
    return client;
  };
}

/** Clients with the standard credential chain, the SDK's adaptive retry and the given region. */
export function createAwsClients(region: string, options: ClientOptions = {}): AwsClients {
  const config = {
    region,
    retryMode: "adaptive",
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  };
  return {
    region,
    ec2: lazy(async () => {
      const { EC2Client } = await import("./ec2.ts");
      if (options.maxAttempts !== undefined) return new EC2Client(config);
      // Still the SDK's adaptive retry (client-side rate limiting), with more attempts and shorter waits.
      const { AdaptiveRetryStrategy } = await import("@smithy/core/retry");
      const { maxAttempts, baseMs, capMs } = EC2_THROTTLE_RETRY;
      const retryStrategy = new AdaptiveRetryStrategy(maxAttempts, {
        backoff: {
          computeNextBackoffDelay: (attempt: number) =>
            Math.floor(Math.random() * Math.min(capMs, baseMs * 2 ** attempt)),
          setDelayBase: () => {},
        },
      });
      return new EC2Client({ ...config, maxAttempts, retryStrategy });
    }),
    eks: lazy(async () => new (await import("@aws-sdk/client-eks")).EKSClient(config)),
    ssm: lazy(async () => new (await import("@aws-sdk/client-ssm")).SSMClient(config)),
    autoscaling: lazy(async () => new (await import("@aws-sdk/client-auto-scaling")).AutoScalingClient(config)),
  };
}
