import { logicalName } from "./functions.ts";
import { FUNCTION_ACCESS } from "./iam.ts";
import { FUNCTION_IDS, type FunctionId, type Settings } from "./naming.ts";

/**
 * The responder's identity inside each configured cluster: one EKS access entry per cluster and per function role
 * that runs Kubernetes actions, type STANDARD, with the Kubernetes group the shipped ClusterRole is bound to
 * (`eks-responder kubernetes-rbac`, applied once per cluster). No access policy is associated: the ClusterRole is
 * the only grant. The cluster's authentication mode must be API or API_AND_CONFIG_MAP (docs/kubernetes.md).
 * https://docs.aws.amazon.com/eks/latest/userguide/create-k8s-group-access-entry.html
 */
export function createAccessEntries(
  settings: Settings,
  functions: Partial<Record<FunctionId, sst.aws.Function>>,
): aws.eks.AccessEntry[] {
  const ids = FUNCTION_IDS.filter((id) => FUNCTION_ACCESS[id].kubernetes);
  return settings.kubernetesClusters.flatMap((cluster) =>
    ids.map((id) => {
      const fn = functions[id];
      if (!fn) throw new Error(`infra/kubernetes.ts: the ${id} function runs Kubernetes actions and was not passed`);
      return new aws.eks.AccessEntry(`${logicalName(id)}AccessEntry-${cluster}`, {
        clusterName: cluster,
        principalArn: fn.nodes.role.arn,
        kubernetesGroups: [settings.kubernetesGroup],
        type: "STANDARD",
      });
    }),
  );
}
