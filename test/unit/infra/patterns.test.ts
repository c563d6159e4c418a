import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { matchesPattern, validatePattern } from "../../../packages/core/src/eventbridge/pattern.ts";
import { ruleSpecs } from "../../../packages/core/src/eventbridge/rules.ts";
import { CLOUDTRAIL_EVENTS, defaultPolicy, processEvent } from "../../../packages/core/src/index.ts";

const FIXTURES = join(import.meta.dirname, "../../fixtures");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : name.endsWith(".json") ? [path] : [];
  });
}

describe("ruleSpecs", () => {
  it("asks EventBridge for exactly the CloudTrail events the parser reads, and for GuardDuty findings", () => {
    const specs = ruleSpecs();
    expect(specs.map((s) => s.name)).toEqual(["CloudTrailEC2", "CloudTrailEKS", "GuardDutyFindings"]);
    for (const [source, names] of Object.entries(CLOUDTRAIL_EVENTS)) {
      const spec = specs.find((s) => s.pattern.source.includes(source));
      expect(spec?.pattern.detail?.eventName).toEqual(names);
      expect(spec?.pattern["detail-type"]).toEqual(["AWS API Call via CloudTrail"]);
    }
  });

  it("are valid EventBridge patterns", () => {
    for (const spec of ruleSpecs()) expect(validatePattern(spec.pattern), spec.name).toEqual([]);
  });

  it("match every fixture a detector acts on (EventBridge semantics)", () => {
    const specs = ruleSpecs();
    let acted = 0;
    for (const file of files(FIXTURES)) {
      const text = readFileSync(file, "utf8");
      if (processEvent(text, defaultPolicy()).assessments.length === 0) continue;
      acted += 1;
      const event: unknown = JSON.parse(text);
      expect(
        specs.filter((s) => matchesPattern(s.pattern, event)).map((s) => s.name),
        file,
      ).toHaveLength(1);
    }
    expect(acted).toBeGreaterThan(20);
  });

  it("match no event of an unrelated source or an event name the parser does not read", () => {
    const unrelated = JSON.parse(
      readFileSync(join(FIXTURES, "hostile/unrelated-source-s3-object-created.json"), "utf8"),
    ) as Record<string, unknown>;
    const ec2 = JSON.parse(
      readFileSync(join(FIXTURES, "cloudtrail/authorize-security-group-ingress/ssh-ipv4-open-real.json"), "utf8"),
    ) as { detail: Record<string, unknown> };
    const runInstances = { ...ec2, detail: { ...ec2.detail, eventName: "RunInstances" } };
    const wrongSource = { ...ec2, source: "aws.s3" };
    for (const event of [unrelated, runInstances, wrongSource]) {
      expect(ruleSpecs().some((s) => matchesPattern(s.pattern, event))).toBe(false);
    }
  });
});

describe("the rule coverage check itself (negative case)", () => {
  it("catches a rule that misses an event the detectors act on", () => {
    const broken = ruleSpecs().map((spec) =>
      spec.name === "CloudTrailEC2"
        ? {
            ...spec,
            pattern: {
              ...spec.pattern,
              detail: { ...spec.pattern.detail, eventName: ["AuthorizeSecurityGroupIngress"] },
            },
          }
        : spec,
    );
    const missed: string[] = [];
    for (const file of files(FIXTURES)) {
      const text = readFileSync(file, "utf8");
      if (processEvent(text, defaultPolicy()).assessments.length === 0) continue;
      const event: unknown = JSON.parse(text);
      if (!broken.some((s) => matchesPattern(s.pattern, event))) missed.push(file.slice(FIXTURES.length + 1));
    }
    // The coverage test above would fail on these rules: every ModifySecurityGroupRules fixture is missed.
    expect(missed.length).toBeGreaterThan(0);
    expect(missed.every((f) => f.startsWith("cloudtrail/modify-security-group-rules/"))).toBe(true);
  });
});
