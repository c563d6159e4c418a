/**
 * AWS calls per remediation: each action's happy path against mocked clients (aws-sdk-client-mock), counted, next to
 * the fewest calls AWS allows for the same change. The difference is what eks-responder spends on safety (reading
 * live state before changing it, recording it for rollback), and each row says which.
 */

import type { ApplyContext } from "../packages/core/src/actions/types.ts";
import { createAwsClients, defaultPolicy, getAction } from "../packages/core/src/index.ts";
import { mockHappyPath } from "./aws-mocks.ts";

export interface ApiEconomy {
  measured: number;
  minimum: number;
  /** Why measured exceeds the minimum, when it does. */
  why: string;
}

export interface Scenario {
  key: string;
  action: string;
  params: Record<string, unknown>;
  minimum: number;
  why: string;
}

/** Each action's happy path, with parameters the mocks of bench/aws-mocks.ts answer. */
export const SCENARIOS: Scenario[] = [
  {
    key: "ec2:revoke-ingress",
    action: "ec2:revoke-ingress",
    params: {
      groupId: "sg-0632fa4ee8a8468a4",
      ruleIds: ["sgr-09be5c962afdc06ed"],
      rules: [{ ruleId: "sgr-09be5c962afdc06ed", protocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" }],
    },
    minimum: 1,
    why: "+1 read: the group's tags, for the policy's exemption tags (the default policy has one); the CloudTrail event names and describes the rule, so nothing else is read before the revoke by id",
  },
  {
    key: "ec2:revoke-ingress (ModifySecurityGroupRules)",
    action: "ec2:revoke-ingress",
    params: { groupId: "sg-0632fa4ee8a8468a4", ruleIds: ["sgr-09be5c962afdc06ed"] },
    minimum: 1,
    why: "+1 read: the group's tags, for the policy's exemption tags; +1 read: the event does not say ingress or egress, nor the rule's definition (needed for rollback)",
  },
  {
    key: "eks:restrict-endpoint",
    action: "eks:restrict-endpoint",
    params: { clusterName: "prod-eks", publicAccessCidrs: ["203.0.113.0/24"] },
    minimum: 1,
    why: "+4 reads: the live endpoint state (so a cluster is never cut off and rollback restores it), the VPC's two DNS attributes (private access is turned on with the narrowing) and DescribeUpdate (applied only once Successful)",
  },
  {
    key: "eks:enable-logging",
    action: "eks:enable-logging",
    params: { clusterName: "prod-eks", logTypes: ["api", "audit", "authenticator"] },
    minimum: 1,
    why: "+2 reads: only the types still off are turned on, and DescribeUpdate (applied only once Successful)",
  },
  {
    key: "eks:revoke-access",
    action: "eks:revoke-access",
    params: {
      clusterName: "prod-eks",
      principalArn: "arn:aws:iam::111122223333:role/external-ci-deployer",
      policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
    },
    minimum: 1,
    why: "+1 read: the association's scope, so rollback re-associates it exactly; +1 read: the live cluster's tags, for the policy's exemption tags (the default policy has one)",
  },
  {
    key: "ec2:isolate-instance",
    action: "ec2:isolate-instance",
    params: {
      instanceId: "i-0f1e2d3c4b5a69788",
      clusterName: "prod-eks",
      vpcId: "vpc-0a1b2c3d4e5f67890",
      networkInterfaceIds: ["eni-0a9b8c7d6e5f43210"],
    },
    minimum: 9,
    why: "minimum: find the groups, 2 swaps per interface, tag, 2 attribute changes, scale-in protection, Standby, snapshots; +5 reads: the instance, its two attributes and its Auto Scaling state (the checks and an exact rollback), and the quarantine group's rules (it must have none); a node with a trunk interface adds one read for its pods' branch interfaces",
  },
  {
    key: "ssm:patch-nodes",
    action: "ssm:patch-nodes",
    params: { instanceIds: ["i-0aaaaaaaaaaaaaaaa", "i-0bbbbbbbbbbbbbbbb"] },
    minimum: 2,
    why: "minimum: one SendCommand and one status read; +1 read: only instances SSM manages are targeted",
  },
];

/** The context the scenarios run in: live, in the mocks' region, with the default policy's exemption tags. */
export function scenarioContext(extra: Partial<ApplyContext> = {}): ApplyContext {
  return {
    clients: createAwsClients("eu-west-1"),
    dryRun: false,
    assessmentId: "asm-0123456789abcdef0123",
    account: "111122223333",
    region: "eu-west-1",
    // As deployed: the default policy's exemption tags, which the actions that read tags check on live resources.
    exemptTags: defaultPolicy().exemptions.tags,
    sleep: async () => {},
    ...extra,
  };
}

export async function measureApiCalls(): Promise<Record<string, ApiEconomy>> {
  const out: Record<string, ApiEconomy> = {};
  const aws = mockHappyPath();
  for (const scenario of SCENARIOS) {
    aws.reset();
    const action = getAction(scenario.action);
    const result = await action.apply(action.params.parse(scenario.params), scenarioContext());
    if (result.status !== "applied")
      throw new Error(`${scenario.key}: expected applied, got ${result.status}: ${result.reason}`);
    const measured = aws.calls();
    out[scenario.key] = { measured, minimum: scenario.minimum, why: scenario.why };
  }
  aws.restore();
  return out;
}
