import { describe, expect, it } from "vitest";
import { defaultPolicy, processEvent } from "../../../packages/core/src/index.ts";
import { parsePolicy } from "../../../packages/core/src/policy/load.ts";
import { assumedRoleIdentity, ingressEvent, OWN_ACCOUNT } from "../../helpers/own-events.ts";

/**
 * Hub mode: the hub changes a member account's resources through the member role, so the member account's CloudTrail
 * (forwarded to the hub) names `assumed-role/<member role>/eks-responder-asm-…` in that account. Such an event is the
 * responder's own, never acted on. The sample events are of account 776520358045 (OWN_ACCOUNT), here a member.
 */
describe("processEvent and the member role's own calls", () => {
  const memberRole = `arn:aws:iam::${OWN_ACCOUNT}:role/eks-responder-execution`;
  const event = ingressEvent({
    eventId: "7d1c5a0e-0000-4000-8000-000000000001",
    groupId: "sg-0a1b2c3d4e5f60718",
    ruleId: "sgr-0a1b2c3d4e5f60718",
    identity: assumedRoleIdentity(memberRole, "eks-responder-asm-0123456789abcdef0123"),
  });

  it("skips a member-role call in the member account as own-call when the policy names the member role", () => {
    const policy = parsePolicy({ responder: { memberRoleName: "eks-responder-execution" } }, "test");
    const result = processEvent(event, policy);
    expect(result).toMatchObject({ outcome: "skipped", skipped: "own-call" });
    expect(result.reason).toContain(memberRole);
  });

  it("acts on the same call as anyone's without the setting (standalone)", () => {
    const result = processEvent(event, defaultPolicy());
    expect(result.skipped).not.toBe("own-call");
    expect(result.assessments.length).toBeGreaterThan(0);
  });

  it("refuses a member role name of no IAM shape, naming the key", () => {
    expect(() => parsePolicy({ responder: { memberRoleName: "bad name*" } }, "test")).toThrow(/memberRoleName/);
  });
});
