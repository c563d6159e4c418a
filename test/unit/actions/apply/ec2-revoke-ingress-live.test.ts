import { DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupIngressCommand } from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { revokeIngress } from "../../../../packages/core/src/actions/revoke-ingress.action.ts";
import { applyContext, ec2Error } from "./helpers.ts";

const ec2 = mockClient(EC2Client);
const GROUP = "sg-0632fa4ee8a8468a4";
const SSH = "sgr-0aaaaaaaaaaaaaaa1";
const RDP = "sgr-0aaaaaaaaaaaaaaa2";

beforeEach(() => {
  ec2.reset();
});
afterAll(() => {
  ec2.restore();
});

describe("ec2:revoke-ingress against live state", () => {
  it("revokes the rules still there when one named by the event is already gone", async () => {
    const { ctx } = applyContext(false);
    ec2
      .on(RevokeSecurityGroupIngressCommand, { SecurityGroupRuleIds: [SSH, RDP] })
      .rejects(ec2Error("InvalidSecurityGroupRuleId.NotFound"));
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: [
        {
          SecurityGroupRuleId: RDP,
          GroupId: GROUP,
          IsEgress: false,
          IpProtocol: "tcp",
          FromPort: 3389,
          ToPort: 3389,
          CidrIpv4: "0.0.0.0/0",
        },
      ],
    });
    ec2.on(RevokeSecurityGroupIngressCommand, { SecurityGroupRuleIds: [RDP] }).resolves({ Return: true });
    const params = revokeIngress.params.parse({
      groupId: GROUP,
      ruleIds: [SSH, RDP],
      rules: [
        { ruleId: SSH, protocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" },
        { ruleId: RDP, protocol: "tcp", fromPort: 3389, toPort: 3389, cidrIpv4: "0.0.0.0/0" },
      ],
    });
    const result = await revokeIngress.apply(params, ctx);
    expect(result.status).toBe("applied");
    expect(ec2.commandCalls(DescribeSecurityGroupRulesCommand)[0]?.args[0].input).toEqual({
      Filters: [{ Name: "security-group-rule-id", Values: [SSH, RDP] }],
    });
    expect(
      ec2.commandCalls(RevokeSecurityGroupIngressCommand).map((c) => c.args[0].input.SecurityGroupRuleIds),
    ).toEqual([[SSH, RDP], [RDP]]);
    expect(result.undo).toMatchObject({ groupId: GROUP, rules: [{ ruleId: RDP }] });
  });

  it("keeps a rule that was narrowed since the ModifySecurityGroupRules event, and revokes the one still open", async () => {
    const { ctx } = applyContext(false);
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: [
        {
          SecurityGroupRuleId: SSH,
          GroupId: GROUP,
          IsEgress: false,
          IpProtocol: "tcp",
          FromPort: 22,
          ToPort: 22,
          CidrIpv4: "10.0.0.0/8",
        },
        {
          SecurityGroupRuleId: RDP,
          GroupId: GROUP,
          IsEgress: false,
          IpProtocol: "tcp",
          FromPort: 3389,
          ToPort: 3389,
          CidrIpv6: "::/0",
        },
      ],
    });
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
    const params = revokeIngress.params.parse({
      groupId: GROUP,
      ruleIds: [SSH, RDP],
      openBelowPrefix: { ipv4: 8, ipv6: 32 },
    });
    const result = await revokeIngress.apply(params, ctx);
    expect(result.status).toBe("applied");
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)[0]?.args[0].input).toEqual({
      GroupId: GROUP,
      SecurityGroupRuleIds: [RDP],
    });
  });

  it("is already done when every rule named by the event was narrowed", async () => {
    const { ctx } = applyContext(false);
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: [
        {
          SecurityGroupRuleId: SSH,
          GroupId: GROUP,
          IsEgress: false,
          IpProtocol: "tcp",
          FromPort: 22,
          ToPort: 22,
          CidrIpv4: "203.0.113.0/24",
        },
      ],
    });
    const params = revokeIngress.params.parse({
      groupId: GROUP,
      ruleIds: [SSH],
      openBelowPrefix: { ipv4: 8, ipv6: 32 },
    });
    const result = await revokeIngress.apply(params, ctx);
    expect(result.status).toBe("already-done");
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
  });
});
