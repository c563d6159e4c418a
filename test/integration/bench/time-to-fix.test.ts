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
      // first the policy with the kill switch, the claim and the counter read; then the slot (a new counter is put
      // whole, an existing one updated) and the group's tags; then the revoke
      expect(sent.slice(0, 3).sort()).toEqual(["dynamodb GetItem", "dynamodb UpdateItem", "ssm GetParameters"]);
      expect(
        sent
          .slice(3, 5)
          .map((c) => c.replace(/PutItem|UpdateItem/, "slot"))
          .sort(),
      ).toEqual(["dynamodb slot", "ec2 DescribeSecurityGroups"]);
      expect(sent[5]).toBe("ec2 RevokeSecurityGroupIngress");
      expect(t.callsBeforeFix).toBe(5);
      expect(t.roundTripsBeforeFix).toBe(2);
    }
    // 20 ms per call: the revoke waits for two round trips, so it is sent at least 40 ms after the handler was ready
    const slow = result.byLatency.find((t) => t.latencyMs === 20);
    expect(slow?.readyToRevokeSentMs).toBeGreaterThanOrEqual(40);
  }, 180_000);
});
