/**
 * The approvals topic's policy under @cloud-copilot/iam-simulate: only the configured approvers' email addresses can
 * be subscribed (over the email protocol), whoever asks and whatever their own IAM policy allows, so no subscription
 * without an approver's filter can receive the signed links.
 */
import { runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import { describe, expect, it } from "vitest";
import { approvalsTopicPolicy } from "../../../infra/approvals-policy.ts";

const ACCOUNT = "111122223333";
const TOPIC = `arn:aws:sns:eu-west-1:${ACCOUNT}:eks-responder-prod-approvals`;
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/platform-admin`;
const APPROVERS = ["alice@example.com", "bob@example.com"];

/** What a same-account principal allowed sns:* by its own policy gets for one Subscribe request. */
async function subscribe(
  policy: ReturnType<typeof approvalsTopicPolicy>,
  protocol: string,
  endpoint: string,
): Promise<string> {
  const simulation: Simulation = {
    request: {
      principal: ADMIN,
      action: "sns:Subscribe",
      resource: { resource: TOPIC, accountId: ACCOUNT },
      contextVariables: { "sns:Protocol": protocol, "sns:Endpoint": endpoint, "aws:SecureTransport": "true" },
    },
    identityPolicies: [
      {
        name: "admin",
        policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sns:*", Resource: "*" }] },
      },
    ],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: policy,
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === "error") throw new Error(result.errors.message);
  return result.overallResult;
}

describe("approvalsTopicPolicy", () => {
  const policy = approvalsTopicPolicy(TOPIC, APPROVERS);

  it("lets each approver's own address be subscribed by email (the deploy's filtered subscriptions)", async () => {
    for (const email of APPROVERS) expect(await subscribe(policy, "email", email), email).toBe("Allowed");
  });

  it.each([
    ["a foreign address", "email", "mallory@example.net"],
    ["an approver's address spelled otherwise", "email", "Alice@Example.com"],
    ["an approver's address as email-json", "email-json", "alice@example.com"],
    ["an HTTPS endpoint", "https", "https://collector.example.net/sns"],
    ["an SQS queue", "sqs", `arn:aws:sqs:eu-west-1:${ACCOUNT}:copy-of-every-link`],
  ])(
    "denies subscribing %s, even to a principal allowed sns:* by its own policy",
    async (_label, protocol, endpoint) => {
      expect(await subscribe(policy, protocol, endpoint)).toBe("ExplicitlyDenied");
    },
  );

  it("denies every subscription when no approver is configured", async () => {
    const none = approvalsTopicPolicy(TOPIC, []);

    expect(await subscribe(none, "email", "alice@example.com")).toBe("ExplicitlyDenied");
  });
});
