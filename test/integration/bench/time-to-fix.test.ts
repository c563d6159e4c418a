import { describe, expect, it } from "vitest";
import { measureTimeToFix } from "../../../bench/time-to-fix.ts";

/**
 * The time-to-fix bench, one fresh process per latency: the respond bundle as SST builds it revokes the rule against
 * the local DynamoDB, SSM and EC2 servers, and the trace shows the calls that wait for each other before the revoke.
 */
describe("bench/time-to-fix.ts", () => {
  it("revokes the world-open rule in a fresh process, with three round trips in series before the revoke", async () => {
    // act
    const result = await measureTimeToFix(1);

    // assess
    expect(result.byLatency.map((t) => t.latencyMs)).toEqual([0, 20]);
    for (const t of result.byLatency) {
      expect(t.outcomes).toEqual({ applied: 1 });
      expect(t.fixedMs).toBeGreaterThan(t.readyMs);
      const sent = t.path.filter((p) => p.what.startsWith("sent ")).map((p) => p.what.slice(5));
      // first the policy with the kill switch, the claim and the counter read; then, side by side, the slot, the
      // group's tags and the rule guards (the restored marker and the flapping counter: read, then counted); then
      // the revoke
      expect(sent.slice(0, 3).sort()).toEqual(["dynamodb GetItem", "dynamodb UpdateItem", "ssm GetParameters"]);
      const revoke = sent.indexOf("ec2 RevokeSecurityGroupIngress");
      expect(revoke).toBe(8);
      expect(sent.slice(3, revoke)).toContain("ec2 DescribeSecurityGroups");
      expect(sent.slice(3, revoke).filter((c) => c === "dynamodb GetItem")).toHaveLength(2);
      expect(t.callsBeforeFix).toBe(8);
      expect(t.roundTripsBeforeFix).toBe(3);
    }
    // 20 ms per call: the revoke waits for three round trips, so it is sent at least 60 ms after the handler was ready
    const slow = result.byLatency.find((t) => t.latencyMs === 20);
    expect(slow?.readyToRevokeSentMs).toBeGreaterThanOrEqual(60);
  }, 180_000);
});
