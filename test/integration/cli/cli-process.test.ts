import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../../..");
const BIN = join(ROOT, "packages/cli/bin/eks-responder.js");

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", AWS_EC2_METADATA_DISABLED: "true", ...env },
  });
}

describe("the eks-responder executable", () => {
  it("runs replay as a real process, plain when piped, exit 0", () => {
    const run = cli(["replay", "--config", "examples/policy.json", "examples/events"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("summary    11 events: 6 dry-run, 3 alert, 2 skipped");
    expect(run.stdout).not.toContain("\u001b[");
    expect(run.stderr).toBe("");
  });

  it("exits 2 with the bad file named, after processing the others", () => {
    const run = cli([
      "replay",
      "--json",
      "test/fixtures/hostile/json-array.json",
      "examples/events/gd-06-policy-k8s-anonymous-access-granted.json",
    ]);
    expect(run.status).toBe(2);
    const report = JSON.parse(run.stdout) as { results: { file: string; outcome: string; reason: string }[] };
    expect(report.results.map((r) => r.outcome)).toEqual(["invalid", "alert"]);
    expect(report.results[0]?.reason).toBe("an event must be a JSON object, got an array");
  });

  it("touches no AWS endpoint: replay needs no credentials and no network", () => {
    const run = cli(["replay", "examples/events"], {
      AWS_ACCESS_KEY_ID: "",
      AWS_SECRET_ACCESS_KEY: "",
      AWS_ENDPOINT_URL: "http://127.0.0.1:9",
    });
    expect(run.status).toBe(0);
  });
});
