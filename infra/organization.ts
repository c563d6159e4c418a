import type { OrganizationSettings } from "./deployment-settings.ts";
import { memberTemplateBody, organizationOf } from "./member-template.ts";
import type { Settings } from "./naming.ts";
import { organizationBusPolicy } from "./organization-iam.ts";

/** The template parameters: the hub account, the ExternalId, and the GuardDuty administrator (default the hub). */
function templateParameters(org: OrganizationSettings, hubAccount: $util.Input<string>) {
  return {
    HubAccountId: hubAccount,
    ExternalId: org.externalId,
    GuardDutyAdminAccountId: org.guardDutyAdminAccount ?? hubAccount,
  };
}

/**
 * Hub mode: the organization bus (its policy: PutEvents from the organization only) and the String parameter with
 * the ExternalId the functions pass (an ExternalId is not a secret: it only stops a confused deputy,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html).
 */
export function createOrganizationBus(settings: Settings) {
  const org = organizationOf(settings);
  const bus = new aws.cloudwatch.EventBus("OrganizationBus", { name: settings.organizationBusName });
  new aws.cloudwatch.EventBusPolicy("OrganizationBusPolicy", {
    eventBusName: bus.name,
    policy: bus.arn.apply((arn) => JSON.stringify(organizationBusPolicy(arn, org.organizationId))),
  });
  const externalId = new aws.ssm.Parameter("MemberExternalId", {
    name: settings.memberExternalIdParameterName,
    description: "eks-responder: the sts:ExternalId the hub passes to the member roles",
    type: "String",
    value: org.externalId,
  });
  return { bus, externalId };
}

/**
 * Hub mode: the service-managed StackSet that carries the member template to the organization root or the chosen
 * OUs, with auto-deployment (accounts that join later get it; stacks are removed from accounts that leave), and one
 * stack-set instance per member region. The role region's instance is created first and the others after it, so
 * the roles exist before the rules that name them. A service-managed StackSet never deploys to the management
 * account (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-manage-auto-deployment.html):
 * deploy member mode there if it runs EKS. `callAs: DELEGATED_ADMIN`: the hub runs in a member (security) account
 * registered as a StackSets delegated administrator; from the management account set EKS_RESPONDER_STACKSET_CALL_AS=SELF.
 */
export function createMemberStackSet(settings: Settings, hubAccount: $util.Input<string>) {
  const org = organizationOf(settings);
  const callAs = org.stackSetCallAs;
  const stackSet = new aws.cloudformation.StackSet("MemberStackSet", {
    name: `${settings.prefix}-member`,
    description: "eks-responder member accounts: forwarding rules to the hub bus and the execution role",
    permissionModel: "SERVICE_MANAGED",
    autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
    callAs,
    capabilities: ["CAPABILITY_NAMED_IAM"],
    managedExecution: { active: true },
    parameters: templateParameters(org, hubAccount),
    templateBody: memberTemplateBody(settings),
  });
  const targets = org.targetOus.length > 0 ? org.targetOus : [org.organizationRoot ?? ""];
  const [first, ...rest] = org.regions;
  const instance = (region: string, dependsOn: aws.cloudformation.StackSetInstance[]) =>
    new aws.cloudformation.StackSetInstance(
      `MemberStackSet-${region}`,
      {
        stackSetName: stackSet.name,
        callAs,
        stackSetInstanceRegion: region,
        deploymentTargets: { organizationalUnitIds: targets },
        operationPreferences: { failureTolerancePercentage: 10, maxConcurrentPercentage: 25 },
      },
      { dependsOn },
    );
  const roleRegion = instance(first ?? org.roleRegion, []);
  return { stackSet, instances: [roleRegion, ...rest.map((region) => instance(region, [roleRegion]))] };
}

/**
 * Member mode: the member template as one stack of this account and region (no function, table or topic): for an
 * account the StackSet cannot reach (the management account) or to try the template in one account. Run it once
 * per member region; the roles are created in the first of EKS_RESPONDER_REGIONS.
 */
export function createMemberStack(settings: Settings) {
  const org = organizationOf(settings);
  return new aws.cloudformation.Stack("MemberStack", {
    name: `${settings.prefix}-member`,
    capabilities: ["CAPABILITY_NAMED_IAM"],
    parameters: templateParameters(org, org.hubAccount ?? ""),
    templateBody: memberTemplateBody(settings),
  });
}
