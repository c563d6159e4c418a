/**
 * `npm test`: the project's gates in order (lint, type-check with the tests included, Chromium for the browser tests,
 * vitest), then one closing line `N passed, N failed` that CI reads. A failing gate counts as one failure and the
 * later gates still run, so one run shows everything that is wrong.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { KUBE_ENV, startKubeServer } from "./kube-test-server.ts";

const REPORT = ".vitest-report.json";

interface Gate {
  name: string;
  command: string;
  args: string[];
}

const gates: Gate[] = [
  { name: "lint (biome)", command: "biome", args: ["check", "."] },
  { name: "type-check (tsc)", command: "tsc", args: ["-p", "tsconfig.json"] },
  // SST writes its platform types offline (npm registry only), then sst.config.ts and infra/ are type-checked.
  { name: "type-check infra (sst install + tsc)", command: "npm", args: ["run", "-s", "check:infra"] },
  // The browser tests (test/e2e) drive Debian's chromium: installed when missing and root, else a message saying what
  // to run and one failed gate (the e2e tests then fail with the same advice).
  {
    name: "Chromium for the browser tests (scripts/ensure-chromium.sh)",
    command: "bash",
    args: ["scripts/ensure-chromium.sh"],
  },
];

function run(command: string, args: string[]): number {
  const result = spawnSync(command, args, {
    stdio: "inherit",
    env: { ...process.env, AWS_EC2_METADATA_DISABLED: "true" },
  });
  if (result.error) {
    process.stderr.write(`cannot run ${command}: ${result.error.message}\n`);
    return 1;
  }
  return result.status ?? 1;
}

let passed = 0;
let failed = 0;
for (const gate of gates) {
  process.stdout.write(`\n== ${gate.name}\n`);
  if (run(gate.command, gate.args) === 0) passed += 1;
  else {
    failed += 1;
    process.stdout.write(`${gate.name} failed\n`);
  }
}

// One real Kubernetes API server for every test file (scripts/kube-test-server.ts): it stops when this process exits.
process.stdout.write("\n== Kubernetes API server for the tests (scripts/kube-test-server.ts)\n");
try {
  const kube = startKubeServer();
  process.env[KUBE_ENV] = JSON.stringify(kube);
  process.stdout.write(`kube-apiserver ${kube.version} at ${kube.server}\n`);
  passed += 1;
} catch (error) {
  // The Kubernetes tests then try to start their own, and fail with the same reason.
  process.stdout.write(`no Kubernetes API server: ${error instanceof Error ? error.message : String(error)}\n`);
  failed += 1;
}

process.stdout.write("\n== tests (vitest)\n");
rmSync(REPORT, { force: true });
const vitestStatus = run("vitest", ["run", "--reporter=default", "--reporter=json", `--outputFile=${REPORT}`]);
try {
  const report = JSON.parse(readFileSync(REPORT, "utf8")) as {
    numPassedTests: number;
    numFailedTests: number;
    numTotalTestSuites: number;
    numFailedTestSuites: number;
    success: boolean;
  };
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  // A test file that fails to load has no failed test in it, but is a failure all the same.
  if (report.numFailedTests === 0 && (!report.success || vitestStatus !== 0))
    failed += Math.max(1, report.numFailedTestSuites);
} catch {
  process.stdout.write("vitest wrote no report\n");
  failed += 1;
}

process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exitCode = failed > 0 ? 1 : 0;
