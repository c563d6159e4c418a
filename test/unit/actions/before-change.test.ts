import { afterAll, describe, expect, it } from "vitest";
import { SCENARIOS, scenarioContext } from "../../../bench/api-economy.ts";
import { mockHappyPath } from "../../../bench/aws-mocks.ts";
import { CallLog } from "../../../packages/core/src/actions/calls.ts";
import { ACTIONS } from "../../../packages/core/src/actions/registry.ts";
import { getAction } from "../../../packages/core/src/index.ts";

/**
 * ApplyContext.beforeChange, over every action of the registry: the respond path lets an action's live reads run
 * while its blast-radius slot is taken, and relies on this to hold back the first change until the slot is granted,
 * and to send none when it is refused.
 */
const aws = mockHappyPath();
afterAll(() => aws.restore());

const context = (beforeChange: () => Promise<void>) => scenarioContext({ beforeChange });

describe("ApplyContext.beforeChange", () => {
  it("has a happy-path scenario for every AWS action of the registry", () => {
    // The Kubernetes actions are held back the same way (CallLog.sendKube), shown against a real kube-apiserver in
    // test/integration/kubernetes/.
    const aws = ACTIONS.filter((a) => a.kubernetesPermissions === undefined);
    expect(new Set(SCENARIOS.map((s) => s.action))).toEqual(new Set(aws.map((a) => a.id)));
  });

  it.each(SCENARIOS.map((s) => [s.key, s] as const))(
    "%s: sends no change while the guardrails refuse, only reads",
    async (_key, scenario) => {
      // prepare
      aws.reset();
      const action = getAction(scenario.action);

      // act
      const result = await action.apply(
        action.params.parse(scenario.params),
        context(async () => {
          throw new Error("blast-radius slot refused");
        }),
      );

      // assess: it stopped before its first change, which it names as the failure
      expect(result.status).toBe("failed");
      expect(result.reason).toContain("blast-radius slot refused");
      expect(aws.operations().filter((op) => CallLog.changes(op))).toEqual([]);
    },
  );

  it.each(SCENARIOS.map((s) => [s.key, s] as const))(
    "%s: makes its changes once the guardrails let it, and only after they answered",
    async (_key, scenario) => {
      // prepare: the guardrails answer after a while; note what was sent by then
      aws.reset();
      const action = getAction(scenario.action);
      let sentBeforeAnswer: string[] | undefined;
      const gate = async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        sentBeforeAnswer ??= aws.operations();
      };

      // act
      const result = await action.apply(action.params.parse(scenario.params), context(gate));

      // assess
      expect(result.status).toBe("applied");
      expect(aws.operations().filter((op) => CallLog.changes(op)).length).toBeGreaterThan(0);
      expect(sentBeforeAnswer?.filter((op) => CallLog.changes(op))).toEqual([]);
    },
  );
});

describe("CallLog.changes", () => {
  it("counts every operation but Describe*, Get* and List* as a change", () => {
    expect(
      [
        "DescribeSecurityGroups",
        "GetParameter",
        "ListAssociatedAccessPolicies",
        "RevokeSecurityGroupIngress",
        "SendCommand",
        "Deregister",
        "Getaway",
      ].map((op) => CallLog.changes(op)),
    ).toEqual([false, false, false, true, true, true, true]);
  });
});
