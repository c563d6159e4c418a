import { describe, expect, it } from "vitest";
import { ownRoleOf, parseRoleArn } from "../../../packages/core/src/guardrails/own-calls.ts";

const ROLE = "arn:aws:iam::111122223333:role/eks-responder-prod-respond";
const session = (role: string, name = "eks-responder-prod-respond") =>
  `arn:aws:sts::111122223333:assumed-role/${role}/${name}`;

describe("ownRoleOf", () => {
  it("recognises a Lambda's session of a responder role, whatever the session name", () => {
    // prepare: userIdentity as CloudTrail writes an assumed role (cloudtrail-event-reference-user-identity)
    const actor = { type: "AssumedRole", arn: session("eks-responder-prod-respond"), sessionIssuerArn: ROLE };
    // act + assess
    expect(ownRoleOf(actor, [ROLE])).toBe(ROLE);
    expect(ownRoleOf({ ...actor, arn: session("eks-responder-prod-respond", "anything") }, [ROLE])).toBe(ROLE);
  });

  it("never matches another role, another account, a look-alike name or a session spoofing the function name", () => {
    expect(
      ownRoleOf({ type: "AssumedRole", arn: session("eks-responder-prod-respond-x"), sessionIssuerArn: `${ROLE}-x` }, [
        ROLE,
      ]),
    ).toBeUndefined();
    expect(
      ownRoleOf(
        {
          type: "AssumedRole",
          arn: "arn:aws:sts::444455556666:assumed-role/eks-responder-prod-respond/eks-responder-prod-respond",
          sessionIssuerArn: "arn:aws:iam::444455556666:role/eks-responder-prod-respond",
        },
        [ROLE],
      ),
    ).toBeUndefined();
    // Anyone may name their session after the function: only the role counts.
    expect(
      ownRoleOf(
        { type: "AssumedRole", arn: session("DevOps"), sessionIssuerArn: "arn:aws:iam::111122223333:role/DevOps" },
        [ROLE],
      ),
    ).toBeUndefined();
    expect(
      ownRoleOf({ type: "IAMUser", arn: "arn:aws:iam::111122223333:user/eks-responder-prod-respond" }, [ROLE]),
    ).toBeUndefined();
  });

  it("fails closed when the issuer and the session disagree, or the path differs", () => {
    const arn = session("eks-responder-prod-respond");
    expect(
      ownRoleOf({ type: "AssumedRole", arn, sessionIssuerArn: "arn:aws:iam::111122223333:role/other" }, [ROLE]),
    ).toBeUndefined();
    expect(
      ownRoleOf(
        {
          type: "AssumedRole",
          arn,
          sessionIssuerArn: "arn:aws:iam::111122223333:role/team/eks-responder-prod-respond",
        },
        [ROLE],
      ),
    ).toBeUndefined();
    // Without an issuer ARN, the session ARN's partition, account and role name decide.
    expect(ownRoleOf({ type: "AssumedRole", arn }, [ROLE])).toBe(ROLE);
    expect(ownRoleOf({ type: "AssumedRole", arn }, [])).toBeUndefined();
  });

  it("reads role ARNs of every partition, with paths, and refuses wildcards", () => {
    expect(parseRoleArn("arn:aws-us-gov:iam::111122223333:role/ops/eks-responder-prod-rollback")).toEqual({
      partition: "aws-us-gov",
      account: "111122223333",
      path: "/ops/",
      name: "eks-responder-prod-rollback",
    });
    expect(parseRoleArn("arn:aws:iam::111122223333:role/eks-responder-*")).toBeUndefined();
    expect(parseRoleArn("arn:aws:iam::*:role/eks-responder-prod-respond")).toBeUndefined();
  });
});

describe("ownRoleOf in hub mode (the member role)", () => {
  const MEMBER = "444455556666";
  const memberSession = (account: string, role = "eks-responder-execution") => ({
    type: "AssumedRole",
    arn: `arn:aws:sts::${account}:assumed-role/${role}/eks-responder-asm-0123456789abcdef0123`,
    sessionIssuerArn: `arn:aws:iam::${account}:role/${role}`,
  });

  it("recognises the member role's session in the account of the event", () => {
    expect(ownRoleOf(memberSession(MEMBER), [], { roleName: "eks-responder-execution", account: MEMBER })).toBe(
      `arn:aws:iam::${MEMBER}:role/eks-responder-execution`,
    );
  });

  it("matches it exactly: not in another account than the event's, not a look-alike name, not without the setting", () => {
    const member = { roleName: "eks-responder-execution", account: MEMBER };
    expect(ownRoleOf(memberSession("777788889999"), [], member)).toBeUndefined();
    expect(ownRoleOf(memberSession(MEMBER, "eks-responder-execution-x"), [], member)).toBeUndefined();
    expect(ownRoleOf(memberSession(MEMBER), [])).toBeUndefined();
    // A path in the setting must be the issuer's path too.
    expect(
      ownRoleOf(memberSession(MEMBER), [], { ...member, roleName: "ops/eks-responder-execution" }),
    ).toBeUndefined();
  });
});
