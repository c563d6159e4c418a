// Deep imports, not the package index (see runtime.ts).
import { takeAutomaticSlot } from "@eks-responder/core/guardrails/blast-radius.ts";
import { createKillSwitch } from "@eks-responder/core/guardrails/kill-switch.ts";
import { fitCheckpoint, type RespondResult, respond } from "@eks-responder/core/pipeline/respond.ts";
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
import { logger, type Runtime, sleep } from "./runtime.ts";

/** How long duplicates are recognised: GuardDuty repeats and EventBridge redeliveries fall well within a day. */
const RECORD_TTL_SECONDS = 24 * 3600;
/** The function's timeout (infra/naming.ts), for a caller without a Lambda context. */
const DEFAULT_REMAINING_MS = 60_000;

/** The kill switch, read from SSM past every cache; unreadable, missing or unknown values count as on. */
function killSwitchFor(rt: Runtime): () => Promise<boolean> {
  const name = rt.killSwitchParameter();
  return createKillSwitch(() => rt.freshParameter(name), {
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
  const killSwitch = killSwitchFor(rt);
  const policy = await rt.policy();
  const table = rt.config.tableName;
  const dynamo = await rt.dynamo();
  const store = idempotencyStore(dynamo, table);
  const findings = findingResponseStore(dynamo, table);
  const tokens = new Map<string, string>();
  const stateMachineArn = rt.config.stateMachineArn;
  const result = await respond(event, {
    policy,
    clients: (region) => rt.clients(region),
    sleep,
    async claim(key) {
      const claim = await store.claim(key, {
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
      await store.checkpoint(key, fitCheckpoint(progress, MAX_PROGRESS_BYTES), tokens.get(key));
    },
    async complete(key, r) {
      await store.complete(key, r, tokens.get(key));
    },
    async release(key) {
      await store.release(key, tokens.get(key));
    },
    killSwitch,
    findingResponses: {
      get: (account, region, findingId) => findings.get(account, region, findingId),
      put: (response) => findings.put(response),
    },
    takeAutomaticSlot: (account) =>
      takeAutomaticSlot(dynamo, table, {
        account,
        limit: policy.limits.automaticActionsPerAccount,
        windowSeconds: policy.limits.windowSeconds,
      }),
    ...(stateMachineArn
      ? {
          async startApproval({ assessment, decision }) {
            const { SFNClient, StartExecutionCommand } = await import("@aws-sdk/client-sfn");
            const sfn = new SFNClient({});
            const { approvalExecutionInput } = await import("@eks-responder/core/approval/execution-input.ts");
            // One builder and one contract for this seam (core approval/contract.ts), kept under the quota.
            const input = approvalExecutionInput({
              assessment,
              decision,
              approvers: policy.approvals.approvers,
              timeoutSeconds: policy.approvals.timeoutSeconds,
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
      for (const entry of toAuditEntries(r, at)) await recordAudit(dynamo, table, entry);
    },
    async notify(r) {
      if (r.outcome === "skipped") return;
      // Created here, not up front: the Slack secrets are read (and the SNS client loaded) only for an event that
      // notifies. Under a burst, Slack messages beyond one per second per channel go to the minute's digest.
      const notifier = await rt.notifier(policy, { digest: true });
      await notifier.notify(r);
    },
  });
  if (result.notifyError)
    logger.error(NOTIFICATION_FAILED_MESSAGE, { error: result.notifyError, eventId: result.eventId });
  // A permanent failure was recorded and alerted; failing the invocation as well sends the event to the dead-letter
  // queue with its error after the async retries (which find it already handled and fail again, changing nothing).
  const failed =
    result.outcome === "failed"
      ? result.reason
      : result.duplicate && result.signal
        ? await previousFailure(store, result.signal.key)
        : undefined;
  if (failed !== undefined) throw new PermanentFailureError(`${result.eventId ?? "event"}: ${failed}`);
  return result;
}

/** Thrown after a permanent failure has been recorded and alerted, so the event ends in the dead-letter queue. */
export class PermanentFailureError extends Error {
  override name = "PermanentFailureError";
}

async function previousFailure(store: ReturnType<typeof idempotencyStore>, key: string): Promise<string | undefined> {
  const record = await store.get(key);
  return record?.result?.outcome === "failed" ? `already handled: ${record.result.reason}` : undefined;
}
