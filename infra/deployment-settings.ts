/**
 * The deployment mode and the organization settings (EKS_RESPONDER_DEPLOYMENT and the variables of hub and member
 * modes), as plain data validated at load: a malformed value throws with the variable, the value and what was
 * expected, so a bad setting fails the deploy (or the synth), never the first event. docs/deploy.md lists them.
 */

export const DEPLOYMENT_MODES = ["standalone", "hub", "member"] as const;
export type DeploymentMode = (typeof DEPLOYMENT_MODES)[number];

/** The member role name when EKS_RESPONDER_MEMBER_ROLE_NAME is unset. */
export const DEFAULT_MEMBER_ROLE_NAME = "eks-responder-member";

export interface OrganizationSettings {
  /** The AWS Organizations id (EKS_RESPONDER_ORGANIZATION_ID, `o-` and 10 to 32 lower-case letters or digits). */
  organizationId: string;
  /**
   * The security account the hub runs in (EKS_RESPONDER_HUB_ACCOUNT). Required in member mode; in hub mode it
   * defaults to the deploying account, and a different value stops the deploy.
   */
  hubAccount: string | undefined;
  /** The hub's region: the deployment region in hub mode, EKS_RESPONDER_HUB_REGION in member mode. */
  hubRegion: string;
  /** The member regions (EKS_RESPONDER_REGIONS, comma-separated): where the forwarding rules go. */
  regions: string[];
  /** The one region of the member regions where the global IAM roles are created: the first listed. */
  roleRegion: string;
  /** The execution role each member account gets (EKS_RESPONDER_MEMBER_ROLE_NAME). */
  memberRoleName: string;
  /**
   * The rollback role each member account gets: `<memberRoleName>-rollback`, holding the actions' rollback permissions
   * only, and assumed only from the hub's operator rollback role (`eks-responder rollback --role-arn`).
   */
  memberRollbackRoleName: string;
  /** The role EventBridge uses in a member account to put events on the hub bus. */
  forwardingRoleName: string;
  /** The sts:ExternalId the hub passes and the member role requires (EKS_RESPONDER_EXTERNAL_ID). */
  externalId: string;
  /** The OUs the StackSet deploys to (EKS_RESPONDER_TARGET_OUS); empty: the organization root. */
  targetOus: string[];
  /** The organization root (EKS_RESPONDER_ORGANIZATION_ROOT, `r-…`): the StackSet target when no OU is named. */
  organizationRoot: string | undefined;
  /**
   * The GuardDuty delegated administrator (EKS_RESPONDER_GUARDDUTY_ADMIN_ACCOUNT, default: the hub account). GuardDuty
   * findings are forwarded from this account only: it receives every member's findings on its own bus.
   */
  guardDutyAdminAccount: string | undefined;
  /**
   * How the hub calls StackSets (EKS_RESPONDER_STACKSET_CALL_AS): DELEGATED_ADMIN (default: the hub runs in a
   * security account registered as a StackSets delegated administrator) or SELF (from the management account).
   */
  stackSetCallAs: "SELF" | "DELEGATED_ADMIN";
}

const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const ROOT_ID = /^r-[0-9a-z]{4,32}$/;
const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
const ACCOUNT_ID = /^\d{12}$/;
/** Region names of every partition (us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ap-southeast-7 …). */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
/** IAM role names: 64 characters of [\w+=,.@-]. https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html */
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
/** sts:AssumeRole's ExternalId: 2 to 1,224 of [\w+=,.@:/-]. https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html */
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
/** Shorter external ids are guessable; AWS suggests a UUID-like value. */
const MIN_EXTERNAL_ID = 16;

type Env = Readonly<Record<string, string | undefined>>;

/** A comma-separated list of the environment, trimmed, without empty items and repeats. */
export function listSetting(env: Env, variable: string): string[] {
  return [
    ...new Set(
      (env[variable] ?? "")
        .split(",")
        .map((v) => v.trim())
        .filter((v) => v !== ""),
    ),
  ];
}

function checked(variable: string, value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new Error(`${variable}: "${value}" is not ${what}`);
  return value;
}

function required(env: Env, variable: string, mode: DeploymentMode, example: string): string {
  const value = env[variable]?.trim();
  if (!value) throw new Error(`${variable} is required in ${mode} mode (for example ${example})`);
  return value;
}

/** EKS_RESPONDER_DEPLOYMENT: standalone (the default), hub or member. */
export function deploymentMode(env: Env): DeploymentMode {
  const value = env.EKS_RESPONDER_DEPLOYMENT?.trim() || "standalone";
  const mode = DEPLOYMENT_MODES.find((m) => m === value);
  if (!mode) throw new Error(`EKS_RESPONDER_DEPLOYMENT: "${value}" is not one of ${DEPLOYMENT_MODES.join(", ")}`);
  return mode;
}

/**
 * The organization settings of a hub or member deployment (undefined in standalone mode, where none is read).
 * `deployRegion` is the region the deploy runs in (EKS_RESPONDER_REGION).
 */
export function organizationSettings(
  mode: DeploymentMode,
  env: Env,
  deployRegion: string,
  prefix: string,
): OrganizationSettings | undefined {
  if (mode === "standalone") return undefined;
  const organizationId = checked(
    "EKS_RESPONDER_ORGANIZATION_ID",
    required(env, "EKS_RESPONDER_ORGANIZATION_ID", mode, "o-a1b2c3d4e5"),
    ORGANIZATION_ID,
    "an organization id (o- and 10 to 32 lower-case letters or digits)",
  );
  const hubAccountValue = env.EKS_RESPONDER_HUB_ACCOUNT?.trim() || undefined;
  if (mode === "member" && hubAccountValue === undefined)
    required(env, "EKS_RESPONDER_HUB_ACCOUNT", mode, "111122223333");
  const hubAccount =
    hubAccountValue === undefined
      ? undefined
      : checked("EKS_RESPONDER_HUB_ACCOUNT", hubAccountValue, ACCOUNT_ID, "an AWS account id (12 digits)");
  const hubRegion = checked(
    mode === "member" ? "EKS_RESPONDER_HUB_REGION" : "EKS_RESPONDER_REGION",
    mode === "member" ? env.EKS_RESPONDER_HUB_REGION?.trim() || deployRegion : deployRegion,
    REGION,
    "an AWS region name",
  );
  const regions = listSetting(env, "EKS_RESPONDER_REGIONS");
  if (regions.length === 0) {
    throw new Error(`EKS_RESPONDER_REGIONS is required in ${mode} mode (the member regions, e.g. eu-west-1,us-east-1)`);
  }
  for (const r of regions) checked("EKS_RESPONDER_REGIONS", r, REGION, "an AWS region name");
  const memberRoleName = checked(
    "EKS_RESPONDER_MEMBER_ROLE_NAME",
    env.EKS_RESPONDER_MEMBER_ROLE_NAME?.trim() || DEFAULT_MEMBER_ROLE_NAME,
    ROLE_NAME,
    "an IAM role name (1 to 64 of letters, digits and +=,.@_-)",
  );
  const memberRollbackRoleName = `${memberRoleName}-rollback`;
  if (!ROLE_NAME.test(memberRollbackRoleName)) {
    throw new Error(
      `EKS_RESPONDER_MEMBER_ROLE_NAME: the member rollback role ${memberRollbackRoleName} is longer than 64 characters; use a member role name of 55 characters or fewer`,
    );
  }
  const forwardingRoleName = `${prefix}-forwarding`;
  if (!ROLE_NAME.test(forwardingRoleName))
    throw new Error(`role name ${forwardingRoleName} is longer than 64 characters`);
  const externalId = checked(
    "EKS_RESPONDER_EXTERNAL_ID",
    required(env, "EKS_RESPONDER_EXTERNAL_ID", mode, "$(openssl rand -hex 16)"),
    EXTERNAL_ID,
    "an sts:ExternalId (2 to 1,224 of letters, digits and +=,.@:/_-)",
  );
  if (externalId.length < MIN_EXTERNAL_ID) {
    throw new Error(`EKS_RESPONDER_EXTERNAL_ID: ${externalId.length} characters; use ${MIN_EXTERNAL_ID} or more`);
  }
  const targetOus = listSetting(env, "EKS_RESPONDER_TARGET_OUS");
  for (const ou of targetOus) checked("EKS_RESPONDER_TARGET_OUS", ou, OU_ID, "an organizational unit id (ou-…)");
  const rootValue = env.EKS_RESPONDER_ORGANIZATION_ROOT?.trim() || undefined;
  const organizationRoot =
    rootValue === undefined
      ? undefined
      : checked("EKS_RESPONDER_ORGANIZATION_ROOT", rootValue, ROOT_ID, "an organization root id (r-…)");
  if (mode === "hub" && targetOus.length === 0 && organizationRoot === undefined) {
    throw new Error(
      "hub mode: set EKS_RESPONDER_ORGANIZATION_ROOT (r-…, the whole organization) or EKS_RESPONDER_TARGET_OUS (ou-…)",
    );
  }
  const adminValue = env.EKS_RESPONDER_GUARDDUTY_ADMIN_ACCOUNT?.trim() || undefined;
  const guardDutyAdminAccount =
    adminValue === undefined
      ? hubAccount
      : checked("EKS_RESPONDER_GUARDDUTY_ADMIN_ACCOUNT", adminValue, ACCOUNT_ID, "an AWS account id (12 digits)");
  const callAs = env.EKS_RESPONDER_STACKSET_CALL_AS?.trim() || "DELEGATED_ADMIN";
  if (callAs !== "SELF" && callAs !== "DELEGATED_ADMIN") {
    throw new Error(`EKS_RESPONDER_STACKSET_CALL_AS: "${callAs}" is not SELF or DELEGATED_ADMIN`);
  }
  return {
    organizationId,
    hubAccount,
    hubRegion,
    regions,
    roleRegion: regions[0] ?? hubRegion,
    memberRoleName,
    memberRollbackRoleName,
    forwardingRoleName,
    externalId,
    targetOus,
    organizationRoot,
    guardDutyAdminAccount,
    stackSetCallAs: callAs,
  };
}
