/**
 * The responder never fights itself: the CloudTrail event of its own call (the transition group isolate-instance opens
 * to all traffic) reaches the world-open ingress detector, in auto mode by default, and must not be revoked.
 */
import { DescribeSecurityGroupsCommand, EC2Client, RevokeSecurityGroupIngressCommand } from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  createAwsClients,
  parsePolicy,
  processEvent,
  type RespondResult,
  respond,
} from "../../../packages/core/src/index.ts";
import { liveGroups } from "../../helpers/ec2-groups.ts";
import {
  assumedRoleIdentity,
  ingressEvent,
  RESPOND_ROLE_ARN,
  ROLLBACK_ROLE_ARN,
  transitionGroupEvent,
} from "../../helpers/own-events.ts";

const ec2 = mockClient(EC2Client);
const TRANSITION = transitionGroupEvent({
  eventId: "5f0c1a2b-0001-4000-8000-00000000000a",
  groupId: "sg-0a1b2c3d4e5f60001",
});
const roles = { responder: { roleArns: [RESPOND_ROLE_ARN, ROLLBACK_ROLE_ARN] } };

beforeEach(() => {
  ec2.reset();
  ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups());
  // RevokeSecurityGroupIngress answers Return true when it revoked
  // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RevokeSecurityGroupIngress.html)
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
});

describe("processEvent: the responder's own calls", () => {
  it("skips the transition group's all-traffic ingress made by the respond role as own-call, with the role", () => {
    // act
    const result = processEvent(TRANSITION, parsePolicy({ dryRun: false, ...roles }), { forceDryRun: false });
    // assess
    expect(result.outcome).toBe("skipped");
    expect(result.skipped).toBe("own-call");
    expect(result.reason).toContain(`eks-responder's own role ${RESPOND_ROLE_ARN}`);
    expect(result.plan).toEqual([]);
  });

  it("would revoke the very same event without the setting (the bug the guard closes)", () => {
    const result = processEvent(TRANSITION, parsePolicy({ dryRun: false }), { forceDryRun: false });
    expect(result.outcome).toBe("apply");
    expect(result.plan.map((c) => c.operation)).toEqual(["RevokeSecurityGroupIngress"]);
  });

  it("recognises a rollback role's re-add, and still acts on anyone else's", () => {
    const reAdd = ingressEvent({
      eventId: "5f0c1a2b-0002-4000-8000-00000000000b",
      groupId: "sg-0a1b2c3d4e5f60002",
      ruleId: "sgr-0a1b2c3d4e5f60002",
      identity: assumedRoleIdentity(ROLLBACK_ROLE_ARN, "alice"),
    });
    const policy = parsePolicy({ dryRun: false, ...roles });
    expect(processEvent(reAdd, policy, { forceDryRun: false }).skipped).toBe("own-call");
    const someone = ingressEvent({
      eventId: "5f0c1a2b-0003-4000-8000-00000000000c",
      groupId: "sg-0a1b2c3d4e5f60003",
      ruleId: "sgr-0a1b2c3d4e5f60003",
    });
    expect(processEvent(someone, policy, { forceDryRun: false }).outcome).toBe("apply");
  });

  it("refuses a policy whose responder roles are not exact role ARNs", () => {
    expect(() => parsePolicy({ responder: { roleArns: ["arn:aws:iam::*:role/eks-responder-*"] } })).toThrow(
      /responder\.roleArns/,
    );
  });
});

describe("respond: the responder's own calls", () => {
  it("never calls EC2 for its own call, and records it", async () => {
    // prepare
    const records: RespondResult[] = [];
    const notified: RespondResult[] = [];
    // act
    const result = await respond(TRANSITION, {
      policy: parsePolicy({ dryRun: false, ...roles }),
      clients: (region) => createAwsClients(region),
      sleep: async () => {},
      record: async (r) => {
        records.push(r);
      },
      notify: async (r) => {
        notified.push(r);
      },
    });
    // assess
    expect(result.skipped).toBe("own-call");
    expect(ec2.calls()).toHaveLength(0);
    expect(records.map((r) => r.skipped)).toEqual(["own-call"]);
  });
});
