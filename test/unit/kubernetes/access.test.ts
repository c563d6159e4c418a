import { DescribeClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createAwsClients } from "../../../packages/core/src/aws/clients.ts";
import {
  DESCRIBE_CACHE_MS,
  eksKubernetesAccess,
  eksTokenSource,
  KubernetesAccessError,
} from "../../../packages/core/src/kubernetes/access.ts";
import { EKS_TOKEN_PREFIX, TOKEN_RENEW_AFTER_MS } from "../../../packages/core/src/kubernetes/token.ts";

const eks = mockClient(EKSClient);
afterAll(() => eks.restore());

const REGION = "eu-west-1";
const CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const ENDPOINT = "https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com";

/**
 * DescribeCluster as the EKS API reference shows it: `cluster.endpoint`, `cluster.certificateAuthority.data` (the CA,
 * base64) and `cluster.resourcesVpcConfig`, the endpoint and CA given only once the cluster is ACTIVE.
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeCluster.html
 */
function active(name: string, vpc: { endpointPublicAccess: boolean; endpointPrivateAccess: boolean }) {
  return {
    cluster: {
      name,
      status: "ACTIVE" as const,
      endpoint: ENDPOINT,
      certificateAuthority: { data: Buffer.from(CA_PEM).toString("base64") },
      resourcesVpcConfig: { ...vpc, publicAccessCidrs: ["0.0.0.0/0"], vpcId: "vpc-0a1b2c3d4e5f67890" },
    },
  };
}
const PUBLIC = { endpointPublicAccess: true, endpointPrivateAccess: false };
const PRIVATE_ONLY = { endpointPublicAccess: false, endpointPrivateAccess: true };

const described = () => eks.commandCalls(DescribeClusterCommand).map((c) => c.args[0].input);

describe("eksKubernetesAccess", () => {
  let clock = 1_000_000;
  const now = () => clock;
  beforeEach(() => {
    eks.reset();
    clock = 1_000_000;
  });

  it("reads the endpoint and CA with DescribeCluster once per cluster for DESCRIBE_CACHE_MS", async () => {
    eks.on(DescribeClusterCommand).callsFake(({ name }: { name: string }) => active(name, PUBLIC));
    const access = eksKubernetesAccess(createAwsClients(REGION), undefined, { now, tokens: () => async () => "t" });

    const first = await access("prod-eks");
    clock += DESCRIBE_CACHE_MS - 1;
    const cached = await access("prod-eks");
    const other = await access("dev-eks");
    clock += 1;
    const renewed = await access("prod-eks");

    expect(first.server).toBe(ENDPOINT);
    expect(cached).toBe(first);
    expect(renewed).not.toBe(first);
    expect(other).not.toBe(first);
    expect(described()).toEqual([{ name: "prod-eks" }, { name: "dev-eks" }, { name: "prod-eks" }]);
  });

  it("fails a cluster with no endpoint yet (CREATING) with a typed error naming it, and asks again next time", async () => {
    eks
      .on(DescribeClusterCommand)
      .resolvesOnce({ cluster: { name: "new-eks", status: "CREATING" } })
      .resolves(active("new-eks", PUBLIC));
    const access = eksKubernetesAccess(createAwsClients(REGION), undefined, { now, tokens: () => async () => "t" });

    const error = await access("new-eks").catch((e: unknown) => e);
    const client = await access("new-eks");

    expect(error).toBeInstanceOf(KubernetesAccessError);
    expect(error).toMatchObject({ code: "KUBERNETES.CLUSTER_NOT_READY", cluster: "new-eks" });
    expect((error as Error).message).toMatch(/new-eks has no API endpoint yet \(status CREATING\).*ACTIVE/);
    expect(client.server).toBe(ENDPOINT);
    expect(described()).toEqual([{ name: "new-eks" }, { name: "new-eks" }]);
  });

  it("refuses a private-only endpoint the caller cannot reach, saying what to set; reaches it when told it can", async () => {
    eks.on(DescribeClusterCommand).resolves(active("private-eks", PRIVATE_ONLY));
    const clients = createAwsClients(REGION);
    const tokens = () => async () => "t";

    const error = await eksKubernetesAccess(clients, undefined, { now, tokens })("private-eks").catch(
      (e: unknown) => e,
    );
    const inside = await eksKubernetesAccess(clients, undefined, { now, tokens, reachesPrivateEndpoints: true })(
      "private-eks",
    );

    expect(error).toMatchObject({ name: "KubernetesAccessError", code: "KUBERNETES.ENDPOINT_PRIVATE" });
    expect((error as Error).message).toMatch(
      /private-eks.*endpointPublicAccess false.*publicAccessCidrs.*--kubeconfig/,
    );
    expect(inside.server).toBe(ENDPOINT);
  });

  it("passes an EKS error on (a missing cluster), keeping nothing", async () => {
    eks
      .on(DescribeClusterCommand)
      .rejects(Object.assign(new Error("No cluster found for name: gone-eks."), { name: "ResourceNotFoundException" }));
    const access = eksKubernetesAccess(createAwsClients(REGION), undefined, { now, tokens: () => async () => "t" });

    await expect(access("gone-eks")).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await expect(access("gone-eks")).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    expect(described()).toHaveLength(2);
  });
});

describe("eksTokenSource", () => {
  const decodedDate = (token: string) =>
    new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), "base64url").toString()).searchParams.get("X-Amz-Date");

  it("gives one cluster the same token until it is TOKEN_RENEW_AFTER_MS old, then a new one", async () => {
    let clock = Date.parse("2026-03-04T05:06:07Z");
    const credentials = vi.fn(async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" }));
    const token = eksTokenSource(REGION, credentials, () => clock)("prod-eks");

    const a = await token();
    clock += TOKEN_RENEW_AFTER_MS - 1;
    const same = await token();
    clock += 1;
    const renewed = await token();

    expect(a.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
    expect(same).toBe(a);
    expect(decodedDate(a)).toBe("20260304T050607Z");
    expect(decodedDate(renewed)).toBe("20260304T050657Z");
    expect(credentials).toHaveBeenCalledTimes(2);
  });

  it("tries a signing that failed again at the next call", async () => {
    const credentials = vi
      .fn<() => Promise<{ accessKeyId: string; secretAccessKey: string }>>()
      .mockRejectedValueOnce(new Error("no credentials"))
      .mockResolvedValue({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" });
    const token = eksTokenSource(REGION, credentials)("prod-eks");

    await expect(token()).rejects.toThrow("no credentials");
    await expect(token()).resolves.toMatch(/^k8s-aws-v1\./);
  });
});
