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
 * - Undoing a fix in a member account is the operators', never the functions': a second member role holds the actions'
 *   rollback permissions only (the standalone rollback role's statements, in the same form as the execution role's),
 *   and trusts only the hub's operator rollback role, with the ExternalId, from the organization. Operators reach it
 *   as they reach the standalone rollback role, then `eks-responder rollback --role-arn` chains to the member's.
 * - EventBridge puts a member's events on the hub bus with a role of the member account, trusted by
 *   events.amazonaws.com for this account only: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html
 */

import {
  type ArnContext,
  type ConditionBlock,
  type IamContext,
  type PolicyDocument,
  type PolicyStatement,
  parameterArn,
  remediationActions,
  remediationStatements,
  rollbackActions,
  rollbackRolePolicy,
  rollbackStatements,
} from "./iam.ts";
import type { Settings } from "./naming.ts";

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

/** `arn:${AWS::Partition}:iam::${HubAccountId}`: the hub account's IAM ARNs, as the member template writes them. */
const HUB_IAM = `arn:${CFN_PARTITION}:iam::${cfnVariable("HubAccountId")}`;

/**
 * Who may assume a member role, as the member template writes it: the hub account as principal, narrowed to the named
 * roles of the hub (`aws:PrincipalArn`), with the ExternalId, from the organization.
 */
function hubRolesTrust(sid: string, hubRoleNames: readonly string[], organizationId: string): CfnPolicyDocument {
  return cfnPolicy({
    Sid: sid,
    Effect: "Allow",
    Principal: { AWS: sub(`${HUB_IAM}:root`) },
    Action: "sts:AssumeRole",
    Condition: {
      ArnEquals: { "aws:PrincipalArn": hubRoleNames.map((name) => sub(`${HUB_IAM}:role/${name}`)) },
      StringEquals: { "sts:ExternalId": [{ Ref: "ExternalId" }], "aws:PrincipalOrgID": [organizationId] },
    },
  });
}

/** Who may assume the member execution role: the hub's function roles that act (respond and approval-apply). */
export function memberTrustPolicy(hubRoleNames: readonly string[], organizationId: string): CfnPolicyDocument {
  return hubRolesTrust("HubFunctionRolesWithTheExternalId", hubRoleNames, organizationId);
}

/** Who may assume the member rollback role: the hub's operator rollback role only, never a function role. */
export function memberRollbackTrustPolicy(hubRollbackRoleName: string, organizationId: string): CfnPolicyDocument {
  return hubRolesTrust("HubRollbackRoleWithTheExternalId", [hubRollbackRoleName], organizationId);
}

/**
 * What the hub's operator rollback role gets in hub mode: assume the member rollback roles (that name, the
 * ExternalId, accounts of the organization), and read the ExternalId's parameter so an operator can pass it.
 */
export function hubRollbackMemberStatements(input: {
  partition: string;
  memberRollbackRoleName: string;
  organizationId: string;
  externalId: string;
  externalIdParameterArn: string;
}): PolicyStatement[] {
  return hubMemberAccessStatements({ ...input, memberRoleName: input.memberRollbackRoleName }).map((s) =>
    s.Sid === "AssumeMemberRolesOfTheOrganization" ? { ...s, Sid: "AssumeMemberRollbackRolesOfTheOrganization" } : s,
  );
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
 * A member role's permissions: `statements` (same Sids, actions and conditions as the standalone role's), with
 * `${AWS::Partition}`, `${AWS::AccountId}` and region `*` in the ARNs, and one statement that denies every one of
 * `actions` outside the member regions (`aws:RequestedRegion`): the regions are listed once, so the policy's size
 * does not grow with them.
 */
function memberPolicy(
  statements: readonly PolicyStatement[],
  actions: readonly string[],
  regions: readonly string[],
): MemberPolicyDocument {
  const allow = statements.map((s): MemberPolicyStatement => {
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
        Action: [...actions],
        Resource: ["*"],
        Condition: { StringNotEquals: { "aws:RequestedRegion": [...regions] } },
      },
    ],
  };
}

/** The member execution role's permissions: the standalone remediation statements (check and apply). */
export function memberExecutionPolicy(regions: readonly string[]): MemberPolicyDocument {
  return memberPolicy(remediationStatements(MEMBER_ARN_CONTEXT), remediationActions(), regions);
}

/** The member rollback role's permissions: the standalone rollback statements (every action's rollbackPermissions). */
export function memberRollbackPolicy(regions: readonly string[]): MemberPolicyDocument {
  return memberPolicy(rollbackStatements(MEMBER_ARN_CONTEXT), rollbackActions(), regions);
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

/**
 * The operator rollback role's policy: rollbackRolePolicy, and in hub mode the member rollback roles it may assume
 * (hubRollbackMemberStatements), so that `eks-responder rollback --role-arn` undoes a fix in a member account.
 */
export function operatorRollbackPolicy(settings: Settings, c: IamContext) {
  const policy = rollbackRolePolicy(c);
  const org = settings.deployment === "hub" ? settings.organization : undefined;
  if (!org) return policy;
  const member = hubRollbackMemberStatements({
    partition: c.partition,
    memberRollbackRoleName: org.memberRollbackRoleName,
    organizationId: org.organizationId,
    externalId: org.externalId,
    externalIdParameterArn: parameterArn(c, settings.memberExternalIdParameterName),
  });
  return { ...policy, Statement: [...policy.Statement, ...member] };
}
