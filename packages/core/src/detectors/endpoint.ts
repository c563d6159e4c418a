import { cidrWithin, isOpenCidr } from "../net/cidr.ts";
import type { EndpointAccess } from "../signals/types.ts";
import type { ActionRequest, DetectContext } from "./types.ts";

/** Endpoint CIDRs wider than these are open to the world. */
const ENDPOINT_THRESHOLD = { ipv4: 8, ipv6: 32 };

export interface EndpointFinding {
  /** The public CIDRs that are open to the world. */
  openCidrs: string[];
  /** undefined: the event does not say which CIDRs may reach the endpoint. */
  known: boolean;
}

/** What is open about a cluster endpoint; undefined when nothing is. */
export function openEndpoint(endpoint: EndpointAccess, context: DetectContext): EndpointFinding | undefined {
  if (endpoint.publicAccess !== true) return undefined;
  if (endpoint.publicAccessCidrs === undefined) return { openCidrs: [], known: false };
  const allowed = [...context.allowedCidrs, ...context.endpointAllowedPublicCidrs];
  const openCidrs = endpoint.publicAccessCidrs.filter(
    (c) => isOpenCidr(c, ENDPOINT_THRESHOLD) && !cidrWithin(c, allowed),
  );
  return openCidrs.length > 0 ? { openCidrs, known: true } : undefined;
}

/**
 * The fix for an open endpoint, or why there is none. Never makes a cluster unreachable: public access is turned off
 * only when private access is on; otherwise it is narrowed to the policy's allowed CIDRs, if there are any.
 */
export function restrictEndpointPlaybook(
  cluster: string,
  endpoint: EndpointAccess,
  context: DetectContext,
): { actions: ActionRequest[]; notes: string[] } {
  if (context.endpointAllowedPublicCidrs.length > 0) {
    return {
      actions: [
        {
          action: "eks:restrict-endpoint",
          params: { clusterName: cluster, publicAccessCidrs: [...context.endpointAllowedPublicCidrs] },
        },
      ],
      notes: [],
    };
  }
  if (endpoint.privateAccess === true) {
    return {
      actions: [{ action: "eks:restrict-endpoint", params: { clusterName: cluster, publicAccessCidrs: [] } }],
      notes: [],
    };
  }
  return {
    actions: [],
    notes: [
      `not restricting: private endpoint access is ${endpoint.privateAccess === false ? "off" : "not known from the event"} and the policy sets no endpoint.allowedPublicCidrs, so turning public access off could make the cluster unreachable`,
    ],
  };
}
