import type { Cluster } from "@aws-sdk/client-eks";
import type { AwsClients } from "../aws/clients.ts";
import type { KubeClient, KubernetesAccess } from "./api.ts";
import { createKubeClient } from "./client.ts";
import { eksToken, type SigningCredentials, TOKEN_RENEW_AFTER_MS } from "./token.ts";

/**
 * The Kubernetes API of an EKS cluster, reached with an EKS token made from the caller's AWS credentials
 * (kubernetes/token.ts): the API server's endpoint and CA come from `eks:DescribeCluster`, cached per cluster for
 * DESCRIBE_CACHE_MS; the client reads its token before every call, and a token older than TOKEN_RENEW_AFTER_MS is made
 * again. The caller's IAM identity must be mapped to a Kubernetes group by an EKS access entry (docs/kubernetes.md).
 * @see https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeCluster.html ("The API server endpoint and
 * certificate authority data aren't available until the cluster reaches the ACTIVE state.")
 * @see https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html (a private-only endpoint answers only
 * inside the cluster's VPC)
 */

/** How long a cluster's endpoint and CA are used before DescribeCluster is asked again: under a token's 60 s. */
export const DESCRIBE_CACHE_MS = 50_000;

export type KubernetesAccessErrorCode =
  /** DescribeCluster gave no endpoint or no CA: the cluster is not ACTIVE yet (CREATING), or is being deleted. */
  | "KUBERNETES.CLUSTER_NOT_READY"
  /** The endpoint answers only inside the cluster's VPC, and this caller runs outside it. */
  | "KUBERNETES.ENDPOINT_PRIVATE";

/** Why a cluster's Kubernetes API cannot be reached: names the cluster and what to set. Nothing was sent to it. */
export class KubernetesAccessError extends Error {
  override name = "KubernetesAccessError";
  readonly code: KubernetesAccessErrorCode;
  readonly cluster: string;
  constructor(code: KubernetesAccessErrorCode, cluster: string, message: string) {
    super(message);
    this.code = code;
    this.cluster = cluster;
  }
}

export interface EksAccessOptions {
  /**
   * Whether this caller can reach a private-only endpoint (it runs inside the cluster's VPC, or on a network routed
   * to it: the CLI on an operator's VPN). False, the functions' case (they run outside any VPC): a private-only
   * cluster fails with KUBERNETES.ENDPOINT_PRIVATE before any call, instead of a call that times out.
   */
  reachesPrivateEndpoints?: boolean;
  /** The clock, in ms (tests). */
  now?: () => number;
  /** Per-call timeout of the clients (kubernetes/client.ts; 10 s when absent). */
  timeoutMs?: number;
  /** The bearer tokens; EKS tokens (eksTokenSource) when absent. Tests against a server with static tokens set it. */
  tokens?: TokenSource;
}

/** What DescribeCluster says the client needs, or why the cluster cannot be reached. */
export function endpointOf(
  name: string,
  cluster: Cluster,
  reachesPrivate: boolean,
): { server: string; caPem: string } | KubernetesAccessError {
  const ca = cluster.certificateAuthority?.data;
  if (!cluster.endpoint || !ca) {
    return new KubernetesAccessError(
      "KUBERNETES.CLUSTER_NOT_READY",
      name,
      `EKS cluster ${name} has no ${cluster.endpoint ? "certificate authority" : "API endpoint"} yet (status ` +
        `${cluster.status ?? "unknown"}): EKS gives the endpoint and CA once the cluster is ACTIVE`,
    );
  }
  if (cluster.resourcesVpcConfig?.endpointPublicAccess === false && !reachesPrivate) {
    return new KubernetesAccessError(
      "KUBERNETES.ENDPOINT_PRIVATE",
      name,
      `EKS cluster ${name} has a private-only API endpoint (endpointPublicAccess false), which answers only inside ` +
        "its VPC, and the responder's functions run outside any VPC: enable the public endpoint limited to the " +
        "responder's egress addresses (resourcesVpcConfig.publicAccessCidrs), or act from inside the VPC with " +
        "`eks-responder replay --apply --kubeconfig`",
    );
  }
  return { server: cluster.endpoint, caPem: Buffer.from(ca, "base64").toString("utf8") };
}

/** Makes the bearer-token provider of one cluster; the client calls the provider before every request. */
export type TokenSource = (cluster: string) => () => Promise<string>;

/**
 * EKS tokens for the clusters of `region`, signed with `credentials` (a provider is asked at each signing, so rotated
 * role credentials are used as they come): one cluster's provider gives the same token until it is
 * TOKEN_RENEW_AFTER_MS old, then makes a new one; a signing that fails is tried again at the next call.
 */
export function eksTokenSource(
  region: string,
  credentials: () => Promise<SigningCredentials>,
  now: () => number = Date.now,
): TokenSource {
  return (cluster) => {
    let current: { token: Promise<string>; madeAt: number } | undefined;
    return () => {
      const at = now();
      if (!current || at - current.madeAt >= TOKEN_RENEW_AFTER_MS) {
        const made = credentials().then((c) => eksToken({ cluster, region, credentials: c, now: new Date(at) }));
        const entry = { token: made, madeAt: at };
        current = entry;
        made.catch(() => {
          if (current === entry) current = undefined;
        });
      }
      return current.token;
    };
  };
}

/**
 * The EKS tokens of `clients`' region, signed with `credentials`, or else with the credentials of its EKS client: a
 * member account's clients (hub mode, aws/member.ts) sign with the member role's session, so the cluster sees the
 * member role, which the member account's access entry maps.
 */
export function eksTokensOf(
  clients: AwsClients,
  credentials?: SigningCredentials,
  now: () => number = Date.now,
): TokenSource {
  return eksTokenSource(clients.region, async () => credentials ?? (await clients.eks()).config.credentials, now);
}

/**
 * A KubernetesAccess for the EKS clusters of `clients.region`: tokens signed with `credentials`, or, when absent, the
 * credentials of the region's EKS client (the standard chain: the function's role, the operator's profile).
 */
export function eksKubernetesAccess(
  clients: AwsClients,
  credentials?: SigningCredentials,
  options: EksAccessOptions = {},
): KubernetesAccess {
  const now = options.now ?? Date.now;
  const clusters = new Map<string, { client: Promise<KubeClient>; until: number }>();
  const tokens = options.tokens ?? eksTokensOf(clients, credentials, now);

  async function connect(cluster: string): Promise<KubeClient> {
    const { DescribeClusterCommand } = await import("../aws/eks.ts");
    const eks = await clients.eks();
    const out = await eks.send(new DescribeClusterCommand({ name: cluster }));
    if (!out.cluster) throw new Error(`DescribeCluster returned no cluster for ${cluster}`);
    const endpoint = endpointOf(cluster, out.cluster, options.reachesPrivateEndpoints === true);
    if (endpoint instanceof KubernetesAccessError) throw endpoint;
    return createKubeClient({
      ...endpoint,
      token: tokens(cluster),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  return (cluster) => {
    const at = now();
    const cached = clusters.get(cluster);
    if (cached && at < cached.until) return cached.client;
    const client = connect(cluster);
    const entry = { client, until: at + DESCRIBE_CACHE_MS };
    clusters.set(cluster, entry);
    client.catch(() => {
      if (clusters.get(cluster) === entry) clusters.delete(cluster); // a failure is not kept: the next call asks again
    });
    return client;
  };
}

const byClients = new WeakMap<AwsClients, KubernetesAccess>();

/**
 * The one eksKubernetesAccess of these clients (the functions' default credentials and options), kept while they
 * are: the functions call it through a lazy import on each Kubernetes action, and every call of a container shares
 * its cache of cluster endpoints and tokens.
 */
export function kubernetesFor(
  clients: AwsClients,
  options: { reachesPrivateEndpoints?: boolean } = {},
): KubernetesAccess {
  let access = byClients.get(clients);
  if (!access) {
    access = eksKubernetesAccess(clients, undefined, options);
    byClients.set(clients, access);
  }
  return access;
}
