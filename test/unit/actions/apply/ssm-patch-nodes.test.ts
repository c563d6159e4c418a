import { CreateTagsCommand, DeleteTagsCommand, DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import type { CommandInvocationStatus } from "@aws-sdk/client-ssm";
import {
  DescribeInstanceInformationCommand,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { PATCH_RUN_TAG, patchNodes } from "../../../../packages/core/src/actions/patch-nodes.action.ts";
import { MAX_POLLS, POLL_INTERVAL_MS } from "../../../../packages/core/src/actions/patch-nodes.apply.ts";
import { ASSESSMENT_ID, applyContext, commandsSent, ec2Error, namesSent, ssmError } from "./helpers.ts";

const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const stubs = { ec2, ssm };

/** i-00000000000000000 … with the index in hex: valid, distinct, ordered instance ids. */
function instanceIdOf(i: number): string {
  return `i-${i.toString(16).padStart(17, "0")}`;
}

const ALL = Array.from({ length: 126 }, (_, i) => instanceIdOf(i));
/** Among the 126: three whose agent lost its connection, three SSM does not know, two Bottlerocket, one Flatcar. */
const CONNECTION_LOST = [instanceIdOf(0), instanceIdOf(60), instanceIdOf(125)];
const UNMANAGED = [instanceIdOf(10), instanceIdOf(70), instanceIdOf(100)];
const BOTTLEROCKET = [instanceIdOf(20), instanceIdOf(90)];
const FLATCAR = [instanceIdOf(30)];
const ONLINE = ALL.filter((id) => ![...CONNECTION_LOST, ...UNMANAGED, ...BOTTLEROCKET, ...FLATCAR].includes(id));
/** What a node outside a managed node group (here: self-managed) is told besides its platform. */
const SELF_MANAGED =
  "; not in an EKS managed node group (self-managed): update its launch template's AMI and replace the node, nothing is sent here";
const BOTTLEROCKET_REASON = `Bottlerocket: Patch Manager does not patch it (AWS-RunPatchBaseline would patch its control container)${SELF_MANAGED}`;
/** The nodes Patch Manager does not patch, whose tags are read to find their managed node group. */
const UNPATCHABLE = ALL.filter((id) => [...BOTTLEROCKET, ...FLATCAR].includes(id));

/**
 * DescribeInstances by InstanceIds: each instance with its tags (Reservations[].Instances[].Tags,
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html); by default the tag EKS requires
 * on self-managed nodes (https://docs.aws.amazon.com/eks/latest/userguide/worker.html).
 */
function ec2Inventory(
  tagsOf: (id: string) => Record<string, string> = () => ({ "kubernetes.io/cluster/prod-eks": "owned" }),
) {
  ec2.on(DescribeInstancesCommand).callsFake((input: { InstanceIds?: string[] }) => ({
    Reservations: [
      {
        Instances: (input.InstanceIds ?? []).map((InstanceId) => ({
          InstanceId,
          Tags: Object.entries(tagsOf(InstanceId)).map(([Key, Value]) => ({ Key, Value })),
        })),
      },
    ],
  }));
}

function sendCommandInput(reboot: "RebootIfNeeded" | "NoReboot", target: Record<string, unknown>) {
  return {
    DocumentName: "AWS-RunPatchBaseline",
    Parameters: { Operation: ["Install"], RebootOption: [reboot] },
    MaxConcurrency: "10%",
    MaxErrors: "0",
    Comment: `eks-responder ${ASSESSMENT_ID}`,
    ...target,
  };
}

interface InfoFilter {
  Filters?: { Key?: string; Values?: string[] }[];
}

/**
 * SSM knows every instance but UNMANAGED; CONNECTION_LOST ones are not online. Each entry as DescribeInstanceInformation
 * returns it (InstanceInformation: PingStatus Online | ConnectionLost | Inactive, PlatformType Windows | Linux | MacOS,
 * PlatformName and PlatformVersion of the OS,
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_InstanceInformation.html). A Bottlerocket node's
 * agent reports the host's os-release NAME, "Bottlerocket" (aws/amazon-ssm-agent, agent/platform/platform_unix.go).
 */
function ssmInventory(): void {
  ssm.on(DescribeInstanceInformationCommand).callsFake((input: InfoFilter) => ({
    InstanceInformationList: (input.Filters?.[0]?.Values ?? [])
      .filter((id) => !UNMANAGED.includes(id))
      .map((InstanceId) => ({
        InstanceId,
        PingStatus: CONNECTION_LOST.includes(InstanceId) ? "ConnectionLost" : "Online",
        PlatformType: "Linux",
        ...(BOTTLEROCKET.includes(InstanceId)
          ? { PlatformName: "Bottlerocket", PlatformVersion: "1.20.3" }
          : FLATCAR.includes(InstanceId)
            ? { PlatformName: "Flatcar Container Linux by Kinvolk", PlatformVersion: "3815.2.0" }
            : { PlatformName: "Amazon Linux", PlatformVersion: "2023" }),
      })),
  }));
}

/**
 * SendCommand answers the new command (Command.CommandId, Status Pending,
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html); ListCommandInvocations one
 * invocation per node it reached (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ListCommandInvocations.html),
 * reporting `statusOf(instance, poll)` on each poll. Tag targets resolve to `tagged` (what CreateTags set).
 */
function commands(statusOf: (instanceId: string, poll: number) => CommandInvocationStatus): void {
  const tagged: string[] = [];
  // CreateTags and DeleteTags answer only `return` true on success
  // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTags.html, API_DeleteTags.html), which the SDK's
  // output types do not model: an empty output.
  ec2.on(CreateTagsCommand).callsFake((input: { Resources?: string[] }) => {
    tagged.push(...(input.Resources ?? []));
    return {};
  });
  ec2.on(DeleteTagsCommand).resolves({});
  const targets = new Map<string, string[]>();
  const polls = new Map<string, number>();
  ssm.on(SendCommandCommand).callsFake((input: { InstanceIds?: string[]; Targets?: unknown[] }) => {
    const CommandId = `cmd-${targets.size + 1}`;
    targets.set(CommandId, input.InstanceIds ?? (input.Targets ? [...tagged] : []));
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

const RUN_TAG = [{ Key: PATCH_RUN_TAG, Value: ASSESSMENT_ID }];
const SKIPPED = {
  ...Object.fromEntries(CONNECTION_LOST.map((id) => [id, "SSM agent ConnectionLost"])),
  ...Object.fromEntries(UNMANAGED.map((id) => [id, "not managed by SSM"])),
  ...Object.fromEntries(BOTTLEROCKET.map((id) => [id, BOTTLEROCKET_REASON])),
  ...Object.fromEntries(
    FLATCAR.map((id) => [
      id,
      `Flatcar Container Linux by Kinvolk: not an operating system Patch Manager supports${SELF_MANAGED}`,
    ]),
  ),
};

beforeEach(() => {
  ec2.reset();
  ssm.reset();
});

afterAll(() => {
  ec2.restore();
  ssm.restore();
});

describe("ssm:patch-nodes", () => {
  it("sends ONE command to more than 50 nodes, through the run tag set on exactly the checked ones, then removes it", async () => {
    const { ctx, waits } = applyContext(false);
    ssmInventory();
    ec2Inventory();
    commands((_id, poll) => (poll === 0 ? "InProgress" : "Success"));

    const result = await patchNodes.apply(patchNodes.params.parse({ instanceIds: ALL }), ctx);

    expect(result.status).toBe("applied");
    expect(ONLINE).toHaveLength(117);
    expect(commandsSent(stubs)).toEqual([
      ["DescribeInstanceInformation", { Filters: [{ Key: "InstanceIds", Values: ALL.slice(0, 50) }] }],
      ["DescribeInstanceInformation", { Filters: [{ Key: "InstanceIds", Values: ALL.slice(50, 100) }] }],
      ["DescribeInstanceInformation", { Filters: [{ Key: "InstanceIds", Values: ALL.slice(100) }] }],
      // The nodes Patch Manager does not patch: their tags say they are in no managed node group (self-managed).
      ["DescribeInstances", { InstanceIds: UNPATCHABLE }],
      ["CreateTags", { Resources: ONLINE, Tags: RUN_TAG }],
      // One command, so MaxConcurrency and MaxErrors hold across all 117 nodes; not Bottlerocket, Flatcar or offline.
      [
        "SendCommand",
        sendCommandInput("NoReboot", { Targets: [{ Key: `tag:${PATCH_RUN_TAG}`, Values: [ASSESSMENT_ID] }] }),
      ],
      ["ListCommandInvocations", { CommandId: "cmd-1" }],
      ["ListCommandInvocations", { CommandId: "cmd-1" }],
      ["DeleteTags", { Resources: ONLINE, Tags: RUN_TAG }],
    ]);
    expect(waits).toEqual([POLL_INTERVAL_MS]);
    expect(result.details).toEqual({
      commandIds: ["cmd-1"],
      statuses: Object.fromEntries(ONLINE.map((id) => [id, "Success"])),
      skipped: SKIPPED,
      rebootOption: "NoReboot",
    });
  });

  it("names up to 50 nodes in InstanceIds (no tag written) and reboots only when a human approved", async () => {
    const nodes = ONLINE.slice(0, 50);
    for (const [approvedBy, reboot] of [
      [undefined, "NoReboot"],
      ["cli:alice", "RebootIfNeeded"],
    ] as const) {
      ec2.reset();
      ssm.reset();
      const { ctx } = applyContext(false);
      ssmInventory();
      commands(() => "Success");

      const result = await patchNodes.apply(patchNodes.params.parse({ instanceIds: nodes }), {
        ...ctx,
        ...(approvedBy ? { approvedBy } : {}),
      });

      expect(result.status).toBe("applied");
      expect(result.reason).toBe(`patched 50 instance(s) (${reboot})`);
      expect(commandsSent(stubs)).toEqual([
        ["DescribeInstanceInformation", { Filters: [{ Key: "InstanceIds", Values: nodes }] }],
        ["SendCommand", sendCommandInput(reboot, { InstanceIds: nodes })],
        ["ListCommandInvocations", { CommandId: "cmd-1" }],
      ]);
    }
  });

  it("never sends AWS-RunPatchBaseline to Bottlerocket or an unknown platform: refused, with the reason per node", async () => {
    const { ctx } = applyContext(false);
    ssmInventory();
    ec2Inventory();
    commands(() => "Success");

    const result = await patchNodes.apply(patchNodes.params.parse({ instanceIds: [...BOTTLEROCKET, ...FLATCAR] }), {
      ...ctx,
      approvedBy: "cli:alice",
    });

    expect(result.status).toBe("refused");
    expect(result.reason).toBe(
      "no target runs a platform Patch Manager supports with an online SSM agent, and none is in a managed node group whose AMI can be updated",
    );
    expect(commandsSent(stubs)).toEqual([
      ["DescribeInstanceInformation", { Filters: [{ Key: "InstanceIds", Values: [...BOTTLEROCKET, ...FLATCAR] }] }],
      ["DescribeInstances", { InstanceIds: [...BOTTLEROCKET, ...FLATCAR] }],
    ]);
    expect(result.details).toEqual({
      skipped: Object.fromEntries([...BOTTLEROCKET, ...FLATCAR].map((id) => [id, SKIPPED[id]])),
    });
  });

  it("finds a cluster's nodes by each kind's tags: managed, EKS/Karpenter-launched, self-managed; each once", async () => {
    const { ctx } = applyContext(false);
    const [managed = "", launched = "", selfManaged = ""] = ONLINE;
    const running = { Name: "instance-state-name", Values: ["running"] };
    const nodegroup = { Name: "tag:eks:nodegroup-name", Values: ["general"] };
    const byManaged = [{ Name: "tag:eks:cluster-name", Values: ["prod-eks"] }, nodegroup, running];
    const byLaunched = [{ Name: "tag:aws:eks:cluster-name", Values: ["prod-eks"] }, nodegroup, running];
    const bySelfManaged = [{ Name: "tag-key", Values: ["kubernetes.io/cluster/prod-eks"] }, nodegroup, running];
    // DescribeInstances answers Reservations[].Instances[] and a NextToken while more pages remain:
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html
    ec2
      .on(DescribeInstancesCommand, { Filters: byManaged }, true)
      .resolves({ Reservations: [{ Instances: [{ InstanceId: managed }] }], NextToken: "page-2" });
    ec2
      .on(DescribeInstancesCommand, { Filters: byManaged, NextToken: "page-2" }, true)
      .resolves({ Reservations: [{ Instances: [{ InstanceId: launched }] }] });
    // A managed node carries aws:eks:cluster-name too: found twice, patched once.
    ec2
      .on(DescribeInstancesCommand, { Filters: byLaunched }, true)
      .resolves({ Reservations: [{ Instances: [{ InstanceId: launched }] }] });
    ec2
      .on(DescribeInstancesCommand, { Filters: bySelfManaged }, true)
      .resolves({ Reservations: [{ Instances: [{ InstanceId: selfManaged }] }] });
    ssmInventory();
    commands(() => "Success");

    const result = await patchNodes.apply(patchNodes.params.parse(patchNodes.example), ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ["DescribeInstances", { Filters: byManaged }],
      ["DescribeInstances", { Filters: byManaged, NextToken: "page-2" }],
      ["DescribeInstances", { Filters: byLaunched }],
      ["DescribeInstances", { Filters: bySelfManaged }],
      ["DescribeInstanceInformation", { Filters: [{ Key: "InstanceIds", Values: [managed, launched, selfManaged] }] }],
      ["SendCommand", sendCommandInput("NoReboot", { InstanceIds: [managed, launched, selfManaged] })],
      ["ListCommandInvocations", { CommandId: "cmd-1" }],
    ]);
  });

  it("removes the run tag even when SendCommand fails, and fails with the error code", async () => {
    const { ctx } = applyContext(false);
    ssmInventory();
    ec2Inventory();
    commands(() => "Success");
    // AccessDeniedException, HTTP 400: "You do not have sufficient access to perform this action"
    // (https://docs.aws.amazon.com/systems-manager/latest/APIReference/CommonErrors.html)
    ssm.on(SendCommandCommand).rejects(ssmError("AccessDeniedException", 400));

    const result = await patchNodes.apply(patchNodes.params.parse({ instanceIds: ALL }), ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("AccessDeniedException");
    expect(namesSent(stubs).slice(4)).toEqual(["CreateTags", "SendCommand", "DeleteTags"]);
    expect(ec2.commandCalls(DeleteTagsCommand)[0]?.args[0].input).toEqual({ Resources: ONLINE, Tags: RUN_TAG });
  });

  it("reports a run tag it could not remove, without failing a patch that succeeded", async () => {
    const { ctx } = applyContext(false);
    ssmInventory();
    ec2Inventory();
    commands(() => "Success");
    // RequestLimitExceeded: "The maximum request rate permitted by the Amazon EC2 APIs has been exceeded"
    // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html)
    ec2.on(DeleteTagsCommand).rejects(ec2Error("RequestLimitExceeded", 503));

    const result = await patchNodes.apply(patchNodes.params.parse({ instanceIds: ALL }), ctx);

    expect(result.status).toBe("applied");
    expect(result.details).toMatchObject({ runTagLeft: `${PATCH_RUN_TAG}=${ASSESSMENT_ID}` });
    expect(result.calls.at(-1)).toMatchObject({ operation: "DeleteTags", result: "error" });
  });

  it("fails when an instance's patching fails, with each instance's status in the details", async () => {
    const { ctx } = applyContext(false);
    const [ok = "", broken = ""] = ONLINE;
    ssmInventory();
    ec2Inventory();
    commands((id) => (id === broken ? "Failed" : "Success"));

    const result = await patchNodes.apply(patchNodes.params.parse({ instanceIds: [ok, broken] }), ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("PATCH.INCOMPLETE");
    expect(result.reason).toContain(`${broken} (Failed)`);
    expect(result.details).toEqual({
      commandIds: ["cmd-1"],
      statuses: { [ok]: "Success", [broken]: "Failed" },
      skipped: {},
      rebootOption: "NoReboot",
    });
  });

  it("reports a node the one command never reached (MaxErrors stopped it) as Pending, and fails", async () => {
    const { ctx } = applyContext(false);
    const [first = "", second = ""] = ONLINE;
    ssmInventory();
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: "cmd-1", Status: "Pending" } });
    // With MaxErrors 0 the first failure stops the command; the node not yet started is not in the invocations.
    ssm.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: [{ CommandId: "cmd-1", InstanceId: first, Status: "Failed" }],
    });

    const result = await patchNodes.apply(patchNodes.params.parse({ instanceIds: [first, second] }), ctx);

    expect(result.status).toBe("failed");
    expect(result.details).toMatchObject({ statuses: { [first]: "Failed", [second]: "Pending" } });
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
    ec2Inventory();
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
    expect(namesSent(stubs)).toEqual(["DescribeInstances", "DescribeInstances", "DescribeInstances"]);
  });

  it("in dry-run, only reads and reports would-succeed with the online and skipped instances", async () => {
    const { ctx } = applyContext(true);
    ssmInventory();
    ec2Inventory();

    const result = await patchNodes.apply(patchNodes.params.parse({ instanceIds: ALL }), ctx);

    expect(result.status).toBe("would-succeed");
    expect(namesSent(stubs)).toEqual([...Array<string>(3).fill("DescribeInstanceInformation"), "DescribeInstances"]);
    expect(result.details).toEqual({ online: ONLINE, skipped: SKIPPED, rebootOption: "NoReboot" });
  });

  it("plans NoReboot, saying why, unless a human approved; RebootIfNeeded once approved", () => {
    const context = { dryRun: false, assessmentId: ASSESSMENT_ID, account: "111122223333", region: "eu-west-1" };
    const p = patchNodes.params.parse({ instanceIds: ONLINE.slice(0, 2) });

    const automatic = patchNodes.plan(p, context);
    const approved = patchNodes.plan(p, { ...context, approvedBy: "slack:U024BE7LH" });

    if (!("calls" in automatic) || !("calls" in approved)) throw new Error("must plan");
    const send = (calls: typeof automatic.calls) => calls.find((c) => c.operation === "SendCommand");
    expect(send(automatic.calls)?.params).toEqual(sendCommandInput("NoReboot", { InstanceIds: ONLINE.slice(0, 2) }));
    expect(send(automatic.calls)?.note).toContain("RebootIfNeeded is sent only when a human approves");
    expect(send(approved.calls)?.params).toEqual(
      sendCommandInput("RebootIfNeeded", { InstanceIds: ONLINE.slice(0, 2) }),
    );
    expect(send(approved.calls)?.note).toContain("approved by slack:U024BE7LH");
    // The AMI update is listed for the nodes Patch Manager does not patch, if any turn out to be in a managed node group.
    expect(automatic.calls.map((c) => c.operation)).toEqual([
      "DescribeInstanceInformation",
      "SendCommand",
      "UpdateNodegroupVersion",
    ]);
  });

  it("plans one command for a cluster: three tag queries, the run tag set and removed around it", () => {
    const context = { dryRun: false, assessmentId: ASSESSMENT_ID, account: "111122223333", region: "eu-west-1" };

    const plan = patchNodes.plan(patchNodes.params.parse(patchNodes.example), context);

    if (!("calls" in plan)) throw new Error("must plan");
    expect(plan.calls.map((c) => c.operation)).toEqual([
      "DescribeInstances",
      "DescribeInstances",
      "DescribeInstances",
      "DescribeInstanceInformation",
      "CreateTags",
      "SendCommand",
      "DeleteTags",
      "UpdateNodegroupVersion",
    ]);
    expect(plan.calls.filter((c) => c.operation === "SendCommand")).toHaveLength(1);
  });

  it("is irreversible: no rollback and no undo", async () => {
    const { ctx } = applyContext(false);
    ssmInventory();
    ec2Inventory();
    commands(() => "Success");

    const result = await patchNodes.apply(patchNodes.params.parse({ instanceIds: ONLINE.slice(0, 1) }), ctx);

    expect(result.status).toBe("applied");
    expect(result.undo).toBeUndefined();
    expect(patchNodes.rollback).toBeUndefined();
    expect(patchNodes.reversible).toBe(false);
  });
});
