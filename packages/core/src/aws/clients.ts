import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { EKSClient } from "@aws-sdk/client-eks";
import type { SSMClient } from "@aws-sdk/client-ssm";

/**
 * The AWS clients of one region, created on first use. Each SDK is imported only when an action needs it, so events
 * that call no AWS API never pay for loading the EC2 client (about 1.5 MB).
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
    ec2: lazy(async () => new (await import("@aws-sdk/client-ec2")).EC2Client(config)),
    eks: lazy(async () => new (await import("@aws-sdk/client-eks")).EKSClient(config)),
    ssm: lazy(async () => new (await import("@aws-sdk/client-ssm")).SSMClient(config)),
    autoscaling: lazy(async () => new (await import("@aws-sdk/client-auto-scaling")).AutoScalingClient(config)),
  };
}
