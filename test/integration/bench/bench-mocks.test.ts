import { describe, expect, it } from "vitest";
import { measureApiCalls } from "../../../bench/api-economy.ts";
import { measureFullPath } from "../../../bench/full-path.ts";

/**
 * The benchmarks' AWS mocks (bench/aws-mocks.ts) must keep up with what the actions call: an action that reads
 * something new fails closed against a mock that does not answer it, and `npm run bench` would stop with no numbers.
 * These run the bench's own code, short, so a change to an action that leaves the mocks behind fails here.
 */
describe("the benchmarks' AWS mocks", () => {
  it("answer every call of each action's happy path: each is applied, at no fewer calls than the minimum", async () => {
    // act
    const calls = await measureApiCalls();

    // assess: the calls each action makes under the default policy (docs/performance.md explains each difference)
    expect(Object.fromEntries(Object.entries(calls).map(([key, c]) => [key, [c.measured, c.minimum]]))).toEqual({
      "ec2:revoke-ingress": [2, 1],
      "ec2:revoke-ingress (ModifySecurityGroupRules)": [3, 1],
      "eks:restrict-endpoint": [5, 1],
      "eks:enable-logging": [3, 1],
      "eks:revoke-access": [3, 1],
      "ec2:isolate-instance": [14, 9],
      "ssm:patch-nodes": [3, 2],
    });
    for (const [key, c] of Object.entries(calls)) {
      if (c.measured > c.minimum) expect(c.why, key).toMatch(/\+\d read/);
    }
  });

  it("answer the full respond path over the example events: none fails, three are applied", async () => {
    // act
    const result = await measureFullPath(1, 20);

    // assess
    expect(result.events).toBe(11);
    // ct-01 and ct-02 revoke their rules; ct-13 turns logging on (eks-logging-disabled reads CreateCluster).
    expect(result.outcomes).toEqual({ applied: 3, alert: 6, skipped: 2 });
    // ct-13 turns logging on and follows the update with DescribeUpdate (applied only once Successful).
    expect(result.awsCallsPerPass).toBe(7);
  });
});
