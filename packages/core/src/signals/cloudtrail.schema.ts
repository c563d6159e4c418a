import { REGION_MESSAGE, REGION_PATTERN } from "../aws/partitions.ts";
import { builtOnFirstUse } from "../hot-schema.ts";
import * as z from "../zod.ts";
import { ctArn, ctBool, ctInt, ctList, optionalList, optString } from "./cloudtrail-quirks.ts";
import { jsonObject } from "./envelope.schema.ts";

/**
 * CloudTrail management events delivered by EventBridge (`detail-type: "AWS API Call via CloudTrail"`).
 * @see https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
 * Sample: examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json (a real record)
 *
 * Every exported schema is a function that builds it on first call (builtOnFirstUse, ../hot-schema.ts): an event
 * builds the schemas of its own call only, and a cold start builds none of them before the first event.
 */
export const cloudTrailDetailSchema = builtOnFirstUse(() =>
  z.object({
    eventVersion: optString,
    eventID: z.string().check(z.minLength(1)),
    eventTime: z.string().check(z.minLength(1)),
    eventSource: z.string().check(z.minLength(1)),
    eventName: z.string().check(z.minLength(1)),
    awsRegion: z.string().check(z.regex(REGION_PATTERN, REGION_MESSAGE)),
    sourceIPAddress: optString,
    userAgent: optString,
    userIdentity: z.nullish(
      z.object({
        type: optString,
        arn: optString,
        principalId: optString,
        accountId: optString,
        sessionContext: z.nullish(z.object({ sessionIssuer: z.nullish(z.object({ arn: optString })) })),
      }),
    ),
    requestParameters: z.nullish(jsonObject),
    responseElements: z.nullish(jsonObject),
    errorCode: optString,
    errorMessage: optString,
  }),
);

export type CloudTrailDetail = z.infer<ReturnType<typeof cloudTrailDetailSchema>>;

// ---- aws.ec2 ------------------------------------------------------------------------------------------------

/** Protocol numbers EC2 accepts for the named protocols; "all" is another spelling of -1. */
const PROTOCOL_NAMES: Record<string, string> = { "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", all: "-1" };

/** A protocol, normalised: lower case, and the numbers of tcp, udp, icmp and icmpv6 written as their names. */
const protocol = z.pipe(
  z.union([z.string(), z.number()]),
  z.transform((v) => {
    const text = String(v).trim().toLowerCase();
    return PROTOCOL_NAMES[text] ?? text;
  }),
);

/**
 * `AuthorizeSecurityGroupIngress` request, lowerCamelCase with `items` wrappers.
 * @see https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html
 * The legacy top-level form (`cidrIp`, `ipProtocol`, `fromPort`, `toPort` without `ipPermissions`) is accepted too.
 */
export const authorizeIngressRequestSchema = builtOnFirstUse(() =>
  z.object({
    groupId: optString,
    groupName: optString,
    ipPermissions: ctList(
      z.object({
        ipProtocol: protocol,
        fromPort: z.nullish(ctInt),
        toPort: z.nullish(ctInt),
        ipRanges: ctList(z.object({ cidrIp: z.string(), description: optString })),
        ipv6Ranges: ctList(z.object({ cidrIpv6: z.string(), description: optString })),
        prefixListIds: ctList(z.object({ prefixListId: z.string(), description: optString })),
        groups: ctList(z.object({ groupId: optString, groupName: optString, userId: optString })),
      }),
    ),
    cidrIp: optString,
    ipProtocol: z.nullish(protocol),
    fromPort: z.nullish(ctInt),
    toPort: z.nullish(ctInt),
  }),
);

/** One rule of `responseElements.securityGroupRuleSet.items` (SecurityGroupRule, lowerCamelCase). */
export const securityGroupRuleSchema = builtOnFirstUse(() =>
  z.object({
    securityGroupRuleId: z.string().check(z.regex(/^sgr-[0-9a-f]+$/, "expected a security group rule id (sgr-…)")),
    groupId: z.string(),
    isEgress: z._default(ctBool, false),
    ipProtocol: protocol,
    fromPort: z.nullish(ctInt),
    toPort: z.nullish(ctInt),
    cidrIpv4: optString,
    cidrIpv6: optString,
    prefixListId: optString,
    referencedGroupInfo: z.nullish(z.object({ groupId: optString })),
    description: optString,
  }),
);

export const authorizeIngressResponseSchema = builtOnFirstUse(() =>
  z.object({
    securityGroupRuleSet: ctList(securityGroupRuleSchema()),
  }),
);

/**
 * `ModifySecurityGroupRules`: unlike most EC2 records, the request is PascalCase under
 * `ModifySecurityGroupRulesRequest`, and `SecurityGroupRule` may be one object or a list.
 * @see https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifySecurityGroupRules.html
 */
const modifiedRuleSchema = z.object({
  SecurityGroupRuleId: z.string().check(z.regex(/^sgr-[0-9a-f]+$/, "expected a security group rule id (sgr-…)")),
  SecurityGroupRule: z.object({
    IpProtocol: protocol,
    FromPort: z.nullish(ctInt),
    ToPort: z.nullish(ctInt),
    CidrIpv4: optString,
    CidrIpv6: optString,
    PrefixListId: optString,
    ReferencedGroupId: optString,
    Description: optString,
  }),
});

export const modifyRulesRequestSchema = builtOnFirstUse(() =>
  z.object({
    ModifySecurityGroupRulesRequest: z.object({
      GroupId: z.string().check(z.minLength(1)),
      SecurityGroupRule: z.pipe(
        z.transform((v: unknown) => (Array.isArray(v) ? v : [v])),
        z.array(modifiedRuleSchema).check(z.minLength(1)),
      ),
    }),
  }),
);

// ---- aws.eks ------------------------------------------------------------------------------------------------

const endpointConfigSchema = z.object({
  endpointPublicAccess: z.nullish(ctBool),
  endpointPrivateAccess: z.nullish(ctBool),
  publicAccessCidrs: z.nullish(z.array(z.string())),
});

const loggingSchema = z.object({
  clusterLogging: optionalList(
    z.object({
      types: optionalList(z.string()),
      enabled: z.pipe(
        z.nullish(ctBool),
        z.transform((v) => v ?? false),
      ),
    }),
  ),
});

/** The cluster name: `name` today, `clusterName` in the 2018 API (sample ct-13). */
const clusterNameFields = { name: optString, clusterName: optString };

/**
 * `CreateCluster`.
 * @see https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html
 * @see https://docs.aws.amazon.com/eks/latest/userguide/logging-using-cloudtrail.html
 */
export const createClusterRequestSchema = builtOnFirstUse(() =>
  z.object({
    ...clusterNameFields,
    resourcesVpcConfig: z.nullish(endpointConfigSchema),
    encryptionConfig: optionalList(z.object({ resources: optionalList(z.string()) })),
    logging: z.nullish(loggingSchema),
  }),
);

/** `UpdateClusterConfig`: endpoint access or logging (one per call). */
export const updateClusterConfigRequestSchema = builtOnFirstUse(() =>
  z.object({
    ...clusterNameFields,
    resourcesVpcConfig: z.nullish(endpointConfigSchema),
    logging: z.nullish(loggingSchema),
  }),
);

/** `update.params` of the UpdateClusterConfig response: every value is a string, lists are JSON text. */
export const updateResponseSchema = builtOnFirstUse(() =>
  z.object({
    update: z.nullish(
      z.object({
        id: optString,
        params: optionalList(z.object({ type: z.string(), value: z.nullish(z.string()) })),
      }),
    ),
  }),
);

/** `CreateAccessEntry`. @see https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAccessEntry.html */
export const createAccessEntryRequestSchema = builtOnFirstUse(() =>
  z.object({
    ...clusterNameFields,
    principalArn: ctArn,
    kubernetesGroups: optionalList(z.string()),
    type: optString,
    username: optString,
  }),
);

/** `AssociateAccessPolicy`. @see https://docs.aws.amazon.com/eks/latest/APIReference/API_AssociateAccessPolicy.html */
export const associateAccessPolicyRequestSchema = builtOnFirstUse(() =>
  z.object({
    ...clusterNameFields,
    principalArn: ctArn,
    policyArn: ctArn,
    accessScope: z.object({ type: z.string(), namespaces: optionalList(z.string()) }),
  }),
);

/** `CreateNodegroup`. @see https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html */
export const createNodegroupRequestSchema = builtOnFirstUse(() =>
  z.object({
    ...clusterNameFields,
    nodegroupName: z.string().check(z.minLength(1)),
    remoteAccess: z.nullish(z.object({ ec2SshKey: optString, sourceSecurityGroups: optionalList(z.string()) })),
  }),
);

/** `DeleteCluster`. @see https://docs.aws.amazon.com/eks/latest/APIReference/API_DeleteCluster.html */
export const deleteClusterRequestSchema = builtOnFirstUse(() => z.object({ ...clusterNameFields }));
