import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultPolicy, type EventResult, loadPolicyFile, processEvent } from "../../../packages/core/src/index.ts";

const EXAMPLES = join(import.meta.dirname, "../../../examples");
const HOSTILE = join(import.meta.dirname, "../../fixtures/hostile");

function replay(file: string, policy = defaultPolicy()): EventResult {
  return processEvent(readFileSync(join(EXAMPLES, "events", file), "utf8"), policy);
}

function operations(result: EventResult): string[] {
  return result.plan.map((p) => `${p.service}:${p.operation}`);
}

describe("the bundled sample events (npm run replay)", () => {
  it("replays every sample in examples/events with a specific result", async () => {
    // prepare
    const policy = await loadPolicyFile(join(EXAMPLES, "policy.json"));
    const expected: Record<string, { outcome: string; detector?: string; mode?: string; calls: string[] }> = {
      "ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json": {
        outcome: "dry-run",
        detector: "ec2-open-ingress",
        mode: "auto",
        calls: ["ec2:RevokeSecurityGroupIngress"],
      },
      "ct-02-ec2-authorize-sg-ingress-ipv4-ipv6-open.json": {
        outcome: "dry-run",
        detector: "ec2-open-ingress",
        mode: "auto",
        calls: ["ec2:RevokeSecurityGroupIngress"],
      },
      "ct-07-eks-update-cluster-config-public-endpoint-open.json": {
        outcome: "dry-run",
        detector: "eks-public-endpoint",
        mode: "approve",
        calls: ["eks:UpdateClusterConfig"],
      },
      "ct-10-eks-associate-access-policy-cluster-admin.json": {
        outcome: "dry-run",
        detector: "eks-cluster-admin-granted",
        mode: "approve",
        calls: ["eks:DisassociateAccessPolicy"],
      },
      // Restrict the endpoint (eks-cluster-insecure-create), then turn logging on (eks-logging-disabled: the 2018
      // request sets no logging, and EKS exports no control-plane logs by default).
      "ct-13-eks-create-cluster-AWSDOC.json": {
        outcome: "dry-run",
        detector: "eks-logging-disabled",
        mode: "auto",
        calls: ["eks:UpdateClusterConfig", "eks:UpdateClusterConfig"],
      },
      "gd-01-persistence-k8s-successful-anonymous-access.json": { outcome: "skipped", calls: [] },
      "gd-03-sample-trojan-ec2-blackhole-dns.json": { outcome: "skipped", calls: [] },
      // The Kubernetes side of the joined playbooks: the pod isolated by a deny-all NetworkPolicy (after checking that
      // something enforces one), the anonymous binding deleted after it is read whole.
      "gd-05-privesc-k8s-privileged-container-blueprint.json": {
        outcome: "dry-run",
        detector: "guardduty-compromised-workload",
        mode: "approve",
        calls: [
          "kubernetes:GET /api/v1/namespaces/argocd/pods/privileged-pod",
          "kubernetes:GET /apis/apps/v1/namespaces/kube-system/daemonsets/aws-node",
          "kubernetes:GET /apis/apps/v1/namespaces/kube-system/daemonsets/calico-node",
          "kubernetes:GET /apis/apps/v1/namespaces/calico-system/daemonsets/calico-node",
          "kubernetes:GET /apis/apps/v1/namespaces/kube-system/daemonsets/cilium",
          "kubernetes:GET /apis/networking.k8s.io/v1/namespaces/argocd/networkpolicies/eks-responder-isolate-privileged-pod",
          "kubernetes:PATCH /api/v1/namespaces/argocd/pods/privileged-pod",
          "kubernetes:POST /apis/networking.k8s.io/v1/namespaces/argocd/networkpolicies",
        ],
      },
      "gd-06-policy-k8s-anonymous-access-granted.json": {
        outcome: "dry-run",
        detector: "guardduty-configuration-issue",
        mode: "approve",
        calls: [
          "kubernetes:GET /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/anon-view",
          "kubernetes:GET /apis/rbac.authorization.k8s.io/v1/clusterroles/<the role its roleRef names>",
          "kubernetes:DELETE /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/anon-view",
        ],
      },
      // A runtime threat in a pod: the pod isolated and its node cordoned, Kubernetes side only; the node keeps running.
      "gd-11-runtime-bitcointool-b-eks-pod.json": {
        outcome: "dry-run",
        detector: "guardduty-runtime-threat",
        mode: "approve",
        calls: [
          "kubernetes:GET /api/v1/namespaces/shop/pods/web-6d9f7c8b5-x2kqz",
          "kubernetes:GET /apis/apps/v1/namespaces/kube-system/daemonsets/aws-node",
          "kubernetes:GET /apis/apps/v1/namespaces/kube-system/daemonsets/calico-node",
          "kubernetes:GET /apis/apps/v1/namespaces/calico-system/daemonsets/calico-node",
          "kubernetes:GET /apis/apps/v1/namespaces/kube-system/daemonsets/cilium",
          "kubernetes:GET /apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/eks-responder-isolate-web-6d9f7c8b5-x2kqz",
          "kubernetes:PATCH /api/v1/namespaces/shop/pods/web-6d9f7c8b5-x2kqz",
          "kubernetes:POST /apis/networking.k8s.io/v1/namespaces/shop/networkpolicies",
          "kubernetes:GET /api/v1/nodes",
          "kubernetes:GET /api/v1/nodes",
          "kubernetes:PATCH /api/v1/nodes/<node of i-0f1e2d3c4b5a69788>",
        ],
      },
      "gd-15-ec2-ssh-bruteforce-eks-worker.json": {
        outcome: "alert",
        detector: "guardduty-compromised-node",
        mode: "alert",
        calls: [],
      },
    };
    const files = readdirSync(join(EXAMPLES, "events")).filter((f) => f.endsWith(".json"));
    // act + assess
    expect(files.sort()).toEqual(Object.keys(expected).sort());
    for (const file of files) {
      const result = replay(file, policy);
      const want = expected[file];
      expect(want, file).toBeDefined();
      expect(result.outcome, file).toBe(want?.outcome);
      expect(operations(result), file).toEqual(want?.calls);
      if (want?.detector) {
        expect(
          result.decisions.map((d) => d.detectorId),
          file,
        ).toContain(want.detector);
        expect(result.decisions.find((d) => d.detectorId === want.detector)?.mode, file).toBe(want.mode);
      }
    }
  });

  it("revokes exactly the SSH rule id of the real CloudTrail record, with DryRun", () => {
    const result = replay("ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json");
    expect(result.plan).toHaveLength(1);
    expect(result.plan[0]).toMatchObject({
      service: "ec2",
      operation: "RevokeSecurityGroupIngress",
      params: { GroupId: "sg-0632fa4ee8a8468a4", SecurityGroupRuleIds: ["sgr-09be5c962afdc06ed"], DryRun: true },
    });
  });

  it("restricts a world-open endpoint to the policy's CIDRs, and only alerts when that could lock the cluster out", async () => {
    const withCidrs = replay(
      "ct-07-eks-update-cluster-config-public-endpoint-open.json",
      await loadPolicyFile(join(EXAMPLES, "policy.json")),
    );
    expect(withCidrs.plan[0]?.params).toEqual({
      name: "prod-eks",
      resourcesVpcConfig: {
        endpointPublicAccess: true,
        endpointPrivateAccess: true,
        publicAccessCidrs: ["203.0.113.0/24"],
      },
    });
    const withoutCidrs = replay("ct-07-eks-update-cluster-config-public-endpoint-open.json");
    expect(withoutCidrs.outcome).toBe("alert");
    expect(withoutCidrs.plan).toEqual([]);
    expect(withoutCidrs.reason).toMatch(/could make the cluster unreachable/);
  });

  it("recognises GuardDuty sample findings and never acts on them", () => {
    for (const file of [
      "gd-01-persistence-k8s-successful-anonymous-access.json",
      "gd-03-sample-trojan-ec2-blackhole-dns.json",
    ]) {
      const result = replay(file);
      expect(result.signal?.sample, file).toBe(true);
      expect(result.skipped, file).toBe("sample-finding");
      expect(result.plan, file).toEqual([]);
      expect(result.reason, file).toMatch(/sample/i);
    }
  });

  it("refuses the truncated finding with a clear error naming the missing keys", () => {
    const result = processEvent(readFileSync(join(HOSTILE, "gd-truncated-detail.json"), "utf8"), defaultPolicy());
    expect(result.outcome).toBe("invalid");
    expect(result.error?.code).toBe("SIGNAL.INVALID");
    expect(result.error?.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(["detail.severity", "detail.service", "detail.updatedAt"]),
    );
    expect(result.eventId).toBe("0badc0de-0001-4000-8000-000000000001");
    expect(result.plan).toEqual([]);
  });
});
