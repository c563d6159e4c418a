import type { AssumeRoleCommandInput } from "@aws-sdk/nested-clients/sts";

/** The member session's keys in AssumeRoleAnswer. */
export const MEMBER_ACCESS_KEY_ID = "ASIAIOSFODNN7EXAMPLE";
export const MEMBER_SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE";

/**
 * AssumeRole's answer for the session asked, as its API reference's example shows it (Credentials with AccessKeyId,
 * SecretAccessKey, SessionToken, Expiration; AssumedRoleUser with the session ARN):
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html. For aws-sdk-client-mock's
 * `sts.on(AssumeRoleCommand).callsFake(assumeRoleAnswer)`.
 */
export function assumeRoleAnswer(input: AssumeRoleCommandInput) {
  const [, , , , account, resource] = (input.RoleArn ?? "").split(":");
  const role = resource?.split("/").at(-1);
  return {
    Credentials: {
      AccessKeyId: MEMBER_ACCESS_KEY_ID,
      SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
      SessionToken: MEMBER_SESSION_TOKEN,
      Expiration: new Date(Date.now() + 900_000),
    },
    AssumedRoleUser: {
      Arn: `arn:aws:sts::${account}:assumed-role/${role}/${input.RoleSessionName}`,
      AssumedRoleId: `AROA3XFRBF535PLBIFPI4:${input.RoleSessionName}`,
    },
  };
}
