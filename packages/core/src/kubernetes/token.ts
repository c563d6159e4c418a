import type { SignatureV4 } from "@smithy/signature-v4";
import { REGION_PATTERN } from "../aws/partitions.ts";
import { loadOnce } from "../lazy.ts";

/**
 * An EKS authentication token, made locally from AWS credentials with no call to STS, as `aws eks get-token` and
 * aws-iam-authenticator make it: `k8s-aws-v1.` + base64url (no padding) of a presigned STS `GetCallerIdentity` URL
 * (GET, regional STS endpoint, SigV4 query signing) whose signed headers are `host` and `x-k8s-aws-id: <cluster>`, with
 * `X-Amz-Expires=60`. The cluster's authenticator calls that URL to learn who signed it; signing the cluster name means
 * the token is good for that one cluster only.
 * @see https://docs.aws.amazon.com/eks/latest/userguide/cluster-auth.html
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html (query-string signing)
 * @see https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
 * (awscli `customizations/eks/get_token.py` and kubernetes-sigs/aws-iam-authenticator `pkg/token/token.go` build it the
 * same way; the authenticator accepts only the query parameters the signer writes, the action GetCallerIdentity, a
 * signed `x-k8s-aws-id`, an `X-Amz-Expires` of 0 to 900, and a host among the partition's STS endpoints, and counts 15
 * minutes from `X-Amz-Date`.)
 *
 * Signed by the SDK's own SigV4 signer (`@smithy/signature-v4`) with the SDK's SHA-256 (`@smithy/core/checksum`, where
 * the SDK keeps it now: `@aws-crypto/sha256-js` and `@smithy/hash-node` are not in this lockfile), and the query written
 * by the SDK's `buildQueryString`, so the URL carries exactly what was signed. Those are imported when the first token is
 * made: a module that imports this one (the actions' live code) loads none of them, and neither does a bundle without
 * code splitting that includes it (the SST config's), where a static import of an SDK module would be loaded at once.
 */
export const EKS_TOKEN_PREFIX = "k8s-aws-v1.";
/** The header whose signed value names the cluster. */
export const CLUSTER_ID_HEADER = "x-k8s-aws-id";
/** `X-Amz-Expires`, as `aws eks get-token` sends it. */
export const PRESIGN_EXPIRES_SECONDS = 60;
/**
 * How long a token is used before a new one is made: under the 60 s it says it lasts (X-Amz-Expires), with the 10 s a
 * Kubernetes call may take (kubernetes/client.ts) to spare. The authenticator itself allows 15 minutes.
 */
export const TOKEN_RENEW_AFTER_MS = 50_000;

/** The AWS credentials (or their provider) the token is signed with: the SDK clients' own. */
export type SigningCredentials = ConstructorParameters<typeof SignatureV4>[0]["credentials"];

/** A token could not be made: a region of no known shape, or a cluster name EKS would never give. */
export class EksTokenError extends Error {
  override name = "EksTokenError";
  readonly code = "KUBERNETES.TOKEN_INPUT";
}

/** EKS cluster names: 1–100 characters, a letter or digit first, then letters, digits, `-` and `_`. */
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;

/** The SDK's signer, SHA-256, query writer and partition table, imported on first use. */
const sdk = loadOnce(async () => {
  const [{ partition }, { Sha256 }, { buildQueryString }, { SignatureV4: Signer }] = await Promise.all([
    import("@aws-sdk/core/client"),
    import("@smithy/core/checksum"),
    import("@smithy/core/protocols"),
    import("@smithy/signature-v4"),
  ]);
  return { partition, Sha256, buildQueryString, Signer };
});

/**
 * The regional STS host of `region`'s partition, as the SDK's partition table has it: `sts.eu-west-1.amazonaws.com`,
 * `sts.cn-north-1.amazonaws.com.cn`, `sts.us-gov-west-1.amazonaws.com`.
 * @see https://docs.aws.amazon.com/general/latest/gr/sts.html
 */
export async function stsHost(region: string): Promise<string> {
  // partition() answers `aws` for any string: the region's shape is checked first (aws/partitions.ts).
  if (!REGION_PATTERN.test(region)) throw new EksTokenError(`not an AWS Region code: ${JSON.stringify(region)}`);
  return `sts.${region}.${(await sdk()).partition(region).dnsSuffix}`;
}

export interface EksTokenInput {
  cluster: string;
  region: string;
  credentials: SigningCredentials;
  /** The signing time; now when absent. */
  now?: Date;
}

/** The presigned `GetCallerIdentity` URL the token carries. */
export async function presignedCallerIdentityUrl(input: EksTokenInput): Promise<string> {
  if (!CLUSTER_NAME.test(input.cluster)) {
    throw new EksTokenError(`not an EKS cluster name: ${JSON.stringify(input.cluster)}`);
  }
  const host = await stsHost(input.region);
  const { Sha256, buildQueryString, Signer } = await sdk();
  const signer = new Signer({
    service: "sts",
    region: input.region,
    credentials: input.credentials,
    sha256: Sha256,
  });
  const signed = await signer.presign(
    {
      method: "GET",
      protocol: "https:",
      hostname: host,
      path: "/",
      query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
      headers: { host, [CLUSTER_ID_HEADER]: input.cluster },
    },
    { expiresIn: PRESIGN_EXPIRES_SECONDS, ...(input.now ? { signingDate: input.now } : {}) },
  );
  return `https://${host}/?${buildQueryString(signed.query ?? {})}`;
}

/** An EKS token for `cluster`: `k8s-aws-v1.` + base64url, unpadded, of the presigned URL. */
export async function eksToken(input: EksTokenInput): Promise<string> {
  const url = await presignedCallerIdentityUrl(input);
  return EKS_TOKEN_PREFIX + Buffer.from(url, "utf8").toString("base64url");
}
