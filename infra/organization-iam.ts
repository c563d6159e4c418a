/**
 * The IAM and resource policies of hub and member mode, as plain functions over plain data (the infra deploys them,
 * the member template embeds them, test/unit/infra/organization.test.ts evaluates them with iam-simulate).
 *
 * - The hub's bus accepts events:PutEvents from principals of the organization only (`aws:PrincipalOrgID`):
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-perms.html
 * - The hub's remediation functions may assume only the member role of that name, only with the ExternalId, and only
 *   in accounts of the organization (`aws:ResourceOrgID`, the account that owns the role):
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceorgid
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_third-party.html (sts:ExternalId)
 * - The member role trusts the hub account as principal, narrowed to the hub's function role ARNs
 *   (`aws:PrincipalArn`), the ExternalId and the organization: a role recreated in the hub keeps working (a role ARN
 *   as Principal turns into the old role's unique id), and no other principal of the hub may assume it.
 * - The member role holds the union of the actions' permissions (infra/iam.ts remediationStatements, the same
 *   statements as the standalone respond role) for every member region: IAM is global, so one role serves all
 *   regions; each statement names the region `*` in its ARNs, and one Deny refuses those actions outside the
 *   member regions (`aws:RequestedRegion`). Listing every region's ARNs, or pinning the region in each statement,
 *   would pass the 10,240-character inline policy limit at a few regions:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
 * - EventBridge puts a member's events on the hub bus with a role of the member account, trusted by
 *   events.amazonaws.com for this account only: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html
 */
import {
  type ArnContext,
  type ConditionBlock,
  type PolicyDocument,
  type PolicyStatement,
  remediationActions,
  remediationStatements,
} from "./iam.ts";

/** A string of a CloudFormation template: a literal, a parameter (`Ref`) or a substitution (`Fn::Sub`). */
export type CfnString = string | { Ref: string } | { "Fn::Sub": string };

export interface CfnPolicyStatement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Principal?: Record<string, CfnString | CfnString[]>;
  Action: string | string[];
  Resource?: CfnString | CfnString[];
  Condition?: Record<string, Record<string, CfnString[]>>;
}

export interface CfnPolicyDocument {
  Version: "2012-10-17";
  Statement: CfnPolicyStatement[];
}

/** A CloudFormation variable of Fn::Sub: `${name}`. */
export function cfnVariable(name: string): string {
  return `\${${name}}`;
}

export const CFN_PARTITION = cfnVariable("AWS::Partition");
export const CFN_ACCOUNT_ID = cfnVariable("AWS::AccountId");

/** `${AWS::Partition}` and `${AWS::AccountId}` of the member account: resolved by CloudFormation (Fn::Sub). */
export const MEMBER_ARN_CONTEXT: ArnContext = {
  partition: CFN_PARTITION,
  account: CFN_ACCOUNT_ID,
  region: "*",
};

function cfnPolicy(...statements: CfnPolicyStatement[]): CfnPolicyDocument {
  return { Version: "2012-10-17", Statement: statements };
}

/** A value with a `${…}` of CloudFormation as Fn::Sub, any other as is. */
export function sub(value: string): CfnString {
  return value.includes("${") ? { "Fn::Sub": value } : value;
}

export function busArn(partition: string, region: string, account: string, busName: string): string {
  return `arn:${partition}:events:${region}:${account}:event-bus/${busName}`;
}

/** The hub bus's resource policy: PutEvents from principals of the organization only. */
export function organizationBusPolicy(bus: string, organizationId: string): CfnPolicyDocument {
  return cfnPolicy({
    Sid: "PutEventsFromTheOrganization",
    Effect: "Allow",
    Principal: { AWS: "*" },
    Action: "events:PutEvents",
    Resource: bus,
    Condition: { StringEquals: { "aws:PrincipalOrgID": [organizationId] } },
  });
}

/** The member role ARN pattern the hub may assume: that name, in any account (the organization condition decides). */
export function memberRoleArnPattern(partition: string, memberRoleName: string): string {
  return `arn:${partition}:iam::*:role/${memberRoleName}`;
}

/**
 * What the hub's remediation functions (respond, approval-apply) get in hub mode: assume the member roles (that
 * name, the ExternalId, accounts of the organization) and read the ExternalId's parameter.
 */
export function hubMemberAccessStatements(input: {
  partition: string;
  memberRoleName: string;
  organizationId: string;
  externalId: string;
  externalIdParameterArn: string;
}): PolicyStatement[] {
  return [
    {
      Sid: "AssumeMemberRolesOfTheOrganization",
      Effect: "Allow",
      Action: ["sts:AssumeRole"],
      Resource: [memberRoleArnPattern(input.partition, input.memberRoleName)],
      Condition: {
        StringEquals: { "aws:ResourceOrgID": [input.organizationId], "sts:ExternalId": [input.externalId] },
      },
    },
    {
      Sid: "MemberExternalIdParameter",
      Effect: "Allow",
      Action: ["ssm:GetParameter"],
      Resource: [input.externalIdParameterArn],
    },
  ];
}

/**
 * Who may assume the member role, as the member template writes it: the hub's function roles
 * (`${HubAccountId}` and the ExternalId are template parameters), with the ExternalId, from the organization.
 */
export function memberTrustPolicy(hubRoleNames: readonly string[], organizationId: string): CfnPolicyDocument {
  const hub = `arn:${CFN_PARTITION}:iam::${cfnVariable("HubAccountId")}`;
  return cfnPolicy({
    Sid: "HubFunctionRolesWithTheExternalId",
    Effect: "Allow",
    Principal: { AWS: sub(`${hub}:root`) },
    Action: "sts:AssumeRole",
    Condition: {
      ArnEquals: { "aws:PrincipalArn": hubRoleNames.map((name) => sub(`${hub}:role/${name}`)) },
      StringEquals: { "sts:ExternalId": [{ Ref: "ExternalId" }], "aws:PrincipalOrgID": [organizationId] },
    },
  });
}

/** A statement of the member role's policy: the remediation statements allow, one statement denies. */
export interface MemberPolicyStatement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: string[];
  Condition?: ConditionBlock;
}

export interface MemberPolicyDocument {
  Version: "2012-10-17";
  Statement: MemberPolicyStatement[];
}

/** The scopes' own region pin (`aws:RequestedRegion`), which the member policy replaces by one Deny. */
function withoutRegionPin(condition: ConditionBlock | undefined): ConditionBlock | undefined {
  if (!condition) return undefined;
  const out: ConditionBlock = {};
  for (const [test, block] of Object.entries(condition)) {
    const kept = Object.fromEntries(Object.entries(block).filter(([key]) => key !== "aws:RequestedRegion"));
    if (Object.keys(kept).length > 0) out[test] = kept;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The member role's permissions: the standalone remediation statements (same Sids, actions and conditions), with
 * `${AWS::Partition}`, `${AWS::AccountId}` and region `*` in the ARNs, and one statement that denies every one of
 * those actions outside the member regions (`aws:RequestedRegion`): the regions are listed once, so the policy's
 * size does not grow with them.
 */
export function memberExecutionPolicy(regions: readonly string[]): MemberPolicyDocument {
  const allow = remediationStatements(MEMBER_ARN_CONTEXT).map((s): MemberPolicyStatement => {
    const condition = withoutRegionPin(s.Condition);
    return {
      Sid: s.Sid,
      Effect: "Allow",
      Action: s.Action,
      Resource: s.Resource,
      ...(condition ? { Condition: condition } : {}),
    };
  });
  return {
    Version: "2012-10-17",
    Statement: [
      ...allow,
      {
        Sid: "DenyOutsideTheMemberRegions",
        Effect: "Deny",
        Action: remediationActions(),
        Resource: ["*"],
        Condition: { StringNotEquals: { "aws:RequestedRegion": [...regions] } },
      },
    ],
  };
}

/** A policy document of the infra with each `${…}` string as Fn::Sub, as a template embeds it. */
export function toCfnPolicy(document: MemberPolicyDocument | PolicyDocument): CfnPolicyDocument {
  return {
    Version: document.Version,
    Statement: document.Statement.map((s: MemberPolicyStatement) => ({
      Sid: s.Sid,
      Effect: s.Effect,
      Action: s.Action,
      Resource: s.Resource.map(sub),
      ...(s.Condition
        ? {
            Condition: Object.fromEntries(
              Object.entries(s.Condition).map(([test, block]) => [
                test,
                Object.fromEntries(Object.entries(block).map(([key, values]) => [key, values.map(sub)])),
              ]),
            ),
          }
        : {}),
    })),
  };
}

/** The forwarding role's trust: EventBridge, for rules of this account only (confused deputy). */
export function forwardingTrustPolicy(): CfnPolicyDocument {
  return cfnPolicy({
    Sid: "EventBridgeOfThisAccount",
    Effect: "Allow",
    Principal: { Service: "events.amazonaws.com" },
    Action: "sts:AssumeRole",
    Condition: { StringEquals: { "aws:SourceAccount": [sub(CFN_ACCOUNT_ID)] } },
  });
}

/** The forwarding role's permissions: PutEvents on the hub bus only. */
export function forwardingPolicy(hubBus: CfnString): CfnPolicyDocument {
  return cfnPolicy({ Sid: "PutEventsOnTheHubBus", Effect: "Allow", Action: "events:PutEvents", Resource: hubBus });
}
