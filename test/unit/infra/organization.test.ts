import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import { describe, expect, it } from "vitest";
import { deploymentMode, organizationSettings } from "../../../infra/deployment-settings.ts";
import {
  iamContext,
  remediationActions,
  remediationStatements,
  rollbackActions,
  rollbackStatements,
} from "../../../infra/iam.ts";
import { HUB_ACTING_FUNCTIONS, memberTemplate, memberTemplateInput } from "../../../infra/member-template.ts";
import { settings } from "../../../infra/naming.ts";
import {
  hubMemberAccessStatements,
  operatorRollbackPolicy,
  organizationBusPolicy,
} from "../../../infra/organization-iam.ts";
import { matchesPattern } from "../../../packages/core/src/eventbridge/pattern.ts";
import { ruleSpecs } from "../../../packages/core/src/eventbridge/rules.ts";
import { validateTemplate } from "../../helpers/cloudformation-spec.ts";
import { APPLY_CALLS, type Call, ACCOUNT as MEMBER_ACCOUNT, REGION, ROLLBACK_CALLS } from "./remediation-calls.ts";

/** The hub (security) account; the member account is remediation-calls.ts's, so its calls apply unchanged. */
const HUB_ACCOUNT = "999988887777";
const OUTSIDER = "444455556666";
const ORG = "o-a1b2c3d4e5";
const OTHER_ORG = "o-zz9y8x7w6v";
const EXTERNAL_ID = "3f0c9a7e-5b1d-4e2a-9c8f-0123456789ab";
const ENV = {
  EKS_RESPONDER_DEPLOYMENT: "hub",
  EKS_RESPONDER_ORGANIZATION_ID: ORG,
  EKS_RESPONDER_ORGANIZATION_ROOT: "r-a1b2",
  EKS_RESPONDER_REGIONS: `${REGION},us-east-1`,
  EKS_RESPONDER_EXTERNAL_ID: EXTERNAL_ID,
};
const hub = settings("eks-responder", "prod", ENV);
const org =
  hub.organization ??
  (() => {
    throw new Error("hub mode has organization settings");
  })();
const template = memberTemplate(memberTemplateInput(hub));
const FIXTURES = join(import.meta.dirname, "../../fixtures");

/** The template's values for one member account: Fn::Sub and Ref resolved, as CloudFormation would. */
function resolved(value: unknown, account: string): unknown {
  const variables: Record<string, string> = {
    "AWS::Partition": "aws",
    "AWS::AccountId": account,
    HubAccountId: HUB_ACCOUNT,
    ExternalId: EXTERNAL_ID,
  };
  if (Array.isArray(value)) return value.map((v) => resolved(v, account));
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (typeof record["Fn::Sub"] === "string") {
    return record["Fn::Sub"].replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
      const v = variables[name];
      if (v === undefined) throw new Error(`unresolved \${${name}}`);
      return v;
    });
  }
  if (typeof record.Ref === "string" && Object.keys(record).length === 1) return variables[record.Ref];
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, resolved(v, account)]));
}

function property(resource: string, path: string[]): unknown {
  let value: unknown = template.Resources[resource]?.Properties;
  for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
  return value;
}

const role = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;
const MEMBER_ROLE = role(MEMBER_ACCOUNT, org.memberRoleName);
const HUB_RESPOND = role(HUB_ACCOUNT, hub.functionRoleNames.respond);
const HUB_APPLY = role(HUB_ACCOUNT, hub.functionRoleNames["approval-apply"]);
const ALLOW_ALL = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };

async function simulate(simulation: Simulation): Promise<string> {
  const result = await runSimulation(simulation, {});
  if (result.resultType === "error") throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}

/** sts:AssumeRole of `roleArn` by `principal`; `identity` and `trust` decide (the other side allows everything). */
function assume(input: {
  principal: string;
  roleArn: string;
  identity: unknown;
  trust: unknown;
  externalId?: string;
  principalOrg?: string;
  resourceOrg?: string;
}): Promise<string> {
  return simulate({
    request: {
      principal: input.principal,
      action: "sts:AssumeRole",
      resource: { resource: input.roleArn, accountId: input.roleArn.split(":")[4] ?? "" },
      contextVariables: {
        "aws:PrincipalArn": input.principal,
        "aws:PrincipalOrgID": input.principalOrg ?? ORG,
        "aws:ResourceOrgID": input.resourceOrg ?? ORG,
        ...(input.externalId !== undefined ? { "sts:ExternalId": input.externalId } : {}),
      },
    },
    identityPolicies: [
      { name: "identity", policy: input.identity as Simulation["identityPolicies"][number]["policy"] },
    ],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: input.trust as Simulation["resourcePolicy"],
  });
}

const trustingEveryone = (principal: string) => ({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { AWS: principal }, Action: "sts:AssumeRole" }],
});

describe("the deployment settings", () => {
  it("default to standalone, with no organization settings read", () => {
    expect(deploymentMode({})).toBe("standalone");
    const standalone = settings("eks-responder", "prod", { EKS_RESPONDER_ORGANIZATION_ID: "not-checked" });
    expect(standalone.deployment).toBe("standalone");
    expect(standalone.organization).toBeUndefined();
  });

  it("read hub mode's variables, with the member role name, role region and GuardDuty admin defaults", () => {
    expect(org).toMatchObject({
      organizationId: ORG,
      regions: [REGION, "us-east-1"],
      roleRegion: REGION,
      memberRoleName: "eks-responder-member",
      externalId: EXTERNAL_ID,
      organizationRoot: "r-a1b2",
      targetOus: [],
      hubAccount: undefined,
      stackSetCallAs: "DELEGATED_ADMIN",
    });
  });

  it.each([
    [{ EKS_RESPONDER_DEPLOYMENT: "spoke" }, /EKS_RESPONDER_DEPLOYMENT: "spoke" is not one of standalone, hub, member/],
    [{ EKS_RESPONDER_ORGANIZATION_ID: "" }, /EKS_RESPONDER_ORGANIZATION_ID is required in hub mode/],
    [{ EKS_RESPONDER_ORGANIZATION_ID: "o-123" }, /EKS_RESPONDER_ORGANIZATION_ID: "o-123" is not an organization id/],
    [{ EKS_RESPONDER_REGIONS: "" }, /EKS_RESPONDER_REGIONS is required in hub mode/],
    [{ EKS_RESPONDER_REGIONS: "eu-west-1,Mars" }, /EKS_RESPONDER_REGIONS: "Mars" is not an AWS region name/],
    [{ EKS_RESPONDER_EXTERNAL_ID: "" }, /EKS_RESPONDER_EXTERNAL_ID is required/],
    [{ EKS_RESPONDER_EXTERNAL_ID: "short-id" }, /EKS_RESPONDER_EXTERNAL_ID: 8 characters; use 16 or more/],
    [{ EKS_RESPONDER_EXTERNAL_ID: "has spaces in it, not allowed" }, /is not an sts:ExternalId/],
    [{ EKS_RESPONDER_ORGANIZATION_ROOT: "" }, /set EKS_RESPONDER_ORGANIZATION_ROOT .* or EKS_RESPONDER_TARGET_OUS/],
    [{ EKS_RESPONDER_TARGET_OUS: "ou-abc" }, /EKS_RESPONDER_TARGET_OUS: "ou-abc" is not an organizational unit id/],
    [{ EKS_RESPONDER_MEMBER_ROLE_NAME: "a/b" }, /EKS_RESPONDER_MEMBER_ROLE_NAME: "a\/b" is not an IAM role name/],
    [{ EKS_RESPONDER_HUB_ACCOUNT: "1234" }, /EKS_RESPONDER_HUB_ACCOUNT: "1234" is not an AWS account id/],
    [
      { EKS_RESPONDER_STACKSET_CALL_AS: "ADMIN" },
      /EKS_RESPONDER_STACKSET_CALL_AS: "ADMIN" is not SELF or DELEGATED_ADMIN/,
    ],
    [{ EKS_RESPONDER_DEPLOYMENT: "member" }, /EKS_RESPONDER_HUB_ACCOUNT is required in member mode/],
  ])("refuse %j with a clear error", (change, message) => {
    expect(() => settings("eks-responder", "prod", { ...ENV, ...change })).toThrow(message);
  });

  it("take the hub region from EKS_RESPONDER_HUB_REGION in member mode", () => {
    const member = organizationSettings(
      "member",
      { ...ENV, EKS_RESPONDER_HUB_ACCOUNT: HUB_ACCOUNT, EKS_RESPONDER_HUB_REGION: "us-east-2" },
      "eu-west-1",
      "eks-responder-prod",
    );
    expect(member?.hubRegion).toBe("us-east-2");
    expect(member?.guardDutyAdminAccount).toBe(HUB_ACCOUNT);
  });
});

describe("the hub's function roles in member accounts", () => {
  const identity = {
    Version: "2012-10-17",
    Statement: hubMemberAccessStatements({
      partition: "aws",
      memberRoleName: org.memberRoleName,
      organizationId: ORG,
      externalId: EXTERNAL_ID,
      externalIdParameterArn: `arn:aws:ssm:${REGION}:${HUB_ACCOUNT}:parameter${hub.memberExternalIdParameterName}`,
    }),
  };
  const base = { principal: HUB_RESPOND, identity, trust: trustingEveryone(HUB_RESPOND) };

  it("may assume the member role of that name with the ExternalId in an account of the organization", async () => {
    expect(await assume({ ...base, roleArn: MEMBER_ROLE, externalId: EXTERNAL_ID })).toBe("Allowed");
  });

  it("may not assume another role, without or with another ExternalId, or outside the organization", async () => {
    expect(
      await assume({
        ...base,
        roleArn: role(MEMBER_ACCOUNT, "OrganizationAccountAccessRole"),
        externalId: EXTERNAL_ID,
      }),
    ).not.toBe("Allowed");
    expect(await assume({ ...base, roleArn: MEMBER_ROLE })).not.toBe("Allowed");
    expect(await assume({ ...base, roleArn: MEMBER_ROLE, externalId: "someone-elses-external-id" })).not.toBe(
      "Allowed",
    );
    expect(
      await assume({
        ...base,
        roleArn: role(OUTSIDER, org.memberRoleName),
        externalId: EXTERNAL_ID,
        resourceOrg: OTHER_ORG,
      }),
    ).not.toBe("Allowed");
  });

  it("are the respond and approval-apply roles, which the member role trusts", () => {
    expect(HUB_ACTING_FUNCTIONS).toEqual(["respond", "approval-apply"]);
  });
});

/** `call` by a session of the member role `roleName` whose one inline policy is the template's `resource`'s. */
function memberDecision(resource: string, roleName: string) {
  const policies = property(resource, ["Policies"]) as { PolicyDocument: unknown }[];
  expect(policies).toHaveLength(1);
  const policy = resolved(
    policies[0]?.PolicyDocument,
    MEMBER_ACCOUNT,
  ) as Simulation["identityPolicies"][number]["policy"];
  return {
    policy,
    decide: (call: Call, region: string) =>
      simulate({
        request: {
          principal: `arn:aws:sts::${MEMBER_ACCOUNT}:assumed-role/${roleName}/eks-responder-asm-1`,
          action: call.action,
          resource: { resource: call.resource.replace(`:${REGION}:`, `:${region}:`), accountId: MEMBER_ACCOUNT },
          contextVariables: { "aws:RequestedRegion": region, ...call.context },
        },
        identityPolicies: [{ name: "policy", policy }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      }),
  };
}

/** The Allow statements of a member role's policy equal `standalone`'s (Sids and actions), and grant `actions`. */
function expectStandaloneStatements(
  policy: unknown,
  actions: string[],
  standalone: { Sid: string; Action: string[] }[],
) {
  const granted = (policy as { Statement: { Effect: string; Action: string[]; Sid: string }[] }).Statement.filter(
    (s) => s.Effect === "Allow",
  );
  expect([...new Set(granted.flatMap((s) => s.Action))].sort()).toEqual(actions);
  expect(granted.map((s) => [s.Sid, s.Action])).toEqual(standalone.map((s) => [s.Sid, s.Action]));
}

describe("the member execution role", () => {
  const trust = resolved(property("ExecutionRole", ["AssumeRolePolicyDocument"]), MEMBER_ACCOUNT);
  const base = { roleArn: MEMBER_ROLE, identity: ALLOW_ALL, trust };

  it("is assumed by the hub's respond and approval-apply roles with the ExternalId from the organization", async () => {
    for (const principal of [HUB_RESPOND, HUB_APPLY]) {
      expect(await assume({ ...base, principal, externalId: EXTERNAL_ID }), principal).toBe("Allowed");
    }
  });

  it("is not assumed without the ExternalId, with another, by other hub roles, or from outside the organization", async () => {
    expect(await assume({ ...base, principal: HUB_RESPOND })).not.toBe("Allowed");
    expect(await assume({ ...base, principal: HUB_RESPOND, externalId: "someone-elses-external-id" })).not.toBe(
      "Allowed",
    );
    const digest = role(HUB_ACCOUNT, hub.functionRoleNames.digest);
    expect(await assume({ ...base, principal: digest, externalId: EXTERNAL_ID })).not.toBe("Allowed");
    expect(await assume({ ...base, principal: role(HUB_ACCOUNT, "admin"), externalId: EXTERNAL_ID })).not.toBe(
      "Allowed",
    );
    const outsider = role(OUTSIDER, hub.functionRoleNames.respond);
    expect(await assume({ ...base, principal: outsider, externalId: EXTERNAL_ID, principalOrg: OTHER_ORG })).not.toBe(
      "Allowed",
    );
    expect(
      await assume({ ...base, principal: HUB_RESPOND, externalId: EXTERNAL_ID, principalOrg: OTHER_ORG }),
    ).not.toBe("Allowed");
  });

  const { policy, decide } = memberDecision("ExecutionRole", org.memberRoleName);
  const calls = Object.values(APPLY_CALLS)
    .flat()
    .filter((c) => !/:ssm:[^:]+::document\//.test(c.resource));

  it("grants exactly the actions of the standalone remediation statements, with the same statements", () => {
    const standalone = remediationStatements({ partition: "aws", account: MEMBER_ACCOUNT, region: REGION });
    expectStandaloneStatements(policy, remediationActions(), standalone);
  });

  it("allows every call of check and apply in each member region", async () => {
    for (const region of org.regions) {
      for (const call of calls)
        expect(await decide(call, region), `${call.action} ${call.resource} ${region}`).toBe("Allowed");
    }
  });

  it("denies them outside the member regions", async () => {
    for (const call of calls) expect(await decide(call, "ap-south-1"), `${call.action} ap-south-1`).not.toBe("Allowed");
  });

  it("denies what the standalone role denies: rollback-only and dangerous calls", async () => {
    const denied: Call[] = [
      {
        action: "ec2:TerminateInstances",
        resource: `arn:aws:ec2:${REGION}:${MEMBER_ACCOUNT}:instance/i-0abcdef1234567890`,
      },
      { action: "iam:PassRole", resource: role(MEMBER_ACCOUNT, "admin") },
      { action: "sts:AssumeRole", resource: role(MEMBER_ACCOUNT, "admin") },
      { action: "eks:CreateAccessEntry", resource: `arn:aws:eks:${REGION}:${MEMBER_ACCOUNT}:cluster/prod-eks` },
    ];
    for (const call of denied) expect(await decide(call, REGION), call.action).not.toBe("Allowed");
  });
});

const MEMBER_ROLLBACK = role(MEMBER_ACCOUNT, org.memberRollbackRoleName);
const HUB_ROLLBACK = role(HUB_ACCOUNT, hub.rollbackRoleName);
const rollbackCalls = Object.values(ROLLBACK_CALLS).flat();

describe("the member rollback role (eks-responder rollback --role-arn in a member account)", () => {
  const trust = resolved(property("RollbackRole", ["AssumeRolePolicyDocument"]), MEMBER_ACCOUNT);
  const base = { roleArn: MEMBER_ROLLBACK, identity: ALLOW_ALL, trust };
  const { policy, decide } = memberDecision("RollbackRole", org.memberRollbackRoleName);

  it("is created beside the execution role, in the role region, and named in the outputs", () => {
    expect(template.Resources.RollbackRole?.Condition).toBe("IsRoleRegion");
    expect(property("RollbackRole", ["RoleName"])).toBe(`${org.memberRoleName}-rollback`);
    expect(template.Outputs.RollbackRoleArn?.Condition).toBe("IsRoleRegion");
  });

  it("is assumed by the hub's operator rollback role with the ExternalId from the organization", async () => {
    expect(await assume({ ...base, principal: HUB_ROLLBACK, externalId: EXTERNAL_ID })).toBe("Allowed");
  });

  it("is not assumed by the hub's function roles, by other principals, without the ExternalId or from outside", async () => {
    for (const principal of [HUB_RESPOND, HUB_APPLY, role(HUB_ACCOUNT, hub.functionRoleNames.digest)]) {
      expect(await assume({ ...base, principal, externalId: EXTERNAL_ID }), principal).not.toBe("Allowed");
    }
    expect(await assume({ ...base, principal: role(HUB_ACCOUNT, "admin"), externalId: EXTERNAL_ID })).not.toBe(
      "Allowed",
    );
    expect(await assume({ ...base, principal: HUB_ROLLBACK })).not.toBe("Allowed");
    expect(await assume({ ...base, principal: HUB_ROLLBACK, externalId: "someone-elses-external-id" })).not.toBe(
      "Allowed",
    );
    expect(
      await assume({ ...base, principal: HUB_ROLLBACK, externalId: EXTERNAL_ID, principalOrg: OTHER_ORG }),
    ).not.toBe("Allowed");
  });

  it("grants exactly the standalone rollback statements' actions, with the same statements", () => {
    const standalone = rollbackStatements({ partition: "aws", account: MEMBER_ACCOUNT, region: REGION });
    expectStandaloneStatements(policy, rollbackActions(), standalone);
  });

  it("allows every call of every action's rollback in each member region, and none outside them", async () => {
    for (const region of org.regions) {
      for (const call of rollbackCalls)
        expect(await decide(call, region), `${call.action} ${call.resource} ${region}`).toBe("Allowed");
    }
    for (const call of rollbackCalls) expect(await decide(call, "ap-south-1"), call.action).not.toBe("Allowed");
  });

  it("allows none of apply's changes that rollback does not send, nor a dangerous call", async () => {
    const rollbackOnly = new Set(rollbackActions());
    const applyOnly = Object.values(APPLY_CALLS)
      .flat()
      .filter((c) => !rollbackOnly.has(c.action) && !/:(Describe|Get|List)/.test(c.action))
      .filter((c) => !/:ssm:[^:]+::document\//.test(c.resource));
    expect(applyOnly.length).toBeGreaterThan(0);
    for (const call of applyOnly) expect(await decide(call, REGION), call.action).not.toBe("Allowed");
    for (const call of [
      { action: "iam:PassRole", resource: role(MEMBER_ACCOUNT, "admin") },
      { action: "sts:AssumeRole", resource: role(MEMBER_ACCOUNT, "admin") },
    ])
      expect(await decide(call, REGION), call.action).not.toBe("Allowed");
  });

  it("is what the member execution role is not: the functions cannot send the whole rollback of any action", async () => {
    const execution = memberDecision("ExecutionRole", org.memberRoleName);
    for (const [permission, calls] of Object.entries(ROLLBACK_CALLS)) {
      if (remediationActions().includes(permission)) continue; // also check/apply's (a read, or a narrower change)
      for (const call of calls)
        expect(await execution.decide(call, REGION), `${call.action} ${call.resource}`).not.toBe("Allowed");
    }
  });
});

describe("the hub's operator rollback role in member accounts", () => {
  const context = iamContext(
    {
      partition: "aws",
      account: HUB_ACCOUNT,
      region: REGION,
      topicArn: `arn:aws:sns:${REGION}:${HUB_ACCOUNT}:eks-responder-prod-alerts`,
      approvalsTopicArn: `arn:aws:sns:${REGION}:${HUB_ACCOUNT}:eks-responder-prod-approvals`,
      topicKeyArn: `arn:aws:kms:${REGION}:${HUB_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
      deadLetterQueueArn: `arn:aws:sqs:${REGION}:${HUB_ACCOUNT}:eks-responder-prod-dlq`,
    },
    hub,
  );
  const identity = operatorRollbackPolicy(hub, context);
  const base = { principal: HUB_ROLLBACK, identity, trust: trustingEveryone(HUB_ROLLBACK) };

  it("may assume the member rollback role of the organization with the ExternalId, and not the execution role", async () => {
    expect(await assume({ ...base, roleArn: MEMBER_ROLLBACK, externalId: EXTERNAL_ID })).toBe("Allowed");
    expect(await assume({ ...base, roleArn: MEMBER_ROLLBACK })).not.toBe("Allowed");
    expect(await assume({ ...base, roleArn: MEMBER_ROLE, externalId: EXTERNAL_ID })).not.toBe("Allowed");
    expect(
      await assume({
        ...base,
        roleArn: role(OUTSIDER, org.memberRollbackRoleName),
        externalId: EXTERNAL_ID,
        resourceOrg: OTHER_ORG,
      }),
    ).not.toBe("Allowed");
  });

  it("gets nothing for member accounts in standalone mode", () => {
    const standalone = settings("eks-responder", "prod", {});
    const statements = operatorRollbackPolicy(standalone, context).Statement;
    expect(statements.some((s) => s.Action.includes("sts:AssumeRole"))).toBe(false);
    expect(identity.Statement.length).toBe(statements.length + 2);
  });
});

describe("the member template's roles against IAM's size quotas", () => {
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html: a role's inline policies together
  // at most 10,240 characters, its trust policy 2,048 by default, neither counting white space; a longer one fails the
  // stack (and the StackSet instance) at creation.
  const ALL_REGIONS = [
    ...["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"],
    ...["eu-north-1", "eu-south-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1"],
    ...["ap-southeast-2", "ca-central-1", "sa-east-1", "me-south-1", "af-south-1", "ap-east-1"],
  ];
  const many = memberTemplate({ ...memberTemplateInput(hub), regions: ALL_REGIONS });
  const size = (value: unknown) => JSON.stringify(resolved(value, MEMBER_ACCOUNT)).replace(/\s/g, "").length;

  it.each(["ExecutionRole", "RollbackRole", "ForwardingRole"])("%s stays under them with 20 member regions", (name) => {
    const properties = many.Resources[name]?.Properties as {
      AssumeRolePolicyDocument: unknown;
      Policies: { PolicyDocument: unknown }[];
    };
    expect(properties.Policies.length).toBeGreaterThan(0);
    const inline = properties.Policies.reduce((sum, p) => sum + size(p.PolicyDocument), 0);
    expect(inline).toBeLessThanOrEqual(10_240);
    expect(size(properties.AssumeRolePolicyDocument)).toBeLessThanOrEqual(2_048);
  });

  it("grow with the regions only by their names (listed once, in the Deny)", () => {
    const one = memberTemplate({ ...memberTemplateInput(hub), regions: ["eu-west-1"] });
    const policyOf = (t: typeof one, name: string) => {
      const properties = t.Resources[name]?.Properties as { Policies?: { PolicyDocument: unknown }[] } | undefined;
      return size(properties?.Policies?.[0]?.PolicyDocument ?? null);
    };
    const grown = JSON.stringify(ALL_REGIONS).length - JSON.stringify(["eu-west-1"]).length;
    for (const name of ["ExecutionRole", "RollbackRole"]) {
      expect(policyOf(one, name), name).toBeGreaterThan(100);
      expect(policyOf(many, name) - policyOf(one, name), name).toBe(grown);
    }
  });
});

describe("the organization bus policy", () => {
  const bus = `arn:aws:events:${REGION}:${HUB_ACCOUNT}:event-bus/${hub.organizationBusName}`;
  const put = (principal: string, principalOrg: string) =>
    simulate({
      request: {
        principal,
        action: "events:PutEvents",
        resource: { resource: bus, accountId: HUB_ACCOUNT },
        contextVariables: { "aws:PrincipalOrgID": principalOrg },
      },
      identityPolicies: [{ name: "all", policy: ALLOW_ALL }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: organizationBusPolicy(bus, ORG) as Simulation["resourcePolicy"],
    });

  it("accepts events from a member's forwarding role and refuses a principal outside the organization", async () => {
    expect(await put(role(MEMBER_ACCOUNT, org.forwardingRoleName), ORG)).toBe("Allowed");
    expect(await put(role(OUTSIDER, org.forwardingRoleName), OTHER_ORG)).not.toBe("Allowed");
  });
});

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : name.endsWith(".json") ? [path] : [];
  });
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

describe("the member forwarding rules", () => {
  const forwarding = Object.entries(template.Resources).filter(([, r]) => r.Type === "AWS::Events::Rule");

  it("catch every fixture the standalone rules catch, and nothing more (EventBridge semantics)", () => {
    let caught = 0;
    for (const file of files(FIXTURES)) {
      const event = parsed(readFileSync(file, "utf8"));
      if (event === undefined) continue; // a hostile fixture that is not JSON: no bus would carry it
      const standalone = ruleSpecs()
        .filter((s) => matchesPattern(s.pattern, event))
        .map((s) => s.name);
      const member = forwarding
        .filter(([, r]) => matchesPattern(r.Properties.EventPattern as Parameters<typeof matchesPattern>[0], event))
        .map(([name]) => name.replace(/Forward$/, ""));
      expect(member, file).toEqual(standalone);
      if (standalone.length > 0) caught += 1;
    }
    expect(caught).toBeGreaterThan(20);
  });

  it("put events on the hub bus with the forwarding role, GuardDuty findings from the delegated administrator only", () => {
    for (const [name, rule] of forwarding) {
      const target = (resolved(rule.Properties.Targets, MEMBER_ACCOUNT) as Record<string, unknown>[])[0];
      expect(target).toEqual({
        Id: "eks-responder-hub",
        Arn: `arn:aws:events:${REGION}:${HUB_ACCOUNT}:event-bus/eks-responder-prod-org`,
        RoleArn: role(MEMBER_ACCOUNT, org.forwardingRoleName),
      });
      expect(rule.Properties.EventBusName).toBe("default");
      expect(rule.Condition, name).toBe(name === "GuardDutyFindingsForward" ? "ForwardGuardDuty" : "ForwardCloudTrail");
    }
    expect(template.Conditions.ForwardGuardDuty).toEqual({
      "Fn::And": [{ Condition: "IsGuardDutyAdmin" }, { Condition: "ForwardCloudTrail" }],
    });
  });

  it("create the global roles in the first member region only", () => {
    expect(template.Resources.ExecutionRole?.Condition).toBe("IsRoleRegion");
    expect(template.Resources.ForwardingRole?.Condition).toBe("IsRoleRegion");
    expect(template.Conditions.IsRoleRegion).toEqual({ "Fn::Equals": [{ Ref: "AWS::Region" }, REGION] });
  });
});

describe("the member template against the CloudFormation resource specification", () => {
  it("has only known resource types and properties, the required ones, and references that resolve", async () => {
    expect(await validateTemplate(template)).toEqual([]);
  }, 30_000);

  it("reports a template that is wrong (negative case)", async () => {
    const broken = structuredClone(template) as unknown as {
      Resources: Record<string, { Type: string; Condition?: string; Properties: Record<string, unknown> }>;
    };
    const rule = broken.Resources.CloudTrailEC2Forward;
    if (!rule) throw new Error("no rule");
    rule.Properties.Target = rule.Properties.Targets;
    (rule.Properties.Targets as Record<string, unknown>[])[0] = { Arn: "arn:aws:events:eu-west-1:1:event-bus/x" };
    rule.Condition = "Nowhere";
    broken.Resources.Extra = { Type: "AWS::Events::Rules", Properties: {} };
    const errors = await validateTemplate(broken);
    expect(errors).toEqual(
      expect.arrayContaining([
        "Resources.CloudTrailEC2Forward.Properties.Target: not a property the specification knows",
        "Resources.CloudTrailEC2Forward.Properties.Targets[0].Id: required, missing",
        "Resources.CloudTrailEC2Forward: condition Nowhere is not defined",
        "Resources.Extra: AWS::Events::Rules is not a resource type of the specification",
      ]),
    );
  }, 30_000);
});
