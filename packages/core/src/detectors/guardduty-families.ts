import type { GuardDutySignal } from "../signals/types.ts";

/**
 * How eks-responder groups GuardDuty findings about EKS, by what they say is compromised. Finding types follow
 * `ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact`.
 * @see https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-format.html
 * @see https://docs.aws.amazon.com/guardduty/latest/ug/guardduty-finding-types-eks-audit-logs.html
 * @see https://docs.aws.amazon.com/guardduty/latest/ug/findings-runtime-monitoring.html
 * @see https://docs.aws.amazon.com/guardduty/latest/ug/findings-malware-protection.html
 */
export type GuardDutyFamily =
  | "configuration-issue"
  | "compromised-user"
  | "compromised-workload"
  | "compromised-node"
  | "runtime-threat"
  | "attack-sequence";

export interface FindingType {
  purpose: string;
  resource: string;
  name: string;
}

export function splitFindingType(type: string): FindingType {
  const [head = "", name = ""] = type.split("/", 2);
  const [purpose = "", resource = ""] = head.split(":", 2);
  return { purpose, resource, name };
}

/**
 * Kubernetes findings about a workload (a pod and what it runs), not about who called the API: the audit-log ones,
 * and Malware Protection's scan results on a container workload (`Execution:Kubernetes/MaliciousFile`,
 * `…/SuspiciousFile`, with or without a `!Snapshot`-style suffix), which name the pod, not a user.
 */
const WORKLOAD_FINDING =
  /PrivilegedContainer|ContainerWithSensitiveMount|ExecInKubeSystemPod|ExecInPod|WorkloadDeployed|MaliciousFile|SuspiciousFile/;

/** Finding resources that name an EKS cluster or may name one of its nodes. */
const EKS_RESOURCES = new Set(["Kubernetes", "Runtime", "EC2", "Container"]);

/** EC2 finding purposes that only a compromised host produces, whatever its role in the finding. */
const COMPROMISE_PURPOSES = new Set(["Backdoor", "CryptoCurrency", "Trojan", "Impact"]);

/** True when the finding is about an EKS cluster, one of its nodes, or a workload on it. */
export function isEksFinding(signal: GuardDutySignal): boolean {
  return signal.cluster !== undefined || signal.instance?.eksNode !== undefined;
}

type Classification = { family?: GuardDutyFamily; reason: string };

/** Every GuardDuty detector classifies the same signal: once per signal object is enough (signals are not mutated). */
const CLASSIFIED = new WeakMap<GuardDutySignal, Classification>();

/** The family of an EKS finding, or undefined (with the reason) when eks-responder does not handle it. */
export function classifyFinding(signal: GuardDutySignal): Classification {
  let found = CLASSIFIED.get(signal);
  if (!found) {
    found = classify(signal);
    CLASSIFIED.set(signal, found);
  }
  return found;
}

function classify(signal: GuardDutySignal): Classification {
  const type = splitFindingType(signal.findingType);
  if (type.purpose === "AttackSequence") {
    return type.resource === "EKS"
      ? { family: "attack-sequence", reason: "an attack sequence on an EKS cluster" }
      : { reason: `attack sequence on ${type.resource || "another resource"}, not EKS` };
  }
  // A finding whose resource could not be read may be about an EKS cluster or node: it is classified by its type
  // (and alerted on with what was read) rather than set aside as "not EKS".
  const resourceUnread = signal.unreadable?.some((i) => i.path.startsWith("detail.resource")) === true;
  if (!isEksFinding(signal) && !(resourceUnread && EKS_RESOURCES.has(type.resource))) {
    return {
      reason: `${signal.findingType} on resource type ${signal.resourceType}, which is not an EKS cluster or a known EKS node`,
    };
  }
  switch (type.resource) {
    case "Kubernetes":
      if (type.purpose === "Policy") return { family: "configuration-issue", reason: "a risky cluster configuration" };
      if (WORKLOAD_FINDING.test(type.name))
        return { family: "compromised-workload", reason: "a workload doing what workloads should not" };
      return { family: "compromised-user", reason: "a Kubernetes API caller behaving like an attacker" };
    case "Container":
      // Malware Protection's scan of a container that neither Kubernetes nor ECS runs: on an EKS node, someone started
      // it outside the cluster (https://docs.aws.amazon.com/guardduty/latest/ug/findings-malware-protection.html).
      return { family: "compromised-workload", reason: "a container on an EKS node that Kubernetes does not run" };
    case "Runtime":
      return { family: "runtime-threat", reason: "malware, crypto-mining or command-and-control seen at runtime" };
    case "EC2":
      if (signal.resourceRole === "ACTOR" || COMPROMISE_PURPOSES.has(type.purpose))
        return { family: "compromised-node", reason: "the worker node itself is acting maliciously" };
      return { family: "compromised-node", reason: "the worker node is the target of an attack" };
    default:
      return { reason: `${signal.findingType}: no EKS playbook for ${type.resource} findings` };
  }
}

/** True when the node is the actor (or its finding's purpose implies compromise), not merely a target. */
export function nodeIsCompromised(signal: GuardDutySignal): boolean {
  const { purpose } = splitFindingType(signal.findingType);
  return signal.resourceRole === "ACTOR" || COMPROMISE_PURPOSES.has(purpose);
}

/**
 * True when a Runtime Monitoring finding shows the node or pod is compromised, as {@link nodeIsCompromised} does
 * for EC2 findings: the actor is the process (`service.runtimeDetails.process`) running on the finding's resource,
 * so its purpose (Backdoor, CryptoCurrency, Trojan, Impact) or a High/Critical severity (7.0 and above) is what
 * shows compromise; a Low or Medium finding of another purpose (a new binary run, a suspicious command) is alerted on.
 * @see https://docs.aws.amazon.com/guardduty/latest/ug/findings-runtime-monitoring.html
 * @see https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html
 */
export function runtimeShowsCompromise(signal: GuardDutySignal): boolean {
  const { purpose } = splitFindingType(signal.findingType);
  return COMPROMISE_PURPOSES.has(purpose) || signal.severity >= 7;
}
