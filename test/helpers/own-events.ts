/**
 * The CloudTrail events of eks-responder's own calls, built from the real AuthorizeSecurityGroupIngress record of
 * examples/events/ct-01 with only what differs changed: the caller (the respond function's execution role, as
 * CloudTrail writes a Lambda's temporary credentials: `assumed-role/<role>/<function name>` with the role as session
 * issuer, https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html),
 * and the request isolate-instance makes on its transition group (all traffic from 0.0.0.0/0 and ::/0, one
 * IpPermission; EC2 answers with one rule per source in securityGroupRuleSet,
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

type Json = Record<string, unknown>;

const ROOT = join(import.meta.dirname, "../..");
const TEMPLATE = "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json";
export const OWN_ACCOUNT = "776520358045";
export const OWN_REGION = "us-east-1";
/** The respond function and its role, as infra/naming.ts names them for app eks-responder, stage prod. */
export const RESPOND_FUNCTION = "eks-responder-prod-respond";
export const RESPOND_ROLE_ARN = `arn:aws:iam::${OWN_ACCOUNT}:role/${RESPOND_FUNCTION}`;
export const ROLLBACK_ROLE_ARN = `arn:aws:iam::${OWN_ACCOUNT}:role/eks-responder-prod-rollback`;
const SDK_AGENT = "aws-sdk-js/3.840.0 ua/2.1 os/linux#5.10.238 lang/js md/nodejs#22.16.0 api/ec2#3.840.0 m/E,g";

function template(): Json {
  return JSON.parse(readFileSync(join(ROOT, TEMPLATE), "utf8")) as Json;
}

/** userIdentity of a call made with `roleArn`'s temporary credentials, in the session `session`. */
export function assumedRoleIdentity(roleArn: string, session: string): Json {
  const [, , , , account, resource] = roleArn.split(":");
  const name = resource?.split("/").at(-1) ?? "";
  return {
    type: "AssumedRole",
    principalId: `AROA3JTBYLCOEXAMPLE01:${session}`,
    arn: `arn:aws:sts::${account}:assumed-role/${name}/${session}`,
    accountId: account,
    accessKeyId: "ASIA3JTBYLCOEXAMPLE01",
    sessionContext: {
      sessionIssuer: {
        type: "Role",
        principalId: "AROA3JTBYLCOEXAMPLE01",
        arn: roleArn,
        accountId: account,
        userName: name,
      },
      attributes: { creationDate: "2025-06-15T10:40:00Z", mfaAuthenticated: "false" },
    },
  };
}

function detailOf(event: Json): Json {
  return event.detail as Json;
}

/** An ordinary ct-01 record with a new event id, group and caller: what an operator or IaC re-adding a rule sends. */
export function ingressEvent(options: {
  eventId: string;
  groupId: string;
  ruleId: string;
  identity?: Json;
  /** The source of the tcp/22 rule (0.0.0.0/0 by default). */
  cidr?: string;
}): Json {
  const event = template();
  event.id = `env-${options.eventId}`;
  const detail = detailOf(event);
  detail.eventID = options.eventId;
  if (options.identity) detail.userIdentity = options.identity;
  const request = detail.requestParameters as Json;
  request.groupId = options.groupId;
  const cidr = options.cidr ?? "0.0.0.0/0";
  const permission = (request.ipPermissions as { items: Json[] }).items[0] as Json;
  permission.ipRanges = { items: [{ cidrIp: cidr }] };
  const rule = ((detail.responseElements as Json).securityGroupRuleSet as { items: Json[] }).items[0] as Json;
  Object.assign(rule, {
    groupId: options.groupId,
    securityGroupRuleId: options.ruleId,
    cidrIpv4: cidr,
    securityGroupRuleArn: `arn:aws:ec2:${OWN_REGION}:${OWN_ACCOUNT}:security-group-rule/${options.ruleId}`,
  });
  return event;
}

/** The transition group's AuthorizeSecurityGroupIngress that isolate-instance makes, made by the respond role. */
export function transitionGroupEvent(options: { eventId: string; groupId: string; roleArn?: string }): Json {
  const event = template();
  event.id = `env-${options.eventId}`;
  const detail = detailOf(event);
  detail.eventID = options.eventId;
  detail.userIdentity = assumedRoleIdentity(options.roleArn ?? RESPOND_ROLE_ARN, RESPOND_FUNCTION);
  detail.userAgent = SDK_AGENT;
  detail.sourceIPAddress = "3.91.22.17";
  detail.requestParameters = {
    groupId: options.groupId,
    ipPermissions: {
      items: [
        {
          ipProtocol: "-1",
          groups: {},
          ipRanges: { items: [{ cidrIp: "0.0.0.0/0" }] },
          ipv6Ranges: { items: [{ cidrIpv6: "::/0" }] },
          prefixListIds: {},
        },
      ],
    },
  };
  const rule = (id: string, source: Json) => ({
    groupOwnerId: OWN_ACCOUNT,
    groupId: options.groupId,
    securityGroupRuleId: id,
    isEgress: false,
    ipProtocol: "-1",
    fromPort: -1,
    toPort: -1,
    ...source,
    securityGroupRuleArn: `arn:aws:ec2:${OWN_REGION}:${OWN_ACCOUNT}:security-group-rule/${id}`,
  });
  const n = options.eventId
    .replace(/[^0-9a-f]/g, "")
    .padEnd(17, "0")
    .slice(0, 16);
  detail.responseElements = {
    requestId: `req-${options.eventId}`,
    _return: true,
    securityGroupRuleSet: {
      items: [rule(`sgr-${n}a`, { cidrIpv4: "0.0.0.0/0" }), rule(`sgr-${n}b`, { cidrIpv6: "::/0" })],
    },
  };
  return event;
}

/**
 * The responder's own RevokeSecurityGroupIngress, as CloudTrail records it: no deployed rule delivers it (the rules
 * catch AuthorizeSecurityGroupIngress and ModifySecurityGroupRules only), so a delivery of it is an unsupported event.
 */
export function ownRevokeEvent(options: { eventId: string; groupId: string; ruleId: string }): Json {
  const event = template();
  event.id = `env-${options.eventId}`;
  const detail = detailOf(event);
  detail.eventID = options.eventId;
  detail.eventName = "RevokeSecurityGroupIngress";
  detail.userIdentity = assumedRoleIdentity(RESPOND_ROLE_ARN, RESPOND_FUNCTION);
  detail.userAgent = SDK_AGENT;
  detail.requestParameters = {
    groupId: options.groupId,
    securityGroupRuleIds: { items: [{ securityGroupRuleId: options.ruleId }] },
  };
  detail.responseElements = { requestId: `req-${options.eventId}`, _return: true };
  return event;
}
