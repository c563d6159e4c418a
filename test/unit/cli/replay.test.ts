import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../../packages/cli/src/main.ts";
import type { Io } from "../../../packages/cli/src/terminal.ts";

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
  }[];
  summary: { files: number; outcomes: Record<string, number>; plannedCalls: number; invalid: number };
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
    expect(c.stdout()).toMatch(/summary\s+11 events: 6 dry-run, 3 alert, 2 skipped · 13 planned AWS calls/);
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
        "dry-run": 6,
        alert: 3,
        skipped: 2,
        invalid: 0,
      },
      plannedCalls: 13,
      invalid: 0,
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
      ["/a.json", "alert"],
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
});
