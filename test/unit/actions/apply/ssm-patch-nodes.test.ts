import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import type { CommandInvocationStatus } from "@aws-sdk/client-ssm";
import {
  DescribeInstanceInformationCommand,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { MAX_POLLS, POLL_INTERVAL_MS, patchNodes } from "../../../../packages/core/src/actions/patch-nodes.action.ts";
import { ASSESSMENT_ID, applyContext, commandsSent, namesSent, ssmError } from "./helpers.ts";

const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const stubs = { ec2, ssm };

/** i-00000000000000000 … with the index in hex: valid, distinct, ordered instance ids. */
function instanceIdOf(i: number): string {
  return `i-${i.toString(16).padStart(17, "0")}`;
}

const ALL = Array.from({ length: 126 }, (_, i) => instanceIdOf(i));
/** Among the 126: three whose agent lost its connection, three SSM does not know. */
const CONNECTION_LOST = [instanceIdOf(0), instanceIdOf(60), instanceIdOf(125)];
const UNMANAGED = [instanceIdOf(10), instanceIdOf(70), instanceIdOf(100)];
const ONLINE = ALL.filter((id) => !CONNECTION_LOST.includes(id) && !UNMANAGED.includes(id));

function sendCommandInput(InstanceIds: string[]) {
  return {
    DocumentName: "AWS-RunPatchBaseline",
    InstanceIds,
    Parameters: { Operation: ["Install"], RebootOption: ["RebootIfNeeded"] },
    MaxConcurrency: "10%",
    MaxErrors: "0",
    Comment: `eks-responder ${ASSESSMENT_ID}`,
  };
}

interface InfoFilter {
  Filters?: { Key?: string; Values?: string[] }[];
}

/** SSM knows every instance but UNMANAGED; CONNECTION_LOST ones are not online. */
function ssmInventory(): void {
  ssm.on(DescribeInstanceInformationCommand).callsFake((input: InfoFilter) => ({
    InstanceInformationList: (input.Filters?.[0]?.Values ?? [])
      .filter((id) => !UNMANAGED.includes(id))
      .map((InstanceId) => ({
        InstanceId,
        PingStatus: CONNECTION_LOST.includes(InstanceId) ? "ConnectionLost" : "Online",
      })),
  }));
}

/** Each SendCommand gets its own command id; invocations report `statusOf(instance, poll)` on each poll. */
function commands(statusOf: (instanceId: string, poll: number) => CommandInvocationStatus): void {
  const targets = new Map<string, string[]>();
  const polls = new Map<string, number>();
  ssm.on(SendCommandCommand).callsFake((input: { InstanceIds?: string[] }) => {
    const CommandId = `cmd-${targets.size + 1}`;
    targets.set(CommandId, input.InstanceIds ?? []);
    return { Command: { CommandId, Status: "Pending" } };
  });
  ssm.on(ListCommandInvocationsCommand).callsFake((input: { CommandId?: string }) => {
    const id = input.CommandId ?? "";
    const poll = polls.get(id) ?? 0;
    polls.set(id, poll + 1);
    return {
      CommandInvocations: (targets.get(id) ?? []).map((InstanceId) => ({
        CommandId: id,
        InstanceId,
        Status: statusOf(InstanceId, poll),
      })),
    };
  });
}

beforeEach(() => {
  ec2.reset();
  ssm.reset();
});

afterAll(() => {
  ec2.restore();
  ssm.restore();
});

describe("ssm:patch-nodes", () => {
  it("sends AWS-RunPatchBaseline in batches of 50/50/20 to the online instances only, and follows them to the end", async () => {
    const { ctx, waits } = applyContext(false);
    ssmInventory();
    commands((_id, poll) => (poll === 0 ? "InProgress" : "Success"));

    const result = await patchNodes.apply(patchNodes.params.parse({ instanceIds: ALL }), ctx);

    expect(result.status).toBe("applied");
    expect(
      ssm.commandCalls(DescribeInstanceInformationCommand).map((c) => c.args[0].input.Filters?.[0]?.Values),
    ).toEqual([ALL.slice(0, 50), ALL.slice(50, 100), ALL.slice(100)]);
    expect(ssm.commandCalls(SendCommandCommand).map((c) => c.args[0].input)).toEqual([
      sendCommandInput(ONLINE.slice(0, 50)),
      sendCommandInput(ONLINE.slice(50, 100)),
      sendCommandInput(ONLINE.slice(100)),
    ]);
    expect(ONLINE.slice(100)).toHaveLength(20);
    expect(namesSent(stubs)).toEqual([
      ...Array<string>(3).fill("DescribeInstanceInformation"),
      ...Array<string>(3).fill("SendCommand"),
      ...Array<string>(6).fill("ListCommandInvocations"),
    ]);
    expect(ssm.commandCalls(ListCommandInvocationsCommand).map((c) => c.args[0].input)).toEqual([
      { CommandId: "cmd-1" },
      { CommandId: "cmd-2" },
      { CommandId: "cmd-3" },
      { CommandId: "cmd-1" },
      { CommandId: "cmd-2" },
      { CommandId: "cmd-3" },
    ]);
    expect(waits).toEqual([POLL_INTERVAL_MS]);
    expect(result.details).toEqual({
      commandIds: ["cmd-1", "cmd-2", "cmd-3"],
      statuses: Object.fromEntries(ONLINE.map((id) => [id, "Success"])),
      skipped: {
        ...Object.fromEntries(CONNECTION_LOST.map((id) => [id, "SSM agent ConnectionLost"])),
        ...Object.fromEntries(UNMANAGED.map((id) => [id, "not managed by SSM"])),
      },
    });
  });

  it("finds the running nodes of a cluster and node group by their EKS tags, every page", async () => {
    const { ctx } = applyContext(false);
    const filters = [
      { Name: "tag:eks:cluster-name", Values: ["prod-eks"] },
      { Name: "tag:eks:nodegroup-name", Values: ["general"] },
      { Name: "instance-state-name", Values: ["running"] },
    ];
    const [first = "", second = ""] = ONLINE;
    ec2
      .on(DescribeInstancesCommand, { Filters: filters }, true)
      .resolves({ Reservations: [{ Instances: [{ InstanceId: first }] }], NextToken: "page-2" });
    ec2
      .on(DescribeInstancesCommand, { Filters: filters, NextToken: "page-2" }, true)
      .resolves({ Reservations: [{ Instances: [{ InstanceId: second }] }] });
    ssmInventory();
    commands(() => "Success");

    const result = await patchNodes.apply(patchNodes.params.parse(patchNodes.example), ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ["DescribeInstances", { Filters: filters }],
      ["DescribeInstances", { Filters: filters, NextToken: "page-2" }],
      ["DescribeInstanceInformation", { Filters: [{ Key: "InstanceIds", Values: [first, second] }] }],
      ["SendCommand", sendCommandInput([first, second])],
      ["ListCommandInvocations", { CommandId: "cmd-1" }],
    ]);
  });

  it("fails when an instance's patching fails, with each instance's status in the details", async () => {
    const { ctx } = applyContext(false);
    const [ok = "", broken = ""] = ONLINE;
    ssmInventory();
    commands((id) => (id === broken ? "Failed" : "Success"));

    const result = await patchNodes.apply(patchNodes.params.parse({ instanceIds: [ok, broken] }), ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("PATCH.INCOMPLETE");
    expect(result.reason).toContain(`${broken} (Failed)`);
    expect(result.details).toEqual({
      commandIds: ["cmd-1"],
      statuses: { [ok]: "Success", [broken]: "Failed" },
      skipped: {},
    });
  });

  it("reads every page of ListCommandInvocations (NextToken) before judging an instance", async () => {
    const { ctx, waits } = applyContext(false);
    const batch = ONLINE.slice(0, 50);
    ssmInventory();
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: "cmd-1" } });
    const invocation = (InstanceId: string) => ({ CommandId: "cmd-1", InstanceId, Status: "Success" as const });
    ssm
      .on(ListCommandInvocationsCommand, { CommandId: "cmd-1" }, true)
      .resolves({ CommandInvocations: batch.slice(0, 25).map(invocation), NextToken: "page-2" });
    ssm
      .on(ListCommandInvocationsCommand, { CommandId: "cmd-1", NextToken: "page-2" }, true)
      .resolves({ CommandInvocations: batch.slice(25).map(invocation) });

    const result = await patchNodes.apply(patchNodes.params.parse({ instanceIds: batch }), ctx);

    expect(result.status).toBe("applied");
    expect(ssm.commandCalls(ListCommandInvocationsCommand).map((c) => c.args[0].input)).toEqual([
      { CommandId: "cmd-1" },
      { CommandId: "cmd-1", NextToken: "page-2" },
    ]);
    expect(waits).toEqual([]);
  });

  it("stops following after a bounded number of polls and reports the instances still running as failed", async () => {
    const { ctx, waits } = applyContext(false);
    const [only = ""] = ONLINE;
    ssmInventory();
    commands(() => "InProgress");

    const result = await patchNodes.apply(patchNodes.params.parse({ instanceIds: [only] }), ctx);

    expect(result.status).toBe("failed");
    expect(ssm.commandCalls(ListCommandInvocationsCommand)).toHaveLength(MAX_POLLS);
    expect(new Set(waits)).toEqual(new Set([POLL_INTERVAL_MS]));
    expect(result.details).toMatchObject({ statuses: { [only]: "InProgress" } });
  });

  it("refuses, sending no command, when no target is online in SSM", async () => {
    const { ctx } = applyContext(false);
    ssmInventory();

    const result = await patchNodes.apply(
      patchNodes.params.parse({ instanceIds: [...CONNECTION_LOST, ...UNMANAGED] }),
      ctx,
    );

    expect(result.status).toBe("refused");
    expect(ssm.commandCalls(SendCommandCommand)).toHaveLength(0);
    expect(result.details).toMatchObject({ skipped: { [UNMANAGED[0] ?? ""]: "not managed by SSM" } });
  });

  it("refuses, sending no command, when the cluster has no running node", async () => {
    const { ctx } = applyContext(false);
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });

    const result = await patchNodes.apply(patchNodes.params.parse(patchNodes.example), ctx);

    expect(result.status).toBe("refused");
    expect(namesSent(stubs)).toEqual(["DescribeInstances"]);
  });

  it("fails on AccessDeniedException with the error code, after exactly one SendCommand", async () => {
    const { ctx } = applyContext(false);
    ssmInventory();
    ssm.on(SendCommandCommand).rejects(ssmError("AccessDeniedException", 400));

    const result = await patchNodes.apply(patchNodes.params.parse({ instanceIds: ONLINE.slice(0, 3) }), ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("AccessDeniedException");
    expect(ssm.commandCalls(SendCommandCommand)).toHaveLength(1);
    expect(ssm.commandCalls(ListCommandInvocationsCommand)).toHaveLength(0);
  });

  it("in dry-run, only reads and reports would-succeed with the online and skipped instances", async () => {
    const { ctx } = applyContext(true);
    ssmInventory();

    const result = await patchNodes.apply(patchNodes.params.parse({ instanceIds: ALL }), ctx);

    expect(result.status).toBe("would-succeed");
    expect(ssm.commandCalls(SendCommandCommand)).toHaveLength(0);
    expect(namesSent(stubs)).toEqual(Array<string>(3).fill("DescribeInstanceInformation"));
    expect(result.details).toMatchObject({ online: ONLINE });
  });

  it("is irreversible: no rollback and no undo", async () => {
    const { ctx } = applyContext(false);
    ssmInventory();
    commands(() => "Success");

    const result = await patchNodes.apply(patchNodes.params.parse({ instanceIds: ONLINE.slice(0, 1) }), ctx);

    expect(result.status).toBe("applied");
    expect(result.undo).toBeUndefined();
    expect(patchNodes.rollback).toBeUndefined();
    expect(patchNodes.reversible).toBe(false);
  });
});
