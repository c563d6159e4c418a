/**
 * The member template (CloudFormation JSON), generated from the same sources as the standalone deployment: the rule
 * patterns of packages/core/src/eventbridge/rules.ts and the remediation statements of infra/iam.ts (through
 * organization-iam.ts). The hub's StackSet carries it to every member account and region; member mode deploys it
 * as one stack. Never edited by hand: `npm run synth` in hub mode writes it to .sst/synth/member-template.json.
 *
 * Regions and global IAM: a StackSet creates one stack per account and region, but IAM roles are global, so two
 * regions creating the same role name would collide. The roles (execution and forwarding) carry the condition
 * `IsRoleRegion` and are created in the first member region only; the rules of every region name the forwarding
 * role by its ARN (no Ref across stacks). The hub deploys the role region's stack instances first (infra/organization.ts).
 *
 * Which events each account forwards (conditions `ForwardCloudTrail`, `ForwardGuardDuty`):
 * - CloudTrail EC2/EKS calls reach only the bus of the account and region of the call: every account forwards them,
 *   except the hub account in the hub region, where the hub's own rules already catch them.
 * - GuardDuty publishes a member's findings to the delegated administrator's bus as well, in the same region
 *   (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html): only the administrator
 *   account forwards GuardDuty findings (again not the hub account in the hub region), so none arrives twice.
 * Templates: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-anatomy.html
 */
import { ruleSpecs } from "../packages/core/src/eventbridge/rules.ts";
import type { OrganizationSettings } from "./deployment-settings.ts";
import type { Settings } from "./naming.ts";
import {
  busArn,
  CFN_ACCOUNT_ID,
  CFN_PARTITION,
  cfnVariable,
  forwardingPolicy,
  forwardingTrustPolicy,
  memberExecutionPolicy,
  memberRollbackPolicy,
  memberRollbackTrustPolicy,
  memberTrustPolicy,
  sub,
  toCfnPolicy,
} from "./organization-iam.ts";

export interface MemberTemplateInput {
  /** `<app>-<stage>`: the prefix of the rule names. */
  prefix: string;
  organizationId: string;
  hubRegion: string;
  organizationBusName: string;
  /** The hub's roles the member role trusts (respond and approval-apply). */
  hubRoleNames: readonly string[];
  memberRoleName: string;
  /** The hub's operator rollback role, the only principal the member rollback role trusts. */
  hubRollbackRoleName: string;
  memberRollbackRoleName: string;
  forwardingRoleName: string;
  /** The member regions; the first is where the roles are created. */
  regions: readonly string[];
}

export interface CfnResource {
  Type: string;
  Condition?: string;
  Properties: Record<string, unknown>;
}

export interface MemberTemplate {
  AWSTemplateFormatVersion: "2010-09-09";
  Description: string;
  Parameters: Record<string, Record<string, unknown>>;
  Conditions: Record<string, unknown>;
  Resources: Record<string, CfnResource>;
  Outputs: Record<string, { Condition?: string; Value: unknown }>;
}

const ACCOUNT_PATTERN = "^\\d{12}$";
/** The rule whose events GuardDuty already brings to the delegated administrator's bus. */
const GUARDDUTY_RULE = "GuardDutyFindings";

/** The names of the template's parameters, which the StackSet (or member mode's stack) sets. */
export const MEMBER_TEMPLATE_PARAMETERS = ["HubAccountId", "ExternalId", "GuardDutyAdminAccountId"] as const;

const equals = (a: unknown, b: unknown) => ({ "Fn::Equals": [a, b] });

export function memberTemplate(input: MemberTemplateInput): MemberTemplate {
  const roleRegion = input.regions[0];
  if (roleRegion === undefined) throw new Error("memberTemplate: no member region");
  const hubBus = sub(busArn(CFN_PARTITION, input.hubRegion, cfnVariable("HubAccountId"), input.organizationBusName));
  const forwardingRoleArn = sub(`arn:${CFN_PARTITION}:iam::${CFN_ACCOUNT_ID}:role/${input.forwardingRoleName}`);
  const rules = Object.fromEntries(
    ruleSpecs().map((spec) => [
      `${spec.name}Forward`,
      {
        Type: "AWS::Events::Rule",
        Condition: spec.name === GUARDDUTY_RULE ? "ForwardGuardDuty" : "ForwardCloudTrail",
        Properties: {
          Name: `${input.prefix}-forward-${spec.name}`,
          Description: `${spec.description}, forwarded to the eks-responder hub`,
          EventBusName: "default",
          EventPattern: spec.pattern,
          State: "ENABLED",
          Targets: [{ Id: "eks-responder-hub", Arn: hubBus, RoleArn: forwardingRoleArn }],
        },
      } satisfies CfnResource,
    ]),
  );
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: `eks-responder member (${input.prefix}): forwarding rules to the hub bus, the execution role the hub assumes and the rollback role its operators assume`,
    Parameters: {
      HubAccountId: { Type: "String", AllowedPattern: ACCOUNT_PATTERN, Description: "The hub (security) account" },
      ExternalId: {
        Type: "String",
        NoEcho: true,
        MinLength: 16,
        MaxLength: 1224,
        AllowedPattern: "^[\\w+=,.@:/-]+$",
        Description: "The sts:ExternalId the hub passes when it assumes the execution role",
      },
      GuardDutyAdminAccountId: {
        Type: "String",
        AllowedPattern: ACCOUNT_PATTERN,
        Description: "The GuardDuty delegated administrator: the only account that forwards GuardDuty findings",
      },
    },
    Conditions: {
      IsRoleRegion: equals({ Ref: "AWS::Region" }, roleRegion),
      IsHubHome: {
        "Fn::And": [
          equals({ Ref: "AWS::AccountId" }, { Ref: "HubAccountId" }),
          equals({ Ref: "AWS::Region" }, input.hubRegion),
        ],
      },
      ForwardCloudTrail: { "Fn::Not": [{ Condition: "IsHubHome" }] },
      IsGuardDutyAdmin: equals({ Ref: "AWS::AccountId" }, { Ref: "GuardDutyAdminAccountId" }),
      ForwardGuardDuty: { "Fn::And": [{ Condition: "IsGuardDutyAdmin" }, { Condition: "ForwardCloudTrail" }] },
    },
    Resources: {
      ExecutionRole: {
        Type: "AWS::IAM::Role",
        Condition: "IsRoleRegion",
        Properties: {
          RoleName: input.memberRoleName,
          Description: `eks-responder (${input.prefix}): what the hub's functions do in this account, in ${input.regions.join(", ")}`,
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: memberTrustPolicy(input.hubRoleNames, input.organizationId),
          Policies: [{ PolicyName: "remediation", PolicyDocument: toCfnPolicy(memberExecutionPolicy(input.regions)) }],
        },
      },
      RollbackRole: {
        Type: "AWS::IAM::Role",
        Condition: "IsRoleRegion",
        Properties: {
          RoleName: input.memberRollbackRoleName,
          Description: `eks-responder (${input.prefix}): undo a recorded remediation in this account (the hub's operators only)`,
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: memberRollbackTrustPolicy(input.hubRollbackRoleName, input.organizationId),
          Policies: [{ PolicyName: "rollback", PolicyDocument: toCfnPolicy(memberRollbackPolicy(input.regions)) }],
        },
      },
      ForwardingRole: {
        Type: "AWS::IAM::Role",
        Condition: "IsRoleRegion",
        Properties: {
          RoleName: input.forwardingRoleName,
          Description: `eks-responder (${input.prefix}): EventBridge puts this account's events on the hub bus`,
          AssumeRolePolicyDocument: forwardingTrustPolicy(),
          Policies: [{ PolicyName: "put-events-on-the-hub-bus", PolicyDocument: forwardingPolicy(hubBus) }],
        },
      },
      ...rules,
    },
    Outputs: {
      ExecutionRoleArn: { Condition: "IsRoleRegion", Value: { "Fn::GetAtt": ["ExecutionRole", "Arn"] } },
      RollbackRoleArn: { Condition: "IsRoleRegion", Value: { "Fn::GetAtt": ["RollbackRole", "Arn"] } },
    },
  };
}

/** The hub's function roles that act in member accounts (the two with the remediation statements). */
export const HUB_ACTING_FUNCTIONS = ["respond", "approval-apply"] as const;

/** The organization settings of a hub or member deployment; throws in standalone mode (a wiring error). */
export function organizationOf(settings: Settings): OrganizationSettings {
  if (!settings.organization) throw new Error(`${settings.deployment} mode has no organization settings`);
  return settings.organization;
}

/** What the member template is generated from, for this deployment. */
export function memberTemplateInput(settings: Settings): MemberTemplateInput {
  const org = organizationOf(settings);
  return {
    prefix: settings.prefix,
    organizationId: org.organizationId,
    hubRegion: org.hubRegion,
    organizationBusName: settings.organizationBusName,
    hubRoleNames: HUB_ACTING_FUNCTIONS.map((id) => settings.functionRoleNames[id]),
    memberRoleName: org.memberRoleName,
    hubRollbackRoleName: settings.rollbackRoleName,
    memberRollbackRoleName: org.memberRollbackRoleName,
    forwardingRoleName: org.forwardingRoleName,
    regions: org.regions,
  };
}

/** The member template as the StackSet and member mode's stack deploy it. */
export function memberTemplateBody(settings: Settings): string {
  return JSON.stringify(memberTemplate(memberTemplateInput(settings)));
}
