import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../../packages/cli/src/main.ts";
import type { Io } from "../../../packages/cli/src/terminal.ts";
import { ruleSpecs } from "../../../packages/core/src/eventbridge/rules.ts";
import { hiddenCharacters } from "../../helpers/texts.ts";

const ROOT = join(import.meta.dirname, "../../..");
const ESC = String.fromCharCode(27);

interface Captured {
  io: Io;
  stdout: () => string;
  stderr: () => string;
}

function capture(options: { tty?: boolean; env?: Record<string, string> } = {}): Captured {
  let out = "";
  let err = "";
  return {
    io: {
      stdout: { write: (t: string) => (out += t), isTTY: options.tty ?? false },
      stderr: { write: (t: string) => (err += t), isTTY: options.tty ?? false },
      env: options.env ?? {},
      cwd: ROOT,
    },
    stdout: () => out,
    stderr: () => err,
  };
}

interface Report {
  results: {
    file: string;
    eventId?: string;
    outcome: string;
    assessments: { detectorId: string }[];
    decision: { mode: string; reason: string } | null;
    plan: { service: string; operation: string; params: Record<string, unknown> }[];
    error?: { code: string; message: string };
    rules?: string[];
  }[];
  summary: {
    files: number;
    outcomes: Record<string, number>;
    plannedCalls: number;
    plannedKubernetesCalls: number;
    invalid: number;
    delivered: number;
    undelivered: number;
  };
}

async function replayJson(args: string[]): Promise<{ code: number; report: Report; stderr: string }> {
  const c = capture();
  const code = await main(["replay", "--json", ...args], c.io);
  return { code, report: JSON.parse(c.stdout()) as Report, stderr: c.stderr() };
}

describe("eks-responder replay", () => {
  it("replays the bundled samples and exits 0 (the README's main job)", async () => {
    const c = capture();
    const code = await main(["replay", "--config", "examples/policy.json", "examples/events"], c.io);
    expect(code).toBe(0);
    expect(c.stdout()).toContain("examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json");
    expect(c.stdout()).toContain('ec2:RevokeSecurityGroupIngress {"GroupId":"sg-0632fa4ee8a8468a4"');
    // The joined plans: the GuardDuty samples' Kubernetes calls (method, path, body) in the same plan.
    expect(c.stdout()).toContain("kubernetes:DELETE /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/anon-view");
    expect(c.stdout()).toContain("kubernetes:POST /apis/networking.k8s.io/v1/namespaces/shop/networkpolicies");
    expect(c.stdout()).toContain("plan       11 Kubernetes calls");
    expect(c.stdout()).toMatch(
      /summary\s+11 events: 8 dry-run, 1 alert, 2 skipped · 28 planned calls \(6 AWS, 22 Kubernetes\) · all 11 delivered by the deployed rules/,
    );
    // The README's sample output is this run's: its first event's header and rule line, and its summary line.
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const sample = readme.slice(readme.indexOf("```\nexamples/events/ct-01"));
    const [header = "", rule = ""] = sample.split("\n").slice(1, 3);
    const summary = sample.split("\n").find((l) => l.startsWith("summary")) ?? "";
    expect(c.stdout()).toContain(`${header}\n${rule}\n`);
    expect(rule).toContain("rule       CloudTrailEC2 would deliver it");
    expect(summary).toContain("all 11 delivered by the deployed rules");
    expect(c.stdout()).toContain(`${summary}\n`);
    expect(c.stdout()).not.toContain(ESC);
  });

  it("prints one JSON document with file, eventId, outcome, assessments, decision and plan per event", async () => {
    const { code, report } = await replayJson(["--config", "examples/policy.json", "examples/events"]);
    expect(code).toBe(0);
    expect(report.summary).toEqual({
      files: 11,
      outcomes: {
        applied: 0,
        failed: 0,
        apply: 0,
        "pending-approval": 0,
        "dry-run": 8,
        alert: 1,
        skipped: 2,
        invalid: 0,
      },
      plannedCalls: 28,
      plannedKubernetesCalls: 22,
      invalid: 0,
      delivered: 11,
      undelivered: 0,
    });
    const first = report.results[0];
    expect(first).toMatchObject({
      file: "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json",
      eventId: "e7f3c1a2-0b9d-4c8e-a1f2-3b4c5d6e7f80",
      outcome: "dry-run",
      decision: { mode: "auto" },
    });
    expect(first?.assessments.map((a) => a.detectorId)).toEqual(["ec2-open-ingress"]);
    expect(first?.plan).toEqual([
      expect.objectContaining({
        service: "ec2",
        operation: "RevokeSecurityGroupIngress",
        params: { GroupId: "sg-0632fa4ee8a8468a4", SecurityGroupRuleIds: ["sgr-09be5c962afdc06ed"], DryRun: true },
      }),
    ]);
  });

  it("names, per bundled event, the deployed EventBridge rule that would deliver it", async () => {
    const { report } = await replayJson(["examples/events"]);
    const ruleBySource: Record<string, string> = {
      "aws.ec2": "CloudTrailEC2",
      "aws.eks": "CloudTrailEKS",
      "aws.guardduty": "GuardDutyFindings",
    };
    expect(report.results).toHaveLength(11);
    for (const r of report.results) {
      const { source } = JSON.parse(readFileSync(join(ROOT, r.file), "utf8")) as { source: string };
      expect(r.rules, r.file).toEqual([ruleBySource[source]]);
    }
    expect(report.summary).toMatchObject({ delivered: 11, undelivered: 0 });
    const c = capture();
    await main(["replay", "examples/events/gd-06-policy-k8s-anonymous-access-granted.json"], c.io);
    expect(c.stdout()).toContain("\n  rule       GuardDutyFindings would deliver it\n  signal ");
  });

  it("reports an event that no deployed rule matches: it would never reach the respond function", async () => {
    const unrelated = "test/fixtures/hostile/unrelated-source-s3-object-created.json";
    const event = "examples/events/ct-07-eks-update-cluster-config-public-endpoint-open.json";
    const { code, report } = await replayJson([unrelated, event, "test/fixtures/hostile/not-json.json"]);
    expect(code).toBe(2);
    expect(report.results.map((r) => [r.file, r.rules])).toEqual([
      [unrelated, []],
      [event, ["CloudTrailEKS"]],
      ["test/fixtures/hostile/not-json.json", undefined],
    ]);
    expect(report.summary).toMatchObject({ delivered: 1, undelivered: 1, invalid: 1 });

    const c = capture();
    expect(await main(["replay", unrelated, event], c.io)).toBe(0);
    expect(c.stdout()).toContain(
      `${unrelated}\n  rule       NONE matches: no deployed EventBridge rule would deliver this event, it would never reach the respond function\n`,
    );
    expect(c.stdout()).toMatch(/· 1 of 2 delivered by the deployed rules, 1 by none \(never delivered\) ·/);
  });

  it("matches with the patterns the infra deploys: a CloudTrail call the rules do not list is never delivered", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eks-replay-"));
    const ec2 = JSON.parse(
      readFileSync(join(ROOT, "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"), "utf8"),
    ) as { detail: Record<string, unknown> };
    writeFileSync(
      join(dir, "run-instances.json"),
      JSON.stringify({ ...ec2, detail: { ...ec2.detail, eventName: "RunInstances" } }),
    );
    const { report } = await replayJson([join(dir, "run-instances.json")]);
    expect(ruleSpecs().find((r) => r.name === "CloudTrailEC2")?.pattern.detail?.eventName).not.toContain(
      "RunInstances",
    );
    expect(report.results[0]?.rules).toEqual([]);
    expect(report.summary.undelivered).toBe(1);
  });

  it("processes every file, reports each bad one with its path and reason, and exits 2", async () => {
    const { code, report } = await replayJson([
      "test/fixtures/hostile/gd-truncated-detail.json",
      "does/not/exist.json",
      "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json",
      "test/fixtures/hostile/not-json.json",
    ]);
    expect(code).toBe(2);
    expect(report.results.map((r) => [r.file, r.outcome])).toEqual([
      ["test/fixtures/hostile/gd-truncated-detail.json", "invalid"],
      ["does/not/exist.json", "invalid"],
      ["examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json", "dry-run"],
      ["test/fixtures/hostile/not-json.json", "invalid"],
    ]);
    expect(report.results[0]?.error?.message).toMatch(/malformed GuardDuty finding: detail\.severity missing/);
    expect(report.results[1]?.error).toEqual({
      code: "FILE.UNREADABLE",
      message: "no such file or folder",
      issues: [],
    });
    expect(report.results[3]?.error?.message).toMatch(/^not valid JSON/);
    expect(report.summary.invalid).toBe(3);
  });

  it("walks folders recursively in a stable order, and reports a folder with no events", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eks-replay-"));
    mkdirSync(join(dir, "b/nested"), { recursive: true });
    mkdirSync(join(dir, "empty"));
    cpSync(
      join(ROOT, "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"),
      join(dir, "b/nested/z.json"),
    );
    cpSync(join(ROOT, "examples/events/gd-06-policy-k8s-anonymous-access-granted.json"), join(dir, "a.json"));
    writeFileSync(join(dir, "notes.txt"), "not an event");
    const { code, report } = await replayJson([dir, join(dir, "empty")]);
    expect(report.results.map((r) => [r.file.slice(dir.length), r.outcome])).toEqual([
      ["/a.json", "dry-run"],
      ["/b/nested/z.json", "dry-run"],
      ["/empty", "invalid"],
    ]);
    expect(report.results[2]?.error?.message).toBe("folder holds no .json event files");
    expect(code).toBe(2);
  });

  it("refuses a file larger than EventBridge's 256 KB limit without parsing it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eks-replay-"));
    const big = join(dir, "big.json");
    writeFileSync(big, `{"padding":"${"x".repeat(300 * 1024)}"}`);
    const { code, report } = await replayJson([big]);
    expect(code).toBe(2);
    expect(report.results[0]?.error?.message).toMatch(/file is \d+ bytes; EventBridge events are at most 262144 bytes/);
  });

  it("stops before any event when the policy file is invalid, naming the key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eks-replay-"));
    writeFileSync(join(dir, "policy.json"), JSON.stringify({ detectors: { "ec2-open-ingress": { mode: "yolo" } } }));
    const c = capture();
    const code = await main(["replay", "--config", join(dir, "policy.json"), "examples/events"], c.io);
    expect(code).toBe(2);
    expect(c.stdout()).toBe("");
    expect(c.stderr()).toMatch(/detectors\.ec2-open-ingress\.mode: .*"yolo"/);
  });

  it("shows usage and exits 2 for a missing path, an unknown command or option", async () => {
    for (const argv of [["replay"], ["replay-all"], ["replay", "--jsn", "x.json"], []]) {
      const c = capture();
      expect(await main(argv, c.io), argv.join(" ")).toBe(2);
      expect(c.stderr(), argv.join(" ")).toContain("Usage: eks-responder");
    }
    const help = capture();
    expect(await main(["--help"], help.io)).toBe(0);
    expect(help.stdout()).toContain("replay [--json] [--config FILE] PATH...");
  });

  it("uses colour on a terminal only, and never with NO_COLOR", async () => {
    const file = "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json";
    const tty = capture({ tty: true });
    await main(["replay", file], tty.io);
    expect(tty.stdout()).toContain(`${ESC}[`);
    const noColor = capture({ tty: true, env: { NO_COLOR: "1" } });
    await main(["replay", file], noColor.io);
    expect(noColor.stdout()).not.toContain(ESC);
  });

  it("shows progress on a terminal for large folders", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eks-replay-"));
    for (let i = 0; i < 60; i++) {
      cpSync(join(ROOT, "examples/events/gd-06-policy-k8s-anonymous-access-granted.json"), join(dir, `e${i}.json`));
    }
    const c = capture({ tty: true });
    expect(await main(["replay", dir], c.io)).toBe(0);
    expect(c.stderr()).toContain("replaying 25/60 events");
    expect(c.stderr()).toContain("replayed 60/60 events.");
  });

  it("never lets control characters from an event reach the terminal", async () => {
    const c = capture({ tty: true });
    await main(["replay", "test/fixtures/hostile/useragent-control-chars-slack-injection.json"], c.io);
    const printed = c.stdout();
    const forbidden = [...printed].filter((ch) => {
      const code = ch.codePointAt(0) ?? 0;
      return (code < 0x20 && ch !== "\n" && ch !== ESC) || code === 0x7f || code === 0x202e;
    });
    expect(forbidden).toEqual([]);
    // The only escape characters left are the colour codes eks-responder wrote itself.
    expect(
      printed
        .split(ESC)
        .slice(1)
        .every((rest) => /^\[[0-9;]*m/.test(rest)),
    ).toBe(true);
    expect(printed).toContain("[U+001B][31mALERT RESOLVED");
    expect(printed).toContain("[U+202E]gnp.exe");
    expect(printed).toContain("hxxps://evil[.]example");
  });

  it("writes --json with every hiding character as a \\u escape, the same values read back", async () => {
    // prepare: C1 CSI, bidi override, zero-width space and line separator in a finding's Kubernetes user name
    const dir = mkdtempSync(join(tmpdir(), "replay-json-"));
    const source = "examples/events/gd-06-policy-k8s-anonymous-access-granted.json";
    const user = "sys\u202etem\u009b2J\u200b\u2028x";
    const text = readFileSync(join(ROOT, source), "utf8").replace(
      '"username": "arn:aws:sts::111122223333:assumed-role/PlatformAdmin/jdoe"',
      `"username": ${JSON.stringify(user)}`,
    );
    expect(text).toContain(JSON.stringify(user));
    writeFileSync(join(dir, "hostile-user.json"), text);
    const c = capture({ tty: true });

    // act
    await main(["replay", "--json", join(dir, "hostile-user.json")], c.io);

    // assess
    const printed = c.stdout();
    expect(hiddenCharacters(printed, { allowed: "\n" })).toEqual([]);
    expect(printed).toContain("sys\\u202etem\\u009b2J\\u200b\\u2028x");
    expect(JSON.stringify(JSON.parse(printed))).toContain(JSON.stringify(user).slice(1, -1));
  });
});

describe("eks-responder replay, given paths that are not event files", () => {
  const EVENT = join(ROOT, "examples/events/gd-06-policy-k8s-anonymous-access-granted.json");

  it("refuses a FIFO from its type, given directly or inside a folder, without waiting for a writer", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eks-replay-"));
    execFileSync("mkfifo", [join(dir, "pipe.json"), join(dir, "direct")]);
    cpSync(EVENT, join(dir, "event.json"));
    const { code, report } = await replayJson([join(dir, "direct"), dir]);
    expect(code).toBe(2);
    expect(report.results.map((r) => [r.file.slice(dir.length), r.outcome])).toEqual([
      ["/direct", "invalid"],
      ["/event.json", "dry-run"],
      ["/pipe.json", "invalid"],
    ]);
    for (const r of [report.results[0], report.results[2]]) {
      expect(r?.error?.code).toBe("FILE.UNREADABLE");
      expect(r?.error?.message).toBe(
        "a named pipe (FIFO), not an event file: reading it would wait for a writer; save the event to a .json file and give that file (or a folder of them)",
      );
    }
    expect(report.summary.invalid).toBe(2);
  });

  it("refuses character devices such as /dev/zero and /dev/null without reading them", async () => {
    const { code, report } = await replayJson(["/dev/zero", "/dev/null", EVENT]);
    expect(code).toBe(2);
    expect(report.results.map((r) => [r.file, r.outcome, r.error?.message])).toEqual([
      [
        "/dev/zero",
        "invalid",
        "a character device, not an event file; save the event to a .json file and give that file (or a folder of them)",
      ],
      [
        "/dev/null",
        "invalid",
        "a character device, not an event file; save the event to a .json file and give that file (or a folder of them)",
      ],
      [EVENT, "dry-run", undefined],
    ]);
  });

  it("reports a symlink loop given directly, or inside a folder, by its path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eks-replay-"));
    symlinkSync(join(dir, "b"), join(dir, "a"));
    symlinkSync(join(dir, "a"), join(dir, "b"));
    const { code, report } = await replayJson([join(dir, "a"), dir]);
    expect(code).toBe(2);
    const loop = "symlink loop: its links point at each other and never reach a file or folder; fix or remove the link";
    expect(report.results.map((r) => [r.file.slice(dir.length), r.error?.message])).toEqual([
      ["/a", loop],
      ["/a", loop],
      ["/b", loop],
    ]);
  });

  it("reports a folder that links back to itself as a directory loop, and reads the events linked in", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eks-replay-"));
    mkdirSync(join(dir, "events"));
    cpSync(EVENT, join(dir, "events/one.json"));
    symlinkSync(join(dir, "events"), join(dir, "events/again"));
    symlinkSync(EVENT, join(dir, "events/linked.json"));
    const c = capture();
    const code = await main(["replay", join(dir, "events")], c.io);
    expect(code).toBe(2);
    const again = join(dir, "events/again");
    expect(c.stdout()).toContain(
      `${again}\n  outcome    INVALID directory loop: ${again} leads back to ${join(dir, "events")}, which is being read already; remove the link, or give the folder it points to\n`,
    );
    expect(c.stdout()).toContain(
      `${join(dir, "events/linked.json")}\n  rule       GuardDutyFindings would deliver it\n`,
    );
    expect(c.stdout()).toMatch(/summary\s+3 events: 2 dry-run, 1 invalid/);
  });
});
