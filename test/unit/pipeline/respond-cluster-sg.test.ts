import {
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifySecurityGroupRulesCommand,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { CLUSTER_SG_DESCRIPTION } from "../../../packages/core/src/actions/cluster-security-group.ts";
import { createAwsClients, parsePolicy, type RespondDeps, respond } from "../../../packages/core/src/index.ts";
import { fixtureText } from "../../helpers/fixtures.ts";

const ec2 = mockClient(EC2Client);
const WIDENED = JSON.parse(
  fixtureText("cloudtrail/modify-security-group-rules/cluster-sg-self-rule-widened.json"),
) as unknown;
const GROUP = "sg-0e1d2c3b4a5968778";
const RULE = "sgr-0aaaaaaaaaaaaaa01";

function deps(): RespondDeps {
  return {
    policy: parsePolicy({ dryRun: false }),
    clients: (region) => createAwsClients(region),
    sleep: async () => {},
    startApproval: async () => ({ executionArn: "arn:aws:states:eu-west-1:111122223333:execution:approval:1" }),
    record: async () => {},
    notify: async () => {},
  };
}

beforeEach(() => {
  ec2.reset();
  // The group as EKS made it (https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html), its self rule
  // widened to 0.0.0.0/0 (DescribeSecurityGroups and DescribeSecurityGroupRules shapes of the EC2 API reference).
  ec2.on(DescribeSecurityGroupsCommand).resolves({
    SecurityGroups: [
      {
        GroupId: GROUP,
        GroupName: "eks-cluster-sg-prod-eks-1873021412",
        Description: CLUSTER_SG_DESCRIPTION,
        OwnerId: "111122223333",
        VpcId: "vpc-0a1b2c3d4e5f60718",
        IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }], UserIdGroupPairs: [] }],
        Tags: [{ Key: "aws:eks:cluster-name", Value: "prod-eks" }],
      },
    ],
  });
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({
    SecurityGroupRules: [
      {
        SecurityGroupRuleId: RULE,
        GroupId: GROUP,
        IsEgress: false,
        IpProtocol: "-1",
        FromPort: -1,
        ToPort: -1,
        CidrIpv4: "0.0.0.0/0",
      },
    ],
  });
});
afterAll(() => {
  ec2.restore();
});

describe("respond on a widened self rule of the EKS cluster security group", () => {
  it("in auto mode changes nothing: the decision is downgraded to an alert that says the group needs a human", async () => {
    // act
    const result = await respond(WIDENED, deps());

    // assess
    expect(result.outcome).toBe("alert");
    expect(result.decisions[0]?.reasons.at(-1)).toBe(
      `fail closed, alert only: ec2:revoke-ingress refused: ${GROUP} is the cluster security group of EKS cluster prod-eks: an automatic change to it needs a human's approval (approve mode), as a wrong one cuts the control plane from the nodes`,
    );
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
    expect(ec2.commandCalls(ModifySecurityGroupRulesCommand)).toHaveLength(0);
  });
});
