/**
 * Which action failures are worth a retry. Actions never throw: an AWS error ends as a `failed` outcome with the error's
 * code (`ApplyResult.error.code`, from `awsErrorCode`: the SDK's `Code`, `code` or `name`). A transient one (throttling,
 * a 5xx, a timeout, a dropped connection) should send the whole event back to its retry policy: the handler throws, the
 * respond path releases the claim, EventBridge / Lambda deliver the event again, and after the last attempt it goes to
 * the dead-letter queue with the error. Anything else (access denied, a bad parameter, a crash) is permanent: it is
 * recorded as failed and never retried.
 *
 * The codes follow the SDK's own classification (`@smithy/service-error-classification`), plus the 5xx error codes of
 * the services eks-responder calls.
 */

const THROTTLING = [
  "BandwidthLimitExceeded",
  "EC2ThrottledException",
  "LimitExceededException",
  "PriorRequestNotComplete",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ThrottledException",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "TransactionInProgressException",
];

const TIMEOUTS = ["TimeoutError", "RequestTimeout", "RequestTimeoutException"];

/** Server-side errors (HTTP 5xx) as EC2, EKS, SSM and Auto Scaling name them. */
const SERVER = [
  "InternalError",
  "InternalFailure",
  "InternalServerError",
  "InternalServerException",
  "ServerException",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "Unavailable",
];

/** Node.js socket and DNS errors. */
const NETWORK = ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"];

/**
 * An asynchronous change that did not end within the invocation's wait (actions/eks-calls.ts UPDATE_STILL_IN_PROGRESS:
 * EKS runs one cluster update at a time, and one can take minutes): the redelivery re-reads the cluster and finds the
 * change made (already done) or waits again.
 */
const STILL_IN_PROGRESS = ["EksUpdateStillInProgress"];

/**
 * Kubernetes API answers worth a retry (kubernetes/api.ts `KubeApiError.code`): 429 TooManyRequests (API Priority and
 * Fairness), 500 InternalError, 503 ServiceUnavailable, 504 Timeout / ServerTimeout, and no answer at all.
 * @see https://kubernetes.io/docs/reference/using-api/api-concepts/#http-status-codes
 */
const KUBERNETES = [
  "Kubernetes.TooManyRequests",
  "Kubernetes.InternalError",
  "Kubernetes.ServiceUnavailable",
  "Kubernetes.Timeout",
  "Kubernetes.ServerTimeout",
  "Kubernetes.HTTP502",
  "Kubernetes.HTTP503",
  "Kubernetes.HTTP504",
  "Kubernetes.RequestError",
  "Kubernetes.ResponseError",
];

export const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  ...THROTTLING,
  ...TIMEOUTS,
  ...SERVER,
  ...NETWORK,
  ...STILL_IN_PROGRESS,
  ...KUBERNETES,
]);

/** True when an action failure with this error code may succeed if the event is delivered again. */
export function isTransient(code: string | undefined): boolean {
  return code !== undefined && TRANSIENT_CODES.has(code);
}

/** The part of a respond result this module reads (structural, so it does not depend on the pipeline's types). */
export interface AppliedOutcomes {
  applied: readonly {
    assessmentId: string;
    outcomes: readonly { action: string; status: string; error?: { code: string; message: string } }[];
  }[];
}

export interface TransientFailure {
  assessmentId: string;
  action: string;
  code: string;
  message: string;
}

/** The first action of a result that failed transiently, or undefined (nothing failed, or only permanently). */
export function transientFailure(result: AppliedOutcomes): TransientFailure | undefined {
  for (const { assessmentId, outcomes } of result.applied) {
    for (const o of outcomes) {
      if (o.status === "failed" && o.error && isTransient(o.error.code)) {
        return { assessmentId, action: o.action, code: o.error.code, message: o.error.message };
      }
    }
  }
  return undefined;
}

/** Thrown to send an event back to its retry policy after a transient action failure. */
export class TransientActionError extends Error {
  override name = "TransientActionError";
  readonly failure: TransientFailure;

  constructor(failure: TransientFailure) {
    super(`${failure.action} failed transiently (${failure.code}: ${failure.message}); the event will be retried`);
    this.failure = failure;
  }
}
