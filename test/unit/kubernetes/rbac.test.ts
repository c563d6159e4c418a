import { describe, expect, it } from "vitest";
import { ACTIONS } from "../../../packages/core/src/actions/registry.ts";
import type { ActionDefinition, KubernetesRule } from "../../../packages/core/src/actions/types.ts";
import {
  CLUSTER_ROLE_NAME,
  DEFAULT_KUBERNETES_GROUP,
  forbiddenRule,
  kubernetesGroupProblem,
  rbacManifests,
  responderRules,
} from "../../../packages/core/src/kubernetes/rbac.ts";

const rule = (apiGroups: string[], resources: string[], verbs: string[]): KubernetesRule => ({
  apiGroups,
  resources,
  verbs,
});

/** An action that only carries RBAC rules: responderRules reads nothing else. */
function withRules(id: string, rules: KubernetesRule[]): ActionDefinition {
  const base = ACTIONS[0];
  if (!base) throw new Error("the registry is empty");
  return { ...base, id, kubernetesPermissions: rules };
}

describe("forbiddenRule", () => {
  it.each([
    ["every verb", rule([""], ["pods"], ["*"]), "verb *"],
    ["every group", rule(["*"], ["pods"], ["get"]), "apiGroup *"],
    ["every resource", rule([""], ["*"], ["get"]), "resource *"],
    ["every subresource", rule([""], ["pods/*"], ["get"]), "resource pods/*"],
    ["reading secrets", rule([""], ["secrets"], ["get", "list"]), "secrets"],
    ["watching secrets", rule([""], ["secrets"], ["watch"]), "secrets"],
    ["configmaps (aws-auth)", rule([""], ["configmaps"], ["get"]), "configmaps"],
    ["exec", rule([""], ["pods/exec"], ["create"]), "pods/exec"],
    ["attach", rule([""], ["pods/attach"], ["create"]), "pods/attach"],
    ["port-forward", rule([""], ["pods/portforward"], ["create"]), "pods/portforward"],
    ["pod proxy", rule([""], ["pods/proxy"], ["get"]), "pods/proxy"],
    ["node proxy (the kubelet API)", rule([""], ["nodes/proxy"], ["get"]), "nodes/proxy"],
    ["service-account tokens", rule([""], ["serviceaccounts/token"], ["create"]), "serviceaccounts/token"],
    [
      "approving certificates",
      rule(["certificates.k8s.io"], ["certificatesigningrequests/approval"], ["update"]),
      "certificatesigningrequests/approval",
    ],
    ["the approve verb", rule(["certificates.k8s.io"], ["signers"], ["approve"]), "verb approve"],
    ["creating pods", rule([""], ["pods"], ["create"]), "pods create"],
    ["writing a pod template", rule(["apps"], ["deployments"], ["patch"]), "deployments patch"],
    ["creating daemonsets", rule(["apps"], ["daemonsets"], ["create"]), "daemonsets create"],
    ["creating jobs", rule(["batch"], ["jobs"], ["create"]), "jobs create"],
    ["creating a binding", rule(["rbac.authorization.k8s.io"], ["rolebindings"], ["create"]), "rolebindings create"],
    [
      "patching a cluster binding",
      rule(["rbac.authorization.k8s.io"], ["clusterrolebindings"], ["get", "patch", "update"]),
      "clusterrolebindings patch,update",
    ],
    ["writing a role", rule(["rbac.authorization.k8s.io"], ["roles"], ["update"]), "roles update"],
    [
      "creating a cluster role",
      rule(["rbac.authorization.k8s.io"], ["clusterroles"], ["create"]),
      "clusterroles create",
    ],
    ["bind", rule(["rbac.authorization.k8s.io"], ["clusterroles"], ["bind"]), "verb bind"],
    ["escalate", rule(["rbac.authorization.k8s.io"], ["clusterroles"], ["escalate"]), "verb escalate"],
    ["impersonating users", rule([""], ["users"], ["impersonate"]), "verb impersonate"],
    ["impersonating service accounts", rule([""], ["serviceaccounts"], ["impersonate"]), "verb impersonate"],
    ["deleting namespaces", rule([""], ["namespaces"], ["delete"]), "namespaces delete"],
    ["creating namespaces", rule([""], ["namespaces"], ["create"]), "namespaces create"],
    ["creating nodes", rule([""], ["nodes"], ["create"]), "nodes create"],
    ["deleting nodes", rule([""], ["nodes"], ["delete"]), "nodes delete"],
    ["deleting everything of a kind", rule([""], ["pods"], ["deletecollection"]), "verb deletecollection"],
    [
      "writing webhooks",
      rule(["admissionregistration.k8s.io"], ["mutatingwebhookconfigurations"], ["create"]),
      "mutatingwebhookconfigurations create",
    ],
    ["an empty list", rule([""], [], ["get"]), "an empty list"],
  ])("refuses %s", (_what, forbidden, why) => {
    expect(forbiddenRule(forbidden)).toBe(why);
  });

  it.each([
    ["reading pods", rule([""], ["pods"], ["get", "list", "watch"])],
    ["labelling a pod", rule([""], ["pods"], ["get", "patch"])],
    ["cordoning a node", rule([""], ["nodes"], ["get", "list", "patch"])],
    ["isolating with a NetworkPolicy", rule(["networking.k8s.io"], ["networkpolicies"], ["create", "delete", "get"])],
    ["deleting a binding", rule(["rbac.authorization.k8s.io"], ["rolebindings", "clusterrolebindings"], ["delete"])],
    ["reading roles", rule(["rbac.authorization.k8s.io"], ["roles", "clusterroles"], ["get", "list"])],
    ["scaling a workload", rule(["apps"], ["deployments/scale", "statefulsets/scale"], ["get", "patch", "update"])],
    ["reading the owner of a pod", rule(["apps"], ["replicasets", "deployments"], ["get"])],
    ["reading namespaces", rule([""], ["namespaces"], ["get", "list"])],
  ])("accepts %s", (_what, allowed) => {
    expect(forbiddenRule(allowed)).toBeUndefined();
  });
});

describe("responderRules", () => {
  it("merges the actions' rules into one rule per (group, resource), verbs sorted and unique, in a stable order", () => {
    const a = withRules("k8s:one", [
      rule([""], ["pods"], ["patch", "get"]),
      rule(["networking.k8s.io"], ["networkpolicies"], ["create"]),
    ]);
    const b = withRules("k8s:two", [
      rule([""], ["pods", "nodes"], ["get", "list"]),
      rule(["apps"], ["deployments"], ["get"]),
    ]);

    const rules = responderRules([a, b]);

    expect(rules).toEqual([
      rule([""], ["nodes"], ["get", "list"]),
      rule([""], ["pods"], ["get", "list", "patch"]),
      rule(["apps"], ["deployments"], ["get"]),
      rule(["networking.k8s.io"], ["networkpolicies"], ["create"]),
    ]);
    expect(responderRules([b, a])).toEqual(rules);
  });

  it("throws on a forbidden rule, naming the action and what it may not grant", () => {
    const bad = withRules("k8s:leaky", [rule([""], ["pods"], ["get"]), rule([""], ["secrets"], ["get"])]);
    expect(() => responderRules([bad])).toThrow("k8s:leaky: kubernetesPermissions may not grant secrets");
  });

  it("is empty for actions without Kubernetes rules", () => {
    expect(responderRules(ACTIONS.filter((action) => action.kubernetesPermissions === undefined))).toEqual([]);
  });
});

describe("the registry's Kubernetes rules", () => {
  const kubernetesActions = ACTIONS.filter(
    (a) => a.kubernetesPermissions !== undefined || a.kubernetesRollbackPermissions !== undefined,
  );

  it("build the shipped ClusterRole without throwing", () => {
    expect(() => responderRules(ACTIONS)).not.toThrow();
  });

  it.each(kubernetesActions.map((a) => [a.id, a] as const))(
    "%s: declares a non-empty list of rules the ClusterRole may grant",
    (_id, action) => {
      const rules = action.kubernetesPermissions ?? [];
      expect(rules.length).toBeGreaterThan(0);
      for (const r of rules) expect(forbiddenRule(r), JSON.stringify(r)).toBeUndefined();
    },
  );

  it("are declared only by k8s:* actions, and every k8s:* action declares some", () => {
    for (const action of ACTIONS) {
      expect(action.kubernetesPermissions !== undefined, action.id).toBe(action.id.startsWith("k8s:"));
    }
  });
});

describe("rbacManifests", () => {
  it("is a List of the ClusterRole with responderRules and its binding to the group", () => {
    const manifests = rbacManifests(ACTIONS, "platform:responders");
    expect(manifests.kind).toBe("List");
    const [role, binding] = manifests.items;
    expect(role).toMatchObject({ kind: "ClusterRole", metadata: { name: CLUSTER_ROLE_NAME } });
    expect(role.rules).toEqual(responderRules(ACTIONS));
    expect(binding).toMatchObject({
      kind: "ClusterRoleBinding",
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: CLUSTER_ROLE_NAME },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "platform:responders" }],
    });
    expect(rbacManifests(ACTIONS).items[1].subjects).toEqual([
      { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: DEFAULT_KUBERNETES_GROUP },
    ]);
  });

  it("refuses a group the cluster gives out itself, or that is not a group name", () => {
    expect(() => rbacManifests(ACTIONS, "system:authenticated")).toThrow(/system:authenticated.*starts with system:/);
    expect(() => rbacManifests(ACTIONS, "eks:addon-manager")).toThrow(/starts with eks:/);
    expect(() => rbacManifests(ACTIONS, "two words")).toThrow(/"two words" is not a group name/);
  });
});

describe("kubernetesGroupProblem", () => {
  it.each(["eks-responder", "kube-test:limited", "platform.responders", "Team_1"])("accepts %s", (name) => {
    expect(kubernetesGroupProblem(name)).toBeUndefined();
  });

  it.each(["", "-leading", "trailing:", "System:Masters", "system:masters", "a b", "x".repeat(101), "ünïcode"])(
    "refuses %j",
    (name) => {
      expect(kubernetesGroupProblem(name)).toEqual(expect.stringContaining(`"${name}"`));
    },
  );
});
