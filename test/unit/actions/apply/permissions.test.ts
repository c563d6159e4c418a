import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import {
  CreateSecurityGroupCommand,
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import {
  AssociateAccessPolicyCommand,
  type AssociateAccessPolicyCommandInput,
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  DescribeUpdateCommand,
  EKSClient,
  ListAssociatedAccessPoliciesCommand,
  UpdateClusterConfigCommand,
} from "@aws-sdk/client-eks";
import {
  DescribeInstanceInformationCommand,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { QUARANTINE_GROUP_TAG } from "../../../../packages/core/src/actions/isolate-instance.action.ts";
import { ACTIONS } from "../../../../packages/core/src/actions/registry.ts";
import type { ActionDefinition } from "../../../../packages/core/src/actions/types.ts";
import { applyContext, ec2Error, sentInOrder } from "./helpers.ts";

const ec2 = mockClient(EC2Client);
const eks = mockClient(EKSClient);
const ssm = mockClient(SSMClient);
const autoscaling = mockClient(AutoScalingClient);
/** Keyed by IAM service prefix. */
const stubs = { ec2, eks, ssm, autoscaling };

const INSTANCE = "i-0f1e2d3c4b5a69788";
/** More nodes than SendCommand's 50 InstanceIds: patch-nodes tags them for its one command. */
const MANY = Array.from({ length: 51 }, (_, i) => `i-${i.toString(16).padStart(17, "0")}`);
const VPC = "vpc-0a1b2c3d4e5f67890";
const GROUP = "sg-0632fa4ee8a8468a4";
const RULE = "sgr-09be5c962afdc06ed";
const PRINCIPAL = "arn:aws:iam::111122223333:role/external-ci-deployer";
const ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

/** One AWS where every example's change is needed and every write succeeds. */
function worldWhereEveryChangeIsNeeded(findGroups: boolean): void {
  ec2.onAnyCommand().resolves({});
  eks.onAnyCommand().resolves({});
  ssm.onAnyCommand().resolves({});
  autoscaling.onAnyCommand().resolves({});
  // ec2:revoke-ingress
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({
    SecurityGroupRules: [
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
  // ec2:isolate-instance and ssm:patch-nodes (cluster mode)
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: INSTANCE,
            VpcId: VPC,
            State: { Name: "running" },
            Tags: [
              { Key: "eks:cluster-name", Value: "prod-eks" },
              { Key: "aws:autoscaling:groupName", Value: "eks-general-8ac6f1b2" },
            ],
            NetworkInterfaces: [{ NetworkInterfaceId: "eni-0a9b8c7d6e5f43210", Groups: [{ GroupId: GROUP }] }],
          },
        ],
      },
    ],
  });
  ec2.on(DescribeInstanceAttributeCommand).resolves({ DisableApiTermination: { Value: false } });
  ec2.on(DescribeSecurityGroupsCommand).resolves({
    SecurityGroups: findGroups
      ? [
          { GroupId: "sg-0ddddddddddddddd1", Tags: [{ Key: QUARANTINE_GROUP_TAG, Value: "transition" }] },
          { GroupId: "sg-0eeeeeeeeeeeeeee1", Tags: [{ Key: QUARANTINE_GROUP_TAG, Value: "quarantine" }] },
        ]
      : [],
  });
  ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: "sg-0eeeeeeeeeeeeeee1" });
  ec2.on(CreateSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: "snap-0123456789abcdef0" }] });
  // eks:restrict-endpoint, eks:enable-logging
  eks.on(DescribeClusterCommand).resolves({
    cluster: {
      name: "prod-eks",
      resourcesVpcConfig: { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ["0.0.0.0/0"] },
      logging: { clusterLogging: [{ types: ["api", "audit", "authenticator"], enabled: false }] },
    },
  });
  eks.on(UpdateClusterConfigCommand).resolves({ update: { id: "upd-1", status: "InProgress" } });
  // https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeUpdate.html
  eks.on(DescribeUpdateCommand).resolves({ update: { id: "upd-1", status: "Successful" } });
  // eks:revoke-access
  eks
    .on(ListAssociatedAccessPoliciesCommand)
    .resolves({ associatedAccessPolicies: [{ policyArn: ADMIN, accessScope: { type: "cluster" } }] });
  eks.on(DescribeAccessEntryCommand).resolves({
    accessEntry: { principalArn: PRINCIPAL, kubernetesGroups: ["system:masters"], type: "STANDARD" },
  });
  // The answer carries the association as now in force (API reference, AssociateAccessPolicy response syntax):
  // https://docs.aws.amazon.com/eks/latest/APIReference/API_AssociateAccessPolicy.html
  eks.on(AssociateAccessPolicyCommand).callsFake((input: AssociateAccessPolicyCommandInput) => ({
    clusterName: input.clusterName,
    principalArn: input.principalArn,
    associatedAccessPolicy: { policyArn: input.policyArn, accessScope: input.accessScope },
  }));
  // ssm:patch-nodes: every node asked about is online on Amazon Linux, and the command succeeds on each of MANY
  ssm.on(DescribeInstanceInformationCommand).callsFake((input: { Filters?: { Values?: string[] }[] }) => ({
    InstanceInformationList: (input.Filters?.[0]?.Values ?? []).map((InstanceId) => ({
      InstanceId,
      PingStatus: "Online",
      PlatformType: "Linux",
      PlatformName: "Amazon Linux",
    })),
  }));
  ssm.on(SendCommandCommand).resolves({ Command: { CommandId: "cmd-1" } });
  ssm.on(ListCommandInvocationsCommand).resolves({
    CommandInvocations: [INSTANCE, ...MANY].map((InstanceId) => ({
      CommandId: "cmd-1",
      InstanceId,
      Status: "Success",
    })),
  });
}

interface Case {
  label: string;
  action: ActionDefinition;
  params: unknown;
  findGroups: boolean;
}

function byId(id: string): ActionDefinition {
  const action = ACTIONS.find((a) => a.id === id);
  if (!action) throw new Error(`no action ${id}`);
  return action;
}

/**
 * The actions that call AWS. The Kubernetes actions' RBAC rules are proven against a real kube-apiserver, through an
 * identity that holds only the shipped ClusterRole (test/integration/kubernetes/).
 */
const AWS_ACTIONS = ACTIONS.filter((a) => a.kubernetesPermissions === undefined);

/** Every AWS action's example, and the other modes of the actions that have several. */
const CASES: Case[] = [
  ...AWS_ACTIONS.map((action) => ({
    label: `${action.id} example`,
    action,
    params: action.example,
    findGroups: false,
  })),
  {
    label: "ec2:revoke-ingress by rule id only",
    action: byId("ec2:revoke-ingress"),
    params: { groupId: GROUP, ruleIds: [RULE] },
    findGroups: false,
  },
  {
    label: "ec2:revoke-ingress by permissions",
    action: byId("ec2:revoke-ingress"),
    params: {
      groupId: GROUP,
      ipPermissions: [{ protocol: "tcp", fromPort: 22, toPort: 22, ipv4: ["0.0.0.0/0"], ipv6: [] }],
    },
    findGroups: false,
  },
  {
    label: "eks:revoke-access remainingGroups",
    action: byId("eks:revoke-access"),
    params: { clusterName: "prod-eks", principalArn: PRINCIPAL, remainingGroups: [] },
    findGroups: false,
  },
  {
    label: "eks:revoke-access narrowing back to namespaces",
    action: byId("eks:revoke-access"),
    params: { clusterName: "prod-eks", principalArn: PRINCIPAL, policyArn: ADMIN, narrowTo: ["team-a"] },
    findGroups: false,
  },
  {
    label: "eks:revoke-access deleteAccessEntry",
    action: byId("eks:revoke-access"),
    params: { clusterName: "prod-eks", principalArn: PRINCIPAL, deleteAccessEntry: true },
    findGroups: false,
  },
  {
    label: "eks:restrict-endpoint turning public access off",
    action: byId("eks:restrict-endpoint"),
    params: { clusterName: "prod-eks", publicAccessCidrs: [] },
    findGroups: false,
  },
  {
    label: "ec2:isolate-instance with existing groups",
    action: byId("ec2:isolate-instance"),
    params: byId("ec2:isolate-instance").example,
    findGroups: true,
  },
  {
    label: "ssm:patch-nodes by instance ids",
    action: byId("ssm:patch-nodes"),
    params: { instanceIds: [INSTANCE] },
    findGroups: false,
  },
  {
    label: "ssm:patch-nodes on more than 50 nodes (the run tag)",
    action: byId("ssm:patch-nodes"),
    params: { instanceIds: MANY },
    findGroups: false,
  },
];

beforeEach(() => {
  for (const stub of Object.values(stubs)) stub.reset();
});

afterAll(() => {
  for (const stub of Object.values(stubs)) stub.restore();
});

describe("ACTIONS permissions", () => {
  it("has a case for every registered AWS action", () => {
    const covered = new Set(CASES.map((c) => c.action.id));

    const missing = AWS_ACTIONS.map((a) => a.id).filter((id) => !covered.has(id));

    expect(missing).toEqual([]);
  });

  it.each(CASES.map((c) => [c.label, c] as const))(
    "%s: permissions cover every command apply sends, rollbackPermissions every command rollback sends",
    async (_label, { action, params, findGroups }) => {
      worldWhereEveryChangeIsNeeded(findGroups);
      const { ctx } = applyContext(false);

      const applied = await action.apply(action.params.parse(params), ctx);
      const byApply = used();
      for (const stub of Object.values(stubs)) stub.resetHistory();
      const rolledBack = action.rollback && applied.undo ? await action.rollback(applied.undo, ctx) : undefined;
      const byRollback = used();

      expect(applied.status).toBe("applied");
      expect(rolledBack?.status ?? "none").toBe(action.rollback ? "applied" : "none");
      expect(byApply.length).toBeGreaterThan(0);
      expect(byApply.filter((permission) => !action.permissions.includes(permission))).toEqual([]);
      expect(byRollback.filter((permission) => !action.rollbackPermissions.includes(permission))).toEqual([]);
      // Nothing is declared that no path uses: each rollback permission is sent by this rollback or by another case.
      if (action.rollback) expect(byRollback.length).toBeGreaterThan(0);
    },
  );

  it("ec2:isolate-instance: apply's own undo after a failure partway needs only the apply permissions", async () => {
    worldWhereEveryChangeIsNeeded(false);
    // The last step of the network isolation (the tag) fails after every interface was moved, so apply moves them
    // back (undoSteps); the protections after it never ran. TagLimitExceeded: "You've reached the limit on the number
    // of tags that you can assign to the specified resource" (client error),
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
    ec2.on(CreateTagsCommand).rejects(ec2Error("TagLimitExceeded"));
    const action = byId("ec2:isolate-instance");
    const { ctx } = applyContext(false);

    const applied = await action.apply(action.params.parse(action.example), ctx);

    expect(applied.status).toBe("failed");
    expect(applied.rolledBack).toBe(true);
    const sent = used();
    expect(sent).toContain("ec2:ModifyNetworkInterfaceAttribute");
    expect(sent).not.toContain("ec2:DeleteTags");
    expect(sent).not.toContain("ec2:ModifyInstanceAttribute");
    expect(sent.filter((permission) => !action.permissions.includes(permission))).toEqual([]);
  });

  it("no action's apply or check needs a permission that re-opens access: those are rollback-only", () => {
    const reopening = [
      "eks:CreateAccessEntry",
      // revoke-ingress re-authorizes on any group; isolate-instance authorizes only on its own transition group
      // (infra/iam.ts conditions that grant on the group's tag). revoke-access associates only to narrow a grant back
      // to namespaces: infra/iam.ts grants it at namespace scope only, and test/unit/infra/iam.test.ts proves a
      // cluster-wide association denied to every function role.
    ];
    for (const action of ACTIONS) {
      expect(
        action.permissions.filter((p) => reopening.includes(p)),
        action.id,
      ).toEqual([]);
    }
    expect(byId("ec2:revoke-ingress").permissions).not.toContain("ec2:AuthorizeSecurityGroupIngress");
    expect(ACTIONS.filter((a) => a.permissions.includes("eks:AssociateAccessPolicy")).map((a) => a.id)).toEqual([
      "eks:revoke-access",
    ]);
  });
});

function used(): string[] {
  return [...new Set(sentInOrder(stubs).map((s) => `${s.service}:${s.command}`))];
}
