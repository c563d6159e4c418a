import { describe, expect, it } from "vitest";
import { createAwsClients, EC2_THROTTLE_RETRY } from "../../../packages/core/src/aws/clients.ts";

describe("createAwsClients", () => {
  it("gives EC2 the SDK's adaptive retry with more attempts and waits of at most 2 s", async () => {
    const ec2 = await createAwsClients("eu-west-1").ec2();
    const strategy = await ec2.config.retryStrategy();
    expect("mode" in strategy ? strategy.mode : undefined).toBe("adaptive");
    expect(await ec2.config.maxAttempts()).toBe(EC2_THROTTLE_RETRY.maxAttempts);
    expect(EC2_THROTTLE_RETRY.maxAttempts * EC2_THROTTLE_RETRY.capMs).toBeLessThanOrEqual(50_000);
  });

  it("keeps the other clients on adaptive retry with 5 attempts, and honours an explicit maxAttempts", async () => {
    const clients = createAwsClients("eu-west-1");
    const eks = await clients.eks();
    const strategy = await eks.config.retryStrategy();
    expect("mode" in strategy ? strategy.mode : undefined).toBe("adaptive");
    expect(await eks.config.maxAttempts()).toBe(5);
    const ec2 = await createAwsClients("eu-west-1", { maxAttempts: 3 }).ec2();
    expect(await ec2.config.maxAttempts()).toBe(3);
  });

  it("creates each client once per region, on first use", async () => {
    const clients = createAwsClients("eu-west-1");
    expect(await clients.ec2()).toBe(await clients.ec2());
    expect(clients.region).toBe("eu-west-1");
  });
});
