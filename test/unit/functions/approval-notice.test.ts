import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultPolicy, processEvent, slackMessage } from "../../../packages/core/src/index.ts";
import { approvalNotice } from "../../../packages/functions/src/approval-tasks.ts";

const ROOT = join(import.meta.dirname, "../../..");
const processed = processEvent(
  readFileSync(join(ROOT, "examples/events/ct-10-eks-associate-access-policy-cluster-admin.json"), "utf8"),
  defaultPolicy(),
);
const assessment = processed.assessments[0];

function notice(outcome: string, error?: { error: string; cause: string }) {
  if (!assessment) throw new Error("the sample must assess");
  return approvalNotice({ outcome, executionId: "exec-1", assessment, plan: processed.plan, ...(error ?? {}) }, [
    "security",
  ]);
}

describe("the notice of an approval's end", () => {
  it("shows the plan, and how to undo it, only for an applied change", () => {
    // act
    const applied = notice("applied");
    const refused = notice("apply-refused", {
      error: "ActionRefused",
      cause: JSON.stringify({
        errorType: "ActionRefused",
        errorMessage: "eks:revoke-access refused: cluster prod-eks carries the exemption tag x=y",
        trace: ["at applyApproved (tasks.ts:1)"],
      }),
    });

    // assess
    expect(processed.plan.length).toBeGreaterThan(0);
    expect(applied.outcome).toBe("applied");
    expect(applied.plan).toEqual(processed.plan);
    expect(refused.outcome).toBe("alert");
    expect(refused.plan).toEqual([]);
    expect(refused.decisions[0]?.plan).toEqual([]);
    const text = JSON.stringify(slackMessage(refused));
    expect(text).not.toContain("eks-responder rollback");
    expect(text).not.toContain("Plan: eks-responder");
    expect(JSON.stringify(slackMessage(applied))).toContain("eks-responder rollback");
  });

  it("says why a change was not made with the error's message, not the raw Lambda error", () => {
    // act
    const failed = notice("apply-failed", {
      error: "ActionFailed",
      cause: JSON.stringify({
        errorType: "ActionFailed",
        errorMessage: "eks:revoke-access: AccessDenied",
        trace: ["x"],
      }),
    });
    const timedOut = notice("timed-out", { error: "States.Timeout", cause: "" });

    // assess
    expect(failed.outcome).toBe("failed");
    expect(failed.reason).toBe("approval apply-failed: ActionFailed: eks:revoke-access: AccessDenied");
    expect(timedOut.reason).toBe("approval timed-out");
  });
});
