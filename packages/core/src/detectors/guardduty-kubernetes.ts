import type { GuardDutySignal } from "../signals/types.ts";
import { isolateNode } from "./guardduty-common.ts";
import type { ActionRequest } from "./types.ts";

/**
 * The Kubernetes-side steps of the GuardDuty playbooks, built from what the finding names. Each returns the action
 * request, or the reason none can be built from the finding (a note on the alert). The steps follow AWS's own
 * remediation guidance: remove the binding that lets anonymous or default-account callers in, isolate the pod with a
 * deny-all NetworkPolicy, cordon the node (never drain: the evidence stays), then the AWS side.
 * @see https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_remediate.html ("Remediating EKS Protection findings",
 *   "Remediating Runtime Monitoring findings")
 * @see https://docs.aws.amazon.com/eks/latest/best-practices/incident-response-and-forensics.html
 */
export type Step = { request: ActionRequest } | { note: string };

const BINDING_KINDS: Readonly<Record<string, "ClusterRoleBinding" | "RoleBinding">> = {
  clusterrolebindings: "ClusterRoleBinding",
  clusterrolebinding: "ClusterRoleBinding",
  rolebindings: "RoleBinding",
  rolebinding: "RoleBinding",
};

/**
 * The binding a Policy:Kubernetes finding is about: `kubernetesRoleBindingDetails` when GuardDuty sends it, else the
 * API call it saw (`resource` clusterrolebindings / rolebindings, `resourceName`, `namespace`), else the call's
 * request URI (`/apis/rbac.authorization.k8s.io/v1/namespaces/<ns>/rolebindings/<name>`).
 */
export function revokeBindingStep(s: GuardDutySignal): Step {
  const cluster = s.cluster?.name;
  if (!cluster) return { note: "the finding names no cluster: remove the binding by hand" };
  const call = s.kubernetesApiCall;
  const fromUri = bindingFromUri(call?.requestUri);
  const kind =
    BINDING_KINDS[(s.roleBinding?.kind ?? "").toLowerCase()] ??
    BINDING_KINDS[(call?.resource ?? "").toLowerCase()] ??
    fromUri?.kind;
  const name = s.roleBinding?.name ?? call?.resourceName ?? fromUri?.name;
  if (!kind || !name) {
    return {
      note: "the finding names no RoleBinding or ClusterRoleBinding: find the binding that grants the subject and remove it by hand",
    };
  }
  const namespace = call?.namespace ?? fromUri?.namespace;
  if (kind === "RoleBinding" && !namespace) {
    return { note: `the finding names RoleBinding ${name} without its namespace: remove it by hand` };
  }
  return {
    request: {
      action: "k8s:revoke-binding",
      params: { cluster, kind, name, ...(kind === "RoleBinding" ? { namespace } : {}) },
    },
  };
}

const RBAC_URI =
  /^\/apis\/rbac\.authorization\.k8s\.io\/v1\/(?:namespaces\/([^/?]+)\/)?(clusterrolebindings|rolebindings)\/([^/?]+)/;

function bindingFromUri(
  uri: string | undefined,
): { kind: "ClusterRoleBinding" | "RoleBinding"; name: string; namespace?: string } | undefined {
  const m = uri ? RBAC_URI.exec(uri) : null;
  if (!m?.[2] || !m[3]) return undefined;
  const kind = BINDING_KINDS[m[2]];
  if (!kind) return undefined;
  return { kind, name: decodeURIComponent(m[3]), ...(m[1] ? { namespace: decodeURIComponent(m[1]) } : {}) };
}

/**
 * Isolating the finding's pod with a deny-all NetworkPolicy (`k8s:isolate-pod`), when the finding names a pod. Never a
 * pod on the node's network (a NetworkPolicy does not apply to it: kube-system's aws-node and kube-proxy are such pods)
 * and never a pod of kube-system (cutting a system pod off the network can take the node's networking with it).
 */
export function isolatePodStep(s: GuardDutySignal): Step {
  const cluster = s.cluster?.name ?? s.instance?.eksNode?.cluster;
  const w = s.workload;
  if (!cluster || !w?.name || !w.namespace) return { note: "the finding names no pod to isolate" };
  if (w.type !== undefined && w.type.toLowerCase() !== "pods") {
    return {
      note: `the finding names the ${w.type} ${w.namespace}/${w.name}, not a pod: isolate its pods by label by hand, or scale it down`,
    };
  }
  if (w.hostNetwork === true) {
    return {
      note: `pod ${w.namespace}/${w.name} uses the node's network: a NetworkPolicy does not apply to it, so it is not isolated by one`,
    };
  }
  if (w.namespace === "kube-system") {
    return {
      note: `pod ${w.namespace}/${w.name} is a kube-system pod: it is not isolated automatically, since cutting a system pod off the network can break the node`,
    };
  }
  return { request: { action: "k8s:isolate-pod", params: { cluster, namespace: w.namespace, pod: w.name } } };
}

/** Cordoning the node the finding names (by its instance id, found as the Node's providerID). */
export function cordonNodeStep(s: GuardDutySignal): Step {
  const cluster = s.cluster?.name ?? s.instance?.eksNode?.cluster;
  const instanceId = s.instance?.instanceId;
  if (!cluster || !instanceId) return { note: "the finding names no node to cordon" };
  return { request: { action: "k8s:cordon-node", params: { cluster, instanceId } } };
}

/** Scaling the pod's owning workload to zero: destructive, added only when a detector's settings ask for it. */
export function scaleWorkloadStep(s: GuardDutySignal): Step {
  const cluster = s.cluster?.name ?? s.instance?.eksNode?.cluster;
  const w = s.workload;
  if (!cluster || !w?.name || !w.namespace || (w.type !== undefined && w.type.toLowerCase() !== "pods")) {
    return { note: "the finding names no pod whose workload could be scaled down" };
  }
  return { request: { action: "k8s:scale-workload", params: { cluster, namespace: w.namespace, pod: w.name } } };
}

/** The node, Kubernetes side first (cordon), then the AWS side (isolate the instance). */
export function nodeSteps(s: GuardDutySignal): Step[] {
  const isolate = isolateNode(s);
  if (!isolate) return [{ note: "the finding names no EKS node to isolate" }];
  return [cordonNodeStep(s), { request: isolate }];
}

const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/;
const IAM_PRINCIPAL = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/\S+$/;

/**
 * The IAM principal a Kubernetes user maps to, for its EKS access entry: an IAM role or user ARN as is, an assumed-role
 * session as its role (`arn:aws:sts::111122223333:assumed-role/Admin/jdoe` → `arn:aws:iam::111122223333:role/Admin`).
 * A session ARN does not carry the role's path: for a role with a path the rebuilt ARN names no access entry, and
 * the action then finds none (it says so, with the aws-auth caveat). Undefined for Kubernetes-native users (service
 * accounts, system:anonymous), which have no access entry.
 * @see https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html
 */
export function iamPrincipalOf(username: string | undefined): string | undefined {
  if (!username) return undefined;
  const assumed = ASSUMED_ROLE.exec(username);
  if (assumed) return `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}`;
  return IAM_PRINCIPAL.test(username) ? username : undefined;
}

/** Removing the access entry of the IAM principal a compromised Kubernetes user maps to. */
export function revokeAccessEntryStep(s: GuardDutySignal): Step {
  const cluster = s.cluster?.name;
  const username = s.kubernetesUser?.username;
  const principalArn = iamPrincipalOf(username);
  if (!cluster || !principalArn) {
    return {
      note: username?.startsWith("system:serviceaccount:")
        ? `${username} is a Kubernetes service account, not an IAM principal: delete the pods using it and rotate its tokens`
        : `${username ?? "the caller"} maps to no IAM principal: revoke its credentials and review its RBAC bindings by hand`,
    };
  }
  return {
    request: { action: "eks:revoke-access", params: { clusterName: cluster, principalArn, deleteAccessEntry: true } },
  };
}

/** Splits steps into the playbook's action requests and the notes of those that could not be built. */
export function playbookOf(steps: Step[]): { actions: ActionRequest[]; notes: string[] } {
  const actions: ActionRequest[] = [];
  const notes: string[] = [];
  for (const step of steps) {
    if ("request" in step) actions.push(step.request);
    else notes.push(step.note);
  }
  return { actions, notes };
}
