import type { GuardDutySignal, RuntimeProcess, Signal } from "../signals/types.ts";
import { makeAssessment, severityFromGuardDuty } from "./common.ts";
import { classifyFinding, type GuardDutyFamily } from "./guardduty-families.ts";
import type { ActionRequest, Assessment } from "./types.ts";

function describeProcess(p: RuntimeProcess): string {
  return `${p.executablePath ?? p.name ?? "?"}${p.pid ? ` pid ${p.pid}` : ""}`;
}

/** Evidence lines every GuardDuty assessment carries. */
function findingEvidence(s: GuardDutySignal): string[] {
  const lines = [
    `GuardDuty ${s.findingType} (severity ${s.severity}), finding ${s.findingId}, updated ${s.updatedAt}${s.count ? `, seen ${s.count} times` : ""}`,
  ];
  if (s.description) lines.push(s.description);
  if (s.kubernetesUser?.username)
    lines.push(
      `Kubernetes user ${s.kubernetesUser.username}${s.kubernetesUser.groups.length ? ` (groups ${s.kubernetesUser.groups.join(", ")})` : ""}`,
    );
  if (s.workload)
    lines.push(`workload ${s.workload.type ?? "pod"} ${s.workload.namespace ?? "?"}/${s.workload.name ?? "?"}`);
  if (s.instance)
    lines.push(
      `instance ${s.instance.instanceId}${s.instance.eksNode ? ` (node of ${s.instance.eksNode.cluster}${s.instance.eksNode.nodegroup ? `, node group ${s.instance.eksNode.nodegroup}` : ""})` : ""}`,
    );
  if (s.process) lines.push(`actor: process ${describeProcess(s.process)}`);
  const t = s.runtimeTarget;
  if (t?.process) lines.push(`target: process ${describeProcess(t.process)}`);
  if (t?.modifyingProcess) lines.push(`modified by process ${describeProcess(t.modifyingProcess)}`);
  if (t?.path) lines.push(`target: ${t.path}`);
  if (t?.tool) lines.push(`tool: ${t.tool}`);
  if (s.remote?.ip)
    lines.push(
      `remote ${s.remote.ip}${s.remote.port ? `:${s.remote.port}` : ""}${s.remote.country ? ` (${s.remote.country})` : ""}`,
    );
  if (s.resourceRole) lines.push(`resource role ${s.resourceRole}`);
  return lines;
}

/**
 * What the finding does not establish: the parts that could not be read (then it is alerted on with what was read,
 * never acted on), and network interfaces listed without an id, which a plan built from the event would miss.
 */
function findingDoubts(s: GuardDutySignal, actions: ActionRequest[]): string[] {
  const doubts = (s.unreadable ?? []).map(
    (i) => `the finding could not be fully read: ${i.path} ${i.message}; it is reported with what was read`,
  );
  const withoutId = s.instance?.networkInterfacesWithoutId ?? 0;
  if (withoutId > 0 && actions.length > 0) {
    doubts.push(
      `${withoutId} network interface${withoutId === 1 ? "" : "s"} of ${s.instance?.instanceId} ${withoutId === 1 ? "is" : "are"} listed without an id: the plan would not cover ${withoutId === 1 ? "it" : "them"}`,
    );
  }
  return doubts;
}

/** The isolate action for the node a finding names, when it names one. */
export function isolateNode(s: GuardDutySignal): ActionRequest | undefined {
  const instance = s.instance;
  if (!instance?.eksNode) return undefined;
  return {
    action: "ec2:isolate-instance",
    params: {
      instanceId: instance.instanceId,
      clusterName: instance.eksNode.cluster,
      ...(instance.vpcId ? { vpcId: instance.vpcId } : {}),
      networkInterfaceIds: instance.networkInterfaces.map((n) => n.networkInterfaceId),
      ...(instance.eksNode.autoScalingGroup ? { autoScalingGroupName: instance.eksNode.autoScalingGroup } : {}),
    },
  };
}

/**
 * The assessment of one GuardDuty finding of the given family, or none when the finding belongs to another family.
 */
export function assessFinding(
  signal: Signal,
  detectorId: string,
  family: GuardDutyFamily,
  playbook: (s: GuardDutySignal) => { actions?: ActionRequest[]; notes?: string[] },
): Assessment[] {
  if (signal.family !== "guardduty") return [];
  const classified = classifyFinding(signal);
  if (classified.family !== family) return [];
  const cluster = signal.cluster?.name ?? signal.instance?.eksNode?.cluster;
  const { actions = [], notes = [] } = playbook(signal);
  const doubts = findingDoubts(signal, actions);
  const namespace = signal.workload?.namespace;
  return [
    makeAssessment(signal, 0, {
      detectorId,
      severity: severityFromGuardDuty(signal.severity),
      title: `${signal.findingType}: ${signal.title}`,
      ...(cluster ? { cluster } : {}),
      resources: {
        ...(signal.instance ? { instanceId: signal.instance.instanceId } : {}),
        ...(signal.workload ? { pod: { namespace: signal.workload.namespace, name: signal.workload.name } } : {}),
      },
      evidence: [classified.reason, ...findingEvidence(signal)],
      actions,
      notes,
      doubts,
      subject: {
        tags: [signal.cluster?.tags, signal.instance?.tags].filter((t): t is Record<string, string> => t !== undefined),
        ...(namespace ? { namespace } : {}),
      },
    }),
  ];
}
