/**
 * The seam Lambda -> Kubernetes API, as deployed: the approval workflow's Apply task (handleApply, with the function's
 * Runtime) carries out an approved k8s:revoke-binding for the anonymous-access sample, reaching a real kube-apiserver
 * through eksKubernetesAccess (the endpoint and CA from DescribeCluster, mocked at the client as the EKS API reference
 * shows it). Only the bearer token is a test's: the test server knows static tokens, not EKS tokens (the token's
 * shape is test/unit/kubernetes/token.test.ts). The identity is the limited user holding only the shipped ClusterRole.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DescribeClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { ACTIONS, defaultPolicy, processEvent } from "../../../packages/core/src/index.ts";
import { eksKubernetesAccess } from "../../../packages/core/src/kubernetes/access.ts";
import { KubeApiError } from "../../../packages/core/src/kubernetes/api.ts";
import { handleApply } from "../../../packages/functions/src/approval-tasks.ts";
import { Runtime, resetRuntime } from "../../../packages/functions/src/runtime.ts";
import { uniqueName } from "../../helpers/kube-apiserver.ts";
import { kubeWithShippedRole } from "../../helpers/kube-rbac.ts";

const ROOT = join(import.meta.dirname, "../../..");
const ENV = {
  AWS_REGION: "eu-west-1",
  AWS_ACCESS_KEY_ID: "AKIDTEST",
  AWS_SECRET_ACCESS_KEY: "secret",
  TABLE_NAME: "eks-responder",
  POLICY_PARAMETER_NAME: "/eks-responder/policy",
  KILL_SWITCH_PARAMETER_NAME: "/eks-responder/kill-switch",
};
const eks = mockClient(EKSClient);
const ssm = mockClient(SSMClient);
const saved = { ...process.env };
afterAll(() => {
  process.env = saved;
  eks.restore();
  ssm.restore();
});

/** The function's Runtime, its Kubernetes access built as deployed but for the bearer token. */
class StaticTokenRuntime extends Runtime {
  readonly token: string;
  constructor(env: Record<string, string>, token: string) {
    super(env);
    this.token = token;
  }
  override kubernetes(region: string, target?: Parameters<Runtime["kubernetes"]>[1]) {
    return eksKubernetesAccess(this.clients(region, target), undefined, { tokens: () => async () => this.token });
  }
}

describe("the Apply task against a real kube-apiserver", () => {
  const kube = kubeWithShippedRole(ACTIONS);

  beforeEach(() => {
    process.env = { ...saved, ...ENV };
    resetRuntime();
    eks.reset();
    ssm.reset();
    ssm.on(GetParameterCommand, { Name: "/eks-responder/kill-switch" }).resolves({ Parameter: { Value: "off" } });
    ssm
      .on(GetParameterCommand, { Name: "/eks-responder/policy" })
      .resolves({ Parameter: { Value: JSON.stringify({ dryRun: false }) } });
  });

  it("deletes the anonymous binding the finding names, after DescribeCluster gave the endpoint and CA", async () => {
    // prepare: a binding that lets system:anonymous in as cluster-admin, and the finding about it
    const name = uniqueName("anon-admin");
    const path = `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}`;
    await kube().admin.request({
      method: "POST",
      path: "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
      body: {
        metadata: { name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "system:anonymous" }],
      },
    });
    const event = JSON.parse(
      readFileSync(join(ROOT, "examples/events/gd-06-policy-k8s-anonymous-access-granted.json"), "utf8"),
    ) as { detail: { service: { action: { kubernetesApiCallAction: { resourceName: string } } } } };
    event.detail.service.action.kubernetesApiCallAction.resourceName = name;
    const processed = processEvent(event, defaultPolicy());
    const assessment = processed.assessments[0];
    if (!assessment) throw new Error("the sample must assess");
    expect(assessment.actions).toEqual([
      { action: "k8s:revoke-binding", params: { cluster: "prod-eks", kind: "ClusterRoleBinding", name } },
    ]);
    // DescribeCluster as https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeCluster.html shows it
    eks.on(DescribeClusterCommand, { name: "prod-eks" }).resolves({
      cluster: {
        name: "prod-eks",
        status: "ACTIVE",
        endpoint: kube().info.server,
        certificateAuthority: { data: Buffer.from(kube().caPem).toString("base64") },
        resourcesVpcConfig: { endpointPublicAccess: true, endpointPrivateAccess: true },
      },
    });
    const rt = new StaticTokenRuntime(ENV, kube().info.limitedToken);

    // act: the workflow's Apply task, with the approver the callback verified
    const result = await handleApply(
      {
        executionId: "arn:aws:states:eu-west-1:111122223333:execution:approval:asm-1",
        assessment,
        plan: processed.plan,
        approval: { decision: "approved", approver: "email:oncall@example.com" },
      },
      rt,
    );

    // assess: applied, the binding recorded whole before it went, and gone from the cluster
    expect(result.outcomes).toMatchObject([{ action: "k8s:revoke-binding", status: "applied" }]);
    const outcome = result.outcomes[0];
    expect(outcome?.calls.map((c) => `${c.operation} ${c.result}`)).toContain(`DELETE ${path} ok`);
    expect(JSON.stringify(outcome?.before)).toContain("system:anonymous");
    expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(1);
    const gone = await kube()
      .admin.request({ method: "GET", path })
      .catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(KubeApiError);
    expect(gone).toMatchObject({ status: 404 });
  });
});
