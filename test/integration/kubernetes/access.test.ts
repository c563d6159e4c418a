import { DescribeClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createAwsClients } from "../../../packages/core/src/aws/clients.ts";
import { DESCRIBE_CACHE_MS, eksKubernetesAccess } from "../../../packages/core/src/kubernetes/access.ts";
import { TOKEN_RENEW_AFTER_MS } from "../../../packages/core/src/kubernetes/token.ts";
import { type KubeTestServer, startKubeApiServer } from "../../helpers/kube-apiserver.ts";

/**
 * eksKubernetesAccess against a real kube-apiserver: EKS is mocked (it has no local implementation), answering
 * DescribeCluster as its API reference shows (https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeCluster.html)
 * with the test server's URL as `endpoint` and its CA, base64, as `certificateAuthority.data`. The test server knows
 * static tokens only, so the token source is injected here; the EKS token itself is test/unit/kubernetes/token.test.ts's.
 */
const eks = mockClient(EKSClient);

describe("eksKubernetesAccess against a real kube-apiserver", () => {
  let kube: KubeTestServer;
  beforeAll(async () => {
    kube = await startKubeApiServer();
    eks.on(DescribeClusterCommand).callsFake(({ name }: { name: string }) => ({
      cluster: {
        name,
        status: "ACTIVE",
        endpoint: kube.info.server,
        certificateAuthority: { data: Buffer.from(kube.caPem).toString("base64") },
        resourcesVpcConfig: {
          endpointPublicAccess: true,
          endpointPrivateAccess: false,
          publicAccessCidrs: ["0.0.0.0/0"],
        },
      },
    }));
  });
  afterAll(async () => {
    eks.restore();
    await kube?.stop();
  });
  afterEach(() => vi.unstubAllEnvs());

  it("reaches the API server DescribeCluster names, over TLS trusting the CA it gives, with the token source's token", async () => {
    let clock = 5_000_000;
    const made: string[] = [];
    const access = eksKubernetesAccess(createAwsClients("eu-west-1"), undefined, {
      now: () => clock,
      tokens: (cluster) => async () => {
        made.push(cluster);
        return kube.info.adminToken;
      },
    });

    const client = await access("prod-eks");
    const ns = (await client.request({ method: "GET", path: "/api/v1/namespaces/default" })) as {
      metadata: { name: string };
    };
    await client.request({ method: "GET", path: "/api/v1/namespaces/kube-system" });
    clock += Math.max(DESCRIBE_CACHE_MS, TOKEN_RENEW_AFTER_MS);
    const later = await access("prod-eks");
    await later.request({ method: "GET", path: "/api/v1/namespaces/default" });

    expect(ns.metadata.name).toBe("default");
    expect(client.server).toBe(kube.info.server);
    // The provider is read before every call: the injected one was asked each time.
    expect(made).toEqual(["prod-eks", "prod-eks", "prod-eks"]);
    expect(eks.commandCalls(DescribeClusterCommand).map((c) => c.args[0].input)).toEqual([
      { name: "prod-eks" },
      { name: "prod-eks" },
    ]);
  });

  it("sends an EKS token when no source is given: the server, which knows static tokens only, answers 401", async () => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    const client = await eksKubernetesAccess(createAwsClients("eu-west-1"))("prod-eks");

    const error = await client.request({ method: "GET", path: "/api/v1/namespaces/default" }).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: "KubeApiError", status: 401, reason: "Unauthorized" });
  });
});
