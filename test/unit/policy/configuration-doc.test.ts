import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DETECTORS, parsePolicy, policySchema } from "../../../packages/core/src/index.ts";

const DOC = readFileSync(join(import.meta.dirname, "../../../docs/configuration.md"), "utf8");

describe("docs/configuration.md", () => {
  it("documents every top-level policy key", () => {
    for (const key of Object.keys(policySchema.shape).filter((k) => k !== "$schema")) {
      expect(DOC, key).toMatch(new RegExp(`\\|\\s+\`${key}[.\`]`));
    }
  });

  it("lists every detector with its default mode", () => {
    for (const detector of DETECTORS) {
      const row = new RegExp(
        `\\|\\s*\\[\`${detector.id}\`\\]\\(detectors/${detector.id}\\.md\\)\\s*\\|\\s*\`${detector.defaultMode}\`\\s*\\|`,
      );
      expect(DOC, detector.id).toMatch(row);
    }
  });

  it("shows an example that is a valid policy", () => {
    const example = /## Example\n+```json\n([\s\S]+?)\n```/.exec(DOC)?.[1];
    expect(example).toBeDefined();
    const policy = parsePolicy(JSON.parse(example ?? ""));
    expect(policy.dryRun).toBe(false);
  });
});
