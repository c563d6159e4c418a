/**
 * The responder's own calls: a CloudTrail event made with the credentials of one of eks-responder's own roles (a
 * function's execution role, or the operator rollback role) is the responder's own change, or the undo of one, and is
 * never acted on. Without this, the transition group isolate-instance creates (all traffic from 0.0.0.0/0) would be
 * revoked by the world-open ingress detector, and a rollback's re-authorized rule revoked again.
 *
 * How CloudTrail writes the caller of a Lambda function (temporary credentials of its execution role): `userIdentity`
 * has `type: "AssumedRole"`, `arn: arn:<partition>:sts::<account>:assumed-role/<role name>/<session name>` (the
 * session name of a Lambda is the function name; the role's path is not in this ARN) and
 * `sessionContext.sessionIssuer.arn: arn:<partition>:iam::<account>:role/<path><role name>`.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
 *
 * The roles are matched exactly (partition, account and role name; with the path when the issuer ARN is there), never
 * by a name prefix: a prefix would let anyone who can create a role named like the responder's have their changes
 * ignored. The session name is never trusted: whoever assumes a role picks it.
 */
import type { Actor } from "../signals/types.ts";

/** An IAM role ARN: partition, account, optional path, name. */
const ROLE_ARN = /^arn:(aws(?:-[a-z]+)*):iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,64})$/;
/** An assumed-role session ARN: partition, account, role name, session name. */
const ASSUMED_ROLE_ARN = /^arn:(aws(?:-[a-z]+)*):sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/([\w+=,.@-]{2,64})$/;

interface RoleId {
  partition: string;
  account: string;
  /** `/` or `/path/`. */
  path: string;
  name: string;
}

/** The parts of an IAM role ARN, or undefined when it is not one. */
export function parseRoleArn(arn: string): RoleId | undefined {
  const m = ROLE_ARN.exec(arn);
  if (!m) return undefined;
  const [, partition, account, path, name] = m;
  if (partition === undefined || account === undefined || name === undefined) return undefined;
  return { partition, account, path: `/${path ?? ""}`, name };
}

/** The error message of a role ARN the policy or the deployment gives that is not one. */
export const ROLE_ARN_MESSAGE =
  "expected an IAM role ARN such as arn:aws:iam::111122223333:role/eks-responder-prod-respond (exact: no wildcards)";

export function isRoleArn(arn: string): boolean {
  return parseRoleArn(arn) !== undefined;
}

/**
 * The responder role that made the call, or undefined when the caller is anyone else (or cannot be told). An actor
 * whose issuer ARN and session ARN disagree (another account or role name) is not matched: fail closed, the event is
 * handled like anyone's.
 */
export function ownRoleOf(
  actor: Actor,
  roleArns: readonly string[],
  member?: { roleName: string; account: string },
): string | undefined {
  if ((roleArns.length === 0 && !member) || actor.type !== "AssumedRole" || actor.arn === undefined) return undefined;
  const session = ASSUMED_ROLE_ARN.exec(actor.arn);
  if (!session) return undefined;
  const [, partition, account, roleName] = session;
  // Hub mode: the member role the hub assumes in each member account (aws/member.ts), matched exactly like the others,
  // in the account of the event only (its CloudTrail names `assumed-role/<member role>/eks-responder-asm-…`).
  if (member && partition !== undefined && account === member.account) {
    roleArns = [...roleArns, `arn:${partition}:iam::${account}:role/${member.roleName}`];
  }
  const issuer = actor.sessionIssuerArn === undefined ? undefined : parseRoleArn(actor.sessionIssuerArn);
  if (actor.sessionIssuerArn !== undefined) {
    if (!issuer || issuer.partition !== partition || issuer.account !== account || issuer.name !== roleName) {
      return undefined;
    }
  }
  return roleArns.find((arn) => {
    const own = parseRoleArn(arn);
    if (!own || own.partition !== partition || own.account !== account || own.name !== roleName) return false;
    // The path is only in the issuer ARN: when CloudTrail gives it, it must be the role's too.
    return issuer === undefined || issuer.path === own.path;
  });
}
