/**
 * What enforces NetworkPolicies in a cluster, read from the DaemonSets of the known enforcers. A NetworkPolicy is only
 * stored by the API server: without a network plugin that enforces it, it does nothing, so k8s:isolate-pod looks for
 * one first and refuses when there is none.
 * @see https://kubernetes.io/docs/concepts/services-networking/network-policies/#prerequisites
 */
import { type KubeClient, kubePath } from "../kubernetes/api.ts";
import { builtOnce } from "../lazy.ts";
import * as z from "../zod.ts";
import type { CallLog } from "./calls.ts";
import { isKubeNotFound } from "./k8s-common.ts";

/** The parts of a DaemonSet read, built on the first read (lazy.ts builtOnce): plan() needs this module, not them. */
const daemonSet = builtOnce(() => {
  const container = z.looseObject({
    name: z.string(),
    image: z.optional(z.string()),
    args: z.optional(z.array(z.string())),
    command: z.optional(z.array(z.string())),
  });
  return z.looseObject({
    spec: z.looseObject({
      template: z.looseObject({ spec: z.looseObject({ containers: z.array(container) }) }),
    }),
    status: z.optional(z.looseObject({ numberReady: z.optional(z.number()) })),
  });
});
type DaemonSet = z.output<ReturnType<typeof daemonSet>>;

/** One DaemonSet read: where it is, and whether it enforces NetworkPolicies (why not, when it does not). */
export interface EnforcerRead {
  namespace: string;
  name: string;
  /** What it is, in the words of a message. */
  what: string;
  enforces: boolean;
  /** Absent when the DaemonSet does not exist. */
  found: boolean;
  why?: string;
}

interface Candidate {
  namespace: string;
  name: string;
  what: string;
  /** Why this DaemonSet does not enforce, or undefined when it does (it exists and has a ready pod). */
  judge(ds: DaemonSet): string | undefined;
}

/**
 * The agent's flag, as Go's flag package reads a boolean: `--enable-network-policy=true` (or `1`, `t`, `TRUE`...),
 * or the bare flag. The VPC CNI add-on sets it from its configuration value `enableNetworkPolicy: "true"`; the agent
 * runs as the `aws-eks-nodeagent` container (image `aws-network-policy-agent`) of the `aws-node` DaemonSet.
 * @see https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy-configure.html
 * @see https://github.com/aws/aws-network-policy-agent#enable-network-policy
 */
const POLICY_FLAG = /^--?enable-network-policy(=(1|t|T|true|TRUE|True))?$/;
const POLICY_FLAG_ANY = /^--?enable-network-policy(=|$)/;

function isPolicyAgent(c: DaemonSet["spec"]["template"]["spec"]["containers"][number]): boolean {
  return (
    c.name === "aws-eks-nodeagent" ||
    c.name === "aws-network-policy-agent" ||
    /aws-network-policy-agent[:@]/.test(c.image ?? "")
  );
}

function readiness(ds: DaemonSet): string | undefined {
  return (ds.status?.numberReady ?? 0) > 0 ? undefined : "it has no ready pod";
}

const CANDIDATES: readonly Candidate[] = [
  {
    namespace: "kube-system",
    name: "aws-node",
    what: "the Amazon VPC CNI network policy agent",
    judge(ds) {
      const agent = ds.spec.template.spec.containers.find(isPolicyAgent);
      if (!agent) return "it has no network policy agent container (VPC CNI before 1.14)";
      const flags = [...(agent.command ?? []), ...(agent.args ?? [])].filter((a) => POLICY_FLAG_ANY.test(a));
      const last = flags.at(-1);
      if (last === undefined || !POLICY_FLAG.test(last)) {
        return `its ${agent.name} container runs with network policy off (${last ?? "no --enable-network-policy flag"}); the add-on's configuration value enableNetworkPolicy: "true" turns it on`;
      }
      return readiness(ds);
    },
  },
  { namespace: "kube-system", name: "calico-node", what: "Calico", judge: readiness },
  { namespace: "calico-system", name: "calico-node", what: "Calico (Tigera operator)", judge: readiness },
  { namespace: "kube-system", name: "cilium", what: "Cilium", judge: readiness },
];

/** What would enforce NetworkPolicies here, for the refusal's message. */
export const WOULD_ENFORCE =
  'the Amazon VPC CNI network policy agent (VPC CNI 1.14 or later with the add-on configuration value enableNetworkPolicy: "true", which sets --enable-network-policy=true on the aws-eks-nodeagent container of kube-system/aws-node), Calico (calico-node in kube-system or calico-system) or Cilium (cilium in kube-system)';

/** The DaemonSet paths read, in order (the plan lists them). */
export const ENFORCER_PATHS = CANDIDATES.map((c) =>
  kubePath("apis", "apps", "v1", "namespaces", c.namespace, "daemonsets", c.name),
);

/**
 * Reads the candidates' DaemonSets in order and stops at the first that enforces: every read is returned, for the
 * outcome's evidence and the refusal's message. A DaemonSet that is not there is skipped; any other error is thrown.
 */
export async function findEnforcer(client: KubeClient, log: CallLog): Promise<EnforcerRead[]> {
  const reads: EnforcerRead[] = [];
  for (const [i, candidate] of CANDIDATES.entries()) {
    const base = { namespace: candidate.namespace, name: candidate.name, what: candidate.what };
    let raw: unknown;
    try {
      raw = await log.sendKube(client, { method: "GET", path: ENFORCER_PATHS[i] ?? "" });
    } catch (error) {
      if (!isKubeNotFound(error)) throw error;
      reads.push({ ...base, found: false, enforces: false });
      continue;
    }
    const ds = daemonSet().safeParse(raw);
    const why = ds.success ? candidate.judge(ds.data) : "its spec could not be read";
    reads.push({ ...base, found: true, enforces: why === undefined, ...(why ? { why } : {}) });
    if (why === undefined) break;
  }
  return reads;
}

/** "nothing in this cluster enforces NetworkPolicies: …": what was found and why none of it enforces. */
export function noEnforcerReason(reads: readonly EnforcerRead[]): string {
  const seen = reads.filter((r) => r.found).map((r) => `${r.namespace}/${r.name} (${r.what}) is there but ${r.why}`);
  const found = seen.length > 0 ? seen.join("; ") : "none of the DaemonSets of a known enforcer exists";
  return `nothing in this cluster enforces NetworkPolicies: ${found}; the pod is not isolated. What would: ${WOULD_ENFORCE}`;
}
