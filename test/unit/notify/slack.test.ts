import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  defaultPolicy,
  type EventResult,
  type Policy,
  parsePolicy,
  processEvent,
} from "../../../packages/core/src/index.ts";
import { type Block, SLACK_LIMITS, type SlackMessage, slackMessage } from "../../../packages/core/src/notify/slack.ts";
import { fixtureText, listFixtures, loadFixture, must, objectAt } from "../../helpers/fixtures.ts";

const EXAMPLES_DIR = join(import.meta.dirname, "..", "..", "..", "examples", "events");
const examplePolicyDoc: unknown = JSON.parse(
  readFileSync(join(import.meta.dirname, "..", "..", "..", "examples", "policy.json"), "utf8"),
);
const examplePolicy = parsePolicy(examplePolicyDoc);
const livePolicy: Policy = parsePolicy({ ...(examplePolicyDoc as Record<string, unknown>), dryRun: false });
const HOSTILE = "hostile/useragent-control-chars-slack-injection.json";

function exampleText(name: string): string {
  return readFileSync(join(EXAMPLES_DIR, name), "utf8");
}

/** Every fixture and example event, through the default and the example policy, dry-run and live. */
function allResults(): { name: string; result: EventResult }[] {
  const inputs = [
    ...listFixtures().map((f) => ({ name: f, text: fixtureText(f) })),
    ...readdirSync(EXAMPLES_DIR)
      .filter((f) => f.endsWith(".json"))
      .map((f) => ({ name: `examples/${f}`, text: exampleText(f) })),
  ];
  return inputs.flatMap(({ name, text }) => [
    { name: `${name} (default)`, result: processEvent(text, defaultPolicy()) },
    { name: `${name} (example)`, result: processEvent(text, examplePolicy) },
    { name: `${name} (live)`, result: processEvent(text, livePolicy, { forceDryRun: false }) },
  ]);
}

/** Every text in the message: the fallback, then each text object, with the kind of block it is in. */
function texts(message: SlackMessage): { where: string; text: string }[] {
  const out = [{ where: "fallback", text: message.text }];
  for (const block of message.blocks) {
    if (block.type === "header") out.push({ where: "header", text: block.text.text });
    if (block.type === "section") {
      if (block.text) out.push({ where: "section", text: block.text.text });
      for (const f of block.fields ?? []) out.push({ where: "field", text: f.text });
    }
    if (block.type === "context") for (const e of block.elements) out.push({ where: "context", text: e.text });
  }
  return out;
}

const CONSOLE_LINK =
  /<https:\/\/[a-z]{2}(?:-[a-z]+){1,2}-\d{1,2}\.console\.aws\.amazon\.com\/(?:ec2|eks)\/home\?region=[a-z0-9-]+#[A-Za-z0-9:=/_-]+\|[^<>|]+>/g;

/** The text with the console links this module builds taken out: what is left must hold no `<` or `>`. */
function withoutConsoleLinks(text: string): string {
  return text.replace(CONSOLE_LINK, "");
}

function hasControlOrBidi(text: string, allowNewline: boolean): boolean {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (allowNewline && code === 0x0a) continue;
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return true;
    if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) return true;
  }
  return false;
}

function expectWithinLimits(message: SlackMessage): void {
  expect(message.text.length).toBeGreaterThan(0);
  expect(message.text.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
  expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  expect(message.blocks[0]?.type).toBe("header");
  for (const block of message.blocks) {
    switch (block.type) {
      case "header":
        expect(block.text.type).toBe("plain_text");
        expect(block.text.text.length).toBeGreaterThan(0);
        expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
        break;
      case "section":
        expect(block.text !== undefined || (block.fields?.length ?? 0) > 0).toBe(true);
        expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
        expect(block.fields?.length ?? 0).toBeLessThanOrEqual(SLACK_LIMITS.fields);
        for (const f of block.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
        for (const t of [block.text, ...(block.fields ?? [])]) if (t) expect(t.verbatim).toBe(true);
        break;
      case "context":
        expect(block.elements.length).toBeGreaterThan(0);
        expect(block.elements.length).toBeLessThanOrEqual(SLACK_LIMITS.contextElements);
        for (const e of block.elements) {
          expect(e.text.length).toBeLessThanOrEqual(SLACK_LIMITS.contextText);
          expect(e.verbatim).toBe(true);
        }
        break;
      case "divider":
        expect(Object.keys(block)).toEqual(["type"]);
        break;
    }
  }
}

function expectNoInjection(message: SlackMessage): void {
  for (const { where, text } of texts(message)) {
    const rest = withoutConsoleLinks(text);
    expect(rest, `${where}: ${text}`).not.toMatch(/[<>]/);
    expect(/&(?!amp;|lt;|gt;)/.test(rest), `${where}: unescaped & in ${text}`).toBe(false);
    expect(hasControlOrBidi(text, where === "section" || where === "field"), `${where}: ${text}`).toBe(false);
  }
}

function slackFor(relPath: string, policy: Policy = examplePolicy): { result: EventResult; message: SlackMessage } {
  const result = processEvent(fixtureText(relPath), policy);
  return { result, message: slackMessage(result, {}) };
}

function exampleSlack(name: string): { result: EventResult; message: SlackMessage } {
  const result = processEvent(exampleText(name), examplePolicy);
  return { result, message: slackMessage(result, {}) };
}

function allText(message: SlackMessage): string {
  return texts(message)
    .map((t) => t.text)
    .join("\n");
}

function sectionTexts(blocks: readonly Block[]): string[] {
  return blocks.flatMap((b) => (b.type === "section" && b.text ? [b.text.text] : []));
}

describe("slackMessage over every fixture and example", () => {
  const results = allResults();

  it("covers every outcome the pipeline produces", () => {
    const outcomes = new Set(results.map((r) => r.result.outcome));
    for (const o of ["dry-run", "apply", "pending-approval", "alert", "skipped", "invalid"])
      expect(outcomes).toContain(o);
  });

  it("stays within Slack's Block Kit limits", () => {
    for (const { name, result } of results) {
      const message = slackMessage(result, {});
      try {
        expectWithinLimits(message);
      } catch (error) {
        throw new Error(`${name}: ${String(error)}`);
      }
    }
  });

  it("lets no event text open a link, a mention or a control sequence", () => {
    for (const { result } of results) expectNoInjection(slackMessage(result, {}));
  });

  it("names the assessment id of every assessment shown", () => {
    for (const { result } of results) {
      const text = allText(slackMessage(result, {}));
      for (const a of result.assessments) expect(text).toContain(a.id);
    }
  });
});

describe("dry-run marker", () => {
  it("says nothing was changed and what would have been done (auto)", () => {
    const { result, message } = exampleSlack("ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json");
    expect(result.outcome).toBe("dry-run");
    expect(message.blocks[0]).toMatchObject({ type: "header", text: { text: expect.stringContaining("DRY-RUN") } });
    const summary = sectionTexts(message.blocks)[0] ?? "";
    expect(summary).toContain("*DRY-RUN: nothing was changed.*");
    expect(summary).toContain("eks-responder would have made 1 AWS call");
    expect(allText(message)).toContain(
      "*DRY-RUN: eks-responder would have made 1 AWS call* (nothing was changed):\n• `ec2:RevokeSecurityGroupIngress` GroupId=sg-0632fa4ee8a8468a4, SecurityGroupRuleIds=[sgr-09be5c962afdc06ed], DryRun=true",
    );
    expect(message.text).toContain("DRY-RUN, nothing was changed");
  });

  it("says an approval would have been asked for (approve)", () => {
    const { message } = exampleSlack("ct-10-eks-associate-access-policy-cluster-admin.json");
    expect(allText(message)).toContain("would have asked for approval, then made 1 AWS call");
    expect(allText(message)).toContain("`eks:DisassociateAccessPolicy`");
  });

  it("shows the decision mode and every reason", () => {
    const { result, message } = exampleSlack("ct-07-eks-update-cluster-config-public-endpoint-open.json");
    const decision = must(result.decisions[0]);
    const text = allText(message);
    expect(text).toContain("*Decision:* mode `approve`, dry-run");
    for (const reason of decision.reasons) expect(text).toContain(`• ${reason}`);
  });

  it("is absent when nothing would have been done (alert only)", () => {
    const { result, message } = exampleSlack("gd-15-ec2-ssh-bruteforce-eks-worker.json");
    expect(result.outcome).toBe("alert");
    expect(allText(message)).not.toContain("DRY-RUN");
    expect(allText(message)).toContain("the node is the target, not the actor");
  });

  it("is absent on a live run, which says what it does instead", () => {
    const result = processEvent(exampleText("ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"), livePolicy, {
      forceDryRun: false,
    });
    expect(result.outcome).toBe("apply");
    const text = allText(slackMessage(result, {}));
    expect(text).not.toContain("DRY-RUN");
    expect(text).not.toContain("would have");
    expect(text).toContain("*Plan: eks-responder makes 1 AWS call:*");
    expect(text).toContain("APPLYING FIX");
  });
});

describe("rollback hint", () => {
  it("gives the rollback command for a reversible action", () => {
    const { result, message } = exampleSlack("ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json");
    const id = must(result.assessments[0]).id;
    expect(allText(message)).toContain(`if applied, undo with \`eks-responder rollback ${id}\``);
  });

  it("says 'undo with' on a live run", () => {
    const result = processEvent(exampleText("ct-10-eks-associate-access-policy-cluster-admin.json"), livePolicy, {
      forceDryRun: false,
    });
    const id = must(result.assessments[0]).id;
    expect(allText(slackMessage(result, {}))).toContain(`undo with \`eks-responder rollback ${id}\``);
    expect(allText(slackMessage(result, {}))).not.toContain("if applied");
  });

  it("gives none when an action is not reversible (ssm:patch-nodes) or unknown", () => {
    const { result } = exampleSlack("ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json");
    for (const action of ["ssm:patch-nodes", "no:such-action"]) {
      const changed: EventResult = structuredClone(result);
      for (const d of changed.decisions) for (const step of d.plan) step.action = action;
      const text = allText(slackMessage(changed, {}));
      expect(text).not.toContain("eks-responder rollback");
      expect(text).toContain("not reversible: no rollback");
    }
  });

  it("gives none when there is no plan", () => {
    const { message } = exampleSlack("gd-15-ec2-ssh-bruteforce-eks-worker.json");
    expect(allText(message)).not.toContain("rollback");
  });
});

describe("console links", () => {
  it("links the security group from its region and id", () => {
    const { message } = exampleSlack("ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json");
    expect(allText(message)).toContain(
      "*Security group*\n<https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#SecurityGroup:groupId=sg-0632fa4ee8a8468a4|sg-0632fa4ee8a8468a4>",
    );
  });

  it("links the instance and the EKS cluster", () => {
    const { message } = exampleSlack("gd-11-runtime-bitcointool-b-eks-pod.json");
    const text = allText(message);
    expect(text).toContain(
      "<https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#InstanceDetails:instanceId=i-0f1e2d3c4b5a69788|i-0f1e2d3c4b5a69788>",
    );
    expect(text).toContain(
      "<https://eu-west-1.console.aws.amazon.com/eks/home?region=eu-west-1#/clusters/prod-eks|prod-eks>",
    );
  });

  it("uses consoleBaseUrl when it is an https origin, and ignores it otherwise", () => {
    const { result } = exampleSlack("ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json");
    const custom = allText(slackMessage(result, { consoleBaseUrl: "https://console.aws.amazon.com/" }));
    expect(custom).toContain(
      "<https://console.aws.amazon.com/ec2/home?region=us-east-1#SecurityGroup:groupId=sg-0632fa4ee8a8468a4|",
    );
    for (const bad of [
      "http://console.aws.amazon.com",
      "https://x.example/path",
      "https://evil.example|x>",
      "javascript:1",
    ]) {
      const text = allText(slackMessage(result, { consoleBaseUrl: bad }));
      expect(text).not.toContain(bad);
      expect(text).toContain("<https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#SecurityGroup:");
    }
  });

  it("builds no link from an id or a region that does not match its pattern", () => {
    const { result } = exampleSlack("gd-11-runtime-bitcointool-b-eks-pod.json");
    const changed: EventResult = structuredClone(result);
    const a = must(changed.assessments[0]);
    a.resources.instanceId = "i-0f1e2d3c4b5a69788|<https://evil.example>";
    a.resources.securityGroupId = "sg-12345678#x";
    a.cluster = "prod eks/../../evil";
    const message = slackMessage(changed, {});
    expectNoInjection(message);
    const text = allText(message);
    expect(text).not.toContain("console.aws.amazon.com");
    expect(text).toContain("i-0f1e2d3c4b5a69788|&lt;hxxps://evil[.]example&gt;");

    const badRegion: EventResult = structuredClone(result);
    must(badRegion.assessments[0]).region = "eu-west-1.evil.example/x";
    expect(allText(slackMessage(badRegion, {}))).not.toContain("console.aws.amazon.com");
  });
});

describe("who, what and where", () => {
  it("shows actor, source IP and user agent of a CloudTrail call", () => {
    const { message } = exampleSlack("ct-13-eks-create-cluster-AWSDOC.json");
    const text = allText(message);
    expect(text).toContain("*Actor*\narn:aws:iam::111122223333:user/ericn");
    expect(text).toContain("*Source IP*\n205.251.233.178");
    expect(text).toContain("*User agent*\nPostmanRuntime/6.4.0");
    expect(text).toContain("*Account*\n111122223333");
    expect(text).toContain("*Region*\nus-west-2");
  });

  it("shows every assessment title, the most severe first", () => {
    const { result, message } = exampleSlack("ct-13-eks-create-cluster-AWSDOC.json");
    // Endpoint open (high), logging off from creation (high, eks-logging-disabled), no secrets encryption (medium).
    expect(result.assessments).toHaveLength(3);
    const sections = sectionTexts(message.blocks);
    const first = sections.findIndex((s) => s.includes("API endpoint public"));
    const logging = sections.findIndex((s) => s.includes("created with control-plane logging off"));
    const second = sections.findIndex((s) => s.includes("without KMS encryption"));
    expect(first).toBeGreaterThan(-1);
    expect(logging).toBeGreaterThan(-1);
    expect(second).toBeGreaterThan(Math.max(first, logging));
    expect(message.blocks[0]).toMatchObject({ text: { text: expect.stringContaining("HIGH") } });
  });

  it("shows the Kubernetes user and remote address of a GuardDuty finding", () => {
    const { message } = exampleSlack("gd-06-policy-k8s-anonymous-access-granted.json");
    const text = allText(message);
    expect(text).toContain(
      "*Actor*\narn:aws:sts::111122223333:assumed-role/PlatformAdmin/jdoe (groups system:authenticated)",
    );
    expect(text).toContain("*Remote address*\n203.0.113.45 (Netherlands)");
  });

  it("explains skipped and invalid events", () => {
    const skipped = slackMessage(
      processEvent(fixtureText("hostile/unrelated-source-s3-object-created.json"), examplePolicy),
      {},
    );
    expectWithinLimits(skipped);
    expect(skipped.blocks[0]).toMatchObject({ text: { text: "eks-responder · SKIPPED" } });
    expect(allText(skipped)).toContain("are not read");

    const invalid = slackMessage(processEvent(fixtureText("hostile/not-json.json"), examplePolicy), {});
    expectWithinLimits(invalid);
    expect(invalid.blocks[0]).toMatchObject({ text: { text: "eks-responder · INVALID EVENT" } });
    expect(allText(invalid)).toContain("*Error* `SIGNAL.INVALID`");
  });
});

describe("hostile content", () => {
  const { message } = slackFor(HOSTILE);
  const json = JSON.stringify(message);
  const everything = allText(message);

  it("never appears unescaped anywhere in the Slack JSON", () => {
    for (const raw of [
      "<!channel>",
      "<!here>",
      "<@U0123ABCD>",
      "<https://evil.example",
      "*urgent*",
      "`rm -rf`",
      "\u202e",
      "\u0007",
      "\u001b",
      "\u0000",
      "\r",
    ]) {
      expect(json).not.toContain(raw);
      expect(everything).not.toContain(raw);
    }
    expect(json).not.toMatch(/\\u00(?:0[0-9a-f]|1[0-9a-f])/);
    expectNoInjection(message);
  });

  it("is still shown, escaped, so a human sees what the caller sent", () => {
    expect(everything).toContain(
      "*User agent*\naws-cli/2.22.4 [U+0007][U+001B][31mALERT RESOLVED[U+001B][0m[U+0000] &lt;!channel&gt; &lt;@U0123ABCD&gt; please re-enable access: &lt;hxxps://evil[.]example|click&gt; \u2217urgent\u2217 \u02cbrm -rf\u02cb [U+202E]gnp.exe",
    );
  });
});

describe("size limits", () => {
  it("truncates a huge user agent and a huge title", () => {
    const event = loadFixture(HOSTILE);
    objectAt(event, "detail").userAgent = `<!channel> ${"A&<".repeat(40_000)}`;
    const result = processEvent(event, examplePolicy);
    expect(result.outcome).toBe("dry-run");
    const a = must(result.assessments[0]);
    a.title = `*big* ${"T".repeat(100_000)}`;
    a.evidence.push("E".repeat(100_000));
    must(result.decisions[0]).reasons.push("R".repeat(100_000));
    result.reason = "O".repeat(100_000);
    const message = slackMessage(result, {});
    expectWithinLimits(message);
    expectNoInjection(message);
    const ua = must(
      texts(message).find((t) => t.text.startsWith("*User agent*")),
      "user agent field",
    );
    expect(ua.text).toMatch(/\u2026 \(trimmed: [\d,]+ more characters\)$/);
    expect(ua.text).toContain("&lt;!channel&gt;");
  });

  it("keeps to 50 blocks with many assessments and to 3000 characters with many calls", () => {
    const { result } = exampleSlack("gd-11-runtime-bitcointool-b-eks-pod.json");
    const big: EventResult = structuredClone(result);
    const a = must(big.assessments[0]);
    const d = must(big.decisions[0]);
    const steps = Array.from({ length: 200 }, () => structuredClone(must(d.plan[0])));
    d.plan = steps;
    big.assessments = Array.from({ length: 30 }, (_, i) => ({
      ...structuredClone(a),
      id: `asm-${String(i).padStart(20, "0")}`,
    }));
    big.decisions = big.assessments.map((x) => ({ ...structuredClone(d), assessmentId: x.id }));
    const message = slackMessage(big, {});
    expectWithinLimits(message);
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    expect(allText(message)).toMatch(/\d+ more assessments not shown/);
    expect(allText(message)).toContain("… 188 more calls");
  });
});
