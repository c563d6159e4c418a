import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memberTemplateBody } from "../../../infra/member-template.ts";
import { settings } from "../../../infra/naming.ts";
import { ruleSpecs } from "../../../packages/core/src/eventbridge/rules.ts";
import { SYNTH_ACCOUNT, SYNTH_ORGANIZATION, SYNTH_REGION } from "../../../scripts/synth.ts";

/**
 * `npm run synth` in hub and member mode (scripts/synth.ts, Pulumi mocks, account 111122223333, eu-west-1), with
 * the organization settings the synth defaults to.
 */
const ROOT = join(import.meta.dirname, "../../..");
const outs: string[] = [];

interface Resource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

function synthesize(mode: "hub" | "member"): string {
  const dir = mkdtempSync(join(tmpdir(), `eks-responder-synth-${mode}-`));
  outs.push(dir);
  const local = join(ROOT, "node_modules", ".bin", "node");
  const environment: Record<string, string> = { ...process.env, AWS_EC2_METADATA_DISABLED: "true" } as Record<
    string,
    string
  >;
  // Only the synth's own defaults: the caller's organization variables must not change what is checked here.
  for (const variable of Object.keys(SYNTH_ORGANIZATION)) delete environment[variable];
  execFileSync(existsSync(local) ? local : process.execPath, ["scripts/synth.ts", "--stage", "prod", "--out", dir], {
    cwd: ROOT,
    stdio: "pipe",
    env: { ...environment, EKS_RESPONDER_DEPLOYMENT: mode, EKS_RESPONDER_KUBERNETES_CLUSTERS: "" },
  });
  return dir;
}

let hubDir = "";
let memberDir = "";
let hub: Resource[] = [];
let member: Resource[] = [];
const deployed = settings("eks-responder", "prod", { ...SYNTH_ORGANIZATION, EKS_RESPONDER_DEPLOYMENT: "hub" });

beforeAll(() => {
  if (!existsSync(join(ROOT, ".sst", "platform", "src", "auto", "run.ts"))) {
    execFileSync("npm", ["run", "-s", "sst:install"], { cwd: ROOT, stdio: "pipe" });
  }
  hubDir = synthesize("hub");
  memberDir = synthesize("member");
  hub = JSON.parse(readFileSync(join(hubDir, "resources.json"), "utf8")) as Resource[];
  member = JSON.parse(readFileSync(join(memberDir, "resources.json"), "utf8")) as Resource[];
}, 180_000);

afterAll(() => {
  for (const dir of outs) rmSync(dir, { recursive: true, force: true });
});

function missing(what: string): never {
  throw new Error(`expected ${what}`);
}

function one(from: readonly Resource[], type: string, name: string): Resource {
  return from.find((r) => r.type === type && r.name === name) ?? missing(`a ${type} named ${name}`);
}

function str(value: unknown): string {
  return typeof value === "string" ? value : missing(`a string, got ${JSON.stringify(value)}`);
}

describe("the hub synth", () => {
  it("creates the organization bus, whose policy accepts PutEvents from the organization only", () => {
    expect(one(hub, "aws:cloudwatch/eventBus:EventBus", "OrganizationBus").inputs.name).toBe("eks-responder-prod-org");
    const policy = JSON.parse(
      str(one(hub, "aws:cloudwatch/eventBusPolicy:EventBusPolicy", "OrganizationBusPolicy").inputs.policy),
    );
    expect(policy.Statement).toEqual([
      {
        Sid: "PutEventsFromTheOrganization",
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: "events:PutEvents",
        Resource: `arn:aws:events:${SYNTH_REGION}:${SYNTH_ACCOUNT}:event-bus/eks-responder-prod-org`,
        Condition: { StringEquals: { "aws:PrincipalOrgID": ["o-a1b2c3d4e5"] } },
      },
    ]);
  });

  it("puts the same rules on the default and the organization bus, each delivering to respond", () => {
    for (const spec of ruleSpecs()) {
      for (const [name, bus] of [
        [spec.name, "default"],
        [`${spec.name}Org`, "eks-responder-prod-org"],
      ] as const) {
        const rule = one(hub, "aws:cloudwatch/eventRule:EventRule", name);
        expect(rule.inputs.eventBusName, name).toBe(bus);
        expect(JSON.parse(str(rule.inputs.eventPattern))).toEqual(spec.pattern);
        const target = one(hub, "aws:cloudwatch/eventTarget:EventTarget", `${name}Target`);
        expect(target.inputs.arn).toBe(
          `arn:aws:lambda:${SYNTH_REGION}:${SYNTH_ACCOUNT}:function:eks-responder-prod-respond`,
        );
        expect(one(hub, "aws:lambda/permission:Permission", `${name}Invoke`).inputs.principal).toBe(
          "events.amazonaws.com",
        );
      }
    }
  });

  it("creates a service-managed StackSet with auto-deployment carrying the member template, one instance per region", () => {
    const stackSet = one(hub, "aws:cloudformation/stackSet:StackSet", "MemberStackSet");
    expect(stackSet.inputs).toMatchObject({
      permissionModel: "SERVICE_MANAGED",
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      capabilities: ["CAPABILITY_NAMED_IAM"],
      callAs: "DELEGATED_ADMIN",
      parameters: {
        HubAccountId: SYNTH_ACCOUNT,
        ExternalId: SYNTH_ORGANIZATION.EKS_RESPONDER_EXTERNAL_ID,
        GuardDutyAdminAccountId: SYNTH_ACCOUNT,
      },
    });
    expect(stackSet.inputs.templateBody).toBe(memberTemplateBody(deployed));
    const instances = hub.filter((r) => r.type === "aws:cloudformation/stackSetInstance:StackSetInstance");
    expect(instances.map((r) => r.inputs.stackSetInstanceRegion)).toEqual(["eu-west-1", "us-east-1"]);
    for (const instance of instances) {
      expect(instance.inputs.deploymentTargets).toEqual({ organizationalUnitIds: ["r-a1b2"] });
    }
  });

  it("writes the member template it deploys to member-template.json", () => {
    const written: unknown = JSON.parse(readFileSync(join(hubDir, "member-template.json"), "utf8"));
    expect(written).toEqual(JSON.parse(memberTemplateBody(deployed)));
  });

  it("lets respond and approval-apply assume the member roles, and tells them the mode and role", () => {
    for (const fn of hub.filter((r) => r.type === "aws:lambda/function:Function")) {
      const variables = (fn.inputs.environment as { variables: Record<string, string> }).variables;
      expect(variables.EKS_RESPONDER_MODE, fn.name).toBe("hub");
      const acting = fn.name === "RespondFunction" || fn.name === "ApprovalApplyFunction";
      expect(variables.MEMBER_ROLE_NAME, fn.name).toBe(acting ? "eks-responder-member" : undefined);
      expect(variables.MEMBER_EXTERNAL_ID_PARAMETER_NAME, fn.name).toBe(
        acting ? "/eks-responder/prod/member-external-id" : undefined,
      );
    }
    const assuming = hub
      .filter((r) => r.type === "aws:iam/role:Role")
      .filter((r) =>
        (r.inputs.inlinePolicies as { policy: string }[] | undefined)?.some((p) => p.policy.includes("sts:AssumeRole")),
      )
      .map((r) => r.name);
    expect(assuming.sort()).toEqual(["ApprovalApplyRole", "RespondRole", "RollbackRole"]);
    const respond = one(hub, "aws:iam/role:Role", "RespondRole").inputs.inlinePolicies as { policy: string }[];
    const statements = respond.flatMap(
      (p) => (JSON.parse(p.policy) as { Statement: Record<string, unknown>[] }).Statement,
    );
    expect(statements).toContainEqual({
      Effect: "Allow",
      Action: ["sts:AssumeRole"],
      Resource: ["arn:aws:iam::*:role/eks-responder-member"],
      Condition: {
        StringEquals: {
          "aws:ResourceOrgID": ["o-a1b2c3d4e5"],
          "sts:ExternalId": [SYNTH_ORGANIZATION.EKS_RESPONDER_EXTERNAL_ID],
        },
      },
    });
    const parameter = one(hub, "aws:ssm/parameter:Parameter", "MemberExternalId");
    expect(parameter.inputs).toMatchObject({ name: "/eks-responder/prod/member-external-id", type: "String" });
  });

  it("lets the operator rollback role, and only it, assume the member rollback roles", () => {
    const assumed = (name: string) =>
      (one(hub, "aws:iam/role:Role", name).inputs.inlinePolicies as { policy: string }[])
        .flatMap((p) => (JSON.parse(p.policy) as { Statement: { Action: string[]; Resource: string[] }[] }).Statement)
        .filter((s) => s.Action.includes("sts:AssumeRole"))
        .flatMap((s) => s.Resource);
    expect(assumed("RollbackRole")).toEqual(["arn:aws:iam::*:role/eks-responder-member-rollback"]);
    for (const name of ["RespondRole", "ApprovalApplyRole"]) {
      expect(assumed(name), name).toEqual(["arn:aws:iam::*:role/eks-responder-member"]);
    }
  });
});

describe("the member synth", () => {
  it("creates only the member template as one stack, with the hub's parameters", () => {
    const created = member.filter((r) => r.type !== "pulumi:pulumi:Stack");
    expect(created.map((r) => r.type)).toEqual(["aws:cloudformation/stack:Stack"]);
    const stack = one(member, "aws:cloudformation/stack:Stack", "MemberStack");
    const memberSettings = settings("eks-responder", "prod", {
      ...SYNTH_ORGANIZATION,
      EKS_RESPONDER_DEPLOYMENT: "member",
    });
    expect(stack.inputs.templateBody).toBe(memberTemplateBody(memberSettings));
    expect(stack.inputs.capabilities).toEqual(["CAPABILITY_NAMED_IAM"]);
    expect(stack.inputs.parameters).toEqual({
      HubAccountId: SYNTH_ACCOUNT,
      ExternalId: SYNTH_ORGANIZATION.EKS_RESPONDER_EXTERNAL_ID,
      GuardDutyAdminAccountId: SYNTH_ACCOUNT,
    });
    expect(existsSync(join(memberDir, "member-template.json"))).toBe(false);
  });
});
