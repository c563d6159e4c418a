import { type InputIssue, SignalParseError } from "../errors.ts";
import { safeParseHot } from "../hot-schema.ts";
import type * as z from "../zod.ts";
import type { Envelope } from "./envelope.schema.ts";
import { type GuardDutyFinding, guardDutyFindingSchema, guardDutySalvageSchema } from "./guardduty.schema.ts";
import type { GuardDutySignal, InstanceRef, NetworkInterface, RuntimeProcess } from "./types.ts";
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
  const details = finding.resource?.instanceDetails;
  if (!details) return undefined;
  const networkInterfaces: NetworkInterface[] = [];
  let withoutId = 0;
  for (const eni of details.networkInterfaces) {
    if (!eni.networkInterfaceId) {
      withoutId++;
      continue;
    }
    networkInterfaces.push({
      networkInterfaceId: eni.networkInterfaceId,
      securityGroupIds: eni.securityGroups.map((g) => g.groupId),
      ...(eni.vpcId ? { vpcId: eni.vpcId } : {}),
      ...(eni.subnetId ? { subnetId: eni.subnetId } : {}),
      ...(eni.privateIpAddress ? { privateIp: eni.privateIpAddress } : {}),
      ...(eni.publicIp ? { publicIp: eni.publicIp } : {}),
    });
  }
  const vpcId = networkInterfaces.find((n) => n.vpcId)?.vpcId ?? details.networkInterfaces.find((n) => n.vpcId)?.vpcId;
  // A runtime finding on an EKS cluster that names an instance names the node the workload runs on.
  const eksNode =
    eksNodeFromTags(details.tags) ??
    (finding.resource?.eksClusterDetails ? { cluster: finding.resource.eksClusterDetails.name } : undefined);
  return {
    instanceId: details.instanceId,
    tags: details.tags,
    networkInterfaces,
    ...(withoutId > 0 ? { networkInterfacesWithoutId: withoutId } : {}),
    ...(vpcId ? { vpcId } : {}),
    ...(details.availabilityZone ? { availabilityZone: details.availabilityZone } : {}),
    ...(eksNode ? { eksNode } : {}),
  };
}

/** Top-level members that name the finding: without them there is nothing to alert about, and it stays invalid. */
const IDENTITY = new Set<PropertyKey>(["id", "type", "accountId", "region", "severity"]);
/** Rounds of leaving parts out: each round goes one level up a path at most, and paths are short. */
const MAX_SALVAGE_ROUNDS = 16;

type Path = readonly PropertyKey[];

function comparePaths(a: Path, b: Path): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (typeof x === "number" && typeof y === "number") return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.length - b.length;
}

function holder(root: unknown, path: Path): Record<PropertyKey, unknown> | unknown[] | undefined {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current !== null && typeof current === "object" ? (current as Record<PropertyKey, unknown>) : undefined;
}

/**
 * The part to leave out for an issue: the value at its path, or, when a required member is missing, its holder. A
 * member of the finding itself is left out alone, never the whole finding: a missing `title`, `createdAt` or
 * `resource` is optional to the salvage schema, and an issue with the identity (`id`, `type`, …) is refused by
 * `salvage`.
 */
function partToDrop(root: unknown, path: Path): Path {
  if (path.length === 1) return path;
  const key = path.at(-1);
  const parent = holder(root, path.slice(0, -1));
  return key !== undefined && parent !== undefined && Object.hasOwn(parent, key) ? path : path.slice(0, -1);
}

function drop(root: unknown, path: Path): void {
  const key = path.at(-1);
  const parent = holder(root, path.slice(0, -1));
  if (key === undefined || parent === undefined) return;
  if (Array.isArray(parent) && typeof key === "number") parent.splice(key, 1);
  else delete (parent as Record<PropertyKey, unknown>)[key];
}

/** Deeper than any member the finding schema reads (and so any path an issue names): kept as they are, not copied. */
const MAX_COPY_DEPTH = 32;

/**
 * A copy of a JSON value, objects and lists down to MAX_COPY_DEPTH, keys renamed by `rename`. Written here rather
 * than with structuredClone, which recurses into the whole value and throws RangeError on a list nested a few
 * thousand deep (an event under 256 KB can be), so a finding readable in part would turn into an invalid event.
 * Keys are defined, not assigned: a `__proto__` key from JSON.parse stays a plain member and never sets a prototype.
 * A key that `rename` maps onto one the object already has is left out: the one already there is kept.
 */
function copied(value: unknown, rename: (key: string) => string, depth = 0): unknown {
  if (depth > MAX_COPY_DEPTH || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => copied(item, rename, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    const name = rename(key);
    if (name !== key && Object.hasOwn(value, name)) continue;
    Object.defineProperty(out, name, {
      value: copied(inner, rename, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * Reads what can be read of a finding the strict schema refused: a copy of the detail loses each unreadable part
 * (the deepest value zod names, or the object missing a required member, or that list item) and is parsed again by
 * the salvage schema, until it parses. Undefined when the identity of the finding itself is unreadable. Written
 * here because zod reports issues but has no "parse what is valid" mode; `z.catch` would hide the issues.
 */
function salvage(detail: Record<string, unknown>, issues: z.core.$ZodIssue[]): GuardDutyFinding | undefined {
  const copy = copied(detail, (key) => key);
  let pending = issues;
  for (let round = 0; round < MAX_SALVAGE_ROUNDS; round++) {
    const parts = pending.map((i) => partToDrop(copy, i.path));
    if (parts.some((p) => p.length === 0 || (p.length === 1 && IDENTITY.has(p[0] as PropertyKey)))) return undefined;
    const unique = [...new Map(parts.map((p) => [JSON.stringify(p.map(String)), p])).values()];
    // Deepest and last first, so removing a list item never shifts the index of another part still to remove.
    const outer = unique.filter(
      (p) => !unique.some((q) => q !== p && q.length < p.length && comparePaths(q, p.slice(0, q.length)) === 0),
    );
    for (const part of outer.sort((a, b) => comparePaths(b, a))) drop(copy, part);
    const again = guardDutySalvageSchema().safeParse(copy);
    if (again.success) return again.data;
    pending = again.error.issues;
  }
  return undefined;
}

/** True when `additionalInfo` marks a sample finding: `sample: true`, or `value` holding the JSON text `{"sample":true}`. */
function isSample(info: { sample?: boolean | null | undefined; value?: unknown } | null | undefined): boolean {
  if (!info) return false;
  if (info.sample === true) return true;
  if (typeof info.value !== "string" || !info.value.includes("sample")) return false;
  try {
    const parsed: unknown = JSON.parse(info.value);
    return typeof parsed === "object" && parsed !== null && (parsed as { sample?: unknown }).sample === true;
  } catch {
    return false;
  }
}

/**
 * Parses the detail of a GuardDuty finding into a signal. A finding that is readable only in part is still a signal,
 * with the unreadable paths in `unreadable` (it is alerted on, never acted on); one whose identity (id, type,
 * account, region, severity) cannot be read throws {@link SignalParseError}.
 */
export function parseGuardDuty(envelope: Envelope): GuardDutySignal {
  const detail = envelope.detail;
  const pascal = writtenInPascalCase(detail);
  const read = pascal ? camelCased(detail) : detail;
  const noted = pascal ? [PASCAL_CASE_ISSUE] : [];
  const result = safeParseHot(guardDutyFindingSchema(), read);
  if (result.success) return toSignal(envelope, result.data, noted);
  const issues = toInputIssues(result.error, read, "detail");
  const partial = salvage(read as Record<string, unknown>, result.error.issues);
  if (!partial) throw new SignalParseError(`malformed GuardDuty finding: ${summarizeIssues(issues)}`, issues);
  return toSignal(envelope, partial, [...noted, ...issues]);
}

/**
 * A finding written with the AWS SDKs' member names (`Id`, `Type`, `Resource.InstanceDetails`, …), as a script that
 * forwards `GetFindings` output or another tool's test event writes it; EventBridge delivers the API's camelCase
 * (`id`, `type`, …). It is read with its keys camel-cased, as a finding read in part: alerted on with what it says,
 * never acted on, since no event EventBridge delivers looks like it.
 * @see https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html
 */
function writtenInPascalCase(detail: Record<string, unknown>): boolean {
  return !("id" in detail) && !("type" in detail) && typeof detail.Id === "string" && typeof detail.Type === "string";
}

const PASCAL_CASE_ISSUE: InputIssue = {
  path: "detail",
  message:
    "is written with the AWS SDKs' PascalCase member names (Id, Type, Resource), not as EventBridge delivers a finding: read with its keys camel-cased",
};

/** `value` with the first letter of every object key lower-cased (`InstanceDetails` → `instanceDetails`). */
function camelCased(value: unknown): unknown {
  return copied(value, (key) => key.charAt(0).toLowerCase() + key.slice(1));
}

/** The keys of `o` whose value is neither null nor undefined (the finding's nullish fields left out). */
function definedOnly<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: NonNullable<T[K]> } {
  const out: { [K in keyof T]?: NonNullable<T[K]> } = {};
  for (const key of Object.keys(o) as (keyof T)[]) {
    const value = o[key];
    if (value !== null && value !== undefined) out[key] = value as NonNullable<T[keyof T]>;
  }
  return out;
}

/**
 * The resource details a finding names its EKS cluster or instance by, when it has none. The API reference lists both
 * as optional: `eksClusterDetails`, "Details about the EKS cluster involved in a Kubernetes finding" (resource type
 * EKSCluster), and `instanceDetails`, "the EC2 instance associated with the activity" (Instance). Without them the
 * finding is read in part and alerted on with what was read: it is about a cluster or an instance that eks-responder
 * may guard, so nothing in it is a reason to set it aside as "not EKS".
 * @see https://docs.aws.amazon.com/guardduty/latest/APIReference/API_Resource.html
 */
function missingDetails(f: GuardDutyFinding): InputIssue[] {
  const resource = f.resource;
  const type = resource?.resourceType;
  const issues: InputIssue[] = [];
  if ((type === "EKSCluster" || /^[^:/]+:Kubernetes\//.test(f.type)) && !resource?.eksClusterDetails)
    issues.push({
      path: "detail.resource.eksClusterDetails",
      message: `missing: a finding on ${type === "EKSCluster" ? "resource type EKSCluster" : "Kubernetes"} names its cluster there`,
    });
  if (type === "Instance" && !resource?.instanceDetails)
    issues.push({
      path: "detail.resource.instanceDetails",
      message: "missing: a finding on resource type Instance names its instance there",
    });
  return issues;
}

function toSignal(envelope: Envelope, f: GuardDutyFinding, read: InputIssue[]): GuardDutySignal {
  // A detail already reported, or inside a part already reported (`detail.resource`), is not reported twice.
  const within = (inner: string, outer: string) => inner === outer || inner.startsWith(`${outer}.`);
  const reported = (m: InputIssue) =>
    read.some((i) => i !== PASCAL_CASE_ISSUE && (within(i.path, m.path) || within(m.path, i.path)));
  const unreadable = [...read, ...missingDetails(f).filter((m) => !reported(m))];
  const resource = f.resource;
  const service = f.service;
  const k8s = resource?.kubernetesDetails;
  const action = service?.action;
  const remote =
    action?.networkConnectionAction?.remoteIpDetails ??
    action?.kubernetesApiCallAction?.remoteIpDetails ??
    action?.awsApiCallAction?.remoteIpDetails;
  const remotePort = action?.networkConnectionAction?.remotePortDetails?.port ?? undefined;
  const instance = toInstance(f);
  // A finding whose times were unreadable is known by the envelope's time (stable across redeliveries).
  const updatedAt = f.updatedAt ?? f.createdAt ?? envelope.time;
  const signal: GuardDutySignal = {
    family: "guardduty",
    envelopeId: envelope.id,
    account: f.accountId,
    region: f.region,
    time: updatedAt,
    findingId: f.id,
    findingType: f.type,
    severity: f.severity,
    title: f.title ?? f.type,
    sample: isSample(service?.additionalInfo),
    createdAt: f.createdAt ?? updatedAt,
    updatedAt,
    resourceType: resource?.resourceType ?? "unknown",
  };
  if (unreadable.length > 0) signal.unreadable = unreadable;
  if (f.arn) signal.findingArn = f.arn;
  if (f.description) signal.description = f.description;
  if (service?.count !== undefined && service.count !== null) signal.count = service.count;
  if (service?.resourceRole) signal.resourceRole = service.resourceRole;
  if (service?.featureName) signal.featureName = service.featureName;
  if (resource?.eksClusterDetails) {
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
      ...(typeof w.hostNetwork === "boolean" ? { hostNetwork: w.hostNetwork } : {}),
    };
  }
  const call = action?.kubernetesApiCallAction;
  if (call) {
    const apiCall = definedOnly({
      verb: call.verb,
      requestUri: call.requestUri,
      resource: call.resource,
      resourceName: call.resourceName,
      namespace: call.namespace,
      subresource: call.subresource,
      statusCode: call.statusCode,
    });
    if (Object.keys(apiCall).length > 0) signal.kubernetesApiCall = apiCall;
  }
  const binding = action?.kubernetesRoleBindingDetails;
  if (binding) {
    const found = definedOnly(binding);
    if (Object.keys(found).length > 0) signal.roleBinding = found;
  }
  const role = action?.kubernetesRoleDetails;
  if (role) {
    const found = definedOnly(role);
    if (Object.keys(found).length > 0) signal.role = found;
  }
  if (instance) signal.instance = instance;
  const runtime = service?.runtimeDetails;
  const actor = toProcess(runtime?.process);
  if (actor) signal.process = actor;
  const context = runtime?.context;
  if (context) {
    const target = toProcess(context.targetProcess);
    const modifying = toProcess(context.modifyingProcess);
    const path = context.threatFilePath ?? context.filePath ?? context.scriptPath ?? context.mountTarget;
    const runtimeTarget = {
      ...(target ? { process: target } : {}),
      ...(modifying ? { modifyingProcess: modifying } : {}),
      ...(path ? { path } : {}),
      ...(context.toolName ? { tool: context.toolName } : {}),
    };
    if (Object.keys(runtimeTarget).length > 0) signal.runtimeTarget = runtimeTarget;
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

function toProcess(
  p:
    | { name?: string | undefined; executablePath?: string | undefined; pid?: number | null | undefined }
    | null
    | undefined,
): RuntimeProcess | undefined {
  if (!p) return undefined;
  const out: RuntimeProcess = {
    ...(p.name ? { name: p.name } : {}),
    ...(p.executablePath ? { executablePath: p.executablePath } : {}),
    ...(typeof p.pid === "number" ? { pid: p.pid } : {}),
  };
  return Object.keys(out).length > 0 ? out : undefined;
}
