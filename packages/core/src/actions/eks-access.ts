import type { Cluster } from "@aws-sdk/client-eks";

/** An access policy association's scope, as ListAssociatedAccessPolicies reads it. */
export interface AccessScope {
  type: "cluster" | "namespace";
  namespaces: string[];
}

/**
 * The namespaces a namespace-scoped association keeps when narrowed to `allowed`: those it has and `allowed` lists
 * (never one it did not have); a cluster-scoped one gets `allowed`, all of which it covers. Empty: none, remove it.
 */
export function narrowedNamespaces(scope: AccessScope, allowed: readonly string[]): string[] {
  const wanted = [...new Set(allowed)].sort();
  return scope.type === "cluster" ? wanted : wanted.filter((ns) => scope.namespaces.includes(ns));
}

export function scopeText(scope: AccessScope | undefined): string {
  if (!scope) return "its scope";
  return scope.type === "cluster" ? "the whole cluster" : `namespaces ${scope.namespaces.join(", ")}`;
}

/**
 * The cluster's authentication mode, as DescribeCluster reports it (accessConfig.authenticationMode): CONFIG_MAP has
 * no access entries at all, API_AND_CONFIG_MAP also reads the aws-auth ConfigMap, API only access entries.
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_AccessConfigResponse.html
 * https://docs.aws.amazon.com/eks/latest/userguide/setting-up-access-entries.html
 */
export type AuthenticationMode = "API" | "API_AND_CONFIG_MAP" | "CONFIG_MAP" | "not reported";

export function authenticationModeOf(cluster: Cluster): AuthenticationMode {
  const value = cluster.accessConfig?.authenticationMode;
  return value === "API" || value === "API_AND_CONFIG_MAP" || value === "CONFIG_MAP" ? value : "not reported";
}

/** What stays out of reach on this cluster, said in the outcome and the decision's reasons; none in API mode. */
export function configMapCaveat(clusterName: string, principalArn: string, mode: unknown): string[] {
  if (mode === "API") return [];
  return [
    `cluster ${clusterName}'s authentication mode is ${String(mode)}: grants made through the aws-auth ConfigMap (kube-system/aws-auth) are outside this action's reach; check it for ${principalArn}`,
  ];
}
