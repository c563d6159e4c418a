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
    const targets = revokeTargets(assessment);
    // Both guards at once (they sit before the first change of an automatic fix): a rule held after a rollback wins;
    // a revocation counted for a rule that is then held only brings the flapping alert sooner (fail closed).
    const restored = Promise.all(
      targets.map(async (target) => {
        const mark = await restoredRule(client, table, target, { holdSeconds, ...(at ? { now: at } : {}) });
        return mark ? restoredReason(target, mark, holdSeconds) : undefined;
      }),
    );
    const counted =
      decision.mode === "auto"
        ? Promise.all(
            targets.map((target) =>
              takeRevocation(client, table, target, {
                eventKey: signal?.key ?? assessment.id,
                actor: signal?.actor ?? "an unknown principal",
                limit: flapping.revocations,
                windowSeconds: flapping.windowSeconds,
                ...(at ? { now: at } : {}),
              }),
            ),
          )
        : Promise.resolve([]);
    const [holds, slots] = await Promise.all([restored, counted]);
    const hold = holds.find((h) => h !== undefined);
    if (hold !== undefined) return hold;
    const refused = slots.find((slot) => !slot.allowed);
    return refused && !refused.allowed ? refused.reason : undefined;
  };
}
