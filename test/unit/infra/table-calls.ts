/**
 * The table calls each function's code makes, produced by running the real store code (packages/core/src/store/*,
 * guardrails/blast-radius.ts, notify/digest.ts) against a recording client, so the IAM tests check the keys those
 * builders write rather than copies of their strings. Each case follows what the handler in packages/functions/src
 * calls: respond.ts (idempotency, blast radius, audit, the Slack gate and digest), approval-tasks.ts (request:
 * approvals put; record: audit put), approval-callback.handler.ts (approvals get and mark used), digest.handler.ts
 * (the flush), and the CLI's `rollback --table` and `audit --table` for the rollback role.
 */
import type { FunctionId } from "../../../infra/naming.ts";
import type { ApprovalRecord } from "../../../packages/core/src/approval/links.ts";
import { takeAutomaticSlot, windowStartOf } from "../../../packages/core/src/guardrails/blast-radius.ts";
import { readGroupCounters, takeRevocation } from "../../../packages/core/src/guardrails/flapping.ts";
import { markRestored, restoredRule } from "../../../packages/core/src/guardrails/restored.ts";
import { parsePolicy, processEvent } from "../../../packages/core/src/index.ts";
import { appendToDigest, flushDigests, takeSlackSlot } from "../../../packages/core/src/notify/digest.ts";
import { dynamoApprovalStore } from "../../../packages/core/src/store/approvals.ts";
import { type AuditEntry, getAudit, listAudit, recordAudit } from "../../../packages/core/src/store/audit.ts";
import { findingResponseStore } from "../../../packages/core/src/store/finding-responses.ts";
import { idempotencyStore } from "../../../packages/core/src/store/idempotency.ts";
import { fixtureText, must } from "../../helpers/fixtures.ts";
import { recordingDynamo, type TableCall } from "../../helpers/recording-dynamo.ts";

const TABLE = "eks-responder-prod";
const NOW = new Date("2025-06-15T10:51:12.000Z");
const ACCOUNT = "111122223333";
/** One rule of one group, as the rule guards key it (guardrails/rule-targets.ts). */
const RULE = {
  account: ACCOUNT,
  region: "eu-west-1",
  groupId: "sg-0632fa4ee8a8468a4",
  fingerprints: ["tcp|22|22|0.0.0.0/0"],
};

function sample() {
  const policy = parsePolicy({ dryRun: false, detectors: { "ec2-open-ingress": { mode: "approve" } } });
  const result = processEvent(fixtureText("hostile/useragent-control-chars-slack-injection.json"), policy, {
    forceDryRun: false,
  });
  const assessment = must(result.assessments[0], "assessment");
  const decision = must(result.decisions[0], "decision");
  const approval: ApprovalRecord = { approvalId: "apr-0123456789abcdef", taskToken: "token", assessment, decision };
  const audit: AuditEntry = {
    assessmentId: assessment.id,
    eventId: "ct:event-1",
    detectorId: assessment.detectorId,
    cluster: "prod-eks",
    account: ACCOUNT,
    region: "eu-west-1",
    severity: assessment.severity,
    mode: "approve",
    outcome: "pending-approval",
    reasons: ["approval requested"],
    plan: [],
    recordedAt: NOW.toISOString(),
  };
  return { approval, audit };
}

/** The blast-radius counter item of the current window, as blast-radius.ts writes it (so the next slot is an ADD). */
function currentCounter(): Record<string, unknown> {
  return {
    windowStart: windowStartOf(NOW, 600),
    windowSeconds: 600,
    count: 1,
    previousCount: 0,
    olderCount: 0,
    version: "3f0c1a2b-0000-4000-8000-000000000000",
  };
}

/** A table where every audit key is taken by another record: recordAudit reads what is there before moving on. */
function auditKeyTaken() {
  return recordingDynamo({
    "dynamodb:PutItem": () => {
      throw Object.assign(new Error("condition"), { name: "ConditionalCheckFailedException" });
    },
    "dynamodb:GetItem": (input) => ({ Item: { pk: input.Key?.pk, sk: input.Key?.sk, eventId: "another event" } }),
  });
}

async function respond(): Promise<TableCall[]> {
  const { audit } = sample();
  const first = recordingDynamo();
  const store = idempotencyStore(first.client, TABLE);
  const ttl = { inProgressTtlSeconds: 120, recordTtlSeconds: 86_400 };
  await store.claim("ct:event-1", ttl);
  await store.complete("ct:event-1", { outcome: "skipped", reason: "benign", decisions: [], plannedCalls: 0 });
  await store.get("ct:event-1");
  await store.claim("ct:event-2", ttl);
  await store.checkpoint("ct:event-2", '{"version":1,"done":[],"partial":[]}');
  await store.release("ct:event-2");
  // A record past its TTL: the takeover's condition fails, and a fresh item is put.
  const expired = recordingDynamo({
    "dynamodb:UpdateItem": () => {
      throw Object.assign(new Error("condition"), { name: "ConditionalCheckFailedException" });
    },
  });
  await idempotencyStore(expired.client, TABLE).claim("ct:event-3", ttl);
  // A new counter (GetItem, then PutItem), and a slot in the current window (GetItem, then UpdateItem ADD).
  await takeAutomaticSlot(first.client, TABLE, { account: ACCOUNT, limit: 20, windowSeconds: 600, now: NOW });
  const counted = recordingDynamo({ "dynamodb:GetItem": () => ({ Item: currentCounter() }) });
  await takeAutomaticSlot(counted.client, TABLE, { account: ACCOUNT, limit: 20, windowSeconds: 600, now: NOW });
  // The rule guards (guardrails/rule-guards.ts): the group's flapping counters read ahead (Query), the rollback marker
  // read, a revocation counted (GetItem, PutItem).
  await readGroupCounters(first.client, TABLE, RULE);
  await restoredRule(first.client, TABLE, RULE, { holdSeconds: 86_400, now: NOW });
  await takeRevocation(first.client, TABLE, RULE, {
    eventKey: "ct:event-1",
    actor: "arn:aws:sts::111122223333:assumed-role/terraform/ci",
    limit: 3,
    windowSeconds: 3600,
    now: NOW,
  });
  await recordAudit(first.client, TABLE, audit);
  // A GuardDuty finding's response: read before acting on it, written once it is answered.
  const findings = findingResponseStore(first.client, TABLE);
  await findings.get(ACCOUNT, "eu-west-1", "a8b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5", NOW);
  await findings.put(
    {
      account: ACCOUNT,
      region: "eu-west-1",
      findingId: "a8b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5",
      assessmentId: audit.assessmentId,
      how: "applied",
      severity: 8,
      resources: ["instance:i-0abcdef1234567890"],
      at: NOW.toISOString(),
    },
    NOW,
  );
  // The same record again (an invocation resuming one that died after recording): its key is taken, and read.
  const taken = auditKeyTaken();
  await recordAudit(taken.client, TABLE, audit).catch(() => undefined);
  // notify with the digest (runtime.ts notifier, slackDigest): the gate, and a refused message's digest line.
  await takeSlackSlot(first.client, TABLE, { channel: "#security-alerts", now: NOW });
  await appendToDigest(first.client, TABLE, { channel: "#security-alerts", line: "*HIGH* · alert", now: NOW });
  return [...first.calls, ...expired.calls, ...counted.calls, ...taken.calls];
}

/** One pending item of a window long ended, in the partition the flush queried, as appendToDigest writes it. */
function pendingPage(pk: unknown) {
  return {
    Items: [
      {
        pk,
        sk: "P#1750000000#k:#security-alerts#0000",
        channel: "#security-alerts",
        window: 1_750_000_000,
        lines: ["*HIGH* · alert"],
        firstAt: 1_750_000_000,
      },
    ],
  };
}

async function digest(): Promise<TableCall[]> {
  let served = false;
  const recording = recordingDynamo({
    "dynamodb:Query": (input) => {
      const out = served ? { Items: [] } : pendingPage(input.ExpressionAttributeValues?.[":pk"]);
      served = true;
      return out;
    },
  });
  await flushDigests(recording.client, TABLE, { post: async () => undefined, now: NOW, sleep: async () => undefined });
  // A line appended while the flush posted: the delete is refused (its size condition), the cursor moves instead.
  served = false;
  const appended = recordingDynamo({
    "dynamodb:Query": (input) => {
      const out = served ? { Items: [] } : pendingPage(input.ExpressionAttributeValues?.[":pk"]);
      served = true;
      return out;
    },
    "dynamodb:DeleteItem": (input) => {
      if (input.Key?.pk === "DIGEST")
        throw Object.assign(new Error("size changed"), { name: "ConditionalCheckFailedException" });
      return {};
    },
  });
  await flushDigests(appended.client, TABLE, { post: async () => undefined, now: NOW, sleep: async () => undefined });
  return [...recording.calls, ...appended.calls];
}

/** Every table call of one function's code. */
export async function tableCallsOf(id: FunctionId): Promise<TableCall[]> {
  const { approval, audit } = sample();
  const recording = recordingDynamo();
  switch (id) {
    case "respond":
      return respond();
    case "approval-request":
      await dynamoApprovalStore(recording.client, TABLE).put(approval);
      return recording.calls;
    case "approval-callback": {
      const store = dynamoApprovalStore(recording.client, TABLE);
      await store.get(approval.approvalId);
      await store.markUsed(approval.approvalId, "nonce-1");
      return recording.calls;
    }
    case "approval-record": {
      await recordAudit(recording.client, TABLE, audit);
      const taken = auditKeyTaken();
      await recordAudit(taken.client, TABLE, audit).catch(() => undefined);
      return [...recording.calls, ...taken.calls];
    }
    case "digest":
      return digest();
    case "approval-apply":
    case "approval-notify":
      return [];
  }
}

/** What `eks-responder rollback --table` and `audit --table` send, with the operator's rollback role. */
export async function rollbackCliTableCalls(): Promise<TableCall[]> {
  const { audit } = sample();
  const recording = recordingDynamo();
  await getAudit(recording.client, TABLE, audit.assessmentId);
  // The marker of each rule put back, before the rollback's call (guardrails/restored.ts).
  await markRestored(recording.client, TABLE, RULE, {
    outcomeId: audit.assessmentId,
    by: "eks-responder rollback",
    now: NOW,
  });
  await recordAudit(recording.client, TABLE, { ...audit, reasons: ["rolled back with eks-responder rollback"] });
  // A rollback record whose key is taken: the record there is read (the same one is kept once).
  const taken = auditKeyTaken();
  await recordAudit(taken.client, TABLE, audit).catch(() => undefined);
  await listAudit(recording.client, TABLE, { limit: 10 });
  await listAudit(recording.client, TABLE, { cluster: "prod-eks", limit: 10 });
  return [...recording.calls, ...taken.calls];
}
