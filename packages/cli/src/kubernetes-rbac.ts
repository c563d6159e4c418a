import { ACTIONS } from "@eks-responder/core/actions/registry.ts";
import { kubernetesGroupProblem, rbacManifests } from "@eks-responder/core/kubernetes/rbac.ts";
import type { Io } from "./terminal.ts";

/**
 * `eks-responder kubernetes-rbac`: the shipped ClusterRole and its ClusterRoleBinding to `group`, as one JSON `List`
 * on stdout for `kubectl apply -f -` (run once per cluster with cluster-admin rights: docs/kubernetes.md). A group the
 * responder may not use is refused with the reason, and nothing is printed.
 */
export function kubernetesRbac(options: { group: string }, io: Io): number {
  const problem = kubernetesGroupProblem(options.group);
  if (problem) {
    io.stderr.write(`eks-responder: --group ${problem}\n`);
    return 2;
  }
  io.stdout.write(`${JSON.stringify(rbacManifests(ACTIONS, options.group), null, 2)}\n`);
  return 0;
}
