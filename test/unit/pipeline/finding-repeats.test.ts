import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ActionOutcome } from "../../../packages/core/src/actions/run.ts";
import { parsePolicy, processEvent } from "../../../packages/core/src/index.ts";
import { answerRepeats, responseOf } from "../../../packages/core/src/pipeline/finding-repeats.ts";
import { must } from "../../helpers/fixtures.ts";

const ROOT = join(import.meta.dirname, "../../..");
const POD = readFileSync(join(ROOT, "examples/events/gd-11-runtime-bitcointool-b-eks-pod.json"), "utf8");
const result = processEvent(
  POD,
  parsePolicy({ dryRun: false, detectors: { "guardduty-runtime-threat": { mode: "auto" } } }),
  {
    forceDryRun: false,
  },
);
const signal = must(result.signal, "signal");
const version = { ...signal, finding: must(signal.finding, "finding") };
const assessment = must(result.assessments[0], "assessment");
const AT = "2025-03-17T06:03:00.000Z";

function outcome(status: ActionOutcome["status"]): ActionOutcome {
  return { action: "ec2:isolate-instance", status, reason: status, calls: [], params: {} };
}

describe("responseOf", () => {
  it("records an isolation that holds (applied, or found in place) as the finding's response", () => {
    for (const status of ["applied", "already-done"] as const) {
      const response = responseOf(
        version,
        result.assessments,
        [{ assessmentId: assessment.id, outcomes: [outcome(status)] }],
        [],
        AT,
      );
      expect(response).toEqual({
        account: "111122223333",
        region: "eu-west-1",
        findingId: "f5b1d7e64a3c42d8f0b6e2c4a8d0f2b4",
        assessmentId: assessment.id,
        how: "applied",
        severity: 8,
        resources: ["instance:i-0f1e2d3c4b5a69788", "pod:shop/web-6d9f7c8b5-x2kqz"],
        at: AT,
      });
    }
  });

  it("records nothing when the playbook was refused or failed: nothing holds, the next repeat may answer", () => {
    for (const status of ["refused", "failed", "would-succeed"] as const) {
      const applied = [{ assessmentId: assessment.id, outcomes: [outcome("applied"), outcome(status)] }];
      expect(responseOf(version, result.assessments, applied, [], AT), status).toBeUndefined();
    }
  });
});

describe("answerRepeats", () => {
  const prior = {
    account: "111122223333",
    region: "eu-west-1",
    findingId: "f5b1d7e64a3c42d8f0b6e2c4a8d0f2b4",
    assessmentId: "asm-00000000000000000001",
    how: "applied" as const,
    severity: 8,
    resources: ["instance:i-0f1e2d3c4b5a69788", "pod:shop/web-6d9f7c8b5-x2kqz"],
    at: AT,
  };

  it("turns the auto isolation of a repeat into an alert with no plan", () => {
    const [decision] = answerRepeats(version, result.decisions, result.assessments, prior);
    expect(must(result.decisions[0], "before").mode).toBe("auto");
    expect(decision?.mode).toBe("alert");
    expect(decision?.plan).toEqual([]);
    expect(decision?.reasons.at(-1)).toBe(
      `alert only: repeat of finding ${prior.findingId} (seen 4 times, updated 2025-03-17T06:02:31.222Z), already answered by ${prior.assessmentId} (applied ${AT}): no second response`,
    );
  });

  it("leaves the answered version itself alone (an invocation resuming it is not a repeat of itself)", () => {
    const same = { ...prior, assessmentId: assessment.id };
    expect(answerRepeats(version, result.decisions, result.assessments, same)).toEqual(result.decisions);
  });
});
