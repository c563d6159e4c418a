/**
 * The respond path's rule guards against a real local DynamoDB (dynalite): a rule put back by `eks-responder rollback
 * --table` is not revoked again when its re-add's CloudTrail event arrives, and a rule re-added again and again is
 * alerted on, naming who re-adds it, instead of revoked in a loop.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthorizeSecurityGroupIngressCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { main } from "../../../packages/cli/src/main.ts";
import { readGroupCounters, takeRevocation } from "../../../packages/core/src/guardrails/flapping.ts";
import { restoredRule } from "../../../packages/core/src/guardrails/restored.ts";
import { ruleGuardReads, ruleGuards } from "../../../packages/core/src/guardrails/rule-guards.ts";
import { ruleKey } from "../../../packages/core/src/guardrails/rule-targets.ts";
import {
  createAwsClients,
  type PolicyInput,
  parsePolicy,
  type RespondResult,
  recordAudit,
  respond,
} from "../../../packages/core/src/index.ts";
import { type LocalDynamo, startDynalite } from "../../helpers/dynalite.ts";
import { assumedRoleIdentity, ingressEvent, OWN_ACCOUNT, OWN_REGION } from "../../helpers/own-events.ts";

let dynamo: LocalDynamo;
let table: string;
const saved = { ...process.env };
const ec2 = mockClient(EC2Client);
const TERRAFORM = assumedRoleIdentity(`arn:aws:iam::${OWN_ACCOUNT}:role/terraform`, "ci-run");
let events = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
  table = await dynamo.createTable();
  // The CLI's own DynamoDB client (rollback --table) reaches the local server through the SDK's endpoint variable.
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  process.env.AWS_ACCESS_KEY_ID = "AKIDTEST";
  process.env.AWS_SECRET_ACCESS_KEY = "x";
});
afterAll(async () => {
  ec2.restore();
  await dynamo.stop();
  process.env = saved;
});
beforeEach(() => {
  ec2.reset();
  // Return true: the rules were revoked, or re-authorized
  // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RevokeSecurityGroupIngress.html,
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html)
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
});

/** A new re-add of tcp/22 from the world on `groupId`, by `identity`. */
function reAdd(groupId: string, identity = TERRAFORM) {
  const n = String(++events).padStart(12, "0");
  return ingressEvent({ eventId: `7a1b2c3d-0000-4000-8000-${n}`, groupId, ruleId: `sgr-0${n}abcd`, identity });
}

async function run(event: unknown, policy: PolicyInput, at: Date): Promise<RespondResult> {
  const parsed = parsePolicy({ dryRun: false, exemptions: { tags: [] }, ...policy });
  return respond(event, {
    policy: parsed,
    clients: (region) => createAwsClients(region),
    sleep: async () => {},
    holdBack: ruleGuards(dynamo.docClient, table, parsed, { now: () => at }),
    record: async () => {},
    notify: async () => {},
  });
}

const T0 = new Date("2025-06-15T11:00:00.000Z");
const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe("rollback marker", () => {
  it("keeps the rule a rollback put back: its re-add is an alert, not revoked again, until the hold ends", async () => {
    // prepare: an applied revoke in the deployment's audit, rolled back with the CLI
    const groupId = "sg-0aa0000000000a001";
    const id = "asm-000000000000000000b1";
    await recordAudit(dynamo.docClient, table, {
      assessmentId: id,
      eventId: `ct:${id}`,
      detectorId: "ec2-open-ingress",
      account: OWN_ACCOUNT,
      region: OWN_REGION,
      severity: "high",
      mode: "auto",
      outcome: "applied",
      reasons: ["mode auto"],
      plan: [],
      results: [
        {
          action: "ec2:revoke-ingress",
          status: "applied",
          reason: "revoked sgr-0aa0000000000a001",
          calls: [],
          undo: {
            groupId,
            rules: [
              { ruleId: "sgr-0aa0000000000a001", protocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" },
            ],
          },
        },
      ],
      recordedAt: T0.toISOString(),
    });
    const io = {
      stdout: { write: () => true },
      stderr: { write: () => true },
      env: { EKS_RESPONDER_STATE_DIR: mkdtempSync(join(tmpdir(), "eks-rollback-")) },
      cwd: process.cwd(),
    };
    expect(await main(["rollback", "--yes", "--table", table, "--region", OWN_REGION, id], io)).toBe(0);
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(1);
    const { Item } = await dynamo.docClient.send(
      new GetCommand({
        TableName: table,
        Key: ruleKey("RESTORED", { account: OWN_ACCOUNT, region: OWN_REGION, groupId }, "tcp|22|22|0.0.0.0/0"),
      }),
    );
    expect(Item).toMatchObject({ outcomeId: id, by: "eks-responder rollback" });
    const restoredAt = new Date(String(Item?.restoredAt));

    // act: the operator's re-add arrives through CloudTrail (the rollback ran with the operator's own credentials)
    const held = await run(
      reAdd(groupId, assumedRoleIdentity(`arn:aws:iam::${OWN_ACCOUNT}:role/Admin`, "alice")),
      {},
      restoredAt,
    );

    // assess
    expect(held.outcome).toBe("alert");
    expect(held.decisions[0]?.reasons.at(-1)).toContain(
      `tcp 22-22 from 0.0.0.0/0 on ${groupId} was put back by a rollback of ${id}`,
    );
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
    // The same rule on another group is another finding: revoked.
    expect((await run(reAdd("sg-0aa0000000000a002"), {}, restoredAt)).outcome).toBe("applied");
    // After the hold (limits.restoredHoldSeconds), the rule is fixed again.
    const after = new Date(restoredAt.getTime() + 3_601_000);
    expect((await run(reAdd(groupId), { limits: { restoredHoldSeconds: 3600 } }, after)).outcome).toBe("applied");
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(2);
  });
});

describe("flapping", () => {
  const policy = { limits: { flapping: { revocations: 2, windowSeconds: 3600 } } };

  it("revokes a re-added rule up to the limit, then alerts naming who re-adds it, and revokes again after the window", async () => {
    // prepare
    const groupId = "sg-0bb0000000000b001";
    const first = reAdd(groupId);
    // act
    const results = [
      await run(first, policy, T0),
      await run(first, policy, later(1)), // a redelivery (no claim here): counted once
      await run(
        reAdd(groupId, assumedRoleIdentity(`arn:aws:iam::${OWN_ACCOUNT}:role/Admin`, "bob")),
        policy,
        later(60),
      ),
      await run(reAdd(groupId), policy, later(120)),
    ];
    // assess
    expect(results.map((r) => r.outcome)).toEqual(["applied", "applied", "applied", "alert"]);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(3);
    const reason = results[3]?.decisions[0]?.reasons.at(-1) ?? "";
    expect(reason).toContain(`flapping: tcp 22-22 from 0.0.0.0/0 on ${groupId} was revoked 2 times in the last 3600 s`);
    expect(reason).toContain(`arn:aws:sts::${OWN_ACCOUNT}:assumed-role/terraform/ci-run`);
    expect(reason).toContain(`arn:aws:sts::${OWN_ACCOUNT}:assumed-role/Admin/bob`);
    // Approval mode is not counted: a human decides each time.
    expect(
      (await run(reAdd(groupId), { ...policy, detectors: { "ec2-open-ingress": { mode: "approve" } } }, later(130)))
        .outcome,
    ).toBe("alert");
    // The window moved on: revoked again.
    expect((await run(reAdd(groupId), policy, later(3700))).outcome).toBe("applied");
  });

  it("alerts when the counter is damaged (fail closed)", async () => {
    const groupId = "sg-0bb0000000000b002";
    const key = ruleKey("FLAP", { account: OWN_ACCOUNT, region: OWN_REGION, groupId }, "tcp|22|22|0.0.0.0/0");
    await dynamo.docClient.send(
      new PutCommand({ TableName: table, Item: { ...key, revocations: "many", version: "v" } }),
    );
    const result = await run(reAdd(groupId), policy, T0);
    expect(result.outcome).toBe("alert");
    expect(result.decisions[0]?.reasons.at(-1)).toContain("the flapping counter of tcp 22-22 from 0.0.0.0/0");
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
  });
});

/**
 * The table as the respond function sees it, with each command it sends and each answer in order (`sent GetCommand
 * FLAP`, `answered …`), the item family taken from the request's partition key.
 */
function traced(): { client: DynamoDBDocumentClient; trace: string[] } {
  const trace: string[] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const input = command.input as {
        Key?: { pk?: string };
        Item?: { pk?: string };
        ExpressionAttributeValues?: Record<string, unknown>;
      };
      const pk = String(input.Key?.pk ?? input.Item?.pk ?? input.ExpressionAttributeValues?.[":pk"] ?? "");
      const what = `${command.constructor.name} ${pk.split("#")[0]}`;
      trace.push(`sent ${what}`);
      try {
        return await dynamo.docClient.send(command as Parameters<DynamoDBDocumentClient["send"]>[0]);
      } finally {
        trace.push(`answered ${what}`);
      }
    },
  };
  return { client: client as unknown as DynamoDBDocumentClient, trace };
}

describe("flapping, counters read ahead", () => {
  const policy = { limits: { flapping: { revocations: 2, windowSeconds: 3600 } } };

  /** The respond path as the function wires it: the policy still in flight, the group's counters read meanwhile. */
  function ahead(client: DynamoDBDocumentClient, at: Date) {
    const parsed = parsePolicy({ dryRun: false, exemptions: { tags: [] }, ...policy });
    const reads = ruleGuardReads(Promise.resolve(client), table);
    let give: (p: typeof parsed) => void = () => {};
    const pending = new Promise<typeof parsed>((resolve) => {
      give = resolve;
    });
    return {
      reads,
      start: (event: unknown) =>
        respond(event, {
          policy: pending,
          clients: (region) => createAwsClients(region),
          sleep: async () => {},
          prepareHoldBack: (signal) => reads.prepare(signal),
          holdBack: ruleGuards(client, table, parsed, { now: () => at, reads }),
          record: async () => {},
          notify: async () => {},
        }),
      givePolicy: () => give(parsed),
    };
  }

  /** One delivery with its policy already read: its result and the table's trace. */
  async function deliverAhead(event: unknown, at: Date) {
    const { client, trace } = traced();
    const delivery = ahead(client, at);
    const running = delivery.start(event);
    delivery.givePolicy();
    return { result: await running, trace };
  }
  const sentOf = (trace: string[]) => trace.filter((t) => t.startsWith("sent ")).sort();

  it("counts with one conditional write on what was read with the claim, a redelivery once, and a read another Lambda overtook loses its write and reads again", async () => {
    // prepare
    const groupId = "sg-0cc0000000000c001";
    const first = reAdd(groupId);

    // act: a first re-add, counted from the Query read ahead (no read of its own)
    const one = await deliverAhead(first, T0);
    // assess
    expect(one.result.outcome).toBe("applied");
    expect(sentOf(one.trace)).toEqual(["sent GetCommand RESTORED", "sent PutCommand FLAP", "sent QueryCommand FLAP"]);
    expect(one.trace.indexOf("answered QueryCommand FLAP")).toBeLessThan(one.trace.indexOf("sent PutCommand FLAP"));

    // act: its redelivery finds itself counted in what was read ahead: nothing written
    const again = await deliverAhead(first, later(1));
    expect(again.result.outcome).toBe("applied");
    expect(sentOf(again.trace)).toEqual(["sent GetCommand RESTORED", "sent QueryCommand FLAP"]);

    // act: a re-add whose counters are read (one revocation), then another Lambda counts a second one before it writes
    const late = traced();
    const c = ahead(late.client, later(60));
    const overtaken = c.start(reAdd(groupId));
    await c.reads.counters({ account: OWN_ACCOUNT, region: OWN_REGION, groupId });
    expect((await run(reAdd(groupId), policy, later(61))).outcome).toBe("applied");
    c.givePolicy();

    // assess: its write, conditional on the item it read, lost; it read again, and the limit (2) held
    const result = await overtaken;
    expect(result.outcome).toBe("alert");
    expect(result.decisions[0]?.reasons.at(-1)).toContain(`on ${groupId} was revoked 2 times in the last 3600 s`);
    expect(late.trace.filter((t) => t.startsWith("sent ") && t.endsWith("FLAP"))).toEqual([
      "sent QueryCommand FLAP",
      "sent PutCommand FLAP",
      "sent GetCommand FLAP",
    ]);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(3);
    const { Item } = await dynamo.docClient.send(
      new GetCommand({
        TableName: table,
        Key: ruleKey("FLAP", { account: OWN_ACCOUNT, region: OWN_REGION, groupId }, "tcp|22|22|0.0.0.0/0"),
      }),
    );
    expect(Item?.revocations).toHaveLength(2);
  });

  it("counts and reads the rules of one revoke side by side: one round trip for all of them", async () => {
    // prepare: a revoke of two rules of one group
    const target = {
      account: OWN_ACCOUNT,
      region: OWN_REGION,
      groupId: "sg-0cc0000000000c002",
      fingerprints: ["tcp|22|22|0.0.0.0/0", "tcp|3389|3389|0.0.0.0/0"],
    };
    const { client, trace } = traced();

    // act
    const read = readGroupCounters(client, table, target);
    const slot = await takeRevocation(client, table, target, {
      eventKey: "ct:two-rules",
      actor: "arn:aws:sts::776520358045:assumed-role/terraform/ci-run",
      limit: 2,
      windowSeconds: 3600,
      now: T0,
      read,
    });
    const held = await restoredRule(client, table, target, { holdSeconds: 3600, now: T0 });

    // assess: both writes went out before either was answered, and so did both reads of the markers
    expect(slot).toEqual({ allowed: true, count: 1 });
    expect(held).toBeUndefined();
    expect(trace).toEqual([
      "sent QueryCommand FLAP",
      "answered QueryCommand FLAP",
      "sent PutCommand FLAP",
      "sent PutCommand FLAP",
      "answered PutCommand FLAP",
      "answered PutCommand FLAP",
      "sent GetCommand RESTORED",
      "sent GetCommand RESTORED",
      "answered GetCommand RESTORED",
      "answered GetCommand RESTORED",
    ]);
  });

  it("reads a rule on its own when the read ahead failed or did not reach it", async () => {
    const target = {
      account: OWN_ACCOUNT,
      region: OWN_REGION,
      groupId: "sg-0cc0000000000c003",
      fingerprints: ["tcp|22|22|0.0.0.0/0"],
    };
    const options = { actor: "arn:aws:sts::776520358045:assumed-role/terraform/ci-run", limit: 2, windowSeconds: 3600 };
    const failed = traced();
    const throttled = Promise.reject(Object.assign(new Error("slow down"), { name: "ThrottlingException" }));
    const counted = await takeRevocation(failed.client, table, target, {
      ...options,
      eventKey: "ct:read-failed",
      now: T0,
      read: throttled,
    });
    // a page that ended before the rule (LastEvaluatedKey set): no item there does not mean no counter
    const partial = traced();
    const again = await takeRevocation(partial.client, table, target, {
      ...options,
      eventKey: "ct:read-partial",
      now: later(1),
      read: Promise.resolve({ items: new Map(), complete: false }),
    });
    expect(counted).toEqual({ allowed: true, count: 1 });
    expect(again).toEqual({ allowed: true, count: 2 });
    for (const trace of [failed.trace, partial.trace]) {
      expect(sentOf(trace)).toEqual(["sent GetCommand FLAP", "sent PutCommand FLAP"]);
    }
  });
});
