// Deep imports, not the package index (see runtime.ts).
import { ALL_ACCOUNTS, readCounter, takeAutomaticSlot } from "@eks-responder/core/guardrails/blast-radius.ts";
import { createKillSwitch } from "@eks-responder/core/guardrails/kill-switch.ts";
import { ruleGuardReads, ruleGuards } from "@eks-responder/core/guardrails/rule-guards.ts";
import { remediationMs } from "@eks-responder/core/metrics/time-to-remediate.ts";
import { fitCheckpoint } from "@eks-responder/core/pipeline/checkpoint.ts";
import { type RespondResult, respond } from "@eks-responder/core/pipeline/respond.ts";
import type { Policy } from "@eks-responder/core/policy/schema.ts";
import { scopedSettings } from "@eks-responder/core/policy/scopes.ts";
import { recordAudit } from "@eks-responder/core/store/audit.ts";
import { toAuditEntries } from "@eks-responder/core/store/audit-entries.ts";
import { findingResponseStore } from "@eks-responder/core/store/finding-responses.ts";
import {
  claimAnswer,
  claimTtlSeconds,
  idempotencyStore,
  MAX_PROGRESS_BYTES,
} from "@eks-responder/core/store/idempotency.ts";
import { NOTIFICATION_FAILED_MESSAGE } from "./config.ts";
import { metrics } from "./metrics.ts";
import { logger, type Runtime, sleep } from "./runtime.ts";

/** How long duplicates are recognised: GuardDuty repeats and EventBridge redeliveries fall well within a day. */
const RECORD_TTL_SECONDS = 24 * 3600;
/** The function's timeout (infra/naming.ts), for a caller without a Lambda context. */
const DEFAULT_REMAINING_MS = 60_000;

/**
 * The kill switch, read from SSM past every cache; unreadable, missing or unknown values count as on. `withPolicy` is
 * the value read with the policy in this invocation's GetParameters, when the policy was not cached: read now, so
 * fresh; otherwise the switch is read on its own.
 */
function killSwitchFor(
  rt: Runtime,
  withPolicy: Promise<{ killSwitch?: { value: string | undefined } }>,
): () => Promise<boolean> {
  const name = rt.killSwitchParameter();
  return createKillSwitch(async () => (await withPolicy).killSwitch?.value ?? rt.freshParameter(name), {
    cacheMs: 0,
    onError: (error) => logger.error("kill switch unreadable or unknown: acting as if it were on", { error }),
  });
}

/** The respond path with its ports wired to AWS: DynamoDB idempotency and audit, Step Functions, SNS and Slack. */
export async function handleEvent(
  event: unknown,
  rt: Runtime,
  lambda: { getRemainingTimeInMillis(): number } = { getRemainingTimeInMillis: () => DEFAULT_REMAINING_MS },
): Promise<RespondResult> {
  rt.killSwitchParameter(); // a function without its kill switch setting refuses to run, before any read
  countReceived(event);
  // The policy (and with it the kill switch) is read while the DynamoDB client loads and the event is claimed.
  const settings = rt.respondSettings();
  const killSwitch = killSwitchFor(rt, settings);
  // Assigned once the policy is read, before respond calls any port below that reads it.
  let policy: Policy;
  const policyRead = settings.then((s) => {
    policy = s.policy;
    return s.policy;
  });
  const table = rt.config.tableName;
  const dynamo = rt.dynamo();
  const store = dynamo.then((client) => idempotencyStore(client, table));
  const findings = dynamo.then((client) => findingResponseStore(client, table));
  const tokens = new Map<string, string>();
  const counters = new Map<string, Promise<Record<string, unknown> | undefined>>();
  const guardReads = ruleGuardReads(dynamo, table);
  const stateMachineArn = rt.config.stateMachineArn;
  const result = await respond(event, {
    policy: policyRead,
    clients: (region, target) => rt.clients(region, target),
    kubernetes: (region, target) => rt.kubernetes(region, target),
    sleep,
    auditTable: table,
    async claim(key) {
      const claim = await (await store).claim(key, {
        inProgressTtlSeconds: claimTtlSeconds(lambda.getRemainingTimeInMillis()),
        recordTtlSeconds: RECORD_TTL_SECONDS,
      });
      if (claim.claimed) tokens.set(key, claim.token);
      return claimAnswer(claim, () =>
        logger.error("checkpoint unreadable: handling the event from the start", {
          key,
          attempt: claim.claimed && claim.attempt,
        }),
      );
    },
    async checkpoint(key, progress) {
      await (await store).checkpoint(key, fitCheckpoint(progress, MAX_PROGRESS_BYTES), tokens.get(key));
    },
    async complete(key, r) {
      await (await store).complete(key, r, tokens.get(key));
    },
    async release(key) {
      await (await store).release(key, tokens.get(key));
    },
    killSwitch,
    findingResponses: {
      get: async (account, region, findingId) => (await findings).get(account, region, findingId),
      put: async (response) => (await findings).put(response),
    },
    prepareSlot(account) {
      if (counters.has(account)) return;
      const read = dynamo.then((client) => readCounter(client, table, account));
      read.catch(() => {}); // a failed read is read again by takeAutomaticSlot's first attempt
      counters.set(account, read);
    },
    async takeAutomaticSlot(account, region) {
      // The counter read ahead serves one slot: the next one reads what this one wrote.
      const ahead = counters.get(account);
      counters.delete(account);
      const client = await dynamo;
      const read = ahead?.catch(() => readCounter(client, table, account));
      const { windowSeconds, automaticActionsTotal } = policy.limits;
      // The account's limit as its scopes set it (policy/scopes.ts), then the total of all accounts, when set.
      const slot = await takeAutomaticSlot(client, table, {
        account,
        limit: scopedSettings(policy, account, region).automaticActionsPerAccount,
        windowSeconds,
        ...(read ? { read } : {}),
      });
      if (!slot.allowed || automaticActionsTotal === undefined) return slot;
      return takeAutomaticSlot(client, table, { account: ALL_ACCOUNTS, limit: automaticActionsTotal, windowSeconds });
    },
    // The flapping counters of the event's group, read with the claim: the count is then one write, sent with the slot.
    prepareHoldBack: (signal) => guardReads.prepare(signal),
    // Rules a rollback put back, and rules re-added again and again: alerted on, not revoked (the table's markers).
    async holdBack(assessment, decision, signal) {
      return ruleGuards(await dynamo, table, policy, { reads: guardReads })(assessment, decision, signal);
    },
    ...(stateMachineArn
      ? {
          async startApproval({ assessment, decision, eventTime }) {
            const { SFNClient, StartExecutionCommand } = await import("@eks-responder/core/aws/sfn.ts");
            const sfn = new SFNClient({});
            const { approvalExecutionInput } = await import("@eks-responder/core/approval/execution-input.ts");
            // One builder and one contract for this seam (core approval/contract.ts), kept under the quota.
            const input = approvalExecutionInput({
              assessment,
              decision,
              approvers: policy.approvals.approvers,
              timeoutSeconds: policy.approvals.timeoutSeconds,
              ...(eventTime ? { eventTime } : {}),
              requestedAt: new Date().toISOString(),
            });
            // The execution name is the assessment id: a redelivered event cannot start a second approval.
            const out = await sfn.send(
              new StartExecutionCommand({ stateMachineArn, name: assessment.id, input: JSON.stringify(input) }),
            );
            return { executionArn: out.executionArn ?? "" };
          },
        }
      : {}),
    async record(r) {
      logger.info("outcome", {
        eventId: r.eventId,
        outcome: r.outcome,
        reason: r.reason,
        decisions: r.decisions.length,
      });
      // Under the first claim's time: an invocation resuming after another died overwrites the same items.
      const at = r.recordedAt ? new Date(r.recordedAt) : new Date();
      const client = await dynamo;
      // appliedAt is now, after the actions ran, even when recordedAt is an earlier invocation's claim time.
      for (const entry of toAuditEntries(r, at, new Date())) await recordAudit(client, table, entry);
    },
    async notify(r) {
      if (r.outcome === "skipped") return;
      // Created here, not up front: the Slack secrets are read (and the SNS client loaded) only for an event that
      // notifies. Under a burst, Slack messages beyond one per second per channel go to the minute's digest.
      const notifier = await rt.notifier(policy, { digest: true });
      await notifier.notify(r);
    },
  });
  if (!result.duplicate) countOutcomes(result);
  if (result.notifyError)
    logger.error(NOTIFICATION_FAILED_MESSAGE, { error: result.notifyError, eventId: result.eventId });
  // A permanent failure was recorded and alerted; failing the invocation as well sends the event to the dead-letter
  // queue with its error after the async retries (which find it already handled and fail again, changing nothing).
  // The claim's answer already says how a duplicate's first delivery ended: no second read of the record.
  const failed =
    result.outcome === "failed"
      ? result.reason
      : result.duplicate && result.previous?.outcome === "failed"
        ? `already handled: ${result.previous.reason}`
        : undefined;
  if (failed !== undefined) throw new PermanentFailureError(`${result.eventId ?? "event"}: ${failed}`);
  return result;
}

/** The sources and detail-types the rules deliver; anything else is counted as `other` (no dimension value from input). */
const SOURCES = ["aws.ec2", "aws.eks", "aws.guardduty"];
const DETAIL_TYPES = ["AWS API Call via CloudTrail", "GuardDuty Finding"];

function known(value: unknown, values: readonly string[]): string {
  return typeof value === "string" && values.includes(value) ? value : "other";
}

/** EventsReceived: every delivery, malformed ones included, by source and detail-type. */
function countReceived(event: unknown): void {
  const e = (event !== null && typeof event === "object" ? event : {}) as Record<string, unknown>;
  const detail = (e.detail !== null && typeof e.detail === "object" ? e.detail : {}) as Record<string, unknown>;
  const name = detail.eventName ?? detail.type;
  metrics.add(
    "eventsReceived",
    1,
    { source: known(e.source, SOURCES), detailType: known(e["detail-type"], DETAIL_TYPES) },
    {
      ...(typeof e.id === "string" ? { eventId: e.id.slice(0, 128) } : {}),
      ...(typeof e.account === "string" ? { account: e.account.slice(0, 32) } : {}),
      ...(typeof e.region === "string" ? { region: e.region.slice(0, 32) } : {}),
      ...(typeof name === "string" ? { type: name.slice(0, 128) } : {}),
    },
  );
}

/**
 * Outcomes and TimeToRemediate, one per decision as the audit records it (the same entries, and the same
 * time-to-remediate as `eks-responder report` reads from them). Not for a duplicate: its first delivery counted it.
 */
function countOutcomes(result: RespondResult): void {
  const now = new Date();
  for (const entry of toAuditEntries(result, result.recordedAt ? new Date(result.recordedAt) : now, now)) {
    const metadata = {
      account: entry.account,
      region: entry.region,
      assessmentId: entry.assessmentId,
      ...(entry.cluster ? { cluster: entry.cluster } : {}),
    };
    metrics.add("outcomes", 1, { detector: entry.detectorId, outcome: entry.outcome }, metadata);
    const ms = remediationMs(entry);
    if (ms !== undefined) metrics.add("timeToRemediate", ms, { detector: entry.detectorId }, metadata);
  }
}

/** Thrown after a permanent failure has been recorded and alerted, so the event ends in the dead-letter queue. */
export class PermanentFailureError extends Error {
  override name = "PermanentFailureError";
}
