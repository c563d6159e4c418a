import type { ClientOptions } from "@eks-responder/core/aws/clients.ts";
import { memberCredentials, memberSessionName, roleArnParts } from "@eks-responder/core/aws/member.ts";

/**
 * `--role-arn ARN [--external-id ID]`: act in a member account the way the hub does (aws/member.ts), assuming the role
 * from the operator's own credentials with the ExternalId and a session named after the assessment
 * (`eks-responder-asm-…`), so the member account's CloudTrail shows which assessment each change was for.
 */
export interface MemberRoleOption {
  roleArn: string;
  /** The account of the role: only that account's assessments are acted on. */
  account: string;
  externalId?: string;
}

/** The option as given, checked: a message for the command line when it is not an IAM role ARN. */
export function memberRoleOption(roleArn: unknown, externalId: unknown): MemberRoleOption | string | undefined {
  if (roleArn === undefined) {
    return externalId === undefined ? undefined : "--external-id only goes with --role-arn";
  }
  const parts = typeof roleArn === "string" ? roleArnParts(roleArn) : undefined;
  if (!parts || typeof roleArn !== "string") {
    return `--role-arn: expected an IAM role ARN such as arn:aws:iam::111122223333:role/eks-responder-execution`;
  }
  if (externalId !== undefined && (typeof externalId !== "string" || !/^[\w+=,.@:/-]{2,1224}$/.test(externalId))) {
    return "--external-id: expected 2 to 1224 characters of letters, digits and +=,.@:/-";
  }
  return { roleArn, account: parts.account, ...(typeof externalId === "string" ? { externalId } : {}) };
}

/** The client options of one assessment's actions: the role's session named after it, when a role was given. */
export function clientOptionsFor(
  region: string,
  assessmentId: string,
  role: MemberRoleOption | undefined,
  endpoint: string | undefined,
): ClientOptions {
  return {
    ...(endpoint ? { endpoint } : {}),
    ...(role
      ? {
          credentials: memberCredentials(
            {
              roleArn: role.roleArn,
              sessionName: memberSessionName(assessmentId),
              ...(role.externalId ? { externalId: role.externalId } : {}),
            },
            region,
          ),
        }
      : {}),
  };
}

/** Why an assessment of `account` is not acted on with `role`, or undefined when it may be. */
export function wrongAccount(role: MemberRoleOption | undefined, account: string): string | undefined {
  if (!role || role.account === account) return undefined;
  return `the event is of account ${account}, and --role-arn ${role.roleArn} acts in account ${role.account}: not acted on`;
}
