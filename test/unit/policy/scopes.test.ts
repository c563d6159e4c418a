import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { processEvent } from "../../../packages/core/src/index.ts";
import { parsePolicy } from "../../../packages/core/src/policy/load.ts";
import { scopedSettings } from "../../../packages/core/src/policy/scopes.ts";

const ROOT = join(import.meta.dirname, "../../..");
/** ct-01: account 776520358045, us-east-1; ec2-open-ingress, auto by default. */
const SSH_OPEN = readFileSync(
  join(ROOT, "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"),
  "utf8",
);
const ACCOUNT = "776520358045";

describe("policy scopes", () => {
  it("sets the mode by account, and the decision says which scope set it", () => {
    const policy = parsePolicy({
      dryRun: false,
      scopes: [{ name: "prod", accounts: [ACCOUNT], detectors: { "ec2-open-ingress": { mode: "approve" } } }],
    });
    const decision = processEvent(SSH_OPEN, policy).decisions[0];
    expect(decision?.mode).toBe("approve");
    expect(decision?.reasons[0]).toBe("mode approve set by scope prod for ec2-open-ingress");
  });

  it("applies scopes in order: a later one that applies wins; one for another region or account does not apply", () => {
    const policy = parsePolicy({
      dryRun: false,
      scopes: [
        { name: "all", detectors: { "ec2-open-ingress": { mode: "alert" } } },
        { name: "us", regions: ["us-east-1"], detectors: { "ec2-open-ingress": { mode: "approve" } } },
        { name: "eu", regions: ["eu-west-1"], detectors: { "ec2-open-ingress": { mode: "off" } } },
        { name: "other", accounts: ["444455556666"], detectors: { "ec2-open-ingress": { mode: "off" } } },
      ],
    });
    const decision = processEvent(SSH_OPEN, policy).decisions[0];
    expect(decision?.mode).toBe("approve");
    expect(decision?.reasons[0]).toContain("scope us");
  });

  it("matches OUs through organization.accountOus only; an account it does not list matches no OU scope", () => {
    const scopes = [{ name: "prod-ou", ous: ["ou-ab12-prod0001"], detectors: { "ec2-open-ingress": { mode: "off" } } }];
    const known = parsePolicy({ scopes, organization: { accountOus: { [ACCOUNT]: ["ou-ab12-prod0001", "r-ab12"] } } });
    const unknown = parsePolicy({ scopes });
    expect(processEvent(SSH_OPEN, known).decisions[0]).toMatchObject({
      skipped: "detector-off",
      reasons: ["detector ec2-open-ingress is off by scope prod-ou"],
    });
    expect(processEvent(SSH_OPEN, unknown).decisions[0]?.mode).toBe("auto");
  });

  it("turns dry-run off for a scope only, saying so; the global dry-run stays for the others", () => {
    const policy = parsePolicy({ scopes: [{ name: "sandbox", accounts: [ACCOUNT], dryRun: false }] });
    const decision = processEvent(SSH_OPEN, policy, { forceDryRun: false }).decisions[0];
    expect(decision?.dryRun).toBe(false);
    expect(decision?.reasons).toContain("dry-run off set by scope sandbox");
    expect(scopedSettings(policy, "444455556666", "us-east-1").dryRun).toBe(true);
  });

  it("adds a scope's exemptions to the global ones: an exempt principal in that account only", () => {
    const policy = parsePolicy({
      dryRun: false,
      scopes: [
        {
          name: "prod",
          accounts: [ACCOUNT],
          exemptions: { principals: ["arn:aws:iam::*:role/*", "arn:aws:sts::*:*"] },
        },
      ],
    });
    expect(processEvent(SSH_OPEN, policy).decisions[0]?.skipped).toBe("exempt");
    const settings = scopedSettings(policy, "444455556666", "us-east-1");
    expect(settings.exemptions.principals).toEqual([]);
  });

  it("sets the blast-radius limit per scope, and names the scope", () => {
    const policy = parsePolicy({
      scopes: [{ name: "big", accounts: [ACCOUNT], limits: { automaticActionsPerAccount: 50 } }],
    });
    expect(scopedSettings(policy, ACCOUNT, "us-east-1")).toMatchObject({
      automaticActionsPerAccount: 50,
      limitScope: "big",
    });
    expect(scopedSettings(policy, "444455556666", "us-east-1").automaticActionsPerAccount).toBe(20);
  });

  it("refuses a bad scope, naming the key", () => {
    expect(() => parsePolicy({ scopes: [{ name: "x", accounts: [] }] }, "p")).toThrow(/scopes\[0\]\.accounts/);
    expect(() => parsePolicy({ scopes: [{ name: "x", ous: ["prod"] }] }, "p")).toThrow(/scopes\[0\]\.ous\[0\]/);
    expect(() => parsePolicy({ scopes: [{ accounts: [ACCOUNT] }] }, "p")).toThrow(/scopes\[0\]\.name/);
    expect(() => parsePolicy({ scopes: [{ name: "x", detectors: { nope: { mode: "auto" } } }] }, "p")).toThrow(
      /scopes\[0\]\.detectors/,
    );
  });
});
