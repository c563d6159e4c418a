import { describe, expect, it } from "vitest";
import { ACTIONS } from "../../../packages/core/src/actions/registry.ts";
import type { ActionDefinition } from "../../../packages/core/src/actions/types.ts";
import { actionList, rulesTable } from "../../../scripts/kubernetes-docs.ts";

/** A registered action's shape with Kubernetes rules: the generator reads id, summary and kubernetesPermissions. */
function k8sAction(id: string, summary: string, rules: ActionDefinition["kubernetesPermissions"]): ActionDefinition {
  const base = ACTIONS[0];
  if (!base) throw new Error("the registry is empty");
  return { ...base, id, summary, kubernetesPermissions: rules };
}

/** The registry without its own Kubernetes actions, so the two made-up ones above are the only ones. */
const AWS_ONLY = ACTIONS.filter((a) => !a.kubernetesPermissions);

describe("the generated sections of docs/kubernetes.md", () => {
  const cordon = k8sAction("k8s:cordon-node", "Cordon a node", [
    { apiGroups: [""], resources: ["nodes"], verbs: ["patch", "get"] },
  ]);
  const isolate = k8sAction("k8s:isolate-pod", "Isolate a pod", [
    { apiGroups: [""], resources: ["pods"], verbs: ["get", "patch"] },
    { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["create"] },
    { apiGroups: [""], resources: ["nodes"], verbs: ["get"] },
  ]);

  it("list each rule of the ClusterRole with its verbs and the actions that use it, following the registry", () => {
    const table = rulesTable([...AWS_ONLY, cordon, isolate]);
    expect(table).toContain(
      "| core | `nodes` | `get`, `patch` | [`k8s:cordon-node`](actions/k8s-cordon-node.md), [`k8s:isolate-pod`](actions/k8s-isolate-pod.md) |",
    );
    expect(table).toContain(
      "| `networking.k8s.io` | `networkpolicies` | `create` | [`k8s:isolate-pod`](actions/k8s-isolate-pod.md) |",
    );
    expect(table.split("\n").filter((line) => line.startsWith("| ") && !line.startsWith("| ---"))).toHaveLength(4);
    expect(rulesTable(AWS_ONLY)).toContain("the role grants nothing");
  });

  it("link every k8s:* action's page", () => {
    expect(actionList([...AWS_ONLY, cordon, isolate])).toBe(
      "- [`k8s:cordon-node`](actions/k8s-cordon-node.md): Cordon a node\n- [`k8s:isolate-pod`](actions/k8s-isolate-pod.md): Isolate a pod\n",
    );
  });
});
