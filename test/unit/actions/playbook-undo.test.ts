import {
  AuthorizeSecurityGroupIngressCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { halfDoneNotice, runPlaybook, stillApplied } from "../../../packages/core/src/actions/run.ts";
import type { Assessment } from "../../../packages/core/src/detectors/types.ts";
import { ASSESSMENT_ID, applyContext, commandsSent, ec2Error } from "./apply/helpers.ts";

const ec2 = mockClient(EC2Client);
const stubs = { ec2 };

const FIRST = "sg-0632fa4ee8a8468a4";
const SECOND = "sg-0b1c2d3e4f5a6b7c8";
const THIRD = "sg-0a9b8c7d6e5f4a3b2";
const rule = (ruleId: string) => ({ ruleId, protocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" });
const revoke = (groupId: string, ruleId: string) => ({
  action: "ec2:revoke-ingress",
  params: { groupId, ruleIds: [ruleId], rules: [rule(ruleId)] },
});
const SSH_PERMISSION = { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] };

function assessment(actions: Assessment["actions"]): Assessment {
  return {
    id: ASSESSMENT_ID,
    detectorId: "ec2-open-ingress",
    severity: "high",
    title: "test playbook of several actions",
    account: "111122223333",
    region: "eu-west-1",
    resources: {},
    evidence: [],
    actions,
    doubts: [],
    notes: [],
    subject: {},
  };
}

/** EC2's answer to a revoke by rule id: the rules it removed. https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RevokeSecurityGroupIngress.html */
function revokes(groupId: string, ruleId: string): void {
  ec2.on(RevokeSecurityGroupIngressCommand, { GroupId: groupId }).resolves({
    Return: true,
    RevokedSecurityGroupRules: [
      {
        SecurityGroupRuleId: ruleId,
        GroupId: groupId,
        IsEgress: false,
        IpProtocol: "tcp",
        FromPort: 22,
        ToPort: 22,
        CidrIpv4: "0.0.0.0/0",
      },
    ],
  });
}

/** A permanent refusal: EC2's UnauthorizedOperation (403). https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html */
function refusesRevoke(groupId: string): void {
  ec2.on(RevokeSecurityGroupIngressCommand, { GroupId: groupId }).rejects(ec2Error("UnauthorizedOperation", 403));
}

beforeEach(() => {
  ec2.reset();
});

afterAll(() => {
  ec2.restore();
});

describe("runPlaybook when an action fails after others applied", () => {
  it("undoes nothing without rollback rights, and says which action stays applied and how to undo it", async () => {
    // prepare: the first revoke succeeds, the second is refused for good
    revokes(FIRST, "sgr-0000000000000000a");
    refusesRevoke(SECOND);
    const { ctx } = applyContext(false);

    // act
    const outcomes = await runPlaybook(
      assessment([revoke(FIRST, "sgr-0000000000000000a"), revoke(SECOND, "sgr-0000000000000000b")]),
      ctx,
    );

    // assess
    expect(outcomes.map((o) => [o.action, o.status])).toEqual([
      ["ec2:revoke-ingress", "applied"],
      ["ec2:revoke-ingress", "failed"],
    ]);
    expect(outcomes[0]?.undone).toEqual({
      status: "refused",
      reason: "no rollback permission in this role (rollback is the operator's)",
      calls: [],
    });
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(0);
    expect(stillApplied(outcomes)).toEqual([outcomes[0]]);
    expect(halfDoneNotice(ASSESSMENT_ID, outcomes, "eks-responder-prod")).toBe(
      "PLAN HALF DONE: ec2:revoke-ingress failed; still applied: ec2:revoke-ingress (not undone: no rollback permission in this role (rollback is the operator's)); " +
        `undo with: eks-responder rollback ${ASSESSMENT_ID} --table eks-responder-prod`,
    );
  });

  it("undoes the earlier action through its own rollback when the caller may, recording the undo's calls", async () => {
    // prepare: as above; the re-authorization of the first group's rule succeeds
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html
    revokes(FIRST, "sgr-0000000000000000a");
    refusesRevoke(SECOND);
    ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    const { ctx } = applyContext(false);

    // act
    const outcomes = await runPlaybook(
      assessment([revoke(FIRST, "sgr-0000000000000000a"), revoke(SECOND, "sgr-0000000000000000b")]),
      ctx,
      { mayUndo: (action) => action.id === "ec2:revoke-ingress" },
    );

    // assess
    expect(commandsSent(stubs)).toEqual([
      ["RevokeSecurityGroupIngress", { GroupId: FIRST, SecurityGroupRuleIds: ["sgr-0000000000000000a"] }],
      ["RevokeSecurityGroupIngress", { GroupId: SECOND, SecurityGroupRuleIds: ["sgr-0000000000000000b"] }],
      ["AuthorizeSecurityGroupIngress", { GroupId: FIRST, IpPermissions: [SSH_PERMISSION] }],
    ]);
    expect(outcomes[0]?.undone).toEqual({
      status: "applied",
      reason: `re-authorized 1 rule(s) in ${FIRST}`,
      calls: [
        {
          service: "ec2",
          operation: "AuthorizeSecurityGroupIngress",
          params: { GroupId: FIRST, IpPermissions: [SSH_PERMISSION] },
          result: "ok",
        },
      ],
    });
    expect(outcomes[1]?.undone).toBeUndefined();
    expect(stillApplied(outcomes)).toEqual([]);
    expect(halfDoneNotice(ASSESSMENT_ID, outcomes)).toBeUndefined();
  });

  it("undoes in reverse order and stops at the first undo that fails, saying what stays applied", async () => {
    // prepare: two revokes succeed, the third is refused; undoing the second is refused too
    revokes(FIRST, "sgr-0000000000000000a");
    revokes(SECOND, "sgr-0000000000000000b");
    refusesRevoke(THIRD);
    ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(ec2Error("UnauthorizedOperation", 403));
    const { ctx } = applyContext(false);

    // act
    const outcomes = await runPlaybook(
      assessment([
        revoke(FIRST, "sgr-0000000000000000a"),
        revoke(SECOND, "sgr-0000000000000000b"),
        revoke(THIRD, "sgr-0000000000000000c"),
      ]),
      ctx,
      { mayUndo: () => true },
    );

    // assess: the second was tried first, and the first not at all
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand).map((c) => c.args[0].input.GroupId)).toEqual([
      SECOND,
    ]);
    expect(outcomes[1]?.undone?.status).toBe("failed");
    expect(outcomes[1]?.undone?.reason).toBe("UnauthorizedOperation: UnauthorizedOperation (test)");
    expect(outcomes[0]?.undone).toEqual({
      status: "refused",
      reason: "the undo of ec2:revoke-ingress failed first",
      calls: [],
    });
    expect(stillApplied(outcomes).map((o) => o.params.groupId)).toEqual([FIRST, SECOND]);
    expect(halfDoneNotice(ASSESSMENT_ID, outcomes)).toBe(
      "PLAN HALF DONE: ec2:revoke-ingress failed; still applied: " +
        "ec2:revoke-ingress (not undone: the undo of ec2:revoke-ingress failed first), " +
        "ec2:revoke-ingress (not undone: UnauthorizedOperation: UnauthorizedOperation (test)); " +
        `undo with: eks-responder rollback ${ASSESSMENT_ID}`,
    );
  });

  it("undoes nothing when the first action fails", async () => {
    refusesRevoke(FIRST);
    const { ctx } = applyContext(false);

    const outcomes = await runPlaybook(
      assessment([revoke(FIRST, "sgr-0000000000000000a"), revoke(SECOND, "sgr-0000000000000000b")]),
      ctx,
      { mayUndo: () => true },
    );

    expect(outcomes.map((o) => o.status)).toEqual(["failed"]);
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(0);
    expect(halfDoneNotice(ASSESSMENT_ID, outcomes)).toBeUndefined();
  });
});
