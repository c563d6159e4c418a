import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { isTransient } from "../guardrails/faults.ts";
import { awsErrorCode, awsErrorMessage } from "./errors.ts";

/**
 * Acting in a member account (hub mode, and the CLI's `--role-arn`): the AWS clients of an assessment in account A use
 * the credentials of `sts:AssumeRole` of A's execution role, with the ExternalId the member template sets in the role's
 * trust policy and a session name that carries the assessment id. The member account's CloudTrail names every call
 * made with them `arn:<partition>:sts::A:assumed-role/<role>/eks-responder-asm-…`, so it shows which assessment made
 * each change.
 * @see https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html (RoleSessionName: 2–64 characters of
 * `[\w+=,.@-]`; ExternalId: 2–1224 characters of `[\w+=,.@:/-]`; DurationSeconds: 900 at least)
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_third-party.html (the ExternalId)
 *
 * The credentials come from the SDK's own provider (`fromTemporaryCredentials` of `@aws-sdk/credential-providers`,
 * loaded on the first AssumeRole); the SDK clients given them refresh them before they expire.
 */

/** Every session the responder opens in a member account starts with this. */
export const MEMBER_SESSION_PREFIX = "eks-responder-";

/** How long a member session lasts: the shortest AssumeRole allows (900 s), so a leaked session is short-lived. */
export const MEMBER_SESSION_SECONDS = 900;

/** The characters AssumeRole allows in a RoleSessionName. */
const SESSION_CHAR = /[\w+=,.@-]/;
/** A role name with an optional path, as MEMBER_ROLE_NAME and `--role-arn` give it. */
const ROLE_PATH_NAME = /^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
/** An IAM role ARN, with its parts. */
const ROLE_ARN = /^arn:(aws(?:-[a-z]+)*):iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64})$/;

/**
 * The RoleSessionName of an assessment's session: `eks-responder-asm-…`, any character AssumeRole refuses written as
 * `-`, cut to 64 characters. Assessment ids (`asm-` + 20 hex digits) always fit whole.
 */
export function memberSessionName(assessmentId: string): string {
  const safe = [...assessmentId].map((c) => (SESSION_CHAR.test(c) ? c : "-")).join("");
  return `${MEMBER_SESSION_PREFIX}${safe}`.slice(0, 64);
}

export function isRolePathName(name: string): boolean {
  return ROLE_PATH_NAME.test(name);
}

/** The partition of a Region code: `aws-cn` for cn-…, `aws-us-gov` for us-gov-…, the SDK's table for the others. */
export async function partitionOf(region: string): Promise<string> {
  const { partition } = await import("@aws-sdk/core/client");
  return partition(region).name;
}

/** `arn:<partition>:iam::<account>:role/<path/name>`: the member role of one account. */
export function memberRoleArn(partition: string, account: string, roleName: string): string {
  return `arn:${partition}:iam::${account}:role/${roleName}`;
}

/** The account and `path/name` of a role ARN, or undefined when it is not one. */
export function roleArnParts(arn: string): { partition: string; account: string; name: string } | undefined {
  const m = ROLE_ARN.exec(arn);
  if (!m?.[1] || !m[2] || !m[3]) return undefined;
  return { partition: m[1], account: m[2], name: m[3] };
}

export interface MemberRole {
  roleArn: string;
  /** The ExternalId, or where it is read from (an SSM parameter, read when the session is first opened). */
  externalId?: string | (() => Promise<string | undefined>);
  sessionName: string;
}

/**
 * The member role could not be assumed (denied, the role missing in the account, no ExternalId). Nothing was done in
 * the member account, and nothing is ever done with the caller's own credentials instead. Its `code` is the cause's
 * when that is transient (STS throttling, a timeout), so the event is retried; AWS.ASSUME_ROLE_FAILED otherwise.
 */
export class MemberRoleError extends Error {
  override name = "MemberRoleError";
  readonly code: string;
  readonly account: string;
  readonly roleArn: string;
  constructor(roleArn: string, account: string, cause: unknown) {
    const causeCode = awsErrorCode(cause);
    super(
      `cannot act in account ${account}: sts:AssumeRole of ${roleArn} failed (${causeCode}: ${awsErrorMessage(cause)}); ` +
        `nothing was done in account ${account}, and nothing is done with the responder's own credentials instead`,
      { cause },
    );
    this.code = isTransient(causeCode) ? causeCode : "AWS.ASSUME_ROLE_FAILED";
    this.account = account;
    this.roleArn = roleArn;
  }
}

/**
 * The credentials of `role` for the clients of `region` (the regional STS endpoint of its partition). The provider
 * assumes the role on each call: give it to an SDK client's `credentials`, which keeps the credentials until shortly
 * before they expire. A failure is a MemberRoleError naming the account and the role.
 */
export function memberCredentials(
  role: MemberRole,
  region: string,
  options: { masterCredentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider } = {},
): AwsCredentialIdentityProvider {
  const account = roleArnParts(role.roleArn)?.account ?? "(unknown)";
  return async () => {
    try {
      const externalId = typeof role.externalId === "function" ? await role.externalId() : role.externalId;
      if (typeof role.externalId === "function" && !externalId) {
        throw new Error("the ExternalId parameter is missing or empty");
      }
      const { fromTemporaryCredentials } = await import("./credentials.ts");
      const provider = fromTemporaryCredentials({
        params: {
          RoleArn: role.roleArn,
          RoleSessionName: role.sessionName,
          DurationSeconds: MEMBER_SESSION_SECONDS,
          ...(externalId ? { ExternalId: externalId } : {}),
        },
        clientConfig: { region },
        ...(options.masterCredentials ? { masterCredentials: options.masterCredentials } : {}),
      });
      return await provider();
    } catch (error) {
      throw new MemberRoleError(role.roleArn, account, error);
    }
  };
}
