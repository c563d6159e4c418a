import { describe, expect, it } from "vitest";
import { type ActionOutcome, stillApplied } from "../../../packages/core/src/actions/run.ts";
import { mergeOutcomes } from "../../../packages/core/src/pipeline/checkpoint.ts";

const BY_EARLIER = " (by an earlier attempt of this event)";
const params = (groupId: string) => ({ groupId, ruleIds: ["sgr-09be5c962afdc06ed"] });
const undo = (groupId: string) => ({
  groupId,
  rules: [{ ruleId: "sgr-09be5c962afdc06ed", protocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" }],
});
function outcome(groupId: string, status: ActionOutcome["status"], reason: string): ActionOutcome {
  return {
    action: "ec2:revoke-ingress",
    status,
    reason,
    calls: [],
    params: params(groupId),
    ...(status === "applied" ? { undo: undo(groupId) } : {}),
  };
}
const throttled = (groupId: string) => ({
  ...outcome(groupId, "failed", "RequestLimitExceeded: Request limit exceeded."),
  error: { code: "RequestLimitExceeded", message: "Request limit exceeded." },
});

describe("mergeOutcomes", () => {
  it("keeps an earlier applied outcome when the retry's check of the same action failed", () => {
    // The first attempt revoked sg-a and was throttled on sg-b; the retry was throttled re-reading sg-a.
    const earlier = [outcome("sg-a", "applied", "revoked 1 rule(s)"), throttled("sg-b")];
    const now = [throttled("sg-a")];

    const merged = mergeOutcomes(earlier, now);

    expect(merged).toEqual([{ ...outcome("sg-a", "applied", `revoked 1 rule(s)${BY_EARLIER}`) }, throttled("sg-a")]);
    expect(stillApplied(merged).map((o) => o.undo)).toEqual([undo("sg-a")]);
  });

  it("keeps the earlier applied outcomes of actions the retry never reached, in plan order", () => {
    const earlier = [
      outcome("sg-a", "applied", "revoked 1 rule(s)"),
      outcome("sg-b", "applied", "revoked 1 rule(s)"),
      throttled("sg-c"),
    ];
    const now = [outcome("sg-a", "already-done", "the rules are already gone"), throttled("sg-b")];

    const merged = mergeOutcomes(earlier, now);

    expect(merged.map((o) => [o.params.groupId, o.status])).toEqual([
      ["sg-a", "applied"],
      ["sg-b", "applied"],
      ["sg-b", "failed"],
    ]);
    // What a rollback of the plan undoes, last first: sg-b, then sg-a, each with the first attempt's undo.
    expect(
      stillApplied(merged)
        .reverse()
        .map((o) => o.undo),
    ).toEqual([undo("sg-b"), undo("sg-a")]);
  });

  it("lets an earlier applied outcome stand in for the retry's already-done, marked once across retries", () => {
    const first = [outcome("sg-a", "applied", "revoked 1 rule(s)")];
    const second = mergeOutcomes(first, [outcome("sg-a", "already-done", "the rules are already gone")]);
    const third = mergeOutcomes(second, [outcome("sg-a", "already-done", "the rules are already gone")]);

    expect(third).toEqual([outcome("sg-a", "applied", `revoked 1 rule(s)${BY_EARLIER}`)]);
  });

  it("keeps this attempt's outcome for an action it applied again, and nothing twice", () => {
    const earlier = [outcome("sg-a", "applied", "revoked 1 rule(s)")];
    const now = [outcome("sg-a", "applied", "revoked 1 rule(s) again")];

    expect(mergeOutcomes(earlier, now)).toEqual(now);
    expect(mergeOutcomes(undefined, now)).toBe(now);
  });
});
