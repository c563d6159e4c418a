import { SignalParseError } from "../errors.ts";
import { safeParseHot } from "../hot-schema.ts";
import type { Envelope } from "./envelope.schema.ts";
import { type GuardDutyFinding, guardDutyFindingSchema } from "./guardduty.schema.ts";
import type { GuardDutySignal, InstanceRef } from "./types.ts";
import { summarizeIssues, toInputIssues } from "./zod-issues.ts";

export const GUARDDUTY_DETAIL_TYPE = "GuardDuty Finding";

/**
 * The tags by which an instance is known to be an EKS worker node. EKS managed node groups set `eks:cluster-name` and
 * `eks:nodegroup-name`; self-managed nodes and Karpenter set `kubernetes.io/cluster/<name>`; eksctl sets
 * `alpha.eksctl.io/cluster-name`.
 */
export function eksNodeFromTags(tags: Record<string, string>): InstanceRef["eksNode"] {
  const nodegroup = tags["eks:nodegroup-name"];
  const autoScalingGroup = tags["aws:autoscaling:groupName"];
  const extra = { ...(nodegroup ? { nodegroup } : {}), ...(autoScalingGroup ? { autoScalingGroup } : {}) };
  const direct = tags["eks:cluster-name"] ?? tags["aws:eks:cluster-name"] ?? tags["alpha.eksctl.io/cluster-name"];
  if (direct) return { cluster: direct, ...extra };
  for (const [key, value] of Object.entries(tags)) {
    const match = /^kubernetes\.io\/cluster\/(.+)$/.exec(key);
    if (match?.[1] && (value === "owned" || value === "shared")) return { cluster: match[1], ...extra };
  }
  return undefined;
}

function toInstance(finding: GuardDutyFinding): InstanceRef | undefined {
  const details = finding.resource.instanceDetails;
  if (!details) return undefined;
  const networkInterfaces = details.networkInterfaces.map((eni) => ({
    networkInterfaceId: eni.networkInterfaceId,
    securityGroupIds: eni.securityGroups.map((g) => g.groupId),
    ...(eni.vpcId ? { vpcId: eni.vpcId } : {}),
    ...(eni.subnetId ? { subnetId: eni.subnetId } : {}),
    ...(eni.privateIpAddress ? { privateIp: eni.privateIpAddress } : {}),
    ...(eni.publicIp ? { publicIp: eni.publicIp } : {}),
  }));
  const vpcId = networkInterfaces.find((n) => n.vpcId)?.vpcId;
  // A runtime finding on an EKS cluster that names an instance names the node the workload runs on.
  const eksNode =
    eksNodeFromTags(details.tags) ??
    (finding.resource.eksClusterDetails ? { cluster: finding.resource.eksClusterDetails.name } : undefined);
  return {
    instanceId: details.instanceId,
    tags: details.tags,
    networkInterfaces,
    ...(vpcId ? { vpcId } : {}),
    ...(details.availabilityZone ? { availabilityZone: details.availabilityZone } : {}),
    ...(eksNode ? { eksNode } : {}),
  };
}

/** Parses the detail of a GuardDuty finding into a signal. Anything malformed throws {@link SignalParseError}. */
export function parseGuardDuty(envelope: Envelope): GuardDutySignal {
  const result = safeParseHot(guardDutyFindingSchema(), envelope.detail);
  if (!result.success) {
    const issues = toInputIssues(result.error, envelope.detail, "detail");
    throw new SignalParseError(`malformed GuardDuty finding: ${summarizeIssues(issues)}`, issues);
  }
  const f = result.data;
  const { resource, service } = f;
  const k8s = resource.kubernetesDetails;
  const action = service.action;
  const remote =
    action?.networkConnectionAction?.remoteIpDetails ??
    action?.kubernetesApiCallAction?.remoteIpDetails ??
    action?.awsApiCallAction?.remoteIpDetails;
  const remotePort = action?.networkConnectionAction?.remotePortDetails?.port ?? undefined;
  const instance = toInstance(f);
  const signal: GuardDutySignal = {
    family: "guardduty",
    envelopeId: envelope.id,
    account: f.accountId,
    region: f.region,
    time: f.updatedAt,
    findingId: f.id,
    findingType: f.type,
    severity: f.severity,
    title: f.title,
    sample: service.additionalInfo?.sample === true,
    createdAt: f.createdAt,
    updatedAt: f.updatedAt,
    resourceType: resource.resourceType,
  };
  if (f.arn) signal.findingArn = f.arn;
  if (f.description) signal.description = f.description;
  if (service.count !== undefined && service.count !== null) signal.count = service.count;
  if (service.resourceRole) signal.resourceRole = service.resourceRole;
  if (service.featureName) signal.featureName = service.featureName;
  if (resource.eksClusterDetails) {
    const c = resource.eksClusterDetails;
    signal.cluster = {
      name: c.name,
      tags: c.tags,
      ...(c.arn ? { arn: c.arn } : {}),
      ...(c.vpcId ? { vpcId: c.vpcId } : {}),
    };
  }
  if (k8s?.kubernetesUserDetails) {
    const u = k8s.kubernetesUserDetails;
    signal.kubernetesUser = {
      groups: u.groups,
      sessionNames: u.sessionName,
      ...(u.username ? { username: u.username } : {}),
      ...(u.uid ? { uid: u.uid } : {}),
    };
  }
  if (k8s?.kubernetesWorkloadDetails) {
    const w = k8s.kubernetesWorkloadDetails;
    signal.workload = {
      containers: w.containers.map((c) => ({
        ...(c.name ? { name: c.name } : {}),
        ...(c.image ? { image: c.image } : {}),
        ...(typeof c.securityContext?.privileged === "boolean" ? { privileged: c.securityContext.privileged } : {}),
      })),
      ...(w.name ? { name: w.name } : {}),
      ...(w.namespace ? { namespace: w.namespace } : {}),
      ...(w.type ? { type: w.type } : {}),
      ...(w.uid ? { uid: w.uid } : {}),
    };
  }
  if (instance) signal.instance = instance;
  const proc = service.runtimeDetails?.process;
  if (proc) {
    signal.process = {
      ...(proc.name ? { name: proc.name } : {}),
      ...(proc.executablePath ? { executablePath: proc.executablePath } : {}),
      ...(typeof proc.pid === "number" ? { pid: proc.pid } : {}),
    };
  }
  if (remote || remotePort !== undefined) {
    const ip = remote?.ipAddressV4 ?? remote?.ipAddressV6;
    const country = remote?.country?.countryName;
    signal.remote = {
      ...(ip ? { ip } : {}),
      ...(remotePort !== undefined ? { port: remotePort } : {}),
      ...(country ? { country } : {}),
    };
  }
  return signal;
}
