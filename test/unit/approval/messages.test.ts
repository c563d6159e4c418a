/** The approval request's texts (approval/tasks.ts): event text escaped once per format, the signed link never cut. */
import { describe, expect, it } from "vitest";
import { approvalEmailMessage, approvalSlackMessage, stepsWithin } from "../../../packages/core/src/approval/tasks.ts";
import { defaultPolicy, processEvent } from "../../../packages/core/src/index.ts";
import { fixtureText } from "../../helpers/fixtures.ts";
import { hiddenCharacters } from "../../helpers/texts.ts";

const processed = processEvent(fixtureText("hostile/useragent-control-chars-slack-injection.json"), defaultPolicy());
const assessment = processed.assessments[0];
if (!assessment) throw new Error("the hostile fixture must assess");
const EXPIRES = new Date("2026-12-01T12:00:00.000Z");
const LINK = "https://approve.example.lambda-url.eu-west-1.on.aws/approve?token=signed";

function input(title: string) {
  if (!assessment) throw new Error("no assessment");
  return {
    assessment: { ...assessment, title },
    plan: processed.plan,
    reasons: ["mode approve set in the policy\u202e, see http://evil.example/x"],
    approvers: { slackUserIds: ["U0123ABCD"], emails: ["alice@example.com"] },
    timeoutSeconds: 3600,
  };
}

describe("approvalEmailMessage", () => {
  it("escapes the event's text for e-mail (hiding characters shown, links defanged) and keeps the signed link whole", () => {
    // act
    const text = approvalEmailMessage(
      input("Open \u202eSSH\u200b see https://evil.example/login"),
      "alice@example.com",
      LINK,
      EXPIRES,
    );

    // assess
    expect(hiddenCharacters(text, { allowed: "\n" })).toEqual([]);
    expect(text).toContain("[U+202E]");
    expect(text).not.toContain("https://evil.example");
    expect(text).not.toContain("http://evil.example");
    expect(text).toContain(`\n${LINK}\n`);
    expect(text.indexOf(LINK)).toBeLessThan(text.indexOf("The exact plan"));
  });
});

describe("approvalSlackMessage", () => {
  it("puts each plan step on its own line, each escaped on its own", () => {
    // act
    const message = approvalSlackMessage(input("title"), "apr-1", EXPIRES);
    const plan = JSON.stringify(message.blocks[2]);

    // assess
    expect(processed.plan.length).toBeGreaterThan(0);
    const section = message.blocks[2]?.text as { text?: unknown } | undefined;
    expect(
      String(section?.text)
        .split("\n")
        .filter((l) => l.startsWith("•")),
    ).toHaveLength(processed.plan.length);
    expect(hiddenCharacters(plan, { allowed: "\n" })).toEqual([]);
  });
});

describe("stepsWithin", () => {
  it("keeps whole steps within Slack's section limit and says how many more the approval page lists", () => {
    // prepare
    const steps = Array.from({ length: 40 }, (_, i) => `• ec2:RevokeSecurityGroupIngress step ${i} ${"x".repeat(100)}`);

    // act
    const text = stepsWithin(steps, 3000 - "The exact plan:\n".length);
    const message = approvalSlackMessage(
      { ...input("title"), plan: Array.from({ length: 40 }, () => processed.plan[0]).filter((s) => s !== undefined) },
      "apr-1",
      EXPIRES,
    );

    // assess
    expect(text.length).toBeLessThanOrEqual(2984);
    const lines = text.split("\n");
    expect(lines.at(-1)).toMatch(/^… \d+ more steps: the approval page lists them all$/);
    expect(lines.slice(0, -1).every((l, i) => l === steps[i])).toBe(true);
    expect(Number(/… (\d+) more/.exec(lines.at(-1) ?? "")?.[1]) + lines.length - 1).toBe(40);
    const section = message.blocks[2]?.text as { text?: unknown } | undefined;
    expect(String(section?.text).length).toBeLessThanOrEqual(3000);
    expect(stepsWithin(["a", "b"], 100)).toBe("a\nb");
  });
});
