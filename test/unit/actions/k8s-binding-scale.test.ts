import { describe, expect, it } from "vitest";
import { revokeBinding } from "../../../packages/core/src/actions/k8s-revoke-binding.action.ts";
import { adminRights, riskySubject } from "../../../packages/core/src/actions/k8s-revoke-binding.apply.ts";
import { scaleWorkload } from "../../../packages/core/src/actions/k8s-scale-workload.action.ts";
import { ACTIONS, planAction } from "../../../packages/core/src/actions/registry.ts";
import type { ActionDefinition, PlanContext } from "../../../packages/core/src/actions/types.ts";
import { ActionParamsError } from "../../../packages/core/src/errors.ts";
import { forbiddenRule, responderRules } from "../../../packages/core/src/kubernetes/rbac.ts";

const CONTEXT: PlanContext = { dryRun: false, assessmentId: "asm-test", account: "111122223333", region: "eu-west-1" };

function callsOf(id: string, params: unknown, context = CONTEXT) {
  const result = planAction(id, params, context);
  if (!("calls" in result)) throw new Error(`refused: ${result.refused}`);
  return result.calls;
}

describe("k8s:revoke-binding params", () => {
  it("needs a namespace for a RoleBinding and refuses one for a ClusterRoleBinding, naming the key", () => {
    expect(() => callsOf("k8s:revoke-binding", { cluster: "prod-eks", kind: "RoleBinding", name: "x" })).toThrow(
      /params\.namespace: namespace is required for a RoleBinding/,
    );
    expect(() =>
      callsOf("k8s:revoke-binding", { cluster: "prod-eks", kind: "ClusterRoleBinding", name: "x", namespace: "a" }),
    ).toThrow(ActionParamsError);
  });

  it("refuses an unknown kind, a name that would change the path, a bad cluster name and unknown keys", () => {
    const base = { cluster: "prod-eks", kind: "ClusterRoleBinding", name: "x" };
    for (const bad of [
      { ...base, kind: "Role" },
      { ...base, name: "../clusterroles/cluster-admin" },
      { ...base, name: "a%2Fb" },
      { ...base, name: "" },
      { ...base, cluster: "-prod" },
      { ...base, force: true },
    ]) {
      expect(revokeBinding.params.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    // Kubernetes' own names parse, to be refused with the reason once read.
    expect(revokeBinding.params.safeParse({ ...base, name: "system:public-info-viewer" }).success).toBe(true);
  });
});

describe("k8s:scale-workload params", () => {
  it("takes a namespace and a pod name as Kubernetes spells them, nothing else", () => {
    const base = { cluster: "prod-eks", namespace: "shop", pod: "web-7d4b9c8f6d-x2x9q" };
    expect(scaleWorkload.params.safeParse(base).success).toBe(true);
    for (const bad of [
      { ...base, namespace: "Shop" },
      { ...base, namespace: "a/b" },
      { ...base, pod: "Web" },
      { ...base, pod: "web/../x" },
      { ...base, replicas: 1 },
      { cluster: "prod-eks", pod: "web" },
    ]) {
      expect(scaleWorkload.params.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe("the plans of k8s:revoke-binding and k8s:scale-workload", () => {
  it("are pure: the same params and context give the same calls, and the params are not changed", () => {
    for (const action of [revokeBinding, scaleWorkload] as ActionDefinition[]) {
      const params = Object.freeze(action.params.parse(action.example));
      const first = action.plan(params, CONTEXT);
      const second = action.plan(params, CONTEXT);
      expect(second).toEqual(first);
      expect(params).toEqual(action.params.parse(action.example));
    }
  });

  it("list the exact binding calls: the read, the role's read and the delete with its preconditions", () => {
    const calls = callsOf("k8s:revoke-binding", {
      cluster: "prod-eks",
      kind: "RoleBinding",
      name: "default-admin",
      namespace: "shop",
    });
    const path = "/apis/rbac.authorization.k8s.io/v1/namespaces/shop/rolebindings/default-admin";
    expect(calls.map((c) => [c.service, c.operation, c.params])).toEqual([
      ["kubernetes", `GET ${path}`, {}],
      ["kubernetes", "GET /apis/rbac.authorization.k8s.io/v1/namespaces/shop/roles/<the role its roleRef names>", {}],
      [
        "kubernetes",
        `DELETE ${path}`,
        {
          apiVersion: "v1",
          kind: "DeleteOptions",
          preconditions: { uid: "<uid read>", resourceVersion: "<resourceVersion read>" },
        },
      ],
    ]);
  });

  it("say when other subjects need an approval, and that a dry-run goes with dryRun=All", () => {
    const params = { cluster: "prod-eks", kind: "ClusterRoleBinding", name: "x" };
    const unapproved = callsOf("k8s:revoke-binding", params).at(-1)?.note;
    const approved = callsOf("k8s:revoke-binding", params, { ...CONTEXT, approvedBy: "cli:oncall" }).at(-1)?.note;
    const dry = callsOf("k8s:revoke-binding", params, { ...CONTEXT, dryRun: true }).at(-1)?.note;
    expect(unapproved).toContain("is refused (not approved)");
    expect(approved).toContain("approved by cli:oncall");
    expect(dry).toContain("dryRun=All");
    expect(unapproved).not.toContain("dryRun=All");
  });

  it("scale the workload through its scale subresource, and say kube-system needs an approval", () => {
    const calls = callsOf("k8s:scale-workload", { cluster: "prod-eks", namespace: "kube-system", pod: "coredns-1" });
    expect(calls.map((c) => c.operation)).toEqual([
      "GET /api/v1/namespaces/kube-system/pods/coredns-1",
      "GET /apis/apps/v1/namespaces/kube-system/replicasets/<owner of the pod>",
      "GET /apis/apps/v1/namespaces/kube-system/deployments/<owner of the replicaset>",
      "PATCH /apis/apps/v1/namespaces/kube-system/deployments/<workload>/scale",
    ]);
    expect(calls.at(-1)?.params).toEqual({ spec: { replicas: 0 } });
    expect(calls.at(-1)?.note).toContain("refused unless approved");
    const approved = callsOf(
      "k8s:scale-workload",
      { cluster: "prod-eks", namespace: "kube-system", pod: "coredns-1" },
      { ...CONTEXT, approvedBy: "cli:oncall" },
    );
    expect(approved.at(-1)?.note).not.toContain("refused unless approved");
  });
});

describe("the RBAC rules of k8s:revoke-binding and k8s:scale-workload", () => {
  it("are accepted in the shipped ClusterRole, which never gets the rollback's create and bind", () => {
    const rules = responderRules(ACTIONS);
    const rbac = rules.filter((r) => r.apiGroups.includes("rbac.authorization.k8s.io"));
    expect(rbac).toEqual([
      { apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterrolebindings"], verbs: ["delete", "get"] },
      { apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], verbs: ["get"] },
      { apiGroups: ["rbac.authorization.k8s.io"], resources: ["rolebindings"], verbs: ["delete", "get"] },
      { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: ["get"] },
    ]);
    for (const rule of revokeBinding.kubernetesRollbackPermissions ?? []) expect(forbiddenRule(rule)).toBeDefined();
    const scale = rules.filter((r) => r.resources.some((x) => x.endsWith("/scale")));
    expect(scale.map((r) => [r.resources[0], r.verbs])).toEqual([
      ["deployments/scale", ["patch"]],
      ["replicasets/scale", ["patch"]],
      ["statefulsets/scale", ["patch"]],
    ]);
    // Patch on the workloads themselves would let the responder change their pod template: never asked for.
    expect(
      rules.filter((r) => r.apiGroups.includes("apps") && r.verbs.includes("patch")).map((r) => r.resources),
    ).toEqual([["deployments/scale"], ["replicasets/scale"], ["statefulsets/scale"]]);
  });
});

describe("what k8s:revoke-binding removes", () => {
  it("counts anonymous, unauthenticated and default service accounts as risky subjects, and nothing else", () => {
    expect(
      [
        { kind: "User", name: "system:anonymous" },
        { kind: "Group", name: "system:unauthenticated" },
        { kind: "User", name: "system:serviceaccount:shop:default" },
        { kind: "ServiceAccount", name: "default", namespace: "shop" },
        { kind: "ServiceAccount", name: "web", namespace: "shop" },
        { kind: "User", name: "system:serviceaccount:shop:web" },
        { kind: "Group", name: "system:authenticated" },
        { kind: "Group", name: "system:anonymous" },
        { kind: "User", name: "alice@example.com" },
      ].map(riskySubject),
    ).toEqual([true, true, true, true, false, false, false, false, false]);
  });

  it("judges an admin role by the default admin roles and by its rules", () => {
    const meta = { name: "r", uid: "u", resourceVersion: "1" };
    const ref = (name: string) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole" as const, name });
    const role = (rules: { verbs: string[]; apiGroups?: string[]; resources?: string[] }[]) => ({
      metadata: meta,
      rules,
    });
    expect(adminRights(ref("cluster-admin"), role([]))).toContain("cluster-admin");
    expect(adminRights(ref("custom"), role([{ verbs: ["*"], apiGroups: [""], resources: ["pods"] }]))).toBeDefined();
    expect(
      adminRights(ref("custom"), role([{ verbs: ["get"], apiGroups: [""], resources: ["secrets"] }])),
    ).toBeDefined();
    expect(
      adminRights(
        ref("custom"),
        role([{ verbs: ["create"], apiGroups: ["rbac.authorization.k8s.io"], resources: ["rolebindings"] }]),
      ),
    ).toBeDefined();
    expect(
      adminRights(ref("view"), role([{ verbs: ["get", "list"], apiGroups: [""], resources: ["pods"] }])),
    ).toBeUndefined();
    expect(adminRights(ref("empty"), { metadata: meta })).toBeUndefined();
  });
});
