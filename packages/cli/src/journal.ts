import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { ActionOutcome, ApplyResult } from "@eks-responder/core";
import * as z from "@eks-responder/core/zod.ts";
import type { Io } from "./terminal.ts";

/**
 * The local record of what `replay --apply` and `patch` changed, one JSON file per assessment, so that `rollback` can
 * undo it exactly. Written atomically (temporary file, then rename): a crash never leaves half a record.
 */
const callSchema = z.looseObject({ service: z.string(), operation: z.string(), result: z.string() });
const resultSchema = z.looseObject({
  action: z.string(),
  status: z.string(),
  reason: z.string(),
  calls: z.array(callSchema),
  undo: z.optional(z.record(z.string(), z.unknown())),
  params: z.record(z.string(), z.unknown()),
});
const entrySchema = z.looseObject({
  assessmentId: z.string(),
  detectorId: z.string(),
  title: z.string(),
  account: z.string(),
  region: z.string(),
  source: z.string(),
  recordedAt: z.string(),
  eventTime: z.optional(z.string()),
  results: z.array(resultSchema),
  rollbacks: z._default(
    z.array(
      z.looseObject({ at: z.string(), results: z.array(z.looseObject({ action: z.string(), status: z.string() })) }),
    ),
    [],
  ),
});

/** One action's result as recorded: the ApplyResult and the parameters it was given. */
export type JournalResult = ActionOutcome;

export interface JournalEntry {
  assessmentId: string;
  detectorId: string;
  title: string;
  account: string;
  region: string;
  /** The event file the change came from, or the command that made it. */
  source: string;
  recordedAt: string;
  /** When the event happened (the signal's time): with recordedAt, the time to remediate `report` shows. */
  eventTime?: string;
  results: JournalResult[];
  rollbacks: { at: string; results: ApplyResult[] }[];
}

/** Outcome ids are assessment ids; nothing else reaches the file system. */
export const OUTCOME_ID = /^asm-[0-9a-f]{20}$/;

export function stateDir(io: Io, given?: string): string {
  if (given) return resolve(io.cwd, given);
  if (io.env.EKS_RESPONDER_STATE_DIR) return resolve(io.cwd, io.env.EKS_RESPONDER_STATE_DIR);
  const base = io.env.XDG_STATE_HOME || join(io.env.HOME || homedir(), ".local", "state");
  return join(base, "eks-responder");
}

function entryPath(dir: string, id: string): string {
  if (!OUTCOME_ID.test(id)) throw new Error(`"${id}" is not an outcome id (asm- and 20 hex digits)`);
  return join(dir, "outcomes", `${id}.json`);
}

export async function writeEntry(dir: string, entry: JournalEntry): Promise<string> {
  const path = entryPath(dir, entry.assessmentId);
  await mkdir(join(dir, "outcomes"), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(entry, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
  return path;
}

export type ReadEntry = { entry: JournalEntry } | { missing: true } | { corrupt: string };

export async function readEntry(dir: string, id: string): Promise<ReadEntry> {
  let text: string;
  try {
    text = await readFile(entryPath(dir, id), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { missing: true };
    throw error;
  }
  try {
    // Validated for shape; the fields the rollback reads are validated again by each action's undo schema.
    return { entry: entrySchema.parse(JSON.parse(text)) as unknown as JournalEntry };
  } catch (error) {
    return { corrupt: error instanceof Error ? (error.message.split("\n")[0] ?? "invalid") : String(error) };
  }
}

export async function listEntryIds(dir: string): Promise<string[]> {
  try {
    return (await readdir(join(dir, "outcomes")))
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.slice(0, -5))
      .filter((id) => OUTCOME_ID.test(id))
      .sort();
  } catch {
    return [];
  }
}

/** Every readable entry of the state folder (one that cannot be read is left out, as `audit` lists them). */
export async function listEntries(dir: string): Promise<JournalEntry[]> {
  const entries: JournalEntry[] = [];
  for (const id of await listEntryIds(dir)) {
    const read = await readEntry(dir, id);
    if ("entry" in read) entries.push(read.entry);
  }
  return entries;
}
