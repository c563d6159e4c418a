/**
 * The audit trail: every decision and outcome, with the live state before each change (`before`) and what undoes it
 * (`undo`), kept for a configurable number of days. One item per record (pk `AUDIT#<assessmentId>`, sk
 * `AT#<recordedAt>`), so a decision and its later outcome are both kept; {@link getAudit} returns the latest.
 *
 * Searchable fields are attributes; reasons, plan and results are one JSON string (`body`): their keys come from AWS
 * responses and events, and a JSON string keeps any key (`__proto__` included) and any shape exactly, where a DynamoDB
 * map would not. Items stay under DynamoDB's 400 KB: long strings and lists are cut, least important field first
 * (reasons, then plan, then results), and the record says so (`truncated: true`, `truncatedFields`).
 *
 * A record is never overwritten: the PutItem is conditional on its key being new (IAM cannot say "no overwrite": no
 * condition key covers a request's ConditionExpression, so the code does). Two records of one assessment in the same
 * millisecond (a record, then its re-record after a failed notification) keep both: the later one moves 1 ms on. The
 * very same record written again (same event, outcome and body: an invocation that took over from one that died after
 * recording writes under the first claim's time) is recognised and kept once.
 */
import type { DynamoDBDocumentClient, QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import type { UndoRecord } from "../actions/run.ts";
import type { ApplyResult } from "../actions/types.ts";
import { MODES, type Mode, SEVERITIES, type Severity } from "../detectors/types.ts";
import { OUTCOME_STATUSES, type OutcomeStatus, type PlanStep } from "../pipeline/types.ts";
import { documentCommands } from "./document-commands.ts";
import { isConditionFailure } from "./idempotency.ts";
import {
  AUDIT_PARTITION,
  epochSeconds,
  GSI_BY_CLUSTER,
  GSI_BY_TIME,
  keyPart,
  MAX_ITEM_BYTES,
  PK,
  SK,
  TTL_ATTRIBUTE,
  wellFormed,
} from "./table.ts";

export interface AuditEntry {
  assessmentId: string;
  /** The signal key or EventBridge id of the event. */
  eventId: string;
  detectorId: string;
  cluster?: string;
  account: string;
  region: string;
  severity: Severity;
  mode: Mode;
  outcome: OutcomeStatus;
  reasons: string[];
  plan: PlanStep[];
  /**
   * What each action did, with `before` and `undo`, and, for an action a later failure undid (or could not), `undone`.
   */
  results?: (ApplyResult & { undone?: UndoRecord })[];
  /** ISO time; stored in the canonical `toISOString()` form so records sort by time. */
  recordedAt: string;
  /**
   * When the event happened (the signal's time: CloudTrail eventTime, GuardDuty updatedAt), when the change was applied,
   * and, for an approval's record, when it was asked for and decided: what time to remediate and time waiting for
   * approval are computed from (metrics/time-to-remediate.ts). Stored canonical; a time that does not parse is left out.
   */
  eventTime?: string;
  appliedAt?: string;
  approvalRequestedAt?: string;
  approvalDecidedAt?: string;
}

/** The optional times of a record, as attributes of the same name. */
const TIME_FIELDS = ["eventTime", "appliedAt", "approvalRequestedAt", "approvalDecidedAt"] as const;

type BodyField = "reasons" | "plan" | "results";

export interface AuditRecord extends AuditEntry {
  /** Epoch seconds: the TTL. */
  expiresAt: number;
  /** True when something was cut to fit DynamoDB's item limit. */
  truncated: boolean;
  truncatedFields: (BodyField | "fields")[];
}

export interface RecordAuditOptions {
  /** How long records are kept, in days (default 365). */
  ttlDays?: number;
}

export interface ListAuditOptions {
  /** Only records at or after this time. */
  since?: Date;
  cluster?: string;
  /** At most this many records (default 100, at most 10,000). */
  limit?: number;
  /** Items per Query page (default 100); DynamoDB also ends a page at 1 MB. */
  pageSize?: number;
}

export const DEFAULT_AUDIT_TTL_DAYS = 365;
/** Attempts at a new key (1 ms apart) before a record whose keys are all taken is an error. */
export const AUDIT_KEY_ATTEMPTS = 10;
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;
/** Room left under 400 KB for DynamoDB's own accounting (it counts names and values; we estimate a little high). */
const ITEM_BUDGET_BYTES = MAX_ITEM_BYTES - 8 * 1024;
/** Any single top-level field longer than this is cut (an event id or cluster name never is, in practice). */
const MAX_FIELD_CHARS = 16 * 1024;

interface Level {
  maxString: number;
  maxItems: number;
}
const LEVELS: readonly Level[] = [
  { maxString: 8192, maxItems: 256 },
  { maxString: 2048, maxItems: 64 },
  { maxString: 512, maxItems: 16 },
  { maxString: 128, maxItems: 4 },
];
const MAX_DEPTH = 24;

function cutString(value: string, max: number): string {
  if (value.length <= max) return value;
  // Never split a surrogate pair.
  const end = /[\uD800-\uDBFF]/.test(value.charAt(max - 1)) ? max - 1 : max;
  return `${value.slice(0, end)}… [${value.length - end} chars truncated]`;
}

/** A copy with strings, lists and objects cut to the level; own keys kept as own keys (`__proto__` too). */
function cut(value: unknown, level: Level, depth = 0): unknown {
  if (typeof value === "string") return cutString(value, level.maxString);
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[truncated: nested too deep]";
  if (Array.isArray(value)) return value.slice(0, level.maxItems).map((v) => cut(v, level, depth + 1));
  return Object.fromEntries(
    Object.entries(value)
      .slice(0, level.maxItems)
      .map(([k, v]) => [cutString(k, level.maxString), cut(v, level, depth + 1)]),
  );
}

function cutReasons(reasons: readonly string[], level: Level): string[] {
  const kept = reasons.slice(0, level.maxItems).map((r) => cutString(r, level.maxString));
  return reasons.length > level.maxItems
    ? [...kept, `… ${reasons.length - level.maxItems} more reasons truncated`]
    : kept;
}

interface Body {
  reasons: string[];
  plan: unknown[];
  results?: unknown[];
}

function bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** DynamoDB's item size: attribute names plus values (strings in UTF-8, numbers at most 21 bytes). */
function itemBytes(item: Record<string, string | number | boolean | string[]>): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) {
    total += bytes(name) + 3;
    if (typeof value === "string") total += bytes(value);
    else if (typeof value === "number") total += 21;
    else if (typeof value === "boolean") total += 1;
    else total += value.reduce((sum, s) => sum + bytes(s) + 3, 3);
  }
  return total;
}

/** The body as JSON, cut until it fits in `budget` bytes, and which fields were cut. */
function fitBody(body: Body, budget: number): { json: string; cutFields: BodyField[] } {
  let json = JSON.stringify(body);
  if (bytes(json) <= budget) return { json, cutFields: [] };
  const fields: BodyField[] = body.results === undefined ? ["reasons", "plan"] : ["reasons", "plan", "results"];
  for (const level of LEVELS) {
    const current: Body = { ...body };
    const cutFields: BodyField[] = [];
    for (const field of fields) {
      if (field === "reasons") current.reasons = cutReasons(body.reasons, level);
      else current[field] = cut(body[field], level) as unknown[];
      cutFields.push(field);
      json = JSON.stringify(current);
      if (bytes(json) <= budget) return { json, cutFields };
    }
  }
  // Still too large at the tightest level (a pathological shape): keep the first reasons only.
  return {
    json: JSON.stringify({ reasons: cutReasons(body.reasons, { maxString: 128, maxItems: 4 }), plan: [], results: [] }),
    cutFields: fields,
  };
}

function auditKey(assessmentId: string, recordedAt: string): { pk: string; sk: string } {
  return { pk: `AUDIT#${keyPart(assessmentId)}`, sk: `AT#${recordedAt}` };
}

function clusterPartition(cluster: string): string {
  return `CLUSTER#${keyPart(cluster)}`;
}

function canonicalTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new RangeError(`recordedAt must be an ISO time, got ${JSON.stringify(iso)}`);
  return date.toISOString();
}

/**
 * Stores one audit record and returns it as stored (canonical time, TTL, any truncation). Never drops a record for its
 * size: it is cut to fit instead.
 */
export async function recordAudit(
  client: DynamoDBDocumentClient,
  table: string,
  entry: AuditEntry,
  options: RecordAuditOptions = {},
): Promise<AuditRecord> {
  const ttlDays = options.ttlDays ?? DEFAULT_AUDIT_TTL_DAYS;
  if (!(ttlDays > 0)) throw new RangeError(`ttlDays must be positive, got ${ttlDays}`);
  const first = new Date(canonicalTime(entry.recordedAt)).getTime();
  const { GetCommand, PutCommand } = await documentCommands();
  for (let attempt = 0; attempt < AUDIT_KEY_ATTEMPTS; attempt++) {
    const item = auditItem(entry, new Date(first + attempt).toISOString(), ttlDays);
    try {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: item,
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: { "#pk": PK },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // The same record written again (an invocation that took over from one that died after recording, under the
      // first claim's time) is already there: kept once, not a second time 1 ms later.
      const existing = await client.send(
        new GetCommand({ TableName: table, Key: { [PK]: item[PK], [SK]: item[SK] }, ConsistentRead: true }),
      );
      if (existing.Item && sameRecord(existing.Item, item)) {
        const stored = toRecord(existing.Item);
        if (stored) return stored;
      }
      continue;
    }
    const stored = toRecord(item);
    if (!stored) throw new Error("an audit record did not read back (a bug in audit.ts)");
    return stored;
  }
  throw new Error(
    `audit: ${AUDIT_KEY_ATTEMPTS} records of ${entry.assessmentId} already exist from ${new Date(first).toISOString()} on; none is overwritten`,
  );
}

/** Whether a stored item is this very record (same event, outcome and body), not another record at the same key. */
function sameRecord(stored: Record<string, unknown>, item: Record<string, unknown>): boolean {
  return ["eventId", "outcome", "mode", "body"].every((name) => stored[name] === item[name]);
}

/** The item of one record at `recordedAt` (canonical), cut to fit. */
function auditItem(
  entry: AuditEntry,
  recordedAt: string,
  ttlDays: number,
): Record<string, string | number | boolean | string[]> {
  const expiresAt = epochSeconds(new Date(recordedAt)) + Math.round(ttlDays * 86_400);
  let fieldsCut = false;
  const field = (value: string): string => {
    const valid = wellFormed(value);
    const kept = cutString(valid, MAX_FIELD_CHARS);
    if (kept !== valid) fieldsCut = true;
    return kept;
  };
  const id = keyPart(entry.assessmentId);
  const timeKey = `${recordedAt}#${id}`;
  const item: Record<string, string | number | boolean | string[]> = {
    ...auditKey(entry.assessmentId, recordedAt),
    gsi1pk: AUDIT_PARTITION,
    gsi1sk: timeKey,
    ...(entry.cluster === undefined
      ? {}
      : { gsi2pk: clusterPartition(entry.cluster), gsi2sk: timeKey, cluster: field(entry.cluster) }),
    assessmentId: field(entry.assessmentId),
    eventId: field(entry.eventId),
    detectorId: field(entry.detectorId),
    account: field(entry.account),
    region: field(entry.region),
    severity: entry.severity,
    mode: entry.mode,
    outcome: entry.outcome,
    recordedAt,
    [TTL_ATTRIBUTE]: expiresAt,
  };
  for (const name of TIME_FIELDS) {
    const time = Date.parse(entry[name] ?? "");
    if (!Number.isNaN(time)) item[name] = new Date(time).toISOString();
  }
  const body: Body = {
    reasons: entry.reasons,
    plan: entry.plan,
    ...(entry.results === undefined ? {} : { results: entry.results }),
  };
  // Room for the body and the truncation attributes.
  const budget = ITEM_BUDGET_BYTES - itemBytes(item) - 256;
  const { json, cutFields } = fitBody(body, budget);
  const truncatedFields: AuditRecord["truncatedFields"] = [...(fieldsCut ? ["fields" as const] : []), ...cutFields];
  item.body = json;
  if (truncatedFields.length > 0) {
    item.truncated = true;
    item.truncatedFields = truncatedFields;
  }
  return item;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isOneOf<T extends string>(values: readonly T[], value: unknown): value is T {
  return typeof value === "string" && (values as readonly string[]).includes(value);
}

function parseBody(text: unknown): Body | undefined {
  if (typeof text !== "string") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(value)) return undefined;
  const { reasons, plan, results } = value;
  if (!Array.isArray(reasons) || !reasons.every((r) => typeof r === "string")) return undefined;
  if (!Array.isArray(plan) || !plan.every(isObject)) return undefined;
  if (results !== undefined && !(Array.isArray(results) && results.every(isObject))) return undefined;
  return { reasons, plan, ...(results === undefined ? {} : { results }) };
}

const TRUNCATABLE = ["fields", "reasons", "plan", "results"] as const;

/** An item as read from the table, checked; undefined when it is not an audit record. */
function toRecord(item: Record<string, unknown>): AuditRecord | undefined {
  const { assessmentId, eventId, detectorId, cluster, account, region, severity, mode, outcome, recordedAt } = item;
  const expiresAt = item[TTL_ATTRIBUTE];
  const body = parseBody(item.body);
  if (
    !body ||
    typeof assessmentId !== "string" ||
    typeof eventId !== "string" ||
    typeof detectorId !== "string" ||
    typeof account !== "string" ||
    typeof region !== "string" ||
    typeof recordedAt !== "string" ||
    typeof expiresAt !== "number" ||
    (cluster !== undefined && typeof cluster !== "string") ||
    !isOneOf(SEVERITIES, severity) ||
    !isOneOf(MODES, mode) ||
    !isOneOf(OUTCOME_STATUSES, outcome)
  ) {
    return undefined;
  }
  const times = Object.fromEntries(
    TIME_FIELDS.flatMap((name) => (typeof item[name] === "string" ? [[name, item[name]]] : [])),
  ) as Pick<AuditEntry, (typeof TIME_FIELDS)[number]>;
  const truncatedFields = Array.isArray(item.truncatedFields)
    ? item.truncatedFields.filter((f): f is AuditRecord["truncatedFields"][number] => isOneOf(TRUNCATABLE, f))
    : [];
  return {
    assessmentId,
    eventId,
    detectorId,
    ...(cluster === undefined ? {} : { cluster }),
    account,
    region,
    severity,
    mode,
    outcome,
    reasons: body.reasons,
    // Checked as lists of objects above; their inner shape is what recordAudit stored.
    plan: body.plan as PlanStep[],
    ...(body.results === undefined ? {} : { results: body.results as ApplyResult[] }),
    recordedAt,
    ...times,
    expiresAt,
    truncated: item.truncated === true,
    truncatedFields,
  };
}

async function queryAll(
  client: DynamoDBDocumentClient,
  input: QueryCommandInput,
  limit: number,
  pageSize: number,
): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  let start: QueryCommandInput["ExclusiveStartKey"];
  do {
    const page = await client.send(
      new (await documentCommands()).QueryCommand({
        ...input,
        Limit: Math.min(pageSize, limit - records.length),
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const record = toRecord(item);
      if (record) records.push(record);
    }
    start = page.LastEvaluatedKey;
  } while (start && records.length < limit);
  return records;
}

/** Audit records, newest first, optionally since a time and for one cluster; pages through the index itself. */
export async function listAudit(
  client: DynamoDBDocumentClient,
  table: string,
  options: ListAuditOptions = {},
): Promise<AuditRecord[]> {
  const limit = options.limit ?? DEFAULT_LIMIT;
  const pageSize = options.pageSize ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new RangeError(`limit must be an integer from 1 to ${MAX_LIMIT}, got ${limit}`);
  }
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`pageSize must be a positive integer`);
  if (options.since && Number.isNaN(options.since.getTime())) throw new RangeError("since is an invalid date");
  const [index, pk, sk] =
    options.cluster === undefined ? [GSI_BY_TIME, "gsi1pk", "gsi1sk"] : [GSI_BY_CLUSTER, "gsi2pk", "gsi2sk"];
  const partition = options.cluster === undefined ? AUDIT_PARTITION : clusterPartition(options.cluster);
  return queryAll(
    client,
    {
      TableName: table,
      IndexName: index,
      KeyConditionExpression: options.since ? "#pk = :pk AND #sk >= :since" : "#pk = :pk",
      ExpressionAttributeNames: options.since ? { "#pk": pk, "#sk": sk } : { "#pk": pk },
      ExpressionAttributeValues: {
        ":pk": partition,
        ...(options.since ? { ":since": options.since.toISOString() } : {}),
      },
      ScanIndexForward: false,
    },
    limit,
    pageSize,
  );
}

/** The latest audit record of an assessment, or undefined. */
export async function getAudit(
  client: DynamoDBDocumentClient,
  table: string,
  assessmentId: string,
): Promise<AuditRecord | undefined> {
  const { Items } = await client.send(
    new (await documentCommands()).QueryCommand({
      TableName: table,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :at)",
      ExpressionAttributeValues: { ":pk": `AUDIT#${keyPart(assessmentId)}`, ":at": "AT#" },
      ScanIndexForward: false,
      Limit: 1,
      ConsistentRead: true,
    }),
  );
  const item = Items?.[0];
  return item ? toRecord(item) : undefined;
}
