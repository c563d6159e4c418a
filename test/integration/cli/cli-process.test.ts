import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../../..");
const BIN = join(ROOT, "packages/cli/bin/eks-responder.js");

function cli(args: string[], env: Record<string, string> = {}, stdin: "pipe" | number = "pipe") {
  return spawnSync(process.execPath, [BIN, ...args], {
    stdio: [stdin, "pipe", "pipe"],
    cwd: ROOT,
    encoding: "utf8",
    // A replay that hangs is killed and fails the test, rather than the test run.
    timeout: 20_000,
    env: { PATH: process.env.PATH ?? "", AWS_EC2_METADATA_DISABLED: "true", ...env },
  });
}

describe("the eks-responder executable", () => {
  it("runs replay as a real process, plain when piped, exit 0", () => {
    const run = cli(["replay", "--config", "examples/policy.json", "examples/events"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("summary    11 events: 8 dry-run, 1 alert, 2 skipped");
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
    expect(report.results.map((r) => r.outcome)).toEqual(["invalid", "dry-run"]);
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

  it("fails fast on a FIFO, a device, /dev/stdin and a socket, exit 2, and still replays the event given with them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eks-cli-paths-"));
    const fifo = join(dir, "event.json");
    const stdinFifo = join(dir, "stdin");
    execFileSync("mkfifo", [fifo, stdinFifo]);
    // The replay's standard input is a FIFO this test holds open and never writes to or closes (Linux opens a FIFO
    // read-write without waiting), so a read of /dev/stdin would wait for ever.
    const stdin = openSync(stdinFifo, constants.O_RDWR);
    // A Unix domain socket file, not a network listener: nothing connects to it.
    const socket = join(dir, "responder.sock");
    const server = createServer();
    await new Promise<void>((done) => server.listen(socket, done));
    try {
      const event = "examples/events/gd-06-policy-k8s-anonymous-access-granted.json";
      const started = Date.now();
      const run = cli(["replay", "--json", fifo, "/dev/zero", "/dev/stdin", socket, event], {}, stdin);
      expect(run.signal).toBeNull();
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(run.status).toBe(2);
      const report = JSON.parse(run.stdout) as { results: { file: string; outcome: string; reason: string }[] };
      expect(report.results.map((r) => [r.file, r.outcome, r.reason.split(",")[0]])).toEqual([
        [fifo, "invalid", "a named pipe (FIFO)"],
        ["/dev/zero", "invalid", "a character device"],
        ["/dev/stdin", "invalid", "a named pipe (FIFO)"],
        [socket, "invalid", "a socket"],
        [event, "dry-run", expect.any(String)],
      ]);
    } finally {
      closeSync(stdin);
      await new Promise((done) => server.close(done));
    }
  });
});
