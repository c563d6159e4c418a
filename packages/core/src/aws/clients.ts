import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { EKSClient } from "@aws-sdk/client-eks";
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { AwsCredentialIdentityProvider } from "@smithy/types";

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

/**
 * Whose resources clients act on: the assessment's account (in hub mode, another account's clients assume its member
 * role) and the assessment, whose id the member session's name carries (aws/member.ts).
 */
export interface ActingFor {
  account: string;
  assessmentId: string;
}

export interface ClientOptions {
  /** Attempts per call, first try included, under the SDK's adaptive retry (client-side rate limiting). */
  maxAttempts?: number;
  /** Overrides the endpoint of every client (tests against a local server); the SDK also honours AWS_ENDPOINT_URL. */
  endpoint?: string;
  /**
   * The credentials of every client: a member account's role session (aws/member.ts memberCredentials). Absent: the
   * standard credential chain (the function's role, the operator's profile).
   */
  credentials?: AwsCredentialIdentityProvider;
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

/** One client, created on first use; a creation that failed (a member session refused) is tried again next time. */
function lazy<T>(create: () => Promise<T>): () => Promise<T> {
  let client: Promise<T> | undefined;
  return () => {
    if (!client) {
      const made = create();
      client = made;
      made.catch(() => {
        if (client === made) client = undefined;
      });
    }
    return client;
  };
}

/** The SDK's own memoization of a credential provider (refreshed shortly before expiry), its module loaded on use. */
function memoized(provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  let memo: Promise<AwsCredentialIdentityProvider> | undefined;
  return async () => {
    memo ??= import("@smithy/core").then(
      (m) => m.memoizeIdentityProvider(provider, m.isIdentityExpired, m.doesIdentityRequireRefresh) ?? provider,
    );
    return (await memo)();
  };
}

/** Clients with the standard credential chain (or `options.credentials`), the SDK's adaptive retry and the region. */
export function createAwsClients(region: string, options: ClientOptions = {}): AwsClients {
  // Given credentials (a member session) are kept until shortly before they expire, and obtained before a client is
  // handed out: a session that cannot be opened fails the action at its first client, before any call is sent.
  const credentials = options.credentials ? memoized(options.credentials) : undefined;
  const ready = async <T>(create: () => Promise<T>): Promise<T> => {
    if (credentials) await credentials();
    return create();
  };
  const config = {
    region,
    retryMode: "adaptive",
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    // The EKS client's credentials also sign the EKS tokens (kubernetes/access.ts): a member session signs both.
    ...(credentials ? { credentials } : {}),
  };
  return {
    region,
    ec2: lazy(() =>
      ready(async () => {
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
    ),
    eks: lazy(() => ready(async () => new (await import("./eks.ts")).EKSClient(config))),
    ssm: lazy(() => ready(async () => new (await import("./ssm.ts")).SSMClient(config))),
    autoscaling: lazy(() => ready(async () => new (await import("./auto-scaling.ts")).AutoScalingClient(config))),
  };
}
