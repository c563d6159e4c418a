import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type EventResult, type Policy, parsePolicy, processEvent } from "../../../packages/core/src/index.ts";
import { emailSafeJson, escapeSnsSubject } from "../../../packages/core/src/notify/escape.ts";
import { snsPublishBytes } from "../../../packages/core/src/notify/limits.ts";
import { JSON_SEPARATOR, SNS_LIMITS, type SnsMessage, snsMessage } from "../../../packages/core/src/notify/sns.ts";
import { fixtureText, listFixtures, loadFixture, must, objectAt } from "../../helpers/fixtures.ts";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const EXAMPLES_DIR = join(ROOT, "examples", "events");
const examplePolicyDoc: unknown = JSON.parse(readFileSync(join(ROOT, "examples", "policy.json"), "utf8"));
const examplePolicy = parsePolicy(examplePolicyDoc);
const livePolicy: Policy = parsePolicy({ ...(examplePolicyDoc as Record<string, unknown>), dryRun: false });
const HOSTILE = "hostile/useragent-control-chars-slack-injection.json";
const ATTRIBUTE_NAMES = ["severity", "cluster", "detector", "mode", "outcome"];

function exampleText(name: string): string {
  return readFileSync(join(EXAMPLES_DIR, name), "utf8");
}

function allResults(): { name: string; result: EventResult }[] {
  const inputs = [
    ...listFixtures().map((f) => ({ name: f, text: fixtureText(f) })),
    ...readdirSync(EXAMPLES_DIR)
      .filter((f) => f.endsWith(".json"))
      .map((f) => ({ name: `examples/${f}`, text: exampleText(f) })),
  ];
  return inputs.flatMap(({ name, text }) => [
    { name: `${name} (example)`, result: processEvent(text, examplePolicy) },
    { name: `${name} (live)`, result: processEvent(text, livePolicy, { forceDryRun: false }) },
  ]);
}

function parts(message: SnsMessage): { text: string; json: string } {
  const marker = `\n${JSON_SEPARATOR}\n`;
  const at = message.Message.indexOf(marker);
  expect(at).toBeGreaterThan(0);
  return { text: message.Message.slice(0, at), json: message.Message.slice(at + marker.length) };
}

/** What SNS accepts as a subject: printable ASCII, no line break, fewer than 100 characters, starting with a letter. */
function expectValidSubject(subject: string): void {
  expect(subject.length).toBeGreaterThan(0);
  expect(subject.length).toBeLessThan(100);
  expect(subject).toMatch(/^[A-Za-z0-9][\x20-\x7e]*$/);
}

function expectValidAttributes(message: SnsMessage): void {
  for (const [name, attribute] of Object.entries(message.MessageAttributes)) {
    expect(ATTRIBUTE_NAMES).toContain(name);
    expect(attribute.DataType).toBe("String");
    expect(attribute.StringValue.length).toBeGreaterThan(0);
    expect(attribute.StringValue.trim()).toBe(attribute.StringValue);
  }
}

describe("snsMessage over every fixture and example", () => {
  const results = allResults();

  it("has a subject SNS accepts", () => {
    for (const { result } of results) expectValidSubject(snsMessage(result).Subject);
  });

  it("has a text part, the separator line, then the outcome as JSON", () => {
    for (const { name, result } of results) {
      const message = snsMessage(result);
      const { text, json } = parts(message);
      expect(text.length, name).toBeGreaterThan(0);
      expect(JSON.parse(json), name).toEqual(JSON.parse(JSON.stringify(result)));
      expect(snsPublishBytes(message)).toBeLessThanOrEqual(SNS_LIMITS.publishBytes);
    }
  });

  it("has only non-empty String attributes, matching the outcome", () => {
    for (const { result } of results) {
      const message = snsMessage(result);
      expectValidAttributes(message);
      expect(message.MessageAttributes.outcome?.StringValue).toBe(result.outcome);
      if (result.assessments.length === 0) expect(message.MessageAttributes.severity).toBeUndefined();
    }
  });
});

describe("content", () => {
  it("renders a dry-run: severity, marker, plan, reasons, rollback, console link", () => {
    const result = processEvent(exampleText("ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"), examplePolicy);
    const message = snsMessage(result);
    const id = must(result.assessments[0]).id;
    expect(message.Subject).toBe(
      "eks-responder HIGH DRY-RUN: Security group sg-0632fa4ee8a8468a4 opened tcp/22 from 0.0.0.0/0",
    );
    const { text } = parts(message);
    expect(text).toContain("DRY-RUN: nothing was changed. eks-responder would have made 1 AWS call.");
    expect(text).toContain(
      "    - ec2:RevokeSecurityGroupIngress GroupId=sg-0632fa4ee8a8468a4, SecurityGroupRuleIds=[sgr-09be5c962afdc06ed], DryRun=true",
    );
    expect(text).toContain("  Decision: mode auto, dry-run\n    - mode auto set in the policy for ec2-open-ingress");
    expect(text).toContain(`  Rollback (if applied): eks-responder rollback ${id}`);
    expect(text).toContain(
      "https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#SecurityGroup:groupId=sg-0632fa4ee8a8468a4",
    );
    expect(text).toContain("  Actor: arn:aws:sts::776520358045:assumed-role/voclabs/user289515=Jia_Jia");
    expect(text).toContain("  Source IP: 112.119.155.35");
    expect(message.MessageAttributes).toEqual({
      severity: { DataType: "String", StringValue: "high" },
      detector: { DataType: "String", StringValue: "ec2-open-ingress" },
      mode: { DataType: "String", StringValue: "auto" },
      outcome: { DataType: "String", StringValue: "dry-run" },
    });
  });

  it("sets the cluster attribute, and has no dry-run marker on a live run", () => {
    const result = processEvent(exampleText("ct-10-eks-associate-access-policy-cluster-admin.json"), livePolicy, {
      forceDryRun: false,
    });
    expect(result.outcome).toBe("pending-approval");
    const message = snsMessage(result);
    expect(message.MessageAttributes.cluster).toEqual({ DataType: "String", StringValue: "prod-eks" });
    expect(message.MessageAttributes.mode).toEqual({ DataType: "String", StringValue: "approve" });
    expect(message.Subject.startsWith("eks-responder CRITICAL APPROVAL NEEDED: ")).toBe(true);
    const { text } = parts(message);
    expect(text).not.toContain("DRY-RUN");
    expect(text).toContain("Plan: eks-responder waits for approval, then makes 1 AWS call:");
    expect(text).toContain(`Rollback: eks-responder rollback ${must(result.assessments[0]).id}`);
  });

  it("omits the attributes it has no value for", () => {
    const invalid = snsMessage(processEvent(fixtureText("hostile/not-json.json"), examplePolicy));
    expect(invalid.MessageAttributes).toEqual({ outcome: { DataType: "String", StringValue: "invalid" } });
    expect(invalid.Subject.startsWith("eks-responder INVALID EVENT: ")).toBe(true);
    const result = processEvent(exampleText("ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"), examplePolicy);
    must(result.assessments[0]).cluster = " \t\r\n ";
    expect(snsMessage(result).MessageAttributes.cluster).toBeUndefined();
    // Hiding characters are shown, not dropped: the attribute says that something was there.
    must(result.assessments[0]).cluster = " \u202e\u0000 ";
    expect(snsMessage(result).MessageAttributes.cluster).toEqual({
      DataType: "String",
      StringValue: "[U+202E][U+0000]",
    });
  });
});

describe("subject", () => {
  it("folds accents, shows other non-ASCII as ?, turns < > into ( ), line breaks into spaces, and cuts at 99 with ...", () => {
    expect(escapeSnsSubject("Clúster ünïcode ✓ <x>\r\n\tdone")).toBe("Cluster unicode ? (x) done");
    expect(escapeSnsSubject("a\u202eb\u0007c https://evil.example.com")).toBe(
      "a[U+202E]b[U+0007]c hxxps://evil[.]example[.]com",
    );
    const long = escapeSnsSubject(`eks-responder ${"word ".repeat(50)}`);
    expect(long).toHaveLength(99);
    expect(long.endsWith("...")).toBe(true);
  });

  it("property: always printable ASCII, one line, under 100 characters", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => {
        const subject = escapeSnsSubject(`eks-responder ${text}`);
        expectValidSubject(subject);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("hostile content", () => {
  const result = processEvent(fixtureText(HOSTILE), examplePolicy);
  const message = snsMessage(result);
  const { text, json } = parts(message);

  it("never reaches the subject", () => {
    expectValidSubject(message.Subject);
    for (const raw of ["<", ">", "!channel", "@U0123ABCD", "evil.example", "*urgent*", "\u202e", "\u0007"])
      expect(message.Subject).not.toContain(raw);
  });

  it("reaches the text part without control or bidi characters", () => {
    expect(text).toContain(
      "User agent: aws-cli/2.22.4 [U+0007][U+001B][31mALERT RESOLVED[U+001B][0m[U+0000] <!channel> <@U0123ABCD> please re-enable access: <hxxps://evil[.]example|click> *urgent* `rm -rf` [U+202E]gnp.exe",
    );
    for (const char of text) {
      const code = char.codePointAt(0) ?? 0;
      if (code === 0x0a) continue;
      expect(code <= 0x1f || (code >= 0x7f && code <= 0x9f)).toBe(false);
      expect((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)).toBe(false);
    }
  });

  it("stays in the JSON exactly, written with \\u escapes", () => {
    expect(json).not.toMatch(/[<>&\u202e]/u);
    expect(json).toContain("\\u003c!channel\\u003e");
    expect(json).toContain("\\u202e");
    expect(json).toContain("https\\u003a//evil\\u002eexample");
    const parsed: unknown = JSON.parse(json);
    expect(parsed).toEqual(JSON.parse(JSON.stringify(result)));
  });

  it("emailSafeJson is the same JSON value for any input", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: "binary" }), (value, s) => {
        const doc = { value, s: `${s}<!channel>&\u2028\u202e\u0085\u{e0041} https://evil.example.com` };
        const out = emailSafeJson(doc);
        expect(out).not.toMatch(/[<>&\u2028\u2029\u202e\u0085\u{e0041}]|https:|evil\.example|example\.com/u);
        expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(doc)));
      }),
      { numRuns: 500 },
    );
  });
});

describe("size limits", () => {
  it("keeps a huge user agent and title within SNS's 256 KB, with a parseable JSON part", () => {
    const event = loadFixture(HOSTILE);
    objectAt(event, "detail").userAgent = `<!channel> ${"\u00e9<&".repeat(40_000)}`;
    const result = processEvent(event, examplePolicy);
    const a = must(result.assessments[0]);
    a.title = `\u202e${"T\u00fc".repeat(100_000)}`;
    a.evidence.push("E".repeat(300_000));
    const message = snsMessage(result);
    expectValidSubject(message.Subject);
    expect(snsPublishBytes(message)).toBeLessThanOrEqual(SNS_LIMITS.publishBytes);
    const { json } = parts(message);
    const parsed = JSON.parse(json) as { outcome?: string };
    expect(parsed.outcome).toBe("dry-run");
  });

  it("falls back to a summary when even capped strings do not fit", () => {
    const result = processEvent(exampleText("ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"), examplePolicy);
    const a = must(result.assessments[0]);
    a.evidence = Array.from({ length: 400 }, (_, i) => `${i} ${"x".repeat(5_000)}`);
    const message = snsMessage(result);
    expect(snsPublishBytes(message)).toBeLessThanOrEqual(SNS_LIMITS.publishBytes);
    const parsed = JSON.parse(parts(message).json) as { truncated?: boolean; assessmentIds?: string[] };
    expect(parsed.truncated).toBe(true);
    expect(parsed.assessmentIds).toEqual([a.id]);
  });
});
