import { SignalParseError } from "../errors.ts";
import { safeParseHot } from "../hot-schema.ts";
import type * as z from "../zod.ts";
import {
  associateAccessPolicyRequestSchema,
  authorizeIngressRequestSchema,
  authorizeIngressResponseSchema,
  type CloudTrailDetail,
  cloudTrailDetailSchema,
  createAccessEntryRequestSchema,
  createClusterRequestSchema,
  createNodegroupRequestSchema,
  deleteClusterRequestSchema,
  modifyRulesRequestSchema,
  type securityGroupRuleSchema,
  updateClusterConfigRequestSchema,
  updateResponseSchema,
} from "./cloudtrail.schema.ts";
import type { Envelope } from "./envelope.schema.ts";
import type {
  CloudTrailBase,
  CloudTrailEventName,
  CloudTrailSignal,
  ClusterLogging,
  EndpointAccess,
  IpPermission,
  SecurityGroupRule,
} from "./types.ts";
import { summarizeIssues, toInputIssues } from "./zod-issues.ts";

/** The CloudTrail events eks-responder reads, by source. The event rules are derived from this table. */
export const CLOUDTRAIL_EVENTS = {
  "aws.ec2": ["AuthorizeSecurityGroupIngress", "ModifySecurityGroupRules"],
  "aws.eks": [
    "CreateCluster",
    "UpdateClusterConfig",
    "CreateAccessEntry",
    "AssociateAccessPolicy",
    "CreateNodegroup",
    "DeleteCluster",
  ],
} as const satisfies Record<CloudTrailBase["source"], readonly CloudTrailEventName[]>;

export type CloudTrailSource = keyof typeof CLOUDTRAIL_EVENTS;

export function isCloudTrailSource(source: string): source is CloudTrailSource {
  return Object.hasOwn(CLOUDTRAIL_EVENTS, source);
}

export function isSupportedCloudTrailEvent(source: CloudTrailSource, eventName: string): boolean {
  return (CLOUDTRAIL_EVENTS[source] as readonly string[]).includes(eventName);
}

function parsePart<T extends z.ZodMiniType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = safeParseHot(schema, value ?? {});
  if (!result.success) {
    const issues = toInputIssues(result.error, value, where);
    throw new SignalParseError(`malformed ${where}: ${summarizeIssues(issues)}`, issues);
  }
  return result.data;
}

function clusterName(request: { name?: string | undefined; clusterName?: string | undefined }): string {
  const name = request.name ?? request.clusterName;
  if (name === undefined || name === "") {
    throw new SignalParseError("malformed detail.requestParameters: no cluster name (name or clusterName)", [
      { path: "detail.requestParameters.name", message: "expected the cluster name" },
    ]);
  }
  return name;
}

/** A copy without the keys whose value is undefined (copied, not deleted: `delete` makes objects slow to use). */
function defined<T extends object>(value: T): T {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (value[key] !== undefined) out[key] = value[key];
  }
  return out as T;
}

function toRule(raw: z.output<ReturnType<typeof securityGroupRuleSchema>>): SecurityGroupRule {
  return defined({
    ruleId: raw.securityGroupRuleId,
    groupId: raw.groupId,
    isEgress: raw.isEgress,
    protocol: raw.ipProtocol,
    fromPort: raw.fromPort ?? undefined,
    toPort: raw.toPort ?? undefined,
    cidrIpv4: raw.cidrIpv4,
    cidrIpv6: raw.cidrIpv6,
    prefixListId: raw.prefixListId,
    referencedGroupId: raw.referencedGroupInfo?.groupId,
    description: raw.description,
  });
}

function toPermissions(request: z.output<ReturnType<typeof authorizeIngressRequestSchema>>): IpPermission[] {
  const permissions: IpPermission[] = request.ipPermissions.map((p) =>
    defined({
      protocol: p.ipProtocol,
      fromPort: p.fromPort ?? undefined,
      toPort: p.toPort ?? undefined,
      ipv4: p.ipRanges.map((r) => defined({ cidr: r.cidrIp, description: r.description })),
      ipv6: p.ipv6Ranges.map((r) => defined({ cidr: r.cidrIpv6, description: r.description })),
      prefixListIds: p.prefixListIds.map((r) => r.prefixListId),
      groups: p.groups.map((g) => defined({ groupId: g.groupId, groupName: g.groupName, userId: g.userId })),
    }),
  );
  // The legacy form names one IPv4 range at the top level of the request.
  if (request.cidrIp !== undefined && request.ipProtocol !== undefined && request.ipProtocol !== null) {
    permissions.push(
      defined({
        protocol: request.ipProtocol,
        fromPort: request.fromPort ?? undefined,
        toPort: request.toPort ?? undefined,
        ipv4: [{ cidr: request.cidrIp }],
        ipv6: [],
        prefixListIds: [],
        groups: [],
      }),
    );
  }
  return permissions;
}

function parseJsonList(text: string | null | undefined): string[] | undefined {
  if (text === undefined || text === null) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : undefined;
  } catch {
    return undefined;
  }
}

function toLogging(logging: { clusterLogging: { types: string[]; enabled: boolean }[] }): ClusterLogging {
  const enabled = new Set<string>();
  const disabled = new Set<string>();
  for (const entry of logging.clusterLogging) {
    for (const type of entry.types) (entry.enabled ? enabled : disabled).add(type);
  }
  return { enabled: [...enabled], disabled: [...disabled] };
}

/** Reads the `ClusterLogging` param of an UpdateClusterConfig response: JSON text of `{clusterLogging:[…]}`. */
function loggingFromParams(value: string | null | undefined): ClusterLogging | undefined {
  if (value === undefined || value === null) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    const list = Array.isArray(parsed) ? parsed : (parsed as { clusterLogging?: unknown } | null)?.clusterLogging;
    if (!Array.isArray(list)) return undefined;
    const entries = list.filter(
      (e): e is { types: string[]; enabled: boolean } =>
        typeof e === "object" &&
        e !== null &&
        Array.isArray((e as { types?: unknown }).types) &&
        typeof (e as { enabled?: unknown }).enabled === "boolean",
    );
    return toLogging({ clusterLogging: entries });
  } catch {
    return undefined;
  }
}

type Base = Omit<CloudTrailBase, "source">;

function parseEc2(base: Base, detail: CloudTrailDetail): CloudTrailSignal {
  const req = detail.requestParameters;
  const res = detail.responseElements;
  if (detail.eventName === "AuthorizeSecurityGroupIngress") {
    const request = parsePart(authorizeIngressRequestSchema(), req, "detail.requestParameters");
    const response = parsePart(authorizeIngressResponseSchema(), res, "detail.responseElements");
    if (request.groupId === undefined && request.groupName === undefined) {
      throw new SignalParseError("malformed detail.requestParameters: neither groupId nor groupName is set", [
        { path: "detail.requestParameters.groupId", message: "expected a security group id" },
      ]);
    }
    return defined({
      ...base,
      source: "aws.ec2",
      eventName: "AuthorizeSecurityGroupIngress",
      groupId: request.groupId ?? response.securityGroupRuleSet[0]?.groupId,
      groupName: request.groupName,
      permissions: toPermissions(request),
      createdRules: response.securityGroupRuleSet.map(toRule),
    });
  }
  const request = parsePart(modifyRulesRequestSchema(), req, "detail.requestParameters");
  const { GroupId, SecurityGroupRule } = request.ModifySecurityGroupRulesRequest;
  return {
    ...base,
    source: "aws.ec2",
    eventName: "ModifySecurityGroupRules",
    groupId: GroupId,
    rules: SecurityGroupRule.map((r) =>
      defined({
        ruleId: r.SecurityGroupRuleId,
        groupId: GroupId,
        isEgress: false,
        protocol: r.SecurityGroupRule.IpProtocol,
        fromPort: r.SecurityGroupRule.FromPort ?? undefined,
        toPort: r.SecurityGroupRule.ToPort ?? undefined,
        cidrIpv4: r.SecurityGroupRule.CidrIpv4,
        cidrIpv6: r.SecurityGroupRule.CidrIpv6,
        prefixListId: r.SecurityGroupRule.PrefixListId,
        referencedGroupId: r.SecurityGroupRule.ReferencedGroupId,
        description: r.SecurityGroupRule.Description,
      }),
    ),
  };
}

/** EKS defaults when CreateCluster does not say: public endpoint open to 0.0.0.0/0, private endpoint off. */
const CREATE_CLUSTER_ENDPOINT_DEFAULTS = { publicAccess: true, privateAccess: false, publicAccessCidrs: ["0.0.0.0/0"] };

function parseEks(base: Base, detail: CloudTrailDetail): CloudTrailSignal {
  const req = detail.requestParameters;
  const where = "detail.requestParameters";
  const eks = { ...base, source: "aws.eks" as const };
  switch (detail.eventName) {
    case "CreateCluster": {
      const request = parsePart(createClusterRequestSchema(), req, where);
      const vpc = request.resourcesVpcConfig;
      const endpoint: EndpointAccess = {
        publicAccess: vpc?.endpointPublicAccess ?? CREATE_CLUSTER_ENDPOINT_DEFAULTS.publicAccess,
        privateAccess: vpc?.endpointPrivateAccess ?? CREATE_CLUSTER_ENDPOINT_DEFAULTS.privateAccess,
        publicAccessCidrs: vpc?.publicAccessCidrs ?? CREATE_CLUSTER_ENDPOINT_DEFAULTS.publicAccessCidrs,
      };
      return defined({
        ...eks,
        eventName: "CreateCluster",
        cluster: clusterName(request),
        endpoint,
        endpointDefaults:
          vpc?.endpointPublicAccess == null && vpc?.endpointPrivateAccess == null && vpc?.publicAccessCidrs == null,
        secretsEncrypted: request.encryptionConfig.some((c) => c.resources.includes("secrets")),
        logging: request.logging ? toLogging(request.logging) : undefined,
      });
    }
    case "UpdateClusterConfig": {
      const request = parsePart(updateClusterConfigRequestSchema(), req, where);
      const response = parsePart(updateResponseSchema(), detail.responseElements, "detail.responseElements");
      const params = new Map((response.update?.params ?? []).map((p) => [p.type, p.value ?? undefined]));
      const boolParam = (type: string) => {
        const value = params.get(type);
        return value === "true" ? true : value === "false" ? false : undefined;
      };
      const vpc = request.resourcesVpcConfig;
      const endpoint: EndpointAccess = defined({
        publicAccess: vpc?.endpointPublicAccess ?? boolParam("EndpointPublicAccess"),
        privateAccess: vpc?.endpointPrivateAccess ?? boolParam("EndpointPrivateAccess"),
        publicAccessCidrs: vpc?.publicAccessCidrs ?? parseJsonList(params.get("PublicAccessCidrs")),
      });
      const hasEndpoint = Object.keys(endpoint).length > 0;
      const logging = request.logging ? toLogging(request.logging) : loggingFromParams(params.get("ClusterLogging"));
      return defined({
        ...eks,
        eventName: "UpdateClusterConfig",
        cluster: clusterName(request),
        endpoint: hasEndpoint ? endpoint : undefined,
        logging,
        updateId: response.update?.id,
      });
    }
    case "CreateAccessEntry": {
      const request = parsePart(createAccessEntryRequestSchema(), req, where);
      return defined({
        ...eks,
        eventName: "CreateAccessEntry",
        cluster: clusterName(request),
        principalArn: request.principalArn,
        kubernetesGroups: request.kubernetesGroups,
        entryType: request.type,
        username: request.username,
      });
    }
    case "AssociateAccessPolicy": {
      const request = parsePart(associateAccessPolicyRequestSchema(), req, where);
      return {
        ...eks,
        eventName: "AssociateAccessPolicy",
        cluster: clusterName(request),
        principalArn: request.principalArn,
        policyArn: request.policyArn,
        accessScope: request.accessScope,
      };
    }
    case "CreateNodegroup": {
      const request = parsePart(createNodegroupRequestSchema(), req, where);
      const remote = request.remoteAccess;
      return defined({
        ...eks,
        eventName: "CreateNodegroup",
        cluster: clusterName(request),
        nodegroup: request.nodegroupName,
        remoteAccess: remote
          ? defined({ ec2SshKey: remote.ec2SshKey, sourceSecurityGroups: remote.sourceSecurityGroups })
          : undefined,
      });
    }
    default: {
      const request = parsePart(deleteClusterRequestSchema(), req, where);
      return { ...eks, eventName: "DeleteCluster", cluster: clusterName(request) };
    }
  }
}

/**
 * Parses the detail of a supported CloudTrail event into a signal. The caller has checked that the source and event
 * name are supported; anything malformed throws {@link SignalParseError}.
 */
export function parseCloudTrail(envelope: Envelope, source: CloudTrailSource): CloudTrailSignal {
  const detail = parsePart(cloudTrailDetailSchema(), envelope.detail, "detail");
  const identity = detail.userIdentity;
  const base: Base = {
    family: "cloudtrail",
    envelopeId: envelope.id,
    account: envelope.account,
    region: detail.awsRegion,
    time: detail.eventTime,
    eventId: detail.eventID,
    actor: defined({
      type: identity?.type,
      arn: identity?.arn,
      principalId: identity?.principalId,
      accountId: identity?.accountId,
      sessionIssuerArn: identity?.sessionContext?.sessionIssuer?.arn,
      sourceIp: detail.sourceIPAddress,
      userAgent: detail.userAgent,
    }),
  };
  if (detail.errorCode !== undefined) base.error = defined({ code: detail.errorCode, message: detail.errorMessage });
  return source === "aws.ec2" ? parseEc2(base, detail) : parseEks(base, detail);
}

export function cloudTrailEventName(detail: Record<string, unknown>): string | undefined {
  const name = detail.eventName;
  return typeof name === "string" ? name : undefined;
}
