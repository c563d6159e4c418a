/**
 * The respond path's guards on rules it revoked before, over the table: a rule a rollback put back (restored.ts) is
 * alerted on while its hold lasts, in every mode; a rule revoked again and again (flapping.ts) is alerted on instead
 * of revoked, in auto mode (an approval already puts a human in the loop). Only ec2:revoke-ingress is followed: the
 * other actions' rollbacks are kept from being undone again by the own-call guard (own-calls.ts) when they run under
 * the rollback role.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Assessment } from "../detectors/types.ts";
import type { Decision, SignalSummary } from "../pipeline/types.ts";
import type { Policy } from "../policy/schema.ts";
import { takeRevocation } from "./flapping.ts";
import { restoredReason, restoredRule } from "./restored.ts";
import { revokeTargets } from "./rule-targets.ts";

export function ruleGuards(client: DynamoDBDocumentClient, table: string, policy: Policy, now?: () => Date) {
  const { restoredHoldSeconds: holdSeconds, flapping } = policy.limits;
  return async (
    assessment: Assessment,
    decision: Decision,
    signal: SignalSummary | undefined,
  ): Promise<string | undefined> => {
    const at = now?.();
    for (const target of revokeTargets(assessment)) {
      const mark = await restoredRule(client, table, target, { holdSeconds, ...(at ? { now: at } : {}) });
      if (mark) return restoredReason(target, mark, holdSeconds);
    }
    if (decision.mode !== "auto") return undefined;
    for (const target of revokeTargets(assessment)) {
      const slot = await takeRevocation(client, table, target, {
        eventKey: signal?.key ?? assessment.id,
        actor: signal?.actor ?? "an unknown principal",
        limit: flapping.revocations,
        windowSeconds: flapping.windowSeconds,
        ...(at ? { now: at } : {}),
      });
      if (!slot.allowed) return slot.reason;
    }
    return undefined;
  };
}
