import type { InputIssue } from "../errors.ts";

/**
 * Signals: validated, normalised incoming events. Detectors only ever see these shapes, never raw JSON, so the quirks
 * of CloudTrail and GuardDuty (empty lists written as `{}`, numbers as strings, renamed fields, URL-encoded ARNs) are
 * dealt with once, in the schemas.
 */

/** Who made the call, as CloudTrail recorded it. Every string here is attacker-influenced: escape before display. */
export interface Actor {
  type?: string;
  arn?: string;
  principalId?: string;
  accountId?: string;
  /** The role behind an assumed-role session, when there is one. */
  sessionIssuerArn?: string;
  sourceIp?: string;
  userAgent?: string;
}

export interface SignalBase {
  /** The EventBridge envelope id. */
  envelopeId: string;
  account: string;
  region: string;
  /** ISO time of the event (CloudTrail eventTime, GuardDuty updatedAt). */
  time: string;
}

export interface CloudTrailBase extends SignalBase {
  family: "cloudtrail";
  source: "aws.ec2" | "aws.eks";
  eventId: string;
  actor: Actor;
  /** Set when the API call failed: then nothing changed in the account. */
  error?: { code: string; message?: string };
}

export interface CidrRange {
  cidr: string;
  description?: string;
}

/** One IpPermission of an Authorize/Revoke call, as the EC2 API defines it. */
export interface IpPermission {
  /** `tcp`, `udp`, `icmp`, `icmpv6`, `-1` (all) or a protocol number, lower-cased. */
  protocol: string;
  fromPort?: number;
  toPort?: number;
  ipv4: CidrRange[];
  ipv6: CidrRange[];
  prefixListIds: string[];
  groups: { groupId?: string; groupName?: string; userId?: string }[];
}

/** One security group rule as EC2 reports it (`SecurityGroupRule`). */
export interface SecurityGroupRule {
  ruleId: string;
  groupId: string;
  isEgress: boolean;
  protocol: string;
  fromPort?: number;
  toPort?: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
  prefixListId?: string;
  referencedGroupId?: string;
  description?: string;
}

export interface AuthorizeIngressSignal extends CloudTrailBase {
  eventName: "AuthorizeSecurityGroupIngress";
  groupId?: string;
  groupName?: string;
  permissions: IpPermission[];
  /** The rules the call created, from `responseElements.securityGroupRuleSet` (absent in older records). */
  createdRules: SecurityGroupRule[];
}

export interface ModifyRulesSignal extends CloudTrailBase {
  eventName: "ModifySecurityGroupRules";
  groupId: string;
  /** The rules as they are after the call. */
  rules: SecurityGroupRule[];
}

export interface EndpointAccess {
  publicAccess?: boolean;
  privateAccess?: boolean;
  /** undefined: the event does not say. */
  publicAccessCidrs?: string[];
}

export interface ClusterLogging {
  enabled: string[];
  disabled: string[];
}

export interface CreateClusterSignal extends CloudTrailBase {
  eventName: "CreateCluster";
  cluster: string;
  endpoint: EndpointAccess;
  /** true when the request did not set endpoint access and EKS's defaults apply. */
  endpointDefaults: boolean;
  /** true when an encryption config covers `secrets`. */
  secretsEncrypted: boolean;
  logging?: ClusterLogging;
}

export interface UpdateClusterConfigSignal extends CloudTrailBase {
  eventName: "UpdateClusterConfig";
  cluster: string;
  endpoint?: EndpointAccess;
  logging?: ClusterLogging;
  updateId?: string;
}

export interface CreateAccessEntrySignal extends CloudTrailBase {
  eventName: "CreateAccessEntry";
  cluster: string;
  principalArn: string;
  kubernetesGroups: string[];
  entryType?: string;
  username?: string;
}

export interface AssociateAccessPolicySignal extends CloudTrailBase {
  eventName: "AssociateAccessPolicy";
  cluster: string;
  principalArn: string;
  policyArn: string;
  accessScope: { type: string; namespaces: string[] };
}

export interface CreateNodegroupSignal extends CloudTrailBase {
  eventName: "CreateNodegroup";
  cluster: string;
  nodegroup: string;
  remoteAccess?: { ec2SshKey?: string; sourceSecurityGroups: string[] };
}

export interface DeleteClusterSignal extends CloudTrailBase {
  eventName: "DeleteCluster";
  cluster: string;
}

export type CloudTrailSignal =
  | AuthorizeIngressSignal
  | ModifyRulesSignal
  | CreateClusterSignal
  | UpdateClusterConfigSignal
  | CreateAccessEntrySignal
  | AssociateAccessPolicySignal
  | CreateNodegroupSignal
  | DeleteClusterSignal;

export type CloudTrailEventName = CloudTrailSignal["eventName"];

export interface NetworkInterface {
  networkInterfaceId: string;
  vpcId?: string;
  subnetId?: string;
  securityGroupIds: string[];
  privateIp?: string;
  publicIp?: string;
}

export interface InstanceRef {
  instanceId: string;
  vpcId?: string;
  availabilityZone?: string;
  tags: Record<string, string>;
  networkInterfaces: NetworkInterface[];
  /** Network interfaces the finding lists without an id: a plan built from the event would not cover them. */
  networkInterfacesWithoutId?: number;
  /** Derived from the instance tags EKS puts on its nodes; undefined when the instance is not a known EKS node. */
  eksNode?: { cluster: string; nodegroup?: string; autoScalingGroup?: string };
}

export interface GuardDutySignal extends SignalBase {
  family: "guardduty";
  findingId: string;
  findingType: string;
  findingArn?: string;
  /** GuardDuty's numeric severity, 1.0 to 10.0. */
  severity: number;
  title: string;
  description?: string;
  /** GuardDuty sample findings (`service.additionalInfo.sample: true`): generated, never real, never acted on. */
  sample: boolean;
  createdAt: string;
  updatedAt: string;
  count?: number;
  resourceType: string;
  /** TARGET: the resource was acted upon; ACTOR: the resource itself did it. */
  resourceRole?: string;
  featureName?: string;
  cluster?: { name: string; arn?: string; vpcId?: string; tags: Record<string, string> };
  kubernetesUser?: { username?: string; uid?: string; groups: string[]; sessionNames: string[] };
  workload?: {
    name?: string;
    namespace?: string;
    type?: string;
    uid?: string;
    /** The pod shares the node's network namespace: a NetworkPolicy does not apply to it. */
    hostNetwork?: boolean;
    containers: { name?: string; image?: string; privileged?: boolean }[];
  };
  /** EKS audit-log findings: the Kubernetes API call GuardDuty saw (`service.action.kubernetesApiCallAction`). */
  kubernetesApiCall?: {
    verb?: string;
    requestUri?: string;
    /** The resource kind as in the API path (`clusterrolebindings`, `pods`). */
    resource?: string;
    resourceName?: string;
    namespace?: string;
    subresource?: string;
    statusCode?: number;
  };
  /** The binding the finding is about (`service.action.kubernetesRoleBindingDetails`), when GuardDuty names it. */
  roleBinding?: { kind?: string; name?: string; uid?: string; roleRefKind?: string; roleRefName?: string };
  /** The role the finding is about (`service.action.kubernetesRoleDetails`). */
  role?: { kind?: string; name?: string; uid?: string };
  instance?: InstanceRef;
  /** Runtime Monitoring: the process that did it (the actor), `service.runtimeDetails.process`. */
  process?: RuntimeProcess;
  /** Runtime Monitoring: what the actor acted on, from `service.runtimeDetails.context`. */
  runtimeTarget?: { process?: RuntimeProcess; modifyingProcess?: RuntimeProcess; path?: string; tool?: string };
  remote?: { ip?: string; port?: number; country?: string };
  /**
   * The parts of the finding that could not be read (path and why), when it was read only partly: such a finding
   * raises an alert with what was read and is never acted on.
   */
  unreadable?: InputIssue[];
}

export interface RuntimeProcess {
  name?: string;
  executablePath?: string;
  pid?: number;
}

export type Signal = CloudTrailSignal | GuardDutySignal;
