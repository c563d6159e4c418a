/**
 * The approval workflow's Apply task as wired in the function (packages/functions/src/approval-tasks.ts): the kill
 * switch is read from SSM past every cache right before an approved plan runs, in a warm container too.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DescribeSecurityGroupsCommand, EC2Client, RevokeSecurityGroupIngressCommand } from "@aws-sdk/client-ec2";
import {
  DescribeInstanceInformationCommand,
  GetParameterCommand,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defaultPolicy, processEvent } from "../../../packages/core/src/index.ts";
import { handleApply } from "../../../packages/functions/src/approval-tasks.ts";
import { Runtime, resetRuntime } from "../../../packages/functions/src/runtime.ts";
import { liveGroups } from "../../helpers/ec2-groups.ts";

const ROOT = join(import.meta.dirname, "../../..");
const processed = processEvent(
  readFileSync(join(ROOT, "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"), "utf8"),
  defaultPolicy(),
);
const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const ENV = {
  AWS_REGION: "eu-west-1",
  AWS_ACCESS_KEY_ID: "AKIDTEST",
  AWS_SECRET_ACCESS_KEY: "secret",
  TABLE_NAME: "eks-responder",
  POLICY_PARAMETER_NAME: "/eks-responder/policy",
  KILL_SWITCH_PARAMETER_NAME: "/eks-responder/kill-switch",
};
const saved = { ...process.env };

function killSwitch(value: string): void {
  ssm.on(GetParameterCommand, { Name: "/eks-responder/kill-switch" }).resolves({ Parameter: { Value: value } });
}

function input() {
  const assessment = processed.assessments[0];
  if (!assessment) throw new Error("the sample must assess");
  // The Apply task's input as the workflow passes it (infra/approval.asl.json, Apply.Parameters.Payload).
  return {
    executionId: "arn:aws:states:eu-west-1:111122223333:execution:approval:asm-1",
    assessment,
    plan: processed.plan,
    approval: { decision: "approved", approver: "email:oncall@example.com" },
  };
}

beforeEach(() => {
  process.env = { ...saved, ...ENV };
  resetRuntime();
  ec2.reset();
  ssm.reset();
  ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups());
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  ssm
    .on(GetParameterCommand, { Name: "/eks-responder/policy" })
    .resolves({ Parameter: { Value: JSON.stringify({ dryRun: false }) } });
});
afterEach(() => {
  process.env = saved;
});

describe("handleApply", () => {
  it("does not run an approved plan once the kill switch is on, though it read 'off' a moment before", async () => {
    // prepare: a warm container that has just applied an approved plan with the switch off
    const rt = new Runtime(ENV);
    killSwitch("off");
    await expect(handleApply(input(), rt)).resolves.toMatchObject({ outcomes: [{ status: "applied" }] });

    // act: the switch is turned on, and the next approval's apply comes at once
    killSwitch("on");
    const next = handleApply(input(), rt);

    // assess
    await expect(next).rejects.toMatchObject({ name: "KillSwitchOn" });
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
  });

  it("does not run without a kill switch setting: a configuration error, never 'no switch'", async () => {
    // prepare
    const { KILL_SWITCH_PARAMETER_NAME: _unset, ...env } = ENV;
    const rt = new Runtime(env);

    // act + assess
    await expect(handleApply(input(), rt)).rejects.toThrow(/KILL_SWITCH_PARAMETER_NAME is not set/);
    expect(ec2.calls()).toHaveLength(0);
  });

  it("passes who approved on to the plan's actions: an approved patch may reboot, an answer without an approver may not", async () => {
    // prepare: a patch playbook of one node; SSM answers as its API reference says
    // (API_DescribeInstanceInformation, API_SendCommand: Command.CommandId, API_ListCommandInvocations)
    const NODE = "i-0abcdef1234567890";
    const assessment = processed.assessments[0];
    if (!assessment) throw new Error("the sample must assess");
    const patch = {
      ...assessment,
      actions: [{ action: "ssm:patch-nodes", params: { instanceIds: [NODE], rebootOption: "RebootIfNeeded" } }],
    };
    ssm.on(DescribeInstanceInformationCommand).resolves({
      InstanceInformationList: [
        { InstanceId: NODE, PingStatus: "Online", PlatformType: "Linux", PlatformName: "Amazon Linux" },
      ],
    });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: "cmd-1", Status: "Pending" } });
    ssm
      .on(ListCommandInvocationsCommand)
      .resolves({ CommandInvocations: [{ CommandId: "cmd-1", InstanceId: NODE, Status: "Success" }] });
    const rt = new Runtime(ENV);
    killSwitch("off");
    const reboots = () =>
      ssm.commandCalls(SendCommandCommand).map((c) => c.args[0].input.Parameters?.RebootOption?.[0]);

    // act
    await handleApply({ ...input(), assessment: patch }, rt);
    await handleApply({ ...input(), assessment: patch, approval: { decision: "approved", approver: "nobody" } }, rt);

    // assess: the approver the callback verified reaches the action; a malformed one counts as no approver
    expect(reboots()).toEqual(["RebootIfNeeded", "NoReboot"]);
  });
});
