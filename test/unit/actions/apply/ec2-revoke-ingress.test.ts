import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { revokeIngress } from "../../../../packages/core/src/actions/revoke-ingress.action.ts";
import { defaultPolicy } from "../../../../packages/core/src/index.ts";
import { liveGroups } from "../../../helpers/ec2-groups.ts";
import { must } from "../../../helpers/fixtures.ts";
import { applyContext, commandsSent, ec2Error } from "./helpers.ts";

const ec2 = mockClient(EC2Client);
const stubs = { ec2 };

const GROUP = "sg-0632fa4ee8a8468a4";
const RULE = "sgr-09be5c962afdc06ed";
const SSH_RULE = { ruleId: RULE, protocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" };

/** The event named the rule and described it (AuthorizeSecurityGroupIngress): no read is needed. */
const described = revokeIngress.params.parse({ groupId: GROUP, ruleIds: [RULE], rules: [SSH_RULE] });
/** ModifySecurityGroupRules names the rule without describing it. */
const idsOnly = revokeIngress.params.parse({ groupId: GROUP, ruleIds: [RULE] });
const byPermissions = revokeIngress.params.parse({
  groupId: GROUP,
  ipPermissions: [
    { protocol: "tcp", fromPort: 22, toPort: 22, ipv4: ["0.0.0.0/0"], ipv6: ["::/0"] },
    { protocol: "-1", fromPort: -1, toPort: -1, ipv4: ["0.0.0.0/0"], ipv6: [] },
  ],
});
const EXACT_PERMISSIONS = [
  {
    IpProtocol: "tcp",
    FromPort: 22,
    ToPort: 22,
    IpRanges: [{ CidrIp: "0.0.0.0/0" }],
    Ipv6Ranges: [{ CidrIpv6: "::/0" }],
  },
  { IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
];
const REVOKED_BY_PERMISSIONS = [
  {
    SecurityGroupRuleId: "sgr-0000000000000000a",
    GroupId: GROUP,
    IsEgress: false,
    IpProtocol: "tcp",
    FromPort: 22,
    ToPort: 22,
    CidrIpv4: "0.0.0.0/0",
  },
  {
    SecurityGroupRuleId: "sgr-0000000000000000b",
    GroupId: GROUP,
    IsEgress: false,
    IpProtocol: "tcp",
    FromPort: 22,
    ToPort: 22,
    CidrIpv6: "::/0",
  },
  {
    SecurityGroupRuleId: "sgr-0000000000000000c",
    GroupId: GROUP,
    IsEgress: false,
    IpProtocol: "-1",
    FromPort: -1,
    ToPort: -1,
    CidrIpv4: "0.0.0.0/0",
    Description: "debug",
  },
];

beforeEach(() => {
  ec2.reset();
});

afterAll(() => {
  ec2.restore();
});

const EXEMPT = [{ key: "eks-responder:exempt", value: "true" }];

describe("ec2:revoke-ingress under the policy's exemption tags", () => {
  // The tags the AWS Load Balancer Controller puts on the groups it creates (an Ingress's managed group), and the one
  // CloudFormation puts on every resource of a stack: such a group's rules are put back at the next reconcile or update.
  // https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/security_groups/
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-resource-tags.html
  it.each([
    [
      "the AWS Load Balancer Controller's",
      {
        "elbv2.k8s.aws/cluster": "prod-eks",
        "ingress.k8s.aws/resource": "ManagedLBSecurityGroup",
        "ingress.k8s.aws/stack": "shop/web",
      },
      "elbv2.k8s.aws/cluster",
    ],
    [
      "a Service's (Load Balancer Controller, NLB)",
      { "service.k8s.aws/resource": "ManagedLBSecurityGroup", "service.k8s.aws/stack": "shop/api" },
      "service.k8s.aws/resource",
    ],
    [
      "CloudFormation's",
      { "aws:cloudformation:stack-name": "edge", "aws:cloudformation:logical-id": "WebSg" },
      "aws:cloudformation:stack-name",
    ],
  ])("refuses under the default policy, revoking nothing, on %s group", async (_who, tags, tag) => {
    // prepare
    const { ctx } = applyContext(false);
    ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups(tags));

    // act
    const result = await revokeIngress.apply(described, { ...ctx, exemptTags: defaultPolicy().exemptions.tags });

    // assess
    expect(result.status).toBe("refused");
    expect(result.reason).toBe(`security group ${GROUP} carries the exemption tag ${tag}`);
    expect(commandsSent(stubs)).toEqual([["DescribeSecurityGroups", { GroupIds: [GROUP] }]]);
  });

  it("revokes under the default policy on a group no controller or stack owns, after one read of its tags", async () => {
    // prepare
    const { ctx } = applyContext(false);
    ec2
      .on(DescribeSecurityGroupsCommand)
      .callsFake(liveGroups({ team: "edge", "kubernetes.io/cluster/prod-eks": "owned" }));
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });

    // act
    const result = await revokeIngress.apply(described, { ...ctx, exemptTags: defaultPolicy().exemptions.tags });

    // assess
    expect(result.status).toBe("applied");
    expect(commandsSent(stubs).map(([name]) => name)).toEqual(["DescribeSecurityGroups", "RevokeSecurityGroupIngress"]);
  });

  it("refuses, revoking nothing, when the live security group carries an exemption tag", async () => {
    // prepare
    const { ctx } = applyContext(false);
    ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups({ "eks-responder:exempt": "true", team: "edge" }));
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });

    // act
    const result = await revokeIngress.apply(described, { ...ctx, exemptTags: EXEMPT });

    // assess
    expect(result.status).toBe("refused");
    expect(result.reason).toBe(`security group ${GROUP} carries the exemption tag eks-responder:exempt=true`);
    expect(commandsSent(stubs)).toEqual([["DescribeSecurityGroups", { GroupIds: [GROUP] }]]);
  });

  it("reads the group's tags, then revokes by rule id when no exemption tag is on it", async () => {
    // prepare
    const { ctx } = applyContext(false);
    ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups({ "eks-responder:exempt": "false" }));
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });

    // act
    const result = await revokeIngress.apply(described, { ...ctx, exemptTags: EXEMPT });

    // assess
    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ["DescribeSecurityGroups", { GroupIds: [GROUP] }],
      ["RevokeSecurityGroupIngress", { GroupId: GROUP, SecurityGroupRuleIds: [RULE] }],
    ]);
  });

  it("refuses under EC2's DryRun too (replay --apply against a dry-run policy sends DryRun requests)", async () => {
    // prepare
    const { ctx } = applyContext(true);
    ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups({ "eks-responder:exempt": "true" }));

    // act
    const result = await revokeIngress.apply(idsOnly, { ...ctx, exemptTags: EXEMPT });

    // assess
    expect(result.status).toBe("refused");
    expect(commandsSent(stubs)).toEqual([["DescribeSecurityGroups", { GroupIds: [GROUP] }]]);
  });

  it("fails closed when the answer does not contain the group: its tags are unknown, nothing is revoked", async () => {
    // prepare
    const { ctx } = applyContext(false);
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });

    // act
    const result = await revokeIngress.apply(described, { ...ctx, exemptTags: EXEMPT });

    // assess
    expect(result.status).toBe("failed");
    expect(result.reason).toContain(`did not return ${GROUP}`);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
  });

  it("fails closed when the group's tags cannot be read (access denied): nothing is revoked", async () => {
    // prepare
    const { ctx } = applyContext(false);
    ec2.on(DescribeSecurityGroupsCommand).rejects(ec2Error("UnauthorizedOperation", 403));
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });

    // act
    const result = await revokeIngress.apply(described, { ...ctx, exemptTags: EXEMPT });

    // assess
    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("UnauthorizedOperation");
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
  });

  it("with rule ids only (ModifySecurityGroupRules), reads the group's tags, then the rules, then revokes", async () => {
    // prepare
    const { ctx } = applyContext(false);
    ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups({ team: "edge" }));
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: [
        { SecurityGroupRuleId: RULE, GroupId: GROUP, IsEgress: false, IpProtocol: "tcp", CidrIpv4: "0.0.0.0/0" },
      ],
    });
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });

    // act
    const result = await revokeIngress.apply(idsOnly, { ...ctx, exemptTags: EXEMPT });

    // assess
    expect(result.status).toBe("applied");
    expect(commandsSent(stubs).map(([name]) => name)).toEqual([
      "DescribeSecurityGroups",
      "DescribeSecurityGroupRules",
      "RevokeSecurityGroupIngress",
    ]);
  });

  it("is already done when the group no longer exists", async () => {
    // prepare
    const { ctx } = applyContext(false);
    ec2.on(DescribeSecurityGroupsCommand).rejects(ec2Error("InvalidGroup.NotFound"));

    // act
    const result = await revokeIngress.apply(described, { ...ctx, exemptTags: EXEMPT });

    // assess
    expect(result.status).toBe("already-done");
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
  });
});

describe("ec2:revoke-ingress", () => {
  // An ordinary group (no EKS name or description). A policy without exemption tags reads it only when a rule to
  // revoke allows all traffic (byPermissions has one), to know whether it is a cluster security group.
  beforeEach(() => {
    ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups());
  });

  it("with rule ids and their descriptions from the event, makes exactly one EC2 call: the revoke by rule id", async () => {
    const { ctx } = applyContext(false);
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({
      Return: true,
      RevokedSecurityGroupRules: [
        {
          SecurityGroupRuleId: RULE,
          GroupId: GROUP,
          IsEgress: false,
          IpProtocol: "tcp",
          FromPort: 22,
          ToPort: 22,
          CidrIpv4: "0.0.0.0/0",
        },
      ],
    });

    const result = await revokeIngress.apply(described, ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ["RevokeSecurityGroupIngress", { GroupId: GROUP, SecurityGroupRuleIds: [RULE] }],
    ]);
    expect(result.undo).toEqual({ groupId: GROUP, rules: [SSH_RULE] });
    expect(result.calls).toEqual([
      {
        service: "ec2",
        operation: "RevokeSecurityGroupIngress",
        params: { GroupId: GROUP, SecurityGroupRuleIds: [RULE] },
        result: "ok",
      },
    ]);
  });

  it("with rule ids only (ModifySecurityGroupRules), reads the rules first and records them for rollback", async () => {
    const { ctx } = applyContext(false);
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: [
        {
          SecurityGroupRuleId: RULE,
          GroupId: GROUP,
          IsEgress: false,
          IpProtocol: "tcp",
          FromPort: 443,
          ToPort: 443,
          CidrIpv4: "0.0.0.0/0",
          Description: "https",
        },
      ],
    });
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });

    const result = await revokeIngress.apply(idsOnly, ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ["DescribeSecurityGroupRules", { Filters: [{ Name: "security-group-rule-id", Values: [RULE] }] }],
      ["RevokeSecurityGroupIngress", { GroupId: GROUP, SecurityGroupRuleIds: [RULE] }],
    ]);
    expect(result.undo).toEqual({
      groupId: GROUP,
      rules: [
        { ruleId: RULE, protocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", description: "https" },
      ],
    });
  });

  it("with rule ids only, refuses an egress rule and revokes nothing", async () => {
    const { ctx } = applyContext(false);
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: [{ SecurityGroupRuleId: RULE, GroupId: GROUP, IsEgress: true, IpProtocol: "-1" }],
    });

    const result = await revokeIngress.apply(idsOnly, ctx);

    expect(result.status).toBe("refused");
    expect(result.reason).toContain(RULE);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
  });

  it("with ipPermissions, sends the exact IpPermissions and builds the undo from RevokedSecurityGroupRules", async () => {
    const { ctx } = applyContext(false);
    ec2
      .on(RevokeSecurityGroupIngressCommand)
      .resolves({ Return: true, RevokedSecurityGroupRules: REVOKED_BY_PERMISSIONS });

    const result = await revokeIngress.apply(byPermissions, ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ["DescribeSecurityGroups", { GroupIds: [GROUP] }],
      ["RevokeSecurityGroupIngress", { GroupId: GROUP, IpPermissions: EXACT_PERMISSIONS }],
    ]);
    expect(result.undo).toEqual({
      groupId: GROUP,
      rules: [
        { ruleId: "sgr-0000000000000000a", protocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" },
        { ruleId: "sgr-0000000000000000b", protocol: "tcp", fromPort: 22, toPort: 22, cidrIpv6: "::/0" },
        {
          ruleId: "sgr-0000000000000000c",
          protocol: "-1",
          fromPort: -1,
          toPort: -1,
          cidrIpv4: "0.0.0.0/0",
          description: "debug",
        },
      ],
    });
  });

  it("with ipPermissions that EC2 no longer finds (UnknownIpPermissions), is already done", async () => {
    const { ctx } = applyContext(false);
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({
      Return: true,
      UnknownIpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
    });

    const result = await revokeIngress.apply(byPermissions, ctx);

    expect(result.status).toBe("already-done");
    // The event described the permissions: they stay the undo, in case an earlier attempt revoked them unseen.
    expect(result.undo).toMatchObject({ groupId: "sg-0632fa4ee8a8468a4" });
  });

  it("is already done when the rules named by id are no longer in the group, and sends no revoke", async () => {
    const { ctx } = applyContext(false);
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });

    const result = await revokeIngress.apply(idsOnly, ctx);

    expect(result.status).toBe("already-done");
    expect(commandsSent(stubs)).toEqual([
      ["DescribeSecurityGroupRules", { Filters: [{ Name: "security-group-rule-id", Values: [RULE] }] }],
    ]);
  });

  it.each([
    ["InvalidSecurityGroupRuleId.NotFound", described, true],
    ["InvalidGroup.NotFound", described, false],
    ["InvalidPermission.NotFound", byPermissions, true],
  ] as const)("reads %s on the revoke as already done", async (code, params, keepsUndo) => {
    const { ctx } = applyContext(false);
    ec2.on(RevokeSecurityGroupIngressCommand).rejects(ec2Error(code));

    const result = await revokeIngress.apply(params, ctx);

    expect(result.status).toBe("already-done");
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
    expect(result.calls.map((c) => c.result).at(-1)).toBe("not-found");
    // The event described the rules: they stay the undo, in case an earlier attempt revoked them unseen; a group that
    // is gone has nothing to restore.
    if (keepsUndo) expect(result.undo).toMatchObject({ groupId: "sg-0632fa4ee8a8468a4" });
    else expect(result.undo).toBeUndefined();
  });

  it("reads a rule id that is gone when read (ModifySecurityGroupRules) as already done, and sends no revoke", async () => {
    const { ctx } = applyContext(false);
    ec2.on(DescribeSecurityGroupRulesCommand).rejects(ec2Error("InvalidSecurityGroupRuleId.NotFound"));

    const result = await revokeIngress.apply(idsOnly, ctx);

    expect(result.status).toBe("already-done");
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
  });

  it("fails on UnauthorizedOperation with the error code, after exactly one attempt", async () => {
    const { ctx } = applyContext(false);
    ec2.on(RevokeSecurityGroupIngressCommand).rejects(ec2Error("UnauthorizedOperation", 403));

    const result = await revokeIngress.apply(described, ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("UnauthorizedOperation");
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
    expect(result.undo).toBeUndefined();
  });

  it("fails when EC2 answers Return=false", async () => {
    const { ctx } = applyContext(false);
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: false });

    const result = await revokeIngress.apply(described, ctx);

    expect(result.status).toBe("failed");
    expect(result.undo).toBeUndefined();
  });

  it("in dry-run, sends the revoke with DryRun: true and reads DryRunOperation as would-succeed", async () => {
    const { ctx } = applyContext(true);
    ec2.on(RevokeSecurityGroupIngressCommand).rejects(ec2Error("DryRunOperation", 412));

    const result = await revokeIngress.apply(described, ctx);

    expect(result.status).toBe("would-succeed");
    expect(commandsSent(stubs)).toEqual([
      ["RevokeSecurityGroupIngress", { GroupId: GROUP, SecurityGroupRuleIds: [RULE], DryRun: true }],
    ]);
    expect(result.calls.map((c) => c.result)).toEqual(["dry-run-ok"]);
    expect(result.undo).toBeUndefined();
  });

  it("in dry-run, fails when EC2 says the revoke would not be allowed", async () => {
    const { ctx } = applyContext(true);
    ec2.on(RevokeSecurityGroupIngressCommand).rejects(ec2Error("UnauthorizedOperation", 403));

    const result = await revokeIngress.apply(byPermissions, ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("UnauthorizedOperation");
    expect(commandsSent(stubs)).toEqual([
      ["DescribeSecurityGroups", { GroupIds: [GROUP] }],
      ["RevokeSecurityGroupIngress", { GroupId: GROUP, IpPermissions: EXACT_PERMISSIONS, DryRun: true }],
    ]);
  });

  it("is idempotent: a second apply after the rule is gone is already done", async () => {
    const { ctx } = applyContext(false);
    const live = new Set([RULE]);
    ec2.on(RevokeSecurityGroupIngressCommand).callsFake((input: { SecurityGroupRuleIds?: string[] }) => {
      const ids = input.SecurityGroupRuleIds ?? [];
      if (!ids.every((id) => live.has(id))) throw ec2Error("InvalidSecurityGroupRuleId.NotFound");
      for (const id of ids) live.delete(id);
      return { Return: true };
    });

    const first = await revokeIngress.apply(described, ctx);
    const second = await revokeIngress.apply(described, ctx);

    expect(first.status).toBe("applied");
    expect(second.status).toBe("already-done");
    expect(second.undo).toMatchObject({ groupId: "sg-0632fa4ee8a8468a4" });
    expect(live.size).toBe(0);
  });

  it("rolls back by re-authorizing exactly the revoked rule", async () => {
    const { ctx } = applyContext(false);
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
    ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    const applied = await revokeIngress.apply(described, ctx);
    ec2.resetHistory();

    const rollback = must(revokeIngress.rollback, "rollback");
    const result = await rollback(must(applied.undo, "undo"), ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      [
        "AuthorizeSecurityGroupIngress",
        {
          GroupId: GROUP,
          IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
        },
      ],
    ]);
  });

  it("rolls back a permissions revoke rule by rule, with descriptions and no ports for protocol -1", async () => {
    const { ctx } = applyContext(false);
    ec2
      .on(RevokeSecurityGroupIngressCommand)
      .resolves({ Return: true, RevokedSecurityGroupRules: REVOKED_BY_PERMISSIONS });
    ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    const applied = await revokeIngress.apply(byPermissions, ctx);
    ec2.resetHistory();

    const rollback = must(revokeIngress.rollback, "rollback");
    const result = await rollback(must(applied.undo, "undo"), ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      [
        "AuthorizeSecurityGroupIngress",
        {
          GroupId: GROUP,
          IpPermissions: [
            { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
            { IpProtocol: "tcp", FromPort: 22, ToPort: 22, Ipv6Ranges: [{ CidrIpv6: "::/0" }] },
            { IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "debug" }] },
          ],
        },
      ],
    ]);
  });

  it("reads InvalidPermission.Duplicate on rollback as already done", async () => {
    const { ctx } = applyContext(false);
    ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(ec2Error("InvalidPermission.Duplicate"));

    const rollback = must(revokeIngress.rollback, "rollback");
    const result = await rollback({ groupId: GROUP, rules: [SSH_RULE] }, ctx);

    expect(result.status).toBe("already-done");
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(1);
  });

  it("in dry-run, rolls back with DryRun: true", async () => {
    const { ctx } = applyContext(true);
    ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(ec2Error("DryRunOperation", 412));

    const rollback = must(revokeIngress.rollback, "rollback");
    const result = await rollback({ groupId: GROUP, rules: [SSH_RULE] }, ctx);

    expect(result.status).toBe("would-succeed");
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand).map((c) => c.args[0].input.DryRun)).toEqual([true]);
  });
});
