import { EC2Client, RevokeSecurityGroupIngressCommand } from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { revokeIngress } from "../../../packages/core/src/actions/revoke-ingress.action.ts";
import { createAwsClients } from "../../../packages/core/src/aws/clients.ts";
import { awsErrorCode } from "../../../packages/core/src/aws/errors.ts";
import {
  type AppliedOutcomes,
  isTransient,
  TransientActionError,
  transientFailure,
} from "../../../packages/core/src/guardrails/faults.ts";

const ec2 = mockClient(EC2Client);

beforeEach(() => {
  ec2.reset();
});

afterAll(() => {
  ec2.restore();
});

function sdkError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} from the service`), {
    name,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status },
  });
}

describe("isTransient", () => {
  it("is true for throttling, 5xx, timeouts and dropped connections", () => {
    // prepare
    const codes = [
      "ThrottlingException",
      "RequestLimitExceeded",
      "ServiceUnavailable",
      "InternalError",
      "ServerException",
      "TimeoutError",
      "RequestTimeout",
      "ECONNRESET",
      "ETIMEDOUT",
    ];

    // act
    const transient = codes.map(isTransient);

    // assess
    expect(transient.every(Boolean)).toBe(true);
  });

  it("is false for permanent failures, unknown codes and no code", () => {
    // prepare
    const codes = [
      "UnauthorizedOperation",
      "AccessDeniedException",
      "InvalidParameterValue",
      "InvalidSecurityGroupRuleId.NotFound",
      "ACTION.CRASHED",
      "Unknown",
      "throttlingexception",
      "",
      undefined,
    ];

    // act
    const transient = codes.map(isTransient);

    // assess
    expect(transient.some(Boolean)).toBe(false);
  });

  it("classifies the code an action records for each injected EC2 fault", () => {
    // prepare
    const errors = [
      sdkError("ThrottlingException", 400),
      sdkError("RequestLimitExceeded", 503),
      sdkError("ServiceUnavailable", 503),
      sdkError("TimeoutError", 0),
      Object.assign(new Error("connect ETIMEDOUT 10.0.0.1:443"), { code: "ETIMEDOUT" }),
      sdkError("UnauthorizedOperation", 403),
    ];

    // act
    const transient = errors.map((e) => isTransient(awsErrorCode(e)));

    // assess
    expect(transient).toEqual([true, true, true, true, true, false]);
  });

  it("sees a throttled revoke as transient through the action's outcome", async () => {
    // prepare
    ec2.on(RevokeSecurityGroupIngressCommand).rejects(sdkError("RequestLimitExceeded", 503));
    const params = revokeIngress.params.parse(revokeIngress.example);
    const context = {
      clients: createAwsClients("us-east-1"),
      dryRun: false,
      assessmentId: "asm-0123456789abcdef0123",
      account: "776520358045",
      region: "us-east-1",
      exemptTags: [],
      sleep: async () => {},
    };

    // act
    const outcome = await revokeIngress.apply(params, context);

    // assess
    expect(outcome.status).toBe("failed");
    expect(outcome.error?.code).toBe("RequestLimitExceeded");
    expect(isTransient(outcome.error?.code)).toBe(true);
  });
});

describe("transientFailure", () => {
  const failed = (code: string) => ({
    action: "ec2:revoke-ingress",
    status: "failed",
    error: { code, message: `${code} message` },
  });

  it("finds the first action that failed transiently", () => {
    // prepare
    const result: AppliedOutcomes = {
      applied: [
        { assessmentId: "asm-a", outcomes: [{ action: "ec2:revoke-ingress", status: "applied" }] },
        { assessmentId: "asm-b", outcomes: [failed("ThrottlingException"), failed("ServiceUnavailable")] },
      ],
    };

    // act
    const failure = transientFailure(result);

    // assess
    expect(failure).toEqual({
      assessmentId: "asm-b",
      action: "ec2:revoke-ingress",
      code: "ThrottlingException",
      message: "ThrottlingException message",
    });
  });

  it("finds nothing when the failures are permanent or nothing failed", () => {
    // prepare
    const permanent: AppliedOutcomes = {
      applied: [{ assessmentId: "asm-a", outcomes: [failed("UnauthorizedOperation")] }],
    };
    const none: AppliedOutcomes = { applied: [] };

    // act
    const found = [transientFailure(permanent), transientFailure(none)];

    // assess
    expect(found).toEqual([undefined, undefined]);
  });
});

describe("TransientActionError", () => {
  it("carries the failure and says the event will be retried", () => {
    // prepare
    const failure = { assessmentId: "asm-a", action: "ec2:revoke-ingress", code: "TimeoutError", message: "timed out" };

    // act
    const error = new TransientActionError(failure);

    // assess
    expect(error.name).toBe("TransientActionError");
    expect(error.failure).toBe(failure);
    expect(error.message).toBe(
      "ec2:revoke-ingress failed transiently (TimeoutError: timed out); the event will be retried",
    );
  });
});
