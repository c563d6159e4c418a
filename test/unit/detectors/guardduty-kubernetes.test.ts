import { describe, expect, it } from "vitest";
import {
  iamPrincipalOf,
  isolatePodStep,
  revokeAccessEntryStep,
  revokeBindingStep,
} from "../../../packages/core/src/detectors/guardduty-kubernetes.ts";
import type { GuardDutySignal } from "../../../packages/core/src/signals/types.ts";

function signal(extra: Partial<GuardDutySignal>): GuardDutySignal {
  return {
    family: "guardduty",
    envelopeId: "e-1",
    account: "111122223333",
    region: "eu-west-1",
    time: "2026-11-01T00:00:00Z",
    findingId: "f-1",
    findingType: "Policy:Kubernetes/AnonymousAccessGranted",
    severity: 8,
    title: "t",
    sample: false,
    createdAt: "2026-11-01T00:00:00Z",
    updatedAt: "2026-11-01T00:00:00Z",
    resourceType: "EKSCluster",
    cluster: { name: "prod-eks", tags: {} },
    ...extra,
  };
}

describe("revokeBindingStep", () => {
  it("prefers kubernetesRoleBindingDetails, then the API call's resource and name", () => {
    const both = signal({
      roleBinding: { kind: "RoleBinding", name: "from-details" },
      kubernetesApiCall: { resource: "clusterrolebindings", resourceName: "from-call", namespace: "team-a" },
    });
    expect(revokeBindingStep(both)).toEqual({
      request: {
        action: "k8s:revoke-binding",
        params: { cluster: "prod-eks", kind: "RoleBinding", name: "from-details", namespace: "team-a" },
      },
    });
    const call = signal({ kubernetesApiCall: { resource: "clusterrolebindings", resourceName: "anon-view" } });
    expect(revokeBindingStep(call)).toEqual({
      request: {
        action: "k8s:revoke-binding",
        params: { cluster: "prod-eks", kind: "ClusterRoleBinding", name: "anon-view" },
      },
    });
  });

  it("reads the binding from the request URI when the call names no resource", () => {
    const s = signal({
      kubernetesApiCall: {
        requestUri:
          "/apis/rbac.authorization.k8s.io/v1/namespaces/team%2Da/rolebindings/default-admin?fieldManager=kubectl",
      },
    });
    expect(revokeBindingStep(s)).toEqual({
      request: {
        action: "k8s:revoke-binding",
        params: { cluster: "prod-eks", kind: "RoleBinding", name: "default-admin", namespace: "team-a" },
      },
    });
  });

  it("says what is missing instead of guessing: no name, a RoleBinding without namespace, no cluster", () => {
    expect(revokeBindingStep(signal({ kubernetesApiCall: { resource: "clusterrolebindings" } }))).toHaveProperty(
      "note",
    );
    expect(revokeBindingStep(signal({ roleBinding: { kind: "RoleBinding", name: "x" } }))).toEqual({
      note: "the finding names RoleBinding x without its namespace: remove it by hand",
    });
    const noCluster = signal({ kubernetesApiCall: { resource: "clusterrolebindings", resourceName: "x" } });
    delete noCluster.cluster;
    expect(revokeBindingStep(noCluster)).toEqual({ note: "the finding names no cluster: remove the binding by hand" });
  });
});

describe("isolatePodStep", () => {
  it("isolates a pod the finding names, with its cluster", () => {
    const s = signal({ workload: { name: "web-1", namespace: "shop", type: "pods", containers: [] } });
    expect(isolatePodStep(s)).toEqual({
      request: { action: "k8s:isolate-pod", params: { cluster: "prod-eks", namespace: "shop", pod: "web-1" } },
    });
  });
});

describe("iamPrincipalOf / revokeAccessEntryStep", () => {
  it.each([
    ["arn:aws:sts::111122223333:assumed-role/Admin/jdoe", "arn:aws:iam::111122223333:role/Admin"],
    ["arn:aws-cn:sts::111122223333:assumed-role/Ops/s1", "arn:aws-cn:iam::111122223333:role/Ops"],
    ["arn:aws-us-gov:iam::111122223333:user/ci", "arn:aws-us-gov:iam::111122223333:user/ci"],
    ["arn:aws:iam::111122223333:role/path/Deployer", "arn:aws:iam::111122223333:role/path/Deployer"],
  ])("maps %s to %s", (username, principal) => {
    expect(iamPrincipalOf(username)).toBe(principal);
  });

  it.each([
    "system:anonymous",
    "system:serviceaccount:ci:deployer",
    "kubernetes-admin",
    "arn:aws:sts::1:assumed-role/x/y",
  ])("maps %s to no IAM principal", (username) => {
    expect(iamPrincipalOf(username)).toBeUndefined();
  });

  it("tells a service account apart in its note", () => {
    const s = signal({
      kubernetesUser: { username: "system:serviceaccount:ci:deployer", groups: [], sessionNames: [] },
    });
    expect(revokeAccessEntryStep(s)).toEqual({
      note: "system:serviceaccount:ci:deployer is a Kubernetes service account, not an IAM principal: delete the pods using it and rotate its tokens",
    });
  });
});
