/** The audit trail against a real local DynamoDB (dynalite). */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApplyResult } from "../../../packages/core/src/actions/types.ts";
import {
  AUDIT_KEY_ATTEMPTS,
  type AuditEntry,
  getAudit,
  listAudit,
  recordAudit,
} from "../../../packages/core/src/store/audit.ts";
import { MAX_ITEM_BYTES } from "../../../packages/core/src/store/table.ts";
import { type LocalDynamo, startDynalite } from "../../helpers/dynalite.ts";

const RESULTS: ApplyResult[] = [
  {
    action: "ec2:revoke-ingress",
    status: "applied",
    reason: "revoked 1 rule",
    calls: [
      {
        service: "ec2",
        operation: "RevokeSecurityGroupIngress",
        params: { GroupId: "sg-1", SecurityGroupRuleIds: ["sgr-1"] },
        result: "ok",
      },
    ],
    before: { rules: [{ ruleId: "sgr-1", cidrIpv4: "0.0.0.0/0", fromPort: 22, toPort: 22 }] },
    undo: { groupId: "sg-1", permissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22 }] },
  },
];

function entry(n: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    assessmentId: `asm-${String(n).padStart(20, "0")}`,
    eventId: `ct:event-${n}`,
    detectorId: "ec2-open-ingress",
    account: "123456789012",
    region: "eu-west-1",
    severity: "high",
    mode: "auto",
    outcome: "apply",
    reasons: ["mode auto set in the policy for ec2-open-ingress"],
    plan: [
      {
        service: "ec2",
        operation: "RevokeSecurityGroupIngress",
        params: { GroupId: "sg-1" },
        action: "ec2:revoke-ingress",
        assessmentId: `asm-${n}`,
      },
    ],
    results: RESULTS,
    recordedAt: new Date(Date.UTC(2025, 5, 15, 10, n)).toISOString(),
    ...overrides,
  };
}

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo.stop();
});

describe("recordAudit", () => {
  let table: string;
  beforeAll(async () => {
    table = await dynamo.createTable();
  });

  it("stores the entry with the state before the change and reads it back unchanged", async () => {
    // prepare
    const written = entry(1, { cluster: "prod-eks" });

    // act
    await recordAudit(dynamo.docClient, table, written);
    const read = await getAudit(dynamo.docClient, table, written.assessmentId);

    // assess
    expect(read).toMatchObject({ ...written, truncated: false, truncatedFields: [] });
    expect(read?.results?.[0]?.before).toEqual(RESULTS[0]?.before);
    expect(read?.results?.[0]?.undo).toEqual(RESULTS[0]?.undo);
  });

  it("sets the TTL attribute to recordedAt plus the configured days, in epoch seconds", async () => {
    // prepare
    const written = entry(2, { recordedAt: "2025-06-15T10:00:00Z" });

    // act
    const stored = await recordAudit(dynamo.docClient, table, written, { ttlDays: 30 });
    const raw = await dynamo.docClient.send(
      new GetCommand({
        TableName: table,
        Key: { pk: `AUDIT#k:${written.assessmentId}`, sk: "AT#2025-06-15T10:00:00.000Z" },
      }),
    );

    // assess
    const expected = Date.UTC(2025, 5, 15, 10) / 1000 + 30 * 86_400;
    expect(raw.Item?.expiresAt).toBe(expected);
    expect(stored.expiresAt).toBe(expected);
    expect(stored.recordedAt).toBe("2025-06-15T10:00:00.000Z");
  });

  it("truncates an oversized entry (1 MB of reasons, a 1 MB `before`) and stores it, flagged, instead of losing it", async () => {
    // prepare
    const reasons = Array.from({ length: 1024 }, (_, i) => `reason ${i} ${"r".repeat(1024)}`);
    const huge: ApplyResult = {
      action: "ec2:revoke-ingress",
      status: "applied",
      reason: "revoked 1 rule",
      calls: [],
      before: { blob: "b".repeat(1024 * 1024) },
      undo: { groupId: "sg-1" },
    };
    const written = entry(3, { reasons, results: [huge] });

    // act
    const stored = await recordAudit(dynamo.docClient, table, written);
    const read = await getAudit(dynamo.docClient, table, written.assessmentId);
    const raw = await dynamo.docClient.send(
      new GetCommand({
        TableName: table,
        Key: { pk: `AUDIT#k:${written.assessmentId}`, sk: `AT#${stored.recordedAt}` },
      }),
    );

    // assess
    expect(read?.truncated).toBe(true);
    expect(read?.truncatedFields).toEqual(["reasons", "plan", "results"]);
    expect(read?.reasons).toHaveLength(257);
    expect(read?.reasons.at(-1)).toBe("… 768 more reasons truncated");
    expect(read?.results?.[0]?.before?.blob).toMatch(/^b{8192}… \[1040384 chars truncated\]$/);
    expect(read?.results?.[0]?.undo).toEqual({ groupId: "sg-1" });
    expect(Buffer.byteLength(JSON.stringify(raw.Item), "utf8")).toBeLessThan(MAX_ITEM_BYTES);
  });

  it("cuts only the reasons when that is enough", async () => {
    // prepare
    const written = entry(4, { reasons: ["x".repeat(1024 * 1024)] });

    // act
    const stored = await recordAudit(dynamo.docClient, table, written);

    // assess
    expect(stored.truncatedFields).toEqual(["reasons"]);
    expect(stored.results).toEqual(RESULTS);
  });

  it("never overwrites a record: a second one of the same assessment in the same millisecond is kept 1 ms later", async () => {
    // prepare
    const first = entry(40, { outcome: "apply" });
    const second = entry(40, { outcome: "failed", reasons: ["notification failed"] });
    await recordAudit(dynamo.docClient, table, first);

    // act
    const stored = await recordAudit(dynamo.docClient, table, second);

    // assess
    const later = new Date(new Date(first.recordedAt).getTime() + 1).toISOString();
    expect(stored.recordedAt).toBe(later);
    const kept = await dynamo.docClient.send(
      new GetCommand({ TableName: table, Key: { pk: `AUDIT#k:${first.assessmentId}`, sk: `AT#${first.recordedAt}` } }),
    );
    expect(kept.Item?.outcome).toBe("apply");
    expect((await getAudit(dynamo.docClient, table, first.assessmentId))?.outcome).toBe("failed");
  });

  it(`refuses, rather than overwrites, when ${AUDIT_KEY_ATTEMPTS} records already hold the next keys`, async () => {
    // prepare
    const base = entry(41);
    for (let i = 0; i < AUDIT_KEY_ATTEMPTS; i++)
      await recordAudit(dynamo.docClient, table, { ...base, reasons: [...base.reasons, `record ${i}`] });

    // act
    const recording = recordAudit(dynamo.docClient, table, { ...base, outcome: "failed" });

    // assess
    await expect(recording).rejects.toThrow(/none is overwritten/);
    const all = await listAudit(dynamo.docClient, table, { since: new Date(base.recordedAt), limit: 100 });
    expect(all.filter((r) => r.assessmentId === base.assessmentId).map((r) => r.outcome)).toEqual(
      Array(AUDIT_KEY_ATTEMPTS).fill("apply"),
    );
  });

  it("keeps one record when the very same record is written again (a resumed invocation), not a second 1 ms later", async () => {
    // prepare
    const same = entry(43);
    await recordAudit(dynamo.docClient, table, same);

    // act
    const again = await recordAudit(dynamo.docClient, table, structuredClone(same));

    // assess
    expect(again.recordedAt).toBe(new Date(same.recordedAt).toISOString());
    const all = await listAudit(dynamo.docClient, table, { since: new Date(same.recordedAt), limit: 100 });
    expect(all.filter((r) => r.assessmentId === same.assessmentId)).toHaveLength(1);
  });

  it("refuses a recordedAt that is not a time", async () => {
    // prepare
    const written = entry(5, { recordedAt: "yesterday" });

    // act
    const recording = recordAudit(dynamo.docClient, table, written);

    // assess
    await expect(recording).rejects.toThrow(/recordedAt must be an ISO time/);
  });
});

describe("listAudit", () => {
  let table: string;
  beforeAll(async () => {
    table = await dynamo.createTable();
    // Written out of order: the index, not the write order, gives newest first.
    for (const n of [3, 1, 7, 5, 2, 6, 4]) {
      await recordAudit(dynamo.docClient, table, entry(n, { cluster: n % 2 === 0 ? "prod-eks" : "dev-eks" }));
    }
    await recordAudit(dynamo.docClient, table, entry(8));
  });

  it("lists every record newest first, paging through the index", async () => {
    // prepare
    const options = { pageSize: 3 };

    // act
    const records = await listAudit(dynamo.docClient, table, options);

    // assess
    expect(records.map((r) => r.eventId)).toEqual([8, 7, 6, 5, 4, 3, 2, 1].map((n) => `ct:event-${n}`));
  });

  it("stops at the limit", async () => {
    // prepare
    const options = { limit: 4, pageSize: 3 };

    // act
    const records = await listAudit(dynamo.docClient, table, options);

    // assess
    expect(records.map((r) => r.eventId)).toEqual(["ct:event-8", "ct:event-7", "ct:event-6", "ct:event-5"]);
  });

  it("keeps only records at or after `since`", async () => {
    // prepare
    const since = new Date(Date.UTC(2025, 5, 15, 10, 6));

    // act
    const records = await listAudit(dynamo.docClient, table, { since });

    // assess
    expect(records.map((r) => r.eventId)).toEqual(["ct:event-8", "ct:event-7", "ct:event-6"]);
  });

  it("keeps only one cluster's records, with `since` too", async () => {
    // prepare
    const since = new Date(Date.UTC(2025, 5, 15, 10, 3));

    // act
    const all = await listAudit(dynamo.docClient, table, { cluster: "prod-eks" });
    const recent = await listAudit(dynamo.docClient, table, { cluster: "prod-eks", since, pageSize: 1 });

    // assess
    expect(all.map((r) => r.eventId)).toEqual(["ct:event-6", "ct:event-4", "ct:event-2"]);
    expect(recent.map((r) => r.eventId)).toEqual(["ct:event-6", "ct:event-4"]);
  });

  it("returns nothing for an unknown cluster", async () => {
    // prepare
    const cluster = "no-such-cluster";

    // act
    const records = await listAudit(dynamo.docClient, table, { cluster });

    // assess
    expect(records).toEqual([]);
  });

  it("refuses a limit out of range", async () => {
    // prepare
    const options = { limit: 0 };

    // act
    const listing = listAudit(dynamo.docClient, table, options);

    // assess
    await expect(listing).rejects.toThrow(RangeError);
  });
});

describe("getAudit", () => {
  let table: string;
  beforeAll(async () => {
    table = await dynamo.createTable();
  });

  it("returns the latest record of an assessment: the outcome after the decision", async () => {
    // prepare
    const decision = entry(1, { outcome: "pending-approval", results: undefined });
    const outcome = entry(1, { recordedAt: "2025-06-15T11:00:00.000Z" });
    await recordAudit(dynamo.docClient, table, outcome);
    await recordAudit(dynamo.docClient, table, decision);

    // act
    const read = await getAudit(dynamo.docClient, table, decision.assessmentId);

    // assess
    expect(read?.outcome).toBe("apply");
    expect(read?.recordedAt).toBe("2025-06-15T11:00:00.000Z");
  });

  it("returns undefined for an unknown assessment", async () => {
    // prepare
    const id = "asm-unknown";

    // act
    const read = await getAudit(dynamo.docClient, table, id);

    // assess
    expect(read).toBeUndefined();
  });
});
