/**
 * Events per second through the whole respond path (packages/core/src/pipeline/respond.ts): parse → assess → decide →
 * apply (dryRun false) → record → notify, over the example events, with record and notify as in-memory functions and
 * every AWS client mocked (aws-sdk-client-mock). The events are objects, as Lambda hands them over (no JSON.parse).
 *
 * `measureFullPathInChild()` runs it in a fresh process (`node bench/full-path.ts`) and reads that process's peak
 * resident memory (`process.resourceUsage().maxRSS`): the memory the path needs, without the other benchmarks' load.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
  SetInstanceProtectionCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import {
  DescribeClusterCommand,
  DisassociateAccessPolicyCommand,
  EKSClient,
  ListAssociatedAccessPoliciesCommand,
  UpdateClusterConfigCommand,
} from "@aws-sdk/client-eks";
import {
  DescribeInstanceInformationCommand,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { type AwsClients, createAwsClients } from "../packages/core/src/aws/clients.ts";
import { processEvent } from "../packages/core/src/pipeline/process.ts";
import { type RespondResult, respond } from "../packages/core/src/pipeline/respond.ts";
import { parsePolicy } from "../packages/core/src/policy/load.ts";

const ROOT = join(import.meta.dirname, "..");
export const FULL_PATH_ROUNDS = 7;
export const FULL_PATH_ROUND_MS = 400;

export interface FullPath {
  events: number;
  rounds: number;
  roundMs: number;
  eventsPerSecond: number;
  /** parse → assess → decide → plan (`processEvent`) over the same event objects, in the same process. */
  spineEventsPerSecond: number;
  /** Peak resident set size of the process that ran it. */
  peakRssBytes: number;
  /** Its resident set size once everything was imported, before the first event. */
  rssAfterImportsBytes: number;
  /** Outcomes of one pass over the events. */
  outcomes: Record<string, number>;
  /** Mocked AWS calls of one pass. */
  awsCallsPerPass: number;
}

/** Accumulates results so the measured work cannot be optimised away. */
export let sink = 0;

/** Answers every call the actions make on their happy path. */
function mockAws() {
  const ec2 = mockClient(EC2Client);
  const eks = mockClient(EKSClient);
  const ssm = mockClient(SSMClient);
  const asg = mockClient(AutoScalingClient);
  ec2
    .on(RevokeSecurityGroupIngressCommand)
    .callsFake(async (input: { GroupId?: string; SecurityGroupRuleIds?: string[] }) => ({
      Return: true,
      RevokedSecurityGroupRules: (input.SecurityGroupRuleIds ?? []).map((id) => ({
        SecurityGroupRuleId: id,
        GroupId: input.GroupId,
        IsEgress: false,
        IpProtocol: "tcp",
        FromPort: 22,
        ToPort: 22,
        CidrIpv4: "0.0.0.0/0",
      })),
    }));
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: "i-0f1e2d3c4b5a69788",
            VpcId: "vpc-0a1b2c3d4e5f67890",
            State: { Name: "running" },
            Tags: [{ Key: "eks:cluster-name", Value: "prod-eks" }],
            NetworkInterfaces: [
              { NetworkInterfaceId: "eni-0a9b8c7d6e5f43210", Groups: [{ GroupId: "sg-0c1d2e3f4a5b6c7d8" }] },
            ],
          },
        ],
      },
    ],
  });
  ec2
    .on(DescribeInstanceAttributeCommand)
    .resolves({ DisableApiTermination: { Value: false }, InstanceInitiatedShutdownBehavior: { Value: "terminate" } });
  ec2.on(DescribeSecurityGroupsCommand).resolves({
    SecurityGroups: [
      { GroupId: "sg-0aaaaaaaaaaaaaaaa", Tags: [{ Key: "eks-responder:quarantine-group", Value: "transition" }] },
      { GroupId: "sg-0bbbbbbbbbbbbbbbb", Tags: [{ Key: "eks-responder:quarantine-group", Value: "quarantine" }] },
    ],
  });
  ec2.on(ModifyInstanceAttributeCommand).resolves({});
  ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
  ec2.on(CreateTagsCommand).resolves({});
  ec2.on(CreateSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: "snap-1" }] });
  eks.on(DescribeClusterCommand).resolves({
    cluster: {
      resourcesVpcConfig: {
        endpointPublicAccess: true,
        endpointPrivateAccess: false,
        publicAccessCidrs: ["0.0.0.0/0"],
      },
      logging: { clusterLogging: [{ types: ["api", "audit", "authenticator"], enabled: false }] },
    },
  });
  eks.on(UpdateClusterConfigCommand).resolves({ update: { id: "u-1" } });
  eks.on(ListAssociatedAccessPoliciesCommand).resolves({
    associatedAccessPolicies: [
      {
        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        accessScope: { type: "cluster" },
      },
    ],
  });
  eks.on(DisassociateAccessPolicyCommand).resolves({});
  asg.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [] });
  asg.on(SetInstanceProtectionCommand).resolves({});
  ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
  ssm.on(SendCommandCommand).resolves({ Command: { CommandId: "cmd-1" } });
  ssm.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [] });
  const mocks = [ec2, eks, ssm, asg];
  return {
    calls: () => mocks.reduce((n, m) => n + m.calls().length, 0),
    reset: () => {
      for (const m of mocks) m.resetHistory();
    },
    restore: () => {
      for (const m of mocks) m.restore();
    },
  };
}

function loadEvents(): unknown[] {
  const dir = join(ROOT, "examples/events");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as unknown);
}

/** The example policy, live (dryRun false): auto-mode detectors really call the (mocked) AWS APIs. */
export function livePolicy(overrides: Record<string, unknown> = {}) {
  const input: unknown = JSON.parse(readFileSync(join(ROOT, "examples/policy.json"), "utf8"));
  if (typeof input !== "object" || input === null) throw new Error("examples/policy.json is not an object");
  return parsePolicy({ ...input, dryRun: false, ...overrides }, "examples/policy.json (dryRun: false)");
}

export async function measureFullPath(): Promise<FullPath> {
  const rssAfterImportsBytes = process.memoryUsage().rss;
  const events = loadEvents();
  const policy = livePolicy();
  const aws = mockAws();
  try {
    const clients = new Map<string, AwsClients>();
    const records: RespondResult[] = [];
    const deps = {
      policy,
      clients(region: string): AwsClients {
        let c = clients.get(region);
        if (!c) {
          c = createAwsClients(region);
          clients.set(region, c);
        }
        return c;
      },
      sleep: async () => {},
      async record(result: RespondResult) {
        records.push(result);
      },
      async notify(result: RespondResult) {
        sink += result.decisions.length;
      },
    };
    const pass = async (): Promise<void> => {
      for (const event of events) sink += (await respond(event, deps)).plan.length;
      records.length = 0;
    };

    // One pass for the outcomes and the calls; it also loads the lazily imported SDK clients.
    const outcomes: Record<string, number> = {};
    aws.reset();
    for (const event of events) {
      const result = await respond(event, deps);
      if (result.outcome === "failed") throw new Error(`full path: ${result.eventId} failed: ${result.reason}`);
      outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
    }
    const awsCallsPerPass = aws.calls();

    const spinePass = async (): Promise<void> => {
      for (const event of events) sink += processEvent(event, policy, { forceDryRun: false }).plan.length;
    };
    const measure = async (work: () => Promise<void>): Promise<number> => {
      const rates: number[] = [];
      for (let round = 0; round < FULL_PATH_ROUNDS; round++) {
        aws.reset();
        let n = 0;
        const start = performance.now();
        let elapsed = 0;
        while (elapsed < FULL_PATH_ROUND_MS) {
          await work();
          n += events.length;
          elapsed = performance.now() - start;
        }
        rates.push(n / (elapsed / 1000));
      }
      rates.sort((a, b) => a - b);
      return rates[Math.floor(rates.length / 2)] ?? 0;
    };
    // Warm-ups first, so the JIT has compiled both paths.
    await measure(spinePass);
    await measure(pass);
    const spineEventsPerSecond = await measure(spinePass);
    const eventsPerSecond = await measure(pass);
    return {
      events: events.length,
      rounds: FULL_PATH_ROUNDS,
      roundMs: FULL_PATH_ROUND_MS,
      eventsPerSecond: Math.round(eventsPerSecond),
      spineEventsPerSecond: Math.round(spineEventsPerSecond),
      rssAfterImportsBytes,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      outcomes,
      awsCallsPerPass,
    };
  } finally {
    aws.restore();
  }
}

function isFullPath(value: unknown): value is FullPath {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return [
    "events",
    "eventsPerSecond",
    "spineEventsPerSecond",
    "peakRssBytes",
    "rssAfterImportsBytes",
    "awsCallsPerPass",
  ].every((k) => typeof v[k] === "number");
}

/** Runs the measurement in a fresh Node process; its peak RSS is the path's alone. */
export function measureFullPathInChild(): FullPath {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url)], {
    encoding: "utf8",
    env: { ...process.env, AWS_EC2_METADATA_DISABLED: "true" },
  });
  const parsed: unknown = JSON.parse(out);
  if (!isFullPath(parsed)) throw new Error(`bench/full-path.ts printed an unexpected result: ${out.slice(0, 200)}`);
  return parsed;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(await measureFullPath())}\n`);
}
