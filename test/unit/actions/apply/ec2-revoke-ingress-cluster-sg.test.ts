import {
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  type IpPermission,
  ModifySecurityGroupRulesCommand,
  type ModifySecurityGroupRulesCommandInput,
  RevokeSecurityGroupIngressCommand,
  type RevokeSecurityGroupIngressCommandInput,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  CLUSTER_SG_DESCRIPTION,
  clusterOfGroup,
} from "../../../../packages/core/src/actions/cluster-security-group.ts";
import { revokeIngress } from "../../../../packages/core/src/actions/revoke-ingress.action.ts";
import { defaultPolicy } from "../../../../packages/core/src/index.ts";
import { must } from "../../../helpers/fixtures.ts";
import { applyContext, commandsSent, ec2Error } from "./helpers.ts";

const ec2 = mockClient(EC2Client);
const stubs = { ec2 };

const GROUP = "sg-0e1d2c3b4a5968778";
const OWNER = "111122223333";
const SELF_RULE = "sgr-0aaaaaaaaaaaaaa01";
const OPEN_RULE = "sgr-0bbbbbbbbbbbbbb02";
const APPROVER = "slack:U0123ABCD";

/**
 * A tiny EC2 holding one group's ingress rules: DescribeSecurityGroups lists them as IpPermissions (a rule referencing
 * a group as UserIdGroupPairs, API_SecurityGroup / API_IpPermission), DescribeSecurityGroupRules as SecurityGroupRule
 * items with their ids (API_SecurityGroupRule: FromPort/ToPort -1 for all traffic), ModifySecurityGroupRules replaces a
 * rule's definition in place and answers Return true (API_ModifySecurityGroupRules), RevokeSecurityGroupIngress by id
 * answers Return true and the revoked rules (API_RevokeSecurityGroupIngress). The cluster security group is named and
 * described as EKS creates it, with its tags (https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html).
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSecurityGroups.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSecurityGroupRules.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifySecurityGroupRules.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RevokeSecurityGroupIngress.html
 */
function liveEc2(
  initial: SecurityGroupRule[],
  group: { name: string; description: string; tags: Record<string, string> },
) {
  const rules = new Map(initial.map((r) => [must(r.SecurityGroupRuleId), { ...r }]));
  const permissionOf = (r: SecurityGroupRule): IpPermission => ({
    IpProtocol: r.IpProtocol,
    ...(r.IpProtocol !== "-1" ? { FromPort: r.FromPort, ToPort: r.ToPort } : {}),
    IpRanges: r.CidrIpv4 ? [{ CidrIp: r.CidrIpv4 }] : [],
    Ipv6Ranges: r.CidrIpv6 ? [{ CidrIpv6: r.CidrIpv6 }] : [],
    PrefixListIds: [],
    UserIdGroupPairs: r.ReferencedGroupInfo ? [{ GroupId: r.ReferencedGroupInfo.GroupId, UserId: OWNER }] : [],
  });
  ec2.on(DescribeSecurityGroupsCommand).callsFake(() => ({
    SecurityGroups: [
      {
        GroupId: GROUP,
        GroupName: group.name,
        Description: group.description,
        OwnerId: OWNER,
        VpcId: "vpc-0a1b2c3d4e5f60718",
        IpPermissions: [...rules.values()].map(permissionOf),
        IpPermissionsEgress: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
        Tags: Object.entries(group.tags).map(([Key, Value]) => ({ Key, Value })),
      },
    ],
  }));
  ec2.on(DescribeSecurityGroupRulesCommand).callsFake((input: { Filters?: { Values?: string[] }[] }) => ({
    SecurityGroupRules: (input.Filters?.[0]?.Values ?? []).flatMap((id) => {
      const rule = rules.get(id);
      return rule ? [rule] : [];
    }),
  }));
  ec2.on(ModifySecurityGroupRulesCommand).callsFake((input: ModifySecurityGroupRulesCommandInput) => {
    if (input.DryRun) throw ec2Error("DryRunOperation", 412);
    for (const change of input.SecurityGroupRules ?? []) {
      const id = must(change.SecurityGroupRuleId);
      const old = rules.get(id);
      if (!old) throw ec2Error("InvalidSecurityGroupRuleId.NotFound");
      const d = must(change.SecurityGroupRule);
      rules.set(id, {
        SecurityGroupRuleId: id,
        GroupId: GROUP,
        GroupOwnerId: OWNER,
        IsEgress: false,
        IpProtocol: d.IpProtocol,
        FromPort: d.IpProtocol === "-1" ? -1 : d.FromPort,
        ToPort: d.IpProtocol === "-1" ? -1 : d.ToPort,
        ...(d.CidrIpv4 ? { CidrIpv4: d.CidrIpv4 } : {}),
        ...(d.ReferencedGroupId ? { ReferencedGroupInfo: { GroupId: d.ReferencedGroupId, UserId: OWNER } } : {}),
        ...(d.Description ? { Description: d.Description } : {}),
      });
    }
    return { Return: true };
  });
  ec2.on(RevokeSecurityGroupIngressCommand).callsFake((input: RevokeSecurityGroupIngressCommandInput) => {
    const revoked = (input.SecurityGroupRuleIds ?? []).map((id) => must(rules.get(id)));
    for (const r of revoked) rules.delete(must(r.SecurityGroupRuleId));
    return { Return: true, RevokedSecurityGroupRules: revoked };
  });
  return rules;
}

const CLUSTER_GROUP = {
  name: "eks-cluster-sg-prod-eks-1873021412",
  description: CLUSTER_SG_DESCRIPTION,
  tags: { "aws:eks:cluster-name": "prod-eks", "kubernetes.io/cluster/prod-eks": "owned" },
};
const ORDINARY_GROUP = { name: "web", description: "web servers", tags: {} };

/** An all-traffic ingress rule of the group, as DescribeSecurityGroupRules lists it (ports -1). */
const allTrafficRule = (id: string): SecurityGroupRule => ({
  SecurityGroupRuleId: id,
  GroupId: GROUP,
  GroupOwnerId: OWNER,
  IsEgress: false,
  IpProtocol: "-1",
  FromPort: -1,
  ToPort: -1,
});
/** EKS's default inbound rule of the cluster security group: all traffic from the group itself. */
const selfRule = (id = SELF_RULE): SecurityGroupRule => ({
  ...allTrafficRule(id),
  ReferencedGroupInfo: { GroupId: GROUP, UserId: OWNER },
});
/** The same rule after ModifySecurityGroupRules turned its source into 0.0.0.0/0. */
const widenedRule = (id = SELF_RULE): SecurityGroupRule => ({ ...allTrafficRule(id), CidrIpv4: "0.0.0.0/0" });

/** What the detector plans for that ModifySecurityGroupRules event (ec2-open-ingress, detectModify). */
const widened = revokeIngress.params.parse({
  groupId: GROUP,
  ruleIds: [SELF_RULE],
  openBelowPrefix: { ipv4: 8, ipv6: 32 },
});
/** What it plans for an AuthorizeSecurityGroupIngress adding all traffic from 0.0.0.0/0 (detectAuthorize). */
const addedOpen = revokeIngress.params.parse({
  groupId: GROUP,
  ruleIds: [OPEN_RULE],
  rules: [{ ruleId: OPEN_RULE, protocol: "-1", fromPort: -1, toPort: -1, cidrIpv4: "0.0.0.0/0" }],
});

const SELF_REFERENCE = {
  SecurityGroupRuleId: SELF_RULE,
  SecurityGroupRule: { IpProtocol: "-1", ReferencedGroupId: GROUP },
};

beforeEach(() => {
  ec2.reset();
});
afterAll(() => {
  ec2.restore();
});

describe("clusterOfGroup", () => {
  it("names the cluster of a group EKS created (name or description), and no other group", () => {
    expect(clusterOfGroup({ GroupName: CLUSTER_GROUP.name, Tags: [] })).toBe("prod-eks");
    expect(
      clusterOfGroup({
        GroupName: "x",
        Description: CLUSTER_SG_DESCRIPTION,
        Tags: [{ Key: "aws:eks:cluster-name", Value: "a" }],
      }),
    ).toBe("a");
    // Another group EKS or Karpenter tagged with the cluster's name is not the cluster security group.
    expect(
      clusterOfGroup({ GroupName: "nodes", Description: "x", Tags: [{ Key: "aws:eks:cluster-name", Value: "a" }] }),
    ).toBe(undefined);
  });
});

describe("ec2:revoke-ingress on the EKS cluster security group", () => {
  it("refuses in auto mode (no approver), changing nothing, where the code before revoked the widened self rule", async () => {
    // prepare
    const live = liveEc2([widenedRule()], CLUSTER_GROUP);
    const { ctx } = applyContext(false);

    // act
    const result = await revokeIngress.apply(widened, ctx);

    // assess
    expect(result.status).toBe("refused");
    expect(result.reason).toBe(
      `${GROUP} is the cluster security group of EKS cluster prod-eks: an automatic change to it needs a human's approval (approve mode), as a wrong one cuts the control plane from the nodes`,
    );
    expect(commandsSent(stubs)).toEqual([
      ["DescribeSecurityGroupRules", { Filters: [{ Name: "security-group-rule-id", Values: [SELF_RULE] }] }],
      ["DescribeSecurityGroups", { GroupIds: [GROUP] }],
    ]);
    expect(live.get(SELF_RULE)).toEqual(widenedRule());
  });

  it("approved, turns the widened self rule back into the self reference, and rollback widens it again exactly", async () => {
    // prepare
    const live = liveEc2([widenedRule()], CLUSTER_GROUP);
    const { ctx } = applyContext(false);
    const approved = { ...ctx, approvedBy: APPROVER };

    // act
    const result = await revokeIngress.apply(widened, approved);
    const afterFix = live.get(SELF_RULE);
    ec2.resetHistory();
    const rolledBack = await must(revokeIngress.rollback, "rollback")(must(result.undo, "undo"), ctx);

    // assess
    expect(result.status).toBe("applied");
    expect(result.reason).toBe(
      `turned ${SELF_RULE} of ${GROUP} back into its self reference (all traffic from ${GROUP}), the cluster security group of prod-eks, approved by ${APPROVER}`,
    );
    expect(result.calls.map((c) => c.operation)).toEqual([
      "DescribeSecurityGroupRules",
      "DescribeSecurityGroups",
      "ModifySecurityGroupRules",
    ]);
    expect(result.calls.at(-1)?.params).toEqual({ GroupId: GROUP, SecurityGroupRules: [SELF_REFERENCE] });
    expect(afterFix).toEqual(selfRule());
    expect(result.undo).toEqual({
      groupId: GROUP,
      rules: [],
      restored: [{ ruleId: SELF_RULE, protocol: "-1", fromPort: -1, toPort: -1, cidrIpv4: "0.0.0.0/0" }],
    });
    expect(rolledBack.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      [
        "ModifySecurityGroupRules",
        {
          GroupId: GROUP,
          SecurityGroupRules: [
            { SecurityGroupRuleId: SELF_RULE, SecurityGroupRule: { IpProtocol: "-1", CidrIpv4: "0.0.0.0/0" } },
          ],
        },
      ],
    ]);
    expect(live.get(SELF_RULE)).toEqual(widenedRule());
  });

  it("under the default policy's exemption tags, reads the group once: as many calls as an ordinary group's revoke", async () => {
    // prepare
    liveEc2([widenedRule()], CLUSTER_GROUP);
    const { ctx } = applyContext(false);

    // act
    const result = await revokeIngress.apply(widened, {
      ...ctx,
      approvedBy: APPROVER,
      exemptTags: defaultPolicy().exemptions.tags,
    });

    // assess
    expect(result.status).toBe("applied");
    expect(commandsSent(stubs).map(([name]) => name)).toEqual([
      "DescribeSecurityGroups",
      "DescribeSecurityGroupRules",
      "ModifySecurityGroupRules",
    ]);
  });

  it("approved, revokes an open all-traffic rule added beside the intact self rule, which stays", async () => {
    // prepare
    const open = { ...widenedRule(OPEN_RULE) };
    const live = liveEc2([selfRule(), open], CLUSTER_GROUP);
    const { ctx } = applyContext(false);

    // act
    const result = await revokeIngress.apply(addedOpen, { ...ctx, approvedBy: APPROVER });

    // assess
    expect(result.status).toBe("applied");
    expect(result.reason).toBe(
      `revoked ${OPEN_RULE} of ${GROUP}, the cluster security group of prod-eks, approved by ${APPROVER}`,
    );
    expect(commandsSent(stubs)).toEqual([
      ["DescribeSecurityGroups", { GroupIds: [GROUP] }],
      ["RevokeSecurityGroupIngress", { GroupId: GROUP, SecurityGroupRuleIds: [OPEN_RULE] }],
    ]);
    expect([...live.keys()]).toEqual([SELF_RULE]);
  });

  it("approved, turns an added open all-traffic rule into the self reference when the self rule was removed before", async () => {
    // prepare
    const live = liveEc2([widenedRule(OPEN_RULE)], CLUSTER_GROUP);
    const { ctx } = applyContext(false);

    // act
    const result = await revokeIngress.apply(addedOpen, { ...ctx, approvedBy: APPROVER });

    // assess
    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ["DescribeSecurityGroups", { GroupIds: [GROUP] }],
      [
        "ModifySecurityGroupRules",
        {
          GroupId: GROUP,
          SecurityGroupRules: [
            { SecurityGroupRuleId: OPEN_RULE, SecurityGroupRule: { IpProtocol: "-1", ReferencedGroupId: GROUP } },
          ],
        },
      ],
    ]);
    expect(live.get(OPEN_RULE)).toEqual(selfRule(OPEN_RULE));
  });

  it("refuses when the self rule is gone and the open rule is not all traffic: revoking it could cut the cluster", async () => {
    // prepare
    const ssh: SecurityGroupRule = { ...widenedRule(OPEN_RULE), IpProtocol: "tcp", FromPort: 0, ToPort: 65535 };
    liveEc2([ssh], CLUSTER_GROUP);
    const { ctx } = applyContext(false);
    const params = revokeIngress.params.parse({
      groupId: GROUP,
      ruleIds: [OPEN_RULE],
      rules: [{ ruleId: OPEN_RULE, protocol: "tcp", fromPort: 0, toPort: 65535, cidrIpv4: "0.0.0.0/0" }],
    });

    // act
    const result = await revokeIngress.apply(params, {
      ...ctx,
      approvedBy: APPROVER,
      exemptTags: defaultPolicy().exemptions.tags,
    });

    // assess
    expect(result.status).toBe("refused");
    expect(result.reason).toContain("its self-referencing rule is gone");
    expect(commandsSent(stubs).map(([name]) => name)).toEqual(["DescribeSecurityGroups"]);
  });

  it("in dry-run, approved, sends the ModifySecurityGroupRules with DryRun and reads DryRunOperation as would-succeed", async () => {
    // prepare
    const live = liveEc2([widenedRule()], CLUSTER_GROUP);
    const { ctx } = applyContext(true);

    // act
    const result = await revokeIngress.apply(widened, { ...ctx, approvedBy: APPROVER });

    // assess
    expect(result.status).toBe("would-succeed");
    expect(result.calls.at(-1)).toMatchObject({
      operation: "ModifySecurityGroupRules",
      params: { GroupId: GROUP, SecurityGroupRules: [SELF_REFERENCE], DryRun: true },
      result: "dry-run-ok",
    });
    expect(live.get(SELF_RULE)).toEqual(widenedRule());
  });

  it("on an ordinary group, revokes the widened all-traffic rule as before, after one read of the group", async () => {
    // prepare
    const live = liveEc2([widenedRule()], ORDINARY_GROUP);
    const { ctx } = applyContext(false);

    // act
    const result = await revokeIngress.apply(widened, ctx);

    // assess
    expect(result.status).toBe("applied");
    expect(commandsSent(stubs).map(([name]) => name)).toEqual([
      "DescribeSecurityGroupRules",
      "DescribeSecurityGroups",
      "RevokeSecurityGroupIngress",
    ]);
    expect(live.size).toBe(0);
  });
});
