/**
 * Rules put back by `eks-responder rollback`: before it re-authorizes a revoked rule, the rollback writes one marker
 * per rule (pk `RESTORED#<account/region/group>`, sk `RULE#<fingerprint>`, rule-targets.ts). The re-add's own
 * CloudTrail event (AuthorizeSecurityGroupIngress, by the operator or the rollback role) then reaches the respond path,
 * which reads the marker before acting: while the hold lasts (policy `limits.restoredHoldSeconds` from the rollback)
 * the same rule on the same group is an alert, not revoked again. A different rule, or the same rule on another group,
 * is a change: handled as usual.
 *
 * Written before the rollback's call, so the event can never arrive before its marker; a rollback that then fails
 * leaves a marker for a rule that is not there, which only makes a new opening of that very rule an alert for the
 * hold. Hand-written: a few conditional-free items of this project's single table.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { documentCommands } from "../store/document-commands.ts";
import { epochSeconds, TTL_ATTRIBUTE } from "../store/table.ts";
import { describeFingerprint, type RuleTarget, ruleKey } from "./rule-targets.ts";

/** The longest hold the policy allows (30 days): the marker expires then, whatever the policy says later. */
const MAX_HOLD_SECONDS = 30 * 86_400;

export interface RestoredMark {
  fingerprint: string;
  restoredAt: string;
  /** The outcome (assessment id) that was rolled back. */
  outcomeId: string;
  by: string;
}

/** Records that the rules of `target` are being put back by the rollback of `outcomeId`. */
export async function markRestored(
  client: DynamoDBDocumentClient,
  table: string,
  target: RuleTarget,
  mark: { outcomeId: string; by: string; now?: Date },
): Promise<void> {
  const { PutCommand } = await documentCommands();
  const now = mark.now ?? new Date();
  for (const fingerprint of target.fingerprints) {
    await client.send(
      new PutCommand({
        TableName: table,
        Item: {
          ...ruleKey("RESTORED", target, fingerprint),
          fingerprint,
          groupId: target.groupId,
          restoredAt: now.toISOString(),
          outcomeId: mark.outcomeId,
          by: mark.by,
          [TTL_ATTRIBUTE]: epochSeconds(now) + MAX_HOLD_SECONDS,
        },
      }),
    );
  }
}

/**
 * The first rule of `target` still held after a rollback, or undefined. A marker that cannot be read (a field of the
 * wrong type) holds too: it was written to stop a fix, so in doubt the fix waits (alert, don't act).
 */
export async function restoredRule(
  client: DynamoDBDocumentClient,
  table: string,
  target: RuleTarget,
  options: { holdSeconds: number; now?: Date },
): Promise<RestoredMark | undefined> {
  if (options.holdSeconds <= 0) return undefined;
  const { GetCommand } = await documentCommands();
  const now = (options.now ?? new Date()).getTime();
  // The rules' markers are read side by side (one round trip however many rules), and looked at in the target's order.
  const items = await Promise.all(
    target.fingerprints.map(async (fingerprint) => {
      const { Item } = await client.send(
        new GetCommand({ TableName: table, Key: ruleKey("RESTORED", target, fingerprint), ConsistentRead: true }),
      );
      return { fingerprint, Item };
    }),
  );
  for (const { fingerprint, Item } of items) {
    if (!Item) continue;
    const at = typeof Item.restoredAt === "string" ? Date.parse(Item.restoredAt) : Number.NaN;
    if (Number.isFinite(at) && now - at >= options.holdSeconds * 1000) continue;
    return {
      fingerprint,
      restoredAt: Number.isFinite(at) ? new Date(at).toISOString() : "(unreadable time)",
      outcomeId: typeof Item.outcomeId === "string" ? Item.outcomeId : "(unknown)",
      by: typeof Item.by === "string" ? Item.by : "(unknown)",
    };
  }
  return undefined;
}

/** The reason a held rule is alerted on, not fixed. */
export function restoredReason(target: RuleTarget, mark: RestoredMark, holdSeconds: number): string {
  return `${describeFingerprint(mark.fingerprint)} on ${target.groupId} was put back by a rollback of ${mark.outcomeId} at ${mark.restoredAt} (${mark.by}): not fixed again for ${holdSeconds} s after it`;
}
