import { describe, expect, it } from "vitest";
import { APPROVAL_PLACEHOLDERS, approvalDefinition } from "../../../infra/approval.ts";
import { APPROVAL_TASK_FUNCTIONS } from "../../../infra/iam.ts";
import {
  EVENT_DELIVERY,
  FUNCTION_IDS,
  FUNCTIONS,
  type FunctionId,
  parameterTier,
  policyFile,
  SECRET_PARAMETERS,
  settings,
} from "../../../infra/naming.ts";
import { tableArgs } from "../../../infra/table-args.ts";
import { tableDefinition, ttlSpecification } from "../../../packages/core/src/store/table.ts";

describe("settings", () => {
  it("names every resource after app and stage, and the parameters under /<app>/<stage>/", () => {
    const s = settings("eks-responder", "prod");
    expect(s.functionNames.respond).toBe("eks-responder-prod-respond");
    expect(s.functionNames["approval-callback"]).toBe("eks-responder-prod-approval-callback");
    expect(s.tableName).toBe("eks-responder-prod");
    expect(s.stateMachineName).toBe("eks-responder-prod-approval");
    expect(s.parameterNames).toEqual({
      policy: "/eks-responder/prod/policy",
      killSwitch: "/eks-responder/prod/kill-switch",
      slackWebhook: "/eks-responder/prod/slack-webhook",
      slackToken: "/eks-responder/prod/slack-token",
      slackSigningSecret: "/eks-responder/prod/slack-signing-secret",
      approvalLinkSecret: "/eks-responder/prod/approval-link-secret",
    });
    expect(s.alertEmail).toBeUndefined();
  });

  it("names the rollback role and takes the operator ARNs from EKS_RESPONDER_OPERATOR_ARNS, none by default", () => {
    const s = settings("eks-responder", "prod", {
      EKS_RESPONDER_OPERATOR_ARNS:
        " arn:aws:iam::111122223333:role/platform-oncall ,arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_SecOps_*",
    });
    expect(s.rollbackRoleName).toBe("eks-responder-prod-rollback");
    expect(s.operatorPrincipalArns).toEqual([
      "arn:aws:iam::111122223333:role/platform-oncall",
      "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_SecOps_*",
    ]);
    expect(settings("eks-responder", "prod").operatorPrincipalArns).toEqual([]);
  });

  it.each([
    "arn:aws:iam::111122223333:role/*",
    "arn:aws:iam::111122223333:user/*",
    "arn:aws:iam::111122223333:root",
    "arn:aws:sts::111122223333:assumed-role/platform-oncall/alice",
    "platform-oncall",
  ])("refuses the operator ARN %s rather than trust it loosely", (arn) => {
    expect(() => settings("eks-responder", "prod", { EKS_RESPONDER_OPERATOR_ARNS: arn })).toThrow(
      /EKS_RESPONDER_OPERATOR_ARNS/,
    );
  });

  it("takes the secrets' parameter names and the alert email from the environment", () => {
    const s = settings("eks-responder", "prod", {
      EKS_RESPONDER_SLACK_WEBHOOK_PARAMETER: "/shared/slack/webhook",
      EKS_RESPONDER_ALERT_EMAIL: "secops@example.com",
    });
    expect(s.parameterNames.slackWebhook).toBe("/shared/slack/webhook");
    expect(s.parameterNames.slackToken).toBe("/eks-responder/prod/slack-token");
    expect(s.alertEmail).toBe("secops@example.com");
    expect(SECRET_PARAMETERS.map((p) => p.key).sort()).toEqual(
      ["approvalLinkSecret", "slackSigningSecret", "slackToken", "slackWebhook"].sort(),
    );
  });

  it("refuses names AWS would refuse, naming the variable", () => {
    expect(() => settings("eks-responder", "prod", { EKS_RESPONDER_SLACK_TOKEN_PARAMETER: "slack token" })).toThrow(
      /EKS_RESPONDER_SLACK_TOKEN_PARAMETER/,
    );
    expect(() => settings("eks-responder", "Prod")).toThrow(/stage "Prod"/);
    expect(() => settings("eks-responder", "a".repeat(33))).toThrow(/at most 32/);
    expect(() => settings("eks-responder", "prod", { EKS_RESPONDER_ALERT_EMAIL: "nobody" })).toThrow(/email/);
    expect(() => settings("x".repeat(30), "a".repeat(20))).toThrow(/longer than 64/);
  });
});

describe("the Kubernetes settings", () => {
  it("are off by default: no cluster, the group eks-responder, no VPC", () => {
    const s = settings("eks-responder", "prod");
    expect([s.kubernetesClusters, s.kubernetesGroup, s.vpc]).toEqual([[], "eks-responder", undefined]);
  });

  it("read the clusters, the group and the VPC, comma-separated, trimmed and without repeats", () => {
    const s = settings("eks-responder", "prod", {
      EKS_RESPONDER_KUBERNETES_CLUSTERS: " prod-eks, edge_eks ,prod-eks,",
      EKS_RESPONDER_KUBERNETES_GROUP: "platform:responders",
      EKS_RESPONDER_VPC_SUBNET_IDS: "subnet-0123456789abcdef0, subnet-0fedcba9",
      EKS_RESPONDER_VPC_SECURITY_GROUP_IDS: "sg-0123456789abcdef0",
    });
    expect(s.kubernetesClusters).toEqual(["prod-eks", "edge_eks"]);
    expect(s.kubernetesGroup).toBe("platform:responders");
    expect(s.vpc).toEqual({
      subnetIds: ["subnet-0123456789abcdef0", "subnet-0fedcba9"],
      securityGroupIds: ["sg-0123456789abcdef0"],
    });
  });

  it.each([
    [
      { EKS_RESPONDER_KUBERNETES_CLUSTERS: "prod eks" },
      'EKS_RESPONDER_KUBERNETES_CLUSTERS: "prod eks" is not an EKS cluster name',
    ],
    [{ EKS_RESPONDER_KUBERNETES_CLUSTERS: "-prod" }, '"-prod" is not an EKS cluster name'],
    [{ EKS_RESPONDER_KUBERNETES_CLUSTERS: "x".repeat(101) }, "is not an EKS cluster name"],
    [
      { EKS_RESPONDER_KUBERNETES_GROUP: "system:masters" },
      'EKS_RESPONDER_KUBERNETES_GROUP: "system:masters" starts with system:',
    ],
    [{ EKS_RESPONDER_KUBERNETES_GROUP: "a b" }, 'EKS_RESPONDER_KUBERNETES_GROUP: "a b" is not a group name'],
    [
      { EKS_RESPONDER_VPC_SUBNET_IDS: "subnet-0123456789abcdef0" },
      "EKS_RESPONDER_VPC_SUBNET_IDS and EKS_RESPONDER_VPC_SECURITY_GROUP_IDS go together",
    ],
    [
      { EKS_RESPONDER_VPC_SECURITY_GROUP_IDS: "sg-0123456789abcdef0" },
      "EKS_RESPONDER_VPC_SUBNET_IDS and EKS_RESPONDER_VPC_SECURITY_GROUP_IDS go together",
    ],
    [
      { EKS_RESPONDER_VPC_SUBNET_IDS: "vpc-0123456789abcdef0", EKS_RESPONDER_VPC_SECURITY_GROUP_IDS: "sg-01234567" },
      'EKS_RESPONDER_VPC_SUBNET_IDS: "vpc-0123456789abcdef0" is not a subnet id',
    ],
    [
      { EKS_RESPONDER_VPC_SUBNET_IDS: "subnet-01234567", EKS_RESPONDER_VPC_SECURITY_GROUP_IDS: "default" },
      'EKS_RESPONDER_VPC_SECURITY_GROUP_IDS: "default" is not a security group id',
    ],
    [
      {
        EKS_RESPONDER_VPC_SUBNET_IDS: "subnet-01234567",
        EKS_RESPONDER_VPC_SECURITY_GROUP_IDS: [
          "sg-01234567",
          "sg-11234567",
          "sg-21234567",
          "sg-31234567",
          "sg-41234567",
          "sg-51234567",
        ].join(","),
      },
      "at most 5 security groups",
    ],
  ])("refuse %j with a message naming the variable and the value", (env, message) => {
    expect(() => settings("eks-responder", "prod", env)).toThrow(message);
  });
});

describe("FUNCTIONS", () => {
  it("has one handler per function, packages/functions/src/<id>.handler.ts exporting handler", () => {
    expect(Object.keys(FUNCTIONS).sort()).toEqual([...FUNCTION_IDS].sort());
    for (const id of FUNCTION_IDS) expect(FUNCTIONS[id].handler).toBe(`packages/functions/src/${id}.handler.handler`);
  });

  it("sizes respond 512 MB / 60 s, approval-apply 512 MB / 900 s, digest 256 MB / 120 s and the others 256 MB / 30 s", () => {
    const sizes = Object.fromEntries(
      FUNCTION_IDS.map((id) => [id, [FUNCTIONS[id].memoryMb, FUNCTIONS[id].timeoutSeconds]]),
    );
    expect(sizes).toEqual({
      respond: [512, 60],
      "approval-request": [256, 30],
      "approval-apply": [512, 900],
      "approval-notify": [256, 30],
      "approval-record": [256, 30],
      "approval-callback": [256, 30],
      digest: [256, 120],
    });
  });

  it("gives each task function no more time than its state in the approval workflow allows", () => {
    const arns = Object.fromEntries(
      Object.entries(APPROVAL_TASK_FUNCTIONS).map(([key, id]) => [key, `arn:aws:lambda:eu-west-1:1:function:${id}`]),
    ) as Record<keyof typeof APPROVAL_TASK_FUNCTIONS, string>;
    const definition = approvalDefinition(arns);
    for (const state of Object.values(definition.States)) {
      const parameters = state.Parameters as Record<string, unknown> | undefined;
      const name = typeof parameters?.FunctionName === "string" ? parameters.FunctionName : undefined;
      if (!name || typeof state.TimeoutSeconds !== "number") continue;
      const id = name.split(":").pop() as FunctionId;
      expect(FUNCTIONS[id].timeoutSeconds, id).toBeLessThanOrEqual(state.TimeoutSeconds);
    }
    expect(Object.keys(APPROVAL_TASK_FUNCTIONS).sort()).toEqual(Object.values(APPROVAL_PLACEHOLDERS).sort());
  });
});

describe("EVENT_DELIVERY", () => {
  it("retries for an hour at most, within what EventBridge and Lambda accept", () => {
    expect(EVENT_DELIVERY.target.maximumEventAgeInSeconds).toBeGreaterThanOrEqual(60);
    expect(EVENT_DELIVERY.target.maximumEventAgeInSeconds).toBeLessThanOrEqual(86_400);
    expect(EVENT_DELIVERY.target.maximumRetryAttempts).toBeLessThanOrEqual(185);
    expect(EVENT_DELIVERY.invoke.maximumEventAgeInSeconds).toBeLessThanOrEqual(21_600);
    expect(EVENT_DELIVERY.invoke.maximumRetryAttempts).toBeLessThanOrEqual(2);
  });
});

describe("tableArgs", () => {
  it("mirrors tableDefinition(): keys, attributes, indexes, on-demand, TTL, recovery and encryption", () => {
    const definition = tableDefinition("eks-responder-prod");
    const args = tableArgs("eks-responder-prod", true);
    expect(args.name).toBe(definition.TableName);
    expect(args.billingMode).toBe("PAY_PER_REQUEST");
    expect([args.hashKey, args.rangeKey]).toEqual(definition.KeySchema.map((k) => k.AttributeName));
    expect(args.attributes).toEqual(
      definition.AttributeDefinitions.map((a) => ({ name: a.AttributeName, type: a.AttributeType })),
    );
    expect(args.globalSecondaryIndexes).toEqual(
      definition.GlobalSecondaryIndexes.map((i) => ({
        name: i.IndexName,
        hashKey: i.KeySchema[0]?.AttributeName,
        rangeKey: i.KeySchema[1]?.AttributeName,
        projectionType: i.Projection.ProjectionType,
      })),
    );
    expect(args.ttl).toEqual({
      attributeName: ttlSpecification("x").TimeToLiveSpecification.AttributeName,
      enabled: true,
    });
    expect(args.pointInTimeRecovery).toEqual({ enabled: true });
    expect(args.serverSideEncryption).toEqual({ enabled: true });
    expect(args.deletionProtectionEnabled).toBe(true);
    expect(tableArgs("t", false).deletionProtectionEnabled).toBe(false);
  });
});

describe("policyFile and parameterTier", () => {
  it("prefers eks-responder.policy.json, else the example", () => {
    expect(policyFile(() => true)).toBe("eks-responder.policy.json");
    expect(policyFile((p) => p === "examples/policy.json")).toBe("examples/policy.json");
    expect(() => policyFile(() => false)).toThrow(/eks-responder\.policy\.json/);
  });

  it("uses a standard parameter up to 4 KB, advanced up to 8 KB, and refuses more", () => {
    expect(parameterTier("x".repeat(4096))).toBe("Standard");
    expect(parameterTier("x".repeat(4097))).toBe("Advanced");
    expect(() => parameterTier("x".repeat(8193))).toThrow(/8,192/);
  });
});
