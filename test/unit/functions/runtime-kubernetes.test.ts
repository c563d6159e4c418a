import { DescribeClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, describe, expect, it } from "vitest";
import { Runtime } from "../../../packages/functions/src/runtime.ts";

const eks = mockClient(EKSClient);
afterAll(() => eks.restore());

const ENV = { TABLE_NAME: "eks-responder", POLICY_PARAMETER_NAME: "/eks-responder/policy" };
const CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

describe("Runtime.kubernetes", () => {
  it("shares one EKS access per region across calls: the cluster is described once while its endpoint is kept", async () => {
    // DescribeCluster as the EKS API reference shows it (endpoint, CA base64, once ACTIVE):
    // https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeCluster.html
    eks.on(DescribeClusterCommand).callsFake(({ name }: { name: string }) => ({
      cluster: {
        name,
        status: "ACTIVE",
        endpoint: `https://${name}.gr7.example.eks.amazonaws.com`,
        certificateAuthority: { data: Buffer.from(CA_PEM).toString("base64") },
        resourcesVpcConfig: { endpointPublicAccess: true, endpointPrivateAccess: false },
      },
    }));
    const rt = new Runtime(ENV);

    const a = await rt.kubernetes("eu-west-1")("prod-eks");
    const b = await rt.kubernetes("eu-west-1")("prod-eks");
    await rt.kubernetes("us-east-1")("prod-eks");

    expect(b).toBe(a);
    expect(a.server).toBe("https://prod-eks.gr7.example.eks.amazonaws.com");
    expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(2); // one per region
  });
});

describe("Runtime.kubernetes and the VPC", () => {
  // A private-only cluster: endpointPublicAccess false (API_DescribeCluster, resourcesVpcConfig).
  const privateOnly = ({ name }: { name: string }) => ({
    cluster: {
      name,
      status: "ACTIVE",
      endpoint: `https://${name}.yl4.example.eks.amazonaws.com`,
      certificateAuthority: { data: Buffer.from(CA_PEM).toString("base64") },
      resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true },
    },
  });

  it("refuses a private-only endpoint outside the VPC, with the reason", async () => {
    eks.on(DescribeClusterCommand).callsFake(privateOnly);
    const error = await new Runtime(ENV)
      .kubernetes("eu-west-1")("private-eks")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "KUBERNETES.ENDPOINT_PRIVATE", cluster: "private-eks" });
  });

  it("reaches it when the deploy put the function in the VPC (KUBERNETES_IN_VPC=true)", async () => {
    eks.on(DescribeClusterCommand).callsFake(privateOnly);
    const client = await new Runtime({ ...ENV, KUBERNETES_IN_VPC: "true" }).kubernetes("eu-west-1")("private-eks");
    expect(client.server).toBe("https://private-eks.yl4.example.eks.amazonaws.com");
  });
});
