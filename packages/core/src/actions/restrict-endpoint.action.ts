import { builtOnce } from "../lazy.ts";
import * as z from "../zod.ts";
import { deferredReversible } from "./deferred.ts";
import { clusterName } from "./ids.ts";
import type { ActionDefinition } from "./types.ts";

const params = builtOnce(() =>
  z.strictObject({
    clusterName,
    /** The CIDRs public access is narrowed to; empty turns public access off (private access must be on). */
    publicAccessCidrs: z.array(z.string()).check(z.maxLength(40)),
  }),
);
export type Params = z.output<ReturnType<typeof params>>;

/**
 * Reachability: nodes reach the API server through the public endpoint while private access is off, so narrowing the
 * public CIDRs would cut off every node whose egress address is not in the list. EKS: "If you limit access to
 * specific CIDR blocks, then it is recommended that you also enable the private endpoint, or ensure that the CIDR
 * blocks that you specify include the addresses that nodes and Fargate Pods (if you use them) access the public
 * endpoint from" (https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html). The action turns private
 * access on in the same update (nothing changes when it is on already): it does not depend on how the nodes egress
 * (NAT gateways, public IPs, a firewall elsewhere), which a list of NAT addresses would.
 */
export function target(p: Params) {
  return p.publicAccessCidrs.length > 0
    ? { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: p.publicAccessCidrs }
    : { endpointPublicAccess: false, endpointPrivateAccess: true };
}

export const restrictEndpoint: ActionDefinition<ReturnType<typeof params>> = {
  id: "eks:restrict-endpoint",
  summary: "Narrow a cluster's public API endpoint to the allowed CIDRs, or turn it off when private access is on.",
  get params() {
    return params();
  },
  permissions: ["eks:UpdateClusterConfig", "eks:DescribeCluster", "eks:DescribeUpdate", "ec2:DescribeVpcAttribute"],
  rollbackPermissions: ["eks:UpdateClusterConfig", "eks:DescribeUpdate"],
  destructive: false,
  reversible: true,
  preconditions: [
    "public access is turned off only when private access is on: a cluster is never left unreachable",
    "nodes keep the endpoint: narrowing the public CIDRs turns private access on in the same update, and is refused when the VPC's enableDnsSupport or enableDnsHostnames is off (the private endpoint would not resolve)",
    "a cluster whose live tags carry one of the policy's exemption tags is left alone (refused)",
    'an update already in progress is waited for (30 s by default, which fits the respond function; the event is then retried), and EKS\'s "already at the desired configuration" answer counts as already done',
    "applied only when DescribeUpdate says Successful; an update that ends Failed or Cancelled is a failure with EKS's errors",
  ],
  notCovered: [
    "clients outside the allowed CIDRs and outside the VPC lose the endpoint: people, CI runners, nodes in another VPC or on premises (hybrid nodes) whose addresses are not in the list",
    "with private access turned on, clients in the VPC reach the API server through the cluster's network interfaces: their traffic must be allowed by the cluster security group (nodes of managed node groups are), and a VPC whose DHCP options do not use AmazonProvidedDNS does not resolve the private endpoint (not checked)",
    "an update that stays in progress past the respond function's wait and every retry of the event ends in the dead-letter queue, with the change possibly made later by EKS and recorded by no outcome",
    "the approval's Apply task waits no longer than the respond function (30 s) for an update: it does not pass a longer updateWaitMs yet, so a slow update there ends as a failed apply",
    "a change that completes on a retry of the event is reported already done, without the undo the first attempt recorded (the respond path keeps the undo of applied outcomes only)",
    "whoever widened the CIDRs can widen them again; the next UpdateClusterConfig event is handled like this one",
  ],
  rollbackSummary:
    "restore the previous endpointPublicAccess, endpointPrivateAccess and publicAccessCidrs read before the change",
  plan(p) {
    return {
      calls: [
        {
          service: "eks",
          operation: "UpdateClusterConfig",
          params: { name: p.clusterName, resourcesVpcConfig: target(p) },
          note:
            p.publicAccessCidrs.length > 0
              ? `allow the public endpoint of ${p.clusterName} only from ${p.publicAccessCidrs.join(", ")}, and turn private access on (if it is off; refused when the VPC's DNS support or DNS hostnames is off) so that the nodes keep the endpoint; applied when DescribeUpdate says Successful`
              : `turn the public endpoint of ${p.clusterName} off (private access stays on); applied when DescribeUpdate says Successful`,
        },
      ],
    };
  },
  ...deferredReversible(() => import("./runtimes.ts").then((m) => m.restrictEndpoint)),
  example: { clusterName: "prod-eks", publicAccessCidrs: ["203.0.113.0/24"] },
};
