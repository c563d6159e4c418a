import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ruleSpecs } from "../../../infra/patterns.ts";
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

  it("covers the source, detail-type and event name of every fixture a detector acts on", () => {
    const specs = ruleSpecs();
    let acted = 0;
    for (const file of files(FIXTURES)) {
      const text = readFileSync(file, "utf8");
      const result = processEvent(text, defaultPolicy());
      if (result.assessments.length === 0) continue;
      acted += 1;
      const event = JSON.parse(text) as { source: string; "detail-type": string; detail: { eventName?: string } };
      const spec = specs.find((s) => s.pattern.source.includes(event.source));
      expect(spec, file).toBeDefined();
      expect(spec?.pattern["detail-type"], file).toContain(event["detail-type"]);
      const names = spec?.pattern.detail?.eventName as string[] | undefined;
      if (names) expect(names, file).toContain(event.detail.eventName);
    }
    expect(acted).toBeGreaterThan(20);
  });
});
