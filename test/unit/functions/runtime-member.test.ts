/**
 * Hub mode (EKS_RESPONDER_MODE=hub): the function acts in a member account through that account's member role, assumed
 * with the ExternalId and a session named after the assessment, and never with its own role. STS, EC2 and SSM have no
 * local implementation: they are mocked, STS answering as
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html shows (Credentials with AccessKeyId,
 * SecretAccessKey, SessionToken, Expiration; AssumedRoleUser), or with its AccessDenied error (HTTP 403,
 * https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DescribeSecurityGroupsCommand, EC2Client, RevokeSecurityGroupIngressCommand } from "@aws-sdk/client-ec2";
import { GetParameterCommand, GetParametersCommand, SSMClient } from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/nested-clients/sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { memberSessionName } from "../../../packages/core/src/aws/member.ts";
import { defaultPolicy, processEvent } from "../../../packages/core/src/index.ts";
import { eksTokensOf } from "../../../packages/core/src/kubernetes/access.ts";
import { handleApply } from "../../../packages/functions/src/approval-tasks.ts";
import { readConfig } from "../../../packages/functions/src/config.ts";
import { MEMBER_CLIENTS_CACHE_MS, Runtime, resetRuntime } from "../../../packages/functions/src/runtime.ts";
import { liveGroups } from "../../helpers/ec2-groups.ts";
import { assumeRoleAnswer } from "../../helpers/sts.ts";

const ROOT = join(import.meta.dirname, "../../..");
const processed = processEvent(
  readFileSync(join(ROOT, "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"), "utf8"),
  defaultPolicy(),
);
const HUB = "111122223333";
const EXTERNAL_ID = "eks-responder-5f0c2d9e";
const ENV = {
  AWS_REGION: "eu-west-1",
  AWS_ACCESS_KEY_ID: "AKIDHUBFUNCTION",
  AWS_SECRET_ACCESS_KEY: "hub-secret",
  TABLE_NAME: "eks-responder",
  POLICY_PARAMETER_NAME: "/eks-responder/policy",
  KILL_SWITCH_PARAMETER_NAME: "/eks-responder/kill-switch",
  EKS_RESPONDER_MODE: "hub",
  MEMBER_ROLE_NAME: "eks-responder-execution",
  MEMBER_EXTERNAL_ID_PARAMETER_NAME: "/eks-responder/member-external-id",
  RESPONDER_ROLE_ARNS: `arn:aws:iam::${HUB}:role/eks-responder-prod-respond,arn:aws:iam::${HUB}:role/eks-responder-prod-approval-apply`,
};
const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const sts = mockClient(STSClient);
const saved = { ...process.env };

function assessment() {
  const a = processed.assessments[0];
  if (!a) throw new Error("the sample must assess");
  return a;
}

function input(account = assessment().account) {
  return {
    executionId: "arn:aws:states:eu-west-1:111122223333:execution:approval:asm-1",
    assessment: { ...assessment(), account },
    plan: processed.plan,
    approval: { decision: "approved", approver: "email:oncall@example.com" },
  };
}

beforeEach(() => {
  process.env = { ...saved, ...ENV };
  resetRuntime();
  ec2.reset();
  ssm.reset();
  sts.reset();
  ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups());
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  ssm.on(GetParameterCommand, { Name: "/eks-responder/kill-switch" }).resolves({ Parameter: { Value: "off" } });
  ssm.on(GetParameterCommand, { Name: "/eks-responder/member-external-id" }).resolves({
    Parameter: { Value: EXTERNAL_ID },
  });
  ssm
    .on(GetParameterCommand, { Name: "/eks-responder/policy" })
    .resolves({ Parameter: { Value: JSON.stringify({ dryRun: false }) } });
  sts.on(AssumeRoleCommand).callsFake(assumeRoleAnswer);
});
afterEach(() => {
  process.env = saved;
});
afterAll(() => {
  ec2.restore();
  ssm.restore();
  sts.restore();
});

/** The credentials of the client that sent the n-th EC2 call (the mock replaces `send`; the client is its `this`). */
async function ec2CallCredentials(n: number) {
  const client = ec2.send.getCall(n).thisValue as EC2Client;
  return client.config.credentials();
}

describe("Runtime.clients in hub mode", () => {
  it("acts in a member account with its member role: exact RoleArn, ExternalId and a session named after the assessment", async () => {
    // prepare
    const rt = new Runtime(ENV);
    const a = assessment();
    expect(a.account).not.toBe(HUB);

    // act: the approval's Apply task, as the function runs it
    const result = await handleApply(input(), rt);

    // assess
    expect(result.outcomes).toMatchObject([{ status: "applied" }]);
    const index = ec2.send.getCalls().findIndex((c) => c.args[0] instanceof RevokeSecurityGroupIngressCommand);
    expect(await ec2CallCredentials(index)).toMatchObject({
      accessKeyId: "ASIAIOSFODNN7EXAMPLE",
      sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE",
    });
    // One session for the action's reads and its change (the client keeps it).
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
      {
        RoleArn: `arn:aws:iam::${a.account}:role/eks-responder-execution`,
        ExternalId: EXTERNAL_ID,
        RoleSessionName: `eks-responder-${a.id}`,
        DurationSeconds: 900,
      },
    ]);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
  });

  it("acts in the hub's own account with the function's own role: no AssumeRole", async () => {
    const rt = new Runtime(ENV);

    await handleApply(input(HUB), rt);

    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
    expect(await ec2CallCredentials(0)).toMatchObject({ accessKeyId: "AKIDHUBFUNCTION" });
  });

  it("ends an AssumeRole AccessDenied as a failure naming the account and the role, with no EC2 call at all", async () => {
    // prepare: the member role does not trust this hub (AccessDenied, HTTP 403)
    sts
      .on(AssumeRoleCommand)
      .rejects(
        Object.assign(
          new Error(
            `User: arn:aws:sts::${HUB}:assumed-role/eks-responder-prod-approval-apply/fn is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${assessment().account}:role/eks-responder-execution`,
          ),
          { name: "AccessDenied", $metadata: { httpStatusCode: 403 } },
        ),
      );
    const rt = new Runtime(ENV);

    // act
    const error = await handleApply(input(), rt).catch((e: unknown) => e);

    // assess: the task fails (the workflow records it); nothing was sent to EC2 with any credentials
    const account = assessment().account;
    expect(error).toMatchObject({
      name: "ActionFailed",
      message: expect.stringContaining(
        `cannot act in account ${account}: sts:AssumeRole of arn:aws:iam::${account}:role/eks-responder-execution failed (AccessDenied`,
      ),
      outcomes: [{ status: "failed", error: { code: "AWS.ASSUME_ROLE_FAILED" } }],
    });
    expect(ec2.calls()).toHaveLength(0);
  });

  it("keeps one member session per account, region and assessment, for less than the session's 900 s", async () => {
    let clock = 1_000_000;
    const rt = new Runtime(ENV, { now: () => clock });
    const target = { account: "444455556666", assessmentId: "asm-0123456789abcdef0123" };

    const first = rt.clients("eu-west-1", target);
    const again = rt.clients("eu-west-1", target);
    const other = rt.clients("eu-west-1", { ...target, assessmentId: "asm-ffffffffffffffffffff" });
    const region = rt.clients("us-east-1", target);
    clock += MEMBER_CLIENTS_CACHE_MS;
    const later = rt.clients("eu-west-1", target);

    expect(again).toBe(first);
    expect(other).not.toBe(first);
    expect(region).not.toBe(first);
    expect(later).not.toBe(first);
    expect(MEMBER_CLIENTS_CACHE_MS).toBeLessThan(900_000);
  });

  it("signs the EKS token of a member account's cluster with the member session", async () => {
    const rt = new Runtime(ENV);
    const clients = rt.clients("eu-west-1", { account: "444455556666", assessmentId: "asm-0123456789abcdef0123" });

    const token = await eksTokensOf(clients)("prod-eks")();

    const url = new URL(Buffer.from(token.slice("k8s-aws-v1.".length), "base64url").toString("utf8"));
    expect(url.searchParams.get("X-Amz-Credential")).toMatch(/^ASIAIOSFODNN7EXAMPLE\//);
    expect(url.searchParams.get("X-Amz-Security-Token")).toBe("IQoJb3JpZ2luX2VjEXAMPLE");
    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toMatchObject({
      RoleArn: "arn:aws:iam::444455556666:role/eks-responder-execution",
      RoleSessionName: "eks-responder-asm-0123456789abcdef0123",
    });
  });

  it("uses the partition of the region in the role ARN", async () => {
    const rt = new Runtime(ENV);
    const target = { account: "444455556666", assessmentId: "asm-0123456789abcdef0123" };

    await (await rt.clients("cn-north-1", target).ec2()).config.credentials();

    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input.RoleArn).toBe(
      "arn:aws-cn:iam::444455556666:role/eks-responder-execution",
    );
  });
});

describe("Runtime.respondSettings and the responder's own roles", () => {
  it("joins RESPONDER_ROLE_ARNS and, in hub mode, the member role to the policy it reads with the kill switch", async () => {
    // prepare: GetParameters answers both names (API_GetParameters: Parameters, InvalidParameters)
    ssm.on(GetParametersCommand).resolves({
      Parameters: [
        { Name: "/eks-responder/policy", Value: JSON.stringify({ dryRun: false }) },
        { Name: "/eks-responder/kill-switch", Value: "off" },
      ],
      InvalidParameters: [],
    });

    // act
    const { policy } = await new Runtime(ENV).respondSettings();

    // assess: the respond function's own calls (and its member sessions) are recognised on this path too
    expect(policy.responder.roleArns).toEqual(ENV.RESPONDER_ROLE_ARNS.split(","));
    expect(policy.responder.memberRoleName).toBe("eks-responder-execution");
  });
});

describe("readConfig in hub mode", () => {
  it("refuses a hub without its member role, its ExternalId parameter or its own account", () => {
    const { MEMBER_ROLE_NAME: _r, ...noRole } = ENV;
    const { MEMBER_EXTERNAL_ID_PARAMETER_NAME: _x, ...noExternalId } = ENV;
    const { RESPONDER_ROLE_ARNS: _a, ...noAccount } = ENV;
    expect(() => readConfig(noRole)).toThrow(/MEMBER_ROLE_NAME/);
    expect(() => readConfig(noExternalId)).toThrow(/MEMBER_EXTERNAL_ID_PARAMETER_NAME/);
    expect(() => readConfig(noAccount)).toThrow(/hub's own account/);
    expect(() => readConfig({ ...ENV, EKS_RESPONDER_MODE: "member" })).toThrow(/expected standalone or hub/);
    expect(readConfig({ ...noAccount, HUB_ACCOUNT_ID: HUB }).hub?.account).toBe(HUB);
  });

  it("leaves standalone as it was: no hub settings", () => {
    const { EKS_RESPONDER_MODE: _m, ...standalone } = ENV;
    expect(readConfig(standalone).hub).toBeUndefined();
  });
});

describe("memberSessionName", () => {
  it("carries the assessment id, keeps to AssumeRole's characters and 64 characters", () => {
    expect(memberSessionName("asm-0123456789abcdef0123")).toBe("eks-responder-asm-0123456789abcdef0123");
    const odd = memberSessionName(`asm-${"x".repeat(80)} /:`);
    expect(odd).toHaveLength(64);
    expect(odd).toMatch(/^[\w+=,.@-]+$/);
    expect(memberSessionName("a b:c")).toBe("eks-responder-a-b-c");
  });
});
