import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ApprovalTaskInputError, approvalExecutionInputSchema } from "../../../packages/core/src/approval/contract.ts";
import {
  APPROVAL_INPUT_MAX_BYTES,
  ApprovalInputTooLargeError,
  approvalExecutionInput,
  STEP_FUNCTIONS_MAX_PAYLOAD_BYTES,
} from "../../../packages/core/src/approval/execution-input.ts";
import { parsePolicy, processEvent } from "../../../packages/core/src/index.ts";
import type { PlanStep } from "../../../packages/core/src/pipeline/types.ts";
import { must } from "../../helpers/fixtures.ts";

const ROOT = join(import.meta.dirname, "../../..");
const policy = parsePolicy({
  dryRun: false,
  detectors: { "ec2-open-ingress": { mode: "approve" } },
  approvals: { approvers: { slackUserIds: ["U0123ABCD"], emails: ["alice@example.com"] }, timeoutSeconds: 900 },
});
const processed = processEvent(
  readFileSync(join(ROOT, "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"), "utf8"),
  policy,
  { forceDryRun: false },
);
const assessment = must(processed.assessments[0], "assessment");
const decision = must(processed.decisions[0], "decision");
const request = { assessment, decision, approvers: policy.approvals.approvers, timeoutSeconds: 900 };
const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), "utf8");

/** A plan of `count` revoke steps, each about 2 KiB of rule ids. */
function bigPlan(count: number): PlanStep[] {
  const [step] = decision.plan;
  const base = must(step, "plan step");
  return Array.from({ length: count }, (_, i) => ({
    ...base,
    params: { ...base.params, SecurityGroupRuleIds: Array.from({ length: 90 }, (_, j) => `sgr-${i}-${j}-0123456`) },
  }));
}

describe("approvalExecutionInput", () => {
  it("carries the assessment, the exact plan, the decision's reasons, the approvers and the timeout", () => {
    const input = approvalExecutionInput(request);

    expect(input).toEqual({
      assessment,
      plan: decision.plan,
      reasons: decision.reasons,
      approvers: { slackUserIds: ["U0123ABCD"], emails: ["alice@example.com"] },
      timeoutSeconds: 900,
    });
    expect(decision.reasons.length).toBeGreaterThan(0);
    expect(approvalExecutionInputSchema.safeParse(input).success).toBe(true);
  });

  it("keeps an input over the budget under it: fewer plan steps shown, and the reasons say how many are left out", () => {
    const plan = bigPlan(200);
    const large = { ...request, decision: { ...decision, plan } };
    expect(bytes(plan)).toBeGreaterThan(STEP_FUNCTIONS_MAX_PAYLOAD_BYTES);

    const input = approvalExecutionInput(large);

    expect(bytes(input)).toBeLessThanOrEqual(APPROVAL_INPUT_MAX_BYTES);
    expect(APPROVAL_INPUT_MAX_BYTES).toBe(128 * 1024);
    expect(input.plan.length).toBeGreaterThan(0);
    expect(input.plan.length).toBeLessThan(200);
    expect(input.plan).toEqual(plan.slice(0, input.plan.length));
    expect(input.reasons.slice(0, -1)).toEqual(decision.reasons);
    expect(input.reasons.at(-1)).toBe(
      `… ${200 - input.plan.length} more steps not shown (200 in all): the approval request is kept to 128 KiB for ` +
        "Step Functions; approving carries out the whole playbook",
    );
    // As many steps as fit: one more would not.
    const oneMore = { ...input, plan: plan.slice(0, input.plan.length + 1) };
    expect(bytes(oneMore)).toBeGreaterThan(APPROVAL_INPUT_MAX_BYTES);
    expect(approvalExecutionInputSchema.safeParse(input).success).toBe(true);
  });

  it("refuses, with a typed error, an input that cannot fit even without any plan step", () => {
    const huge = { ...assessment, evidence: [`${"x".repeat(APPROVAL_INPUT_MAX_BYTES)}`] };

    const build = () => approvalExecutionInput({ ...request, assessment: huge });

    expect(build).toThrow(ApprovalInputTooLargeError);
    expect(build).toThrow(/bytes without any plan step; at most 131072 fit/);
  });

  it("refuses a decision without reasons: the approval page must always say why", () => {
    const build = () => approvalExecutionInput({ ...request, decision: { ...decision, reasons: [] } });

    expect(build).toThrow(ApprovalTaskInputError);
    expect(build).toThrow(/StartExecution: .*reasons/);
  });
});
