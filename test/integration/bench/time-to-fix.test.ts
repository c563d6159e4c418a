import { describe, expect, it } from "vitest";
import { measureTimeToFix } from "../../../bench/time-to-fix.ts";

/**
 * The time-to-fix bench, one fresh process per latency: the respond bundle as SST builds it revokes the rule against
 * the local DynamoDB, SSM and EC2 servers, and the trace shows the calls that wait for each other before the revoke.
 */
describe("bench/time-to-fix.ts", () => {
  it("revokes the world-open rule in a fresh process, with two round trips in series before the revoke", async () => {
    // act
    const result = await measureTimeToFix(1);

    // assess
    expect(result.byLatency.map((t) => t.latencyMs)).toEqual([0, 20]);
    for (const t of result.byLatency) {
      expect(t.outcomes).toEqual({ applied: 1 });
      expect(t.fixedMs).toBeGreaterThan(t.readyMs);
      const sent = t.path.filter((p) => p.what.startsWith("sent ")).map((p) => p.what.slice(5));
      // first the policy with the kill switch, the claim, the blast-radius counter read and the group's flapping
      // counters read (a Query); then, side by side, the slot, the group's tags, the restored marker and the flapping
      // count (one conditional write on what the Query read); then the revoke
      expect(sent.slice(0, 4).sort()).toEqual([
        "dynamodb GetItem",
        "dynamodb Query",
        "dynamodb UpdateItem",
        "ssm GetParameters",
      ]);
      const revoke = sent.indexOf("ec2 RevokeSecurityGroupIngress");
      expect(revoke).toBe(8);
      // (the slot: a PutItem for a new counter, in a fresh table's first sample, then an UpdateItem ADD)
      const second = sent.slice(4, revoke).sort();
      expect([
        ["dynamodb GetItem", "dynamodb PutItem", "dynamodb PutItem", "ec2 DescribeSecurityGroups"],
        ["dynamodb GetItem", "dynamodb PutItem", "dynamodb UpdateItem", "ec2 DescribeSecurityGroups"],
      ]).toContainEqual(second);
      expect(t.callsBeforeFix).toBe(8);
    }
    // The round trips are read off the timings (a call sent after another was answered waited for it). At 0 ms per
    // call a busy machine can answer one call before the next of the same round is sent, so only the 20 ms run,
    // where each answer takes 20 ms, shows the waiting: two rounds before the revoke.
    expect(result.byLatency.find((t) => t.latencyMs === 20)?.roundTripsBeforeFix).toBe(2);
    // 20 ms per call: the revoke waits for two round trips, so it is sent at least 40 ms after the handler was ready
    const slow = result.byLatency.find((t) => t.latencyMs === 20);
    expect(slow?.readyToRevokeSentMs).toBeGreaterThanOrEqual(40);
  }, 180_000);

  it("with --compile-cache, samples the same bundle with Node's compile cache, filled first, in the same rounds", async () => {
    // act
    const result = await measureTimeToFix(1, { compileCache: true });

    // assess: the cache was written, and both variants revoked the rule in every sample, with the same calls
    expect(result.compileCache?.cacheFiles).toBeGreaterThan(1);
    expect(result.compileCache?.byLatency.map((t) => t.latencyMs)).toEqual([0, 20]);
    for (const [index, t] of (result.compileCache?.byLatency ?? []).entries()) {
      expect(t.outcomes).toEqual({ applied: 1 });
      expect(t.callsBeforeFix).toBe(result.byLatency[index]?.callsBeforeFix);
    }
  }, 180_000);
});
