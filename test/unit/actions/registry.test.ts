import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ACTIONS,
  DETECTORS,
  defaultPolicy,
  getAction,
  parsePolicy,
  planAction,
  processEvent,
  UnknownActionError,
} from "../../../packages/core/src/index.ts";
import { forbiddenRule } from "../../../packages/core/src/kubernetes/rbac.ts";
import { actionDocPath, detectorDocPath, renderDocs } from "../../../scripts/docs.ts";
import { allows, rbacOf } from "../../helpers/kube-rbac.ts";

const ROOT = join(import.meta.dirname, "../../..");
const CONTEXT = { dryRun: true, assessmentId: "asm-test", account: "111122223333", region: "eu-west-1" };
/** The IAM service prefix of each AWS API a plan can call. */
const IAM_PREFIX: Record<string, string> = { ec2: "ec2", eks: "eks", ssm: "ssm", autoscaling: "autoscaling" };

function allFixtures(dir = join(ROOT, "test/fixtures")): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? allFixtures(path) : name.endsWith(".json") ? [path] : [];
  });
}

describe("the action registry", () => {
  it("has unique ids of the form <service>:<verb>-<object>", () => {
    const ids = ACTIONS.map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^(ec2|eks|ssm|k8s):[a-z]+(-[a-z]+)+$/);
  });

  it.each(ACTIONS.map((a) => [a.id, a] as const))(
    "%s: says what it does not cover, in sentences its doc page shows",
    (_id, action) => {
      expect(action.notCovered.length).toBeGreaterThan(0);
      const page = readFileSync(join(ROOT, actionDocPath(action.id)), "utf8");
      for (const gap of action.notCovered) {
        expect(gap).toMatch(/^[A-Za-z].{20,}[^.]$/);
        expect(page).toContain(`- ${gap}`);
      }
    },
  );

  it.each(ACTIONS.map((a) => [a.id, a] as const))("%s: its example parses and plans", (_id, action) => {
    const params = action.params.parse(action.example);
    const result = action.plan(params, CONTEXT);
    expect("calls" in result && result.calls.length).toBeGreaterThan(0);
  });

  it.each(ACTIONS.map((a) => [a.id, a] as const))(
    "%s: permissions are IAM action names that cover every planned AWS call",
    (_id, action) => {
      // A Kubernetes action calls no AWS API unless it says so: its rights are RBAC rules (kubernetesPermissions).
      if (action.kubernetesPermissions === undefined) expect(action.permissions.length).toBeGreaterThan(0);
      for (const permission of action.permissions)
        expect(permission).toMatch(/^(ec2|eks|ssm|autoscaling):[A-Z][A-Za-z]+$/);
      const result = action.plan(action.params.parse(action.example), CONTEXT);
      if (!("calls" in result)) throw new Error("example must plan");
      for (const call of result.calls.filter((c) => c.service !== "kubernetes")) {
        expect(action.permissions).toContain(`${IAM_PREFIX[call.service]}:${call.operation}`);
      }
    },
  );

  it.each(ACTIONS.filter((a) => a.kubernetesPermissions !== undefined).map((a) => [a.id, a] as const))(
    "%s: kubernetesPermissions are RBAC rules the shipped ClusterRole may hold that cover every planned Kubernetes call",
    (_id, action) => {
      const rules = action.kubernetesPermissions ?? [];
      expect(rules.length).toBeGreaterThan(0);
      for (const rule of rules) expect(forbiddenRule(rule), JSON.stringify(rule)).toBeUndefined();
      const result = action.plan(action.params.parse(action.example), CONTEXT);
      if (!("calls" in result)) throw new Error("example must plan");
      const kube = result.calls.filter((c) => c.service === "kubernetes");
      expect(kube.length).toBeGreaterThan(0);
      for (const call of kube) expect(allows(rules, rbacOf(call.operation)), call.operation).toBe(true);
    },
  );

  it.each(ACTIONS.map((a) => [a.id, a] as const))(
    "%s: rollbackPermissions are IAM action names, non-empty exactly when an AWS action can be rolled back",
    (_id, action) => {
      expect(action.reversible).toBe(action.rollback !== undefined);
      // A Kubernetes action's rollback goes to the Kubernetes API: its rules are kubernetesPermissions plus
      // kubernetesRollbackPermissions (declared, possibly empty, exactly when it can be rolled back).
      if (action.kubernetesPermissions === undefined) {
        expect(action.rollbackPermissions.length > 0, "reversible with a rollback").toBe(
          action.reversible && action.rollback !== undefined,
        );
      } else {
        expect(action.kubernetesRollbackPermissions !== undefined).toBe(action.reversible);
      }
      for (const permission of action.rollbackPermissions)
        expect(permission).toMatch(/^(ec2|eks|ssm|autoscaling):[A-Z][A-Za-z]+$/);
      expect(new Set(action.rollbackPermissions).size).toBe(action.rollbackPermissions.length);
    },
  );

  it.each(ACTIONS.map((a) => [a.id, a] as const))("%s: has a doc page", (id) => {
    expect(existsSync(join(ROOT, actionDocPath(id)))).toBe(true);
  });

  it("fails loudly on an unknown id and lists the valid ones", () => {
    expect(() => getAction("ec2:terminate-instance")).toThrow(UnknownActionError);
    expect(() => getAction("ec2:terminate-instance")).toThrow(`valid actions: ${ACTIONS.map((a) => a.id).join(", ")}`);
  });

  it("refuses params its schema does not accept, naming the key", () => {
    expect(() =>
      planAction("ec2:revoke-ingress", { groupId: "GeneratedFindingSecurityId", ruleIds: ["sgr-1"] }, CONTEXT),
    ).toThrow(/params\.groupId: expected a security group id/);
  });

  it("sends DryRun only on EC2 calls and only in dry-run", () => {
    const example = getAction("ec2:isolate-instance");
    const dry = example.plan(example.params.parse(example.example), CONTEXT);
    const live = example.plan(example.params.parse(example.example), { ...CONTEXT, dryRun: false });
    if (!("calls" in dry) || !("calls" in live)) throw new Error("example must plan");
    // Reads (the groups, the pods' branch interfaces) change nothing and are sent as they are.
    for (const call of dry.calls.filter((c) => c.service === "ec2" && !c.operation.startsWith("Describe"))) {
      expect(call.params.DryRun, call.operation).toBe(true);
    }
    for (const call of dry.calls.filter((c) => c.service !== "ec2")) expect(call.params).not.toHaveProperty("DryRun");
    for (const call of live.calls) expect(call.params).not.toHaveProperty("DryRun");
  });

  it("plans SSM patching of more than 50 instances as one command on the run tag, without a reboot unapproved", () => {
    const ids = Array.from({ length: 120 }, (_, i) => `i-${i.toString(16).padStart(17, "0")}`);
    const result = planAction("ssm:patch-nodes", { instanceIds: ids }, CONTEXT);
    if (!("calls" in result)) throw new Error("must plan");
    const sends = result.calls.filter((c) => c.operation === "SendCommand");
    expect(sends).toHaveLength(1);
    expect(sends[0]?.params).toMatchObject({
      DocumentName: "AWS-RunPatchBaseline",
      Targets: [{ Key: "tag:eks-responder:patch-run", Values: [CONTEXT.assessmentId] }],
      Parameters: { Operation: ["Install"], RebootOption: ["NoReboot"] },
      MaxConcurrency: "10%",
      MaxErrors: "0",
    });
    expect(sends[0]?.params).not.toHaveProperty("InstanceIds");
  });
});

describe("the detector registry", () => {
  it("has unique kebab-case ids, each with a doc page and settings whose defaults parse", () => {
    const ids = DETECTORS.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const detector of DETECTORS) {
      expect(detector.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)+$/);
      expect(existsSync(join(ROOT, detectorDocPath(detector.id))), detector.id).toBe(true);
      expect(() => detector.settings.parse(undefined)).not.toThrow();
      for (const action of detector.actions) expect(() => getAction(action)).not.toThrow();
    }
  });

  it("declares every action its playbooks plan, over every fixture and policy variant", () => {
    const policies = [
      defaultPolicy(),
      parsePolicy({ endpoint: { allowedPublicCidrs: ["203.0.113.0/24"] } }),
      parsePolicy({ detectors: { "eks-cluster-admin-granted": { settings: { deleteAccessEntry: true } } } }),
      parsePolicy({
        detectors: {
          "guardduty-compromised-workload": { settings: { scaleWorkload: true } },
          "guardduty-runtime-threat": { settings: { scaleWorkload: true } },
        },
      }),
    ];
    const planned = new Set<string>();
    for (const file of allFixtures()) {
      for (const policy of policies) {
        const result = processEvent(readFileSync(file, "utf8"), policy);
        for (const assessment of result.assessments) {
          const detector = DETECTORS.find((d) => d.id === assessment.detectorId);
          for (const request of assessment.actions) {
            expect(detector?.actions, `${relative(ROOT, file)}: ${assessment.detectorId}`).toContain(request.action);
            planned.add(request.action);
          }
        }
      }
    }
    // Every action a detector declares is exercised by some fixture.
    for (const detector of DETECTORS) for (const action of detector.actions) expect(planned).toContain(action);
  });
});

describe("the generated docs", () => {
  it("are current: npm run docs changes nothing", () => {
    for (const [path, content] of renderDocs()) {
      expect(existsSync(join(ROOT, path)), `${path} is missing: run npm run docs`).toBe(true);
      expect(readFileSync(join(ROOT, path), "utf8"), `${path} is stale: run npm run docs`).toBe(content);
    }
  });
});
