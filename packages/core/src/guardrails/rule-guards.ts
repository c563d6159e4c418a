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
import type { Signal } from "../signals/types.ts";
import { type GroupCounters, readGroupCounters, takeRevocation } from "./flapping.ts";
import { restoredReason, restoredRule } from "./restored.ts";
import { type RuleGroup, revokeTargets, ruleGroupsOf, rulePartition } from "./rule-targets.ts";

/**
 * What the guards read ahead, while the claim and the policy are in flight: the flapping counters of the groups an
 * event changed (reads only; a revocation is counted later, once the claim is held and the kill switch was read off).
 * One per invocation: a read serves the first attempt of each rule's count, and a read another Lambda has overtaken
 * only loses its conditional write (flapping.ts), so it is never a reason to act.
 */
export interface RuleGuardReads {
  /** Starts reading the counters of the groups `signal` changed (ruleGroupsOf), once per group. */
  prepare(signal: Signal): void;
  /** The read `prepare` started for `group`, if any. */
  counters(group: RuleGroup): Promise<GroupCounters> | undefined;
}

export function ruleGuardReads(client: Promise<DynamoDBDocumentClient>, table: string): RuleGuardReads {
  const reads = new Map<string, Promise<GroupCounters>>();
  return {
    prepare(signal) {
      for (const group of ruleGroupsOf(signal)) {
        const key = rulePartition("FLAP", group);
        if (reads.has(key)) continue;
        const read = client.then((c) => readGroupCounters(c, table, group));
        read.catch(() => {}); // a failed read is read again, rule by rule, when the revocation is counted
        reads.set(key, read);
      }
    },
    counters: (group) => reads.get(rulePartition("FLAP", group)),
  };
}

export interface RuleGuardOptions {
  /** The clock (default: the current time). */
  now?: () => Date;
  /** The counters read ahead (ruleGuardReads), when the caller started them. */
  reads?: RuleGuardReads;
}

export function ruleGuards(
  client: DynamoDBDocumentClient,
  table: string,
  policy: Policy,
  options: RuleGuardOptions = {},
) {
  const { restoredHoldSeconds: holdSeconds, flapping } = policy.limits;
  return async (
    assessment: Assessment,
    decision: Decision,
    signal: SignalSummary | undefined,
  ): Promise<string | undefined> => {
    const at = options.now?.();
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
            targets.map((target) => {
              const read = options.reads?.counters(target);
              return takeRevocation(client, table, target, {
                eventKey: signal?.key ?? assessment.id,
                actor: signal?.actor ?? "an unknown principal",
                limit: flapping.revocations,
                windowSeconds: flapping.windowSeconds,
                ...(at ? { now: at } : {}),
                ...(read ? { read } : {}),
              });
            }),
          )
        : Promise.resolve([]);
    const [holds, slots] = await Promise.all([restored, counted]);
    const hold = holds.find((h) => h !== undefined);
    if (hold !== undefined) return hold;
    const refused = slots.find((slot) => !slot.allowed);
    return refused && !refused.allowed ? refused.reason : undefined;
  };
}
