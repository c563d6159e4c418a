/**
 * What ec2:isolate-instance reads before it acts: the instance, its network interfaces (and the branch interfaces of
 * pods with security groups of their own), its Auto Scaling membership, and the transition and quarantine groups.
 */
import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { EC2Client, InstanceNetworkInterface, NetworkInterface } from "@aws-sdk/client-ec2";
import type { CallLog } from "./calls.ts";
import { ec2TagRecord } from "./ec2-tags.ts";
import { branchFilter, QUARANTINE_GROUP_TAG } from "./isolate-instance.action.ts";

export interface EniState {
  networkInterfaceId: string;
  groups: string[];
}

export interface Live {
  vpcId: string;
  state: string;
  /** DescribeInstances `InstanceLifecycle`: "spot", "capacity-block", or absent for On-Demand. */
  lifecycle: string;
  tags: Record<string, string>;
  networkInterfaces: EniState[];
  /**
   * Branch interfaces of pods with their own security groups: not attached to the instance (DescribeInstances does
   * not list them), found through the trunk interface it has.
   */
  branchInterfaces: EniState[];
  /** Every address of the node's and its pods' interfaces, for the operator's network ACL entries (see notCovered). */
  addresses: string[];
  disableApiTermination: boolean;
  shutdownBehavior: string;
  /** The group DescribeAutoScalingInstances places the instance in now (the live answer, not the event's). */
  autoScalingGroupName?: string;
  /** Its lifecycle state there (InService, Standby, …): only an InService instance can enter Standby. */
  autoScalingState?: string;
  /** The group the event or the instance's tag named while DescribeAutoScalingInstances places it in none. */
  detachedFrom?: string;
  /** Whether the instance was already protected from scale-in (then isolation leaves, and rollback keeps, it so). */
  protectedFromScaleIn: boolean;
}

/**
 * The instance's Auto Scaling group as AWS answers now. The event and the `aws:autoscaling:groupName` tag (which
 * DetachInstances leaves on the instance) only say which instances to ask about: an instance detached during the
 * incident is in no group, and DescribeAutoScalingInstances describes only instances in a group (an id it does not
 * know "is ignored with no error"), so its answer is an empty list. Then no scale-in protection or Standby is set.
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingInstances.html
 */
async function readAutoScaling(
  instance: string,
  hint: string | undefined,
  asgClient: () => Promise<AutoScalingClient>,
  log: CallLog,
): Promise<Pick<Live, "autoScalingGroupName" | "autoScalingState" | "detachedFrom" | "protectedFromScaleIn">> {
  if (hint === undefined) return { protectedFromScaleIn: false };
  const asgSdk = await import("../aws/auto-scaling.ts");
  const client = await asgClient();
  const request = { InstanceIds: [instance] };
  const out = await log.send("autoscaling", "DescribeAutoScalingInstances", request, () =>
    client.send(new asgSdk.DescribeAutoScalingInstancesCommand(request)),
  );
  const member = out === "dry-run-ok" ? undefined : out.AutoScalingInstances?.find((i) => i.InstanceId === instance);
  if (!member?.AutoScalingGroupName) return { detachedFrom: hint, protectedFromScaleIn: false };
  return {
    autoScalingGroupName: member.AutoScalingGroupName,
    ...(member.LifecycleState ? { autoScalingState: member.LifecycleState } : {}),
    protectedFromScaleIn: member.ProtectedFromScaleIn === true,
  };
}

function eniState(n: InstanceNetworkInterface | NetworkInterface): EniState {
  return {
    networkInterfaceId: n.NetworkInterfaceId ?? "",
    groups: (n.Groups ?? []).map((g) => g.GroupId ?? "").filter(Boolean),
  };
}

function addressesOf(n: InstanceNetworkInterface | NetworkInterface): string[] {
  return [
    ...(n.PrivateIpAddresses ?? []).map((a) => a.PrivateIpAddress ?? ""),
    ...(n.Ipv4Prefixes ?? []).map((p) => p.Ipv4Prefix ?? ""),
    ...(n.Ipv6Addresses ?? []).map((a) => a.Ipv6Address ?? ""),
    ...(n.Ipv6Prefixes ?? []).map((p) => p.Ipv6Prefix ?? ""),
  ].filter(Boolean);
}

/**
 * With security groups for pods, the VPC resource controller attaches a trunk interface to the node and gives each
 * such pod a branch interface with the pod's own security groups; branch interfaces are not attached to the instance,
 * so DescribeInstances does not list them. They are found with DescribeNetworkInterfaces filtered on `interface-type`
 * `branch` and the controller's trunk tag, page by page (each page recorded in the call log, so no SDK paginator).
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeNetworkInterfaces.html
 * https://docs.aws.amazon.com/eks/latest/userguide/security-groups-for-pods.html
 */
async function readBranchInterfaces(trunks: string[], ec2: EC2Client, log: CallLog): Promise<NetworkInterface[]> {
  if (trunks.length === 0) return [];
  const sdk = await import("../aws/ec2.ts");
  const found: NetworkInterface[] = [];
  let token: string | undefined;
  do {
    const request = { Filters: branchFilter(trunks), MaxResults: 1000, ...(token ? { NextToken: token } : {}) };
    const page = await log.send("ec2", "DescribeNetworkInterfaces", request, () =>
      ec2.send(new sdk.DescribeNetworkInterfacesCommand(request)),
    );
    if (page === "dry-run-ok") break;
    found.push(...(page.NetworkInterfaces ?? []).filter((n) => n.InterfaceType === "branch"));
    token = page.NextToken;
  } while (token);
  return found;
}

export async function readInstance(
  instanceId: string,
  asgHint: string | undefined,
  ec2: EC2Client,
  asgClient: () => Promise<AutoScalingClient>,
  log: CallLog,
): Promise<Live | undefined> {
  const sdk = await import("../aws/ec2.ts");
  const described = await log.send("ec2", "DescribeInstances", { InstanceIds: [instanceId] }, () =>
    ec2.send(new sdk.DescribeInstancesCommand({ InstanceIds: [instanceId] })),
  );
  const instance = described === "dry-run-ok" ? undefined : described.Reservations?.[0]?.Instances?.[0];
  if (!instance?.VpcId) return undefined;
  const attribute = async (Attribute: "disableApiTermination" | "instanceInitiatedShutdownBehavior") => {
    const request = { InstanceId: instanceId, Attribute };
    const out = await log.send("ec2", "DescribeInstanceAttribute", request, () =>
      ec2.send(new sdk.DescribeInstanceAttributeCommand(request)),
    );
    return out === "dry-run-ok" ? undefined : out;
  };
  const termination = await attribute("disableApiTermination");
  const shutdown = await attribute("instanceInitiatedShutdownBehavior");
  const tags = ec2TagRecord(instance.Tags);
  const autoScaling = await readAutoScaling(instanceId, tags["aws:autoscaling:groupName"] ?? asgHint, asgClient, log);
  const interfaces = instance.NetworkInterfaces ?? [];
  const trunks = interfaces.filter((n) => n.InterfaceType === "trunk").map((n) => n.NetworkInterfaceId ?? "");
  const branches = await readBranchInterfaces(trunks.filter(Boolean), ec2, log);
  return {
    vpcId: instance.VpcId,
    state: instance.State?.Name ?? "unknown",
    lifecycle: instance.InstanceLifecycle ?? "on-demand",
    tags,
    networkInterfaces: interfaces.map(eniState),
    branchInterfaces: branches.map(eniState),
    addresses: [...interfaces, ...branches].flatMap(addressesOf),
    disableApiTermination: termination?.DisableApiTermination?.Value ?? false,
    shutdownBehavior: shutdown?.InstanceInitiatedShutdownBehavior?.Value ?? "stop",
    ...autoScaling,
  };
}

/** The transition and quarantine groups of a VPC, found by tag. */
export async function findGroups(
  vpc: string,
  ec2: EC2Client,
  log: CallLog,
): Promise<{ transition?: string; quarantine?: string }> {
  const { DescribeSecurityGroupsCommand } = await import("../aws/ec2.ts");
  const request = {
    Filters: [
      { Name: "vpc-id", Values: [vpc] },
      { Name: `tag:${QUARANTINE_GROUP_TAG}`, Values: ["transition", "quarantine"] },
    ],
  };
  const out = await log.send("ec2", "DescribeSecurityGroups", request, () =>
    ec2.send(new DescribeSecurityGroupsCommand(request)),
  );
  const groups: { transition?: string; quarantine?: string } = {};
  if (out === "dry-run-ok") return groups;
  for (const g of out?.SecurityGroups ?? []) {
    const role = g.Tags?.find((t) => t.Key === QUARANTINE_GROUP_TAG)?.Value;
    if ((role === "transition" || role === "quarantine") && g.GroupId) groups[role] ??= g.GroupId;
  }
  return groups;
}
