import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultPolicy, loadPolicyFile, PolicyError, parsePolicy } from "../../../packages/core/src/index.ts";

function policyError(document: unknown): PolicyError {
  try {
    parsePolicy(document, "test-policy.json");
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  throw new Error("expected the policy to be refused");
}

describe("parsePolicy", () => {
  it("defaults to dry-run, the exemption tag and no scope limits", () => {
    const policy = defaultPolicy();
    expect(policy.dryRun).toBe(true);
    expect(policy.exemptions.tags).toEqual([
      { key: "eks-responder:exempt", value: "true" },
      { key: "elbv2.k8s.aws/cluster", resources: ["security-group"] },
      { key: "ingress.k8s.aws/resource", resources: ["security-group"] },
      { key: "service.k8s.aws/resource", resources: ["security-group"] },
      { key: "aws:cloudformation:stack-name", resources: ["security-group"] },
    ]);
    expect(policy.scope).toEqual({ accounts: [], regions: [], clusters: [] });
    expect(policy.endpoint.allowedPublicCidrs).toEqual([]);
  });

  it("gives every parsed policy its own copy of the default exemption tags", () => {
    const first = defaultPolicy();
    first.exemptions.tags[1]?.resources?.push("security-group");
    first.exemptions.tags.pop();
    expect(defaultPolicy().exemptions.tags).toHaveLength(5);
    expect(defaultPolicy().exemptions.tags[1]).toEqual({ key: "elbv2.k8s.aws/cluster", resources: ["security-group"] });
  });

  it("turns the managed-group exemptions off with a tag list of its own, and refuses an unknown resource kind", () => {
    const own = parsePolicy({ exemptions: { tags: [{ key: "eks-responder:exempt", value: "true" }] } }, "p.json");
    expect(own.exemptions.tags).toEqual([{ key: "eks-responder:exempt", value: "true" }]);
    const error = policyError({ exemptions: { tags: [{ key: "team", resources: ["instance"] }] } });
    expect(error.issues[0]?.path).toBe("exemptions.tags[0].resources[0]");
  });

  it("names the key, the value and what was expected for a bad mode", () => {
    const error = policyError({ detectors: { "ec2-open-ingress": { mode: "automatic" } } });
    expect(error.code).toBe("POLICY.INVALID");
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.path).toBe("detectors.ec2-open-ingress.mode");
    expect(error.issues[0]?.message).toContain('"automatic"');
    expect(error.issues[0]?.message).toMatch(/"auto"\|"approve"\|"alert"\|"off"/);
    expect(error.message).toContain("test-policy.json");
  });

  it("refuses an unknown detector id and lists the valid ones", () => {
    const error = policyError({ detectors: { "ec2-open-ingres": { mode: "auto" } } });
    expect(error.issues[0]?.path).toBe("detectors");
    expect(error.issues[0]?.message).toContain("ec2-open-ingres");
    expect(error.issues[0]?.message).toContain("valid detectors: ec2-open-ingress");
  });

  it("refuses a misspelled key instead of ignoring it", () => {
    const error = policyError({ dryrun: false });
    expect(error.issues[0]?.message).toContain("dryrun");
  });

  it("refuses booleans written as strings", () => {
    const error = policyError({ dryRun: "false" });
    expect(error.issues[0]).toEqual({ path: "dryRun", message: 'expected boolean, got "false"' });
  });

  it("names every bad value in one error: CIDR, account, port, detector setting", () => {
    const error = policyError({
      exemptions: { cidrs: ["10.0.0.0/33"], accounts: ["1234"] },
      detectors: { "ec2-open-ingress": { settings: { allowedPublicPorts: [70000] } } },
    });
    const paths = error.issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "exemptions.cidrs[0]",
        "exemptions.accounts[0]",
        "detectors.ec2-open-ingress.settings.allowedPublicPorts[0]",
      ]),
    );
    expect(error.message).toContain("10.0.0.0/33");
  });

  it("keeps detector settings and fills their defaults", () => {
    const policy = parsePolicy({
      detectors: { "eks-logging-disabled": { mode: "alert", settings: { requiredTypes: ["audit"] } } },
    });
    expect(policy.detectors["eks-logging-disabled"]).toEqual({ mode: "alert", settings: { requiredTypes: ["audit"] } });
  });
});

describe("loadPolicyFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "eks-responder-policy-"));

  it("reads the example policy", async () => {
    const policy = await loadPolicyFile(join(import.meta.dirname, "../../../examples/policy.json"));
    expect(policy.endpoint.allowedPublicCidrs).toEqual(["203.0.113.0/24"]);
    expect(policy.notify.routes.map((r) => r.name)).toEqual(["security-alerts", "pager"]);
  });

  it("says which file is missing", async () => {
    await expect(loadPolicyFile(join(dir, "nope.json"))).rejects.toThrow(
      /cannot read policy file .*nope\.json: ENOENT/,
    );
  });

  it("says which file is not JSON", async () => {
    const file = join(dir, "broken.json");
    writeFileSync(file, "{ dryRun: false");
    await expect(loadPolicyFile(file)).rejects.toThrow(/broken\.json is not valid JSON/);
  });
});
