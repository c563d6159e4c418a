import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DescribeSecurityGroupsCommand, EC2Client, RevokeSecurityGroupIngressCommand } from "@aws-sdk/client-ec2";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { GetParameterCommand, GetParametersCommand, SSMClient } from "@aws-sdk/client-ssm";
import { DeleteCommand, GetCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { idempotencyKey, idempotencyStore, listAudit, parseEvent } from "../../../packages/core/src/index.ts";
import { keyPart as keyPartOf } from "../../../packages/core/src/store/table.ts";
import { handler } from "../../../packages/functions/src/respond.handler.ts";
import { resetRuntime } from "../../../packages/functions/src/runtime.ts";
import { type LocalDynamo, startDynalite } from "../../helpers/dynalite.ts";
import { liveGroups } from "../../helpers/ec2-groups.ts";
import { ingressEvent } from "../../helpers/own-events.ts";
import { startSlackServer } from "../../helpers/slack-server.ts";
import { getParametersFrom } from "../../helpers/ssm.ts";

const ROOT = join(import.meta.dirname, "../../..");
const event = (file: string) =>
  JSON.parse(readFileSync(join(ROOT, "examples/events", file), "utf8")) as Record<string, unknown>;
const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const sfn = mockClient(SFNClient);
const context = {
  functionName: "respond",
  awsRequestId: "req-1",
  invokedFunctionArn: "arn:aws:lambda:eu-west-1:111122223333:function:respond",
  getRemainingTimeInMillis: () => 60_000,
} as const;
let dynamo: LocalDynamo;
let table: string;
const saved = { ...process.env };

/** SSM's answers: GetParameter for one name, GetParameters for several (names not found in InvalidParameters). */
function setPolicy(policy: unknown, killSwitch = "off") {
  ssm.reset();
  const values = new Map([
    ["/eks-responder/policy", JSON.stringify(policy)],
    ["/eks-responder/kill-switch", killSwitch],
  ]);
  ssm
    .on(GetParameterCommand, { Name: "/eks-responder/policy" })
    .resolves({ Parameter: { Value: JSON.stringify(policy) } });
  ssm.on(GetParameterCommand, { Name: "/eks-responder/kill-switch" }).resolves({ Parameter: { Value: killSwitch } });
  ssm.on(GetParametersCommand).callsFake(getParametersFrom(values));
}

/** Every read of the kill switch, alone (GetParameter) or with the policy (GetParameters). */
function killSwitchReads(): number {
  const name = "/eks-responder/kill-switch";
  return (
    ssm.commandCalls(GetParameterCommand).filter((c) => c.args[0].input.Name === name).length +
    ssm.commandCalls(GetParametersCommand).filter((c) => c.args[0].input.Names?.includes(name)).length
  );
}

beforeAll(async () => {
  dynamo = await startDynalite();
  table = await dynamo.createTable();
});
afterAll(async () => {
  await dynamo.stop();
  process.env = saved;
});
beforeEach(() => {
  process.env = {
    ...saved,
    AWS_REGION: "eu-west-1",
    AWS_ACCESS_KEY_ID: "AKIDTEST",
    AWS_SECRET_ACCESS_KEY: "secret",
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    TABLE_NAME: table,
    POLICY_PARAMETER_NAME: "/eks-responder/policy",
    KILL_SWITCH_PARAMETER_NAME: "/eks-responder/kill-switch",
    STATE_MACHINE_ARN: "arn:aws:states:eu-west-1:111122223333:stateMachine:approval",
    POWERTOOLS_LOG_LEVEL: "ERROR",
  };
  resetRuntime();
  ec2.reset();
  sfn.reset();
  ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups());
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  sfn
    .on(StartExecutionCommand)
    .resolves({ executionArn: "arn:aws:states:eu-west-1:111122223333:execution:approval:x" });
});

/** ct-01 (account 776520358045) with its own event id, on a group and rule of its own. */
function withId(id: string) {
  const n = id.length.toString(16).padStart(2, "0") + Buffer.from(id).toString("hex").slice(0, 15);
  return ingressEvent({ eventId: id, groupId: `sg-${n}`, ruleId: `sgr-${n}` });
}

describe("respond.handler", () => {
  it("revokes, records the outcome in DynamoDB, and handles a redelivery of the same event once", async () => {
    setPolicy({ dryRun: false });
    const ssh = event("ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json");
    const first = await handler(ssh, context);
    const again = await handler(ssh, context);
    expect(first).toEqual({ outcome: "applied", eventId: "e7f3c1a2-0b9d-4c8e-a1f2-3b4c5d6e7f80", duplicate: false });
    expect(again.duplicate).toBe(true);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
    const audit = await listAudit(dynamo.docClient, table, {});
    const record = audit.find((r) => r.detectorId === "ec2-open-ingress");
    expect(record?.outcome).toBe("applied");
    expect(record?.results?.[0]?.undo).toMatchObject({ groupId: "sg-0632fa4ee8a8468a4" });
  });

  it("records and alerts a permanent failure, then fails the invocation (and its retries) so the event is dead-lettered", async () => {
    setPolicy({ dryRun: false });
    ec2.reset();
    ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups());
    ec2
      .on(RevokeSecurityGroupIngressCommand)
      .rejects(Object.assign(new Error("not authorized"), { name: "UnauthorizedOperation" }));
    const open = event("ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json");
    const fresh = {
      ...open,
      detail: { ...(open.detail as Record<string, unknown>), eventID: "permanent-failure-event" },
    };
    await expect(handler(fresh, context)).rejects.toThrow(/PermanentFailure|UnauthorizedOperation/);
    await expect(handler(fresh, context)).rejects.toThrow(/already handled: .*UnauthorizedOperation/);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
    const audit = await listAudit(dynamo.docClient, table, {});
    expect(audit.find((r) => r.eventId === "ct:776520358045:us-east-1:permanent-failure-event")?.outcome).toBe(
      "failed",
    );
  });

  it("starts the approval workflow for an approve-mode grant, named after the assessment", async () => {
    setPolicy({ dryRun: false, approvals: { approvers: { emails: ["oncall@example.com"] } } });
    const result = await handler(event("ct-10-eks-associate-access-policy-cluster-admin.json"), context);
    expect(result.outcome).toBe("pending-approval");
    const input = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(input?.name).toMatch(/^asm-[0-9a-f]{20}$/);
    const body = JSON.parse(input?.input ?? "{}") as {
      plan: { operation: string }[];
      approvers: { emails: string[] };
      timeoutSeconds: number;
    };
    expect(body.plan.map((p) => p.operation)).toEqual(["DisassociateAccessPolicy"]);
    expect(body.approvers.emails).toEqual(["oncall@example.com"]);
    expect(body.timeoutSeconds).toBe(3600);
  });

  it("acts on nothing while the kill switch is on, and treats an unreadable kill switch as on", async () => {
    setPolicy({ dryRun: false }, "on");
    const gd = event("ct-02-ec2-authorize-sg-ingress-ipv4-ipv6-open.json");
    expect((await handler(gd, context)).outcome).toBe("alert");
    resetRuntime();
    ssm.reset();
    ssm
      .on(GetParameterCommand, { Name: "/eks-responder/policy" })
      .resolves({ Parameter: { Value: JSON.stringify({ dryRun: false }) } });
    ssm
      .on(GetParameterCommand, { Name: "/eks-responder/kill-switch" })
      .rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
    // One name the function may not read fails GetParameters whole (AccessDeniedException): the policy and the kill
    // switch are then read one at a time, and the unreadable switch counts as on.
    ssm.on(GetParametersCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
    const other = { ...gd, detail: { ...(gd.detail as Record<string, unknown>), eventID: "another-event-id" } };
    expect((await handler(other, context)).outcome).toBe("alert");
    expect(ec2.calls()).toHaveLength(0);
  });

  it("reads the kill switch fresh in a warm container: turned on after an event, it stops the very next one", async () => {
    // prepare: a first event acted on with the switch off (the container is now warm, its parameters read)
    setPolicy({ dryRun: false }, "off");
    const open = event("ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json");
    const fresh = (id: string) => ({ ...open, detail: { ...(open.detail as Record<string, unknown>), eventID: id } });
    expect((await handler(fresh("warm-1"), context)).outcome).toBe("applied");
    // act: the operator turns the switch on; no cache may hide it, not even for a second
    ssm.on(GetParameterCommand, { Name: "/eks-responder/kill-switch" }).resolves({ Parameter: { Value: "on" } });
    const second = await handler(fresh("warm-2"), context);
    // assess
    expect(second.outcome).toBe("alert");
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
    // assess: read with the policy for the first event (the policy was not cached yet), alone for the second
    expect(killSwitchReads()).toBe(2);
    expect(ssm.commandCalls(GetParametersCommand)).toHaveLength(1);
  });

  it("refuses to run without a kill switch setting: a configuration error, never 'no switch'", async () => {
    setPolicy({ dryRun: false });
    delete process.env.KILL_SWITCH_PARAMETER_NAME;
    resetRuntime();
    await expect(handler(event("ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"), context)).rejects.toThrow(
      /KILL_SWITCH_PARAMETER_NAME is not set/,
    );
    expect(ec2.calls()).toHaveLength(0);
  });

  it("fails a delivery while a dead invocation's claim holds, then takes the event over once the claim expires", async () => {
    // prepare: an invocation claimed the event and died (no release, no completion); its claim holds 90 s. Earlier
    // tests of this file revoke the same rule of the same group (ct-01) in the same table: not flapping here.
    setPolicy({ dryRun: false, limits: { flapping: { revocations: 100 } } });
    const open = event("ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json");
    const died = { ...open, detail: { ...(open.detail as Record<string, unknown>), eventID: "died-holding-claim" } };
    const key = idempotencyKey(parseEvent(died));
    if (!key) throw new Error("the event must have a key");
    const dead = idempotencyStore(dynamo.docClient, table);
    const claimedAt = new Date(Date.now() - 30_000);
    await dead.claim(key, { now: claimedAt, inProgressTtlSeconds: 90, recordTtlSeconds: 86_400 });

    // act + assess: Lambda's first retry, a minute after the failure, finds the claim held: it fails, to come back
    await expect(handler(died, context)).rejects.toThrow(/is being handled by another invocation/);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);

    // prepare: the same dead claim, now older than the function can run (its holder cannot be alive)
    await dynamo.docClient.send(
      new DeleteCommand({ TableName: table, Key: { pk: `IDEM#${keyPartOf(key)}`, sk: "IDEM" } }),
    );
    await dead.claim(key, { now: new Date(Date.now() - 200_000), inProgressTtlSeconds: 90, recordTtlSeconds: 86_400 });

    // act: the next retry takes it over
    const result = await handler(died, context);

    // assess: acted on once, recorded once, under the first claim's time
    expect(result.outcome).toBe("applied");
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
    const records = (await listAudit(dynamo.docClient, table, {})).filter((r) => r.eventId === key);
    expect(records).toHaveLength(1);
    expect(records[0]?.reasons.join("\n")).toMatch(/claim 2 of this event: an earlier invocation did not finish/);
  });

  it("asks for approval instead once the account's blast-radius limit is used up", async () => {
    setPolicy({ dryRun: false, limits: { automaticActionsPerAccount: 0 } });
    const open = event("ct-02-ec2-authorize-sg-ingress-ipv4-ipv6-open.json");
    const fresh = { ...open, detail: { ...(open.detail as Record<string, unknown>), eventID: "blast-radius-event" } };
    const result = await handler(fresh, context);
    expect(result.outcome).toBe("pending-approval");
    // Nothing changed: only the group's tags were read, while the slot was being refused.
    expect(ec2.calls().map((c) => c.args[0].constructor.name)).toEqual(["DescribeSecurityGroupsCommand"]);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it("pauses only the accounts the kill switch lists: the event's account paused is an alert, another account runs", async () => {
    // Events of account 776520358045 (ct-01's), each on a group of its own (no other test's flapping counters).
    setPolicy({ dryRun: false }, "444455556666, 776520358045");
    const paused = await handler(withId("paused-account-event"), context);
    resetRuntime();
    setPolicy({ dryRun: false }, "444455556666");
    const running = await handler(withId("running-account-event"), context);

    expect(paused.outcome).toBe("alert");
    expect(running.outcome).toBe("applied");
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
  });

  it("takes the account's limit from the scope that applies, and the total of all accounts as a second counter", async () => {
    const scoped = { name: "tight", accounts: ["776520358045"], limits: { automaticActionsPerAccount: 0 } };
    // prepare: a global limit of 20, but a scope of the event's account allows none
    setPolicy({ dryRun: false, scopes: [scoped] });
    const byScope = await handler(withId("scoped-limit-event"), context);
    // prepare: the account may, but all accounts together may not
    resetRuntime();
    setPolicy({ dryRun: false, limits: { automaticActionsTotal: 0 } });
    const byTotal = await handler(withId("total-limit-event"), context);

    expect(byScope.outcome).toBe("pending-approval");
    expect(byTotal.outcome).toBe("pending-approval");
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
    const total = await dynamo.docClient.send(
      new GetCommand({ TableName: table, Key: { pk: `LIMIT#${keyPartOf("*")}`, sk: "LIMIT" }, ConsistentRead: true }),
    );
    // A limit of 0 refuses before any write: the total's counter was read, never written.
    expect(total.Item).toBeUndefined();
    const audit = await listAudit(dynamo.docClient, table, {});
    const reasons = audit.flatMap((r) => r.reasons);
    expect(reasons.some((r) => r.includes("reached for all accounts together"))).toBe(true);
    expect(reasons.some((r) => r.includes("0 automatic actions per 600 s reached for account 776520358045"))).toBe(
      true,
    );
  });

  it("refuses to run with an invalid policy: the event goes back to its retry policy, nothing is acted on", async () => {
    setPolicy({ dryRun: "no" });
    await expect(handler(event("ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"), context)).rejects.toThrow(
      /dryRun: expected boolean/,
    );
    expect(ec2.calls()).toHaveLength(0);
  });

  it("fails at the first invocation, naming the variable, when the environment is incomplete", async () => {
    delete process.env.TABLE_NAME;
    resetRuntime();
    await expect(handler(event("gd-06-policy-k8s-anonymous-access-granted.json"), context)).rejects.toThrow(
      /TABLE_NAME is not set/,
    );
  });

  it("posts the first alert of a second to Slack through the webhook in SSM, and sends the next one to the digest", async () => {
    const slack = await startSlackServer([{ status: 200, body: "ok" }]);
    try {
      setPolicy({ dryRun: true, notify: { routes: [{ name: "sec", slack: { channel: "#sec" } }] } });
      ssm
        .on(GetParameterCommand, { Name: "/eks-responder/slack-webhook", WithDecryption: true })
        .resolves({ Parameter: { Value: `${slack.url}/hook` } });
      process.env.SLACK_WEBHOOK_PARAMETER_NAME = "/eks-responder/slack-webhook";
      resetRuntime();
      const open = event("ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json");
      const fresh = (id: string) => ({ ...open, detail: { ...(open.detail as Record<string, unknown>), eventID: id } });
      // Two alerts, most often in the same second: the second finds the channel's slot taken and goes to the digest.
      const results = [await handler(fresh("slack-first"), context), await handler(fresh("slack-second"), context)];
      expect(results.map((r) => r.outcome)).toEqual(["dry-run", "dry-run"]);
      expect(slack.requests.length).toBeGreaterThanOrEqual(1);
      const first = JSON.parse(slack.requests[0]?.body ?? "{}") as { text?: string };
      expect(first.text).toContain("sg-0632fa4ee8a8468a4");
      expect(slack.requests[0]?.url).toBe("/hook");
      const { listPendingDigests } = await import("../../../packages/core/src/notify/digest.ts");
      const pending = await listPendingDigests(dynamo.docClient, table, { now: new Date(Date.now() + 120_000) });
      const deferred = pending.filter((p) => p.channel === "#sec").flatMap((p) => p.lines);
      // Every alert either posted or held for the digest: none lost, none twice.
      expect(slack.requests.length + deferred.length).toBe(2);
    } finally {
      await slack.stop();
    }
  });
});
