import type { Dirent, Stats } from "node:fs";
import { constants } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { MAX_EVENT_BYTES } from "@eks-responder/core";

export type EventFile = { path: string } & ({ ok: true } | { ok: false; reason: string });

/** Deeper than any real folder of events; stops a walk that links keep extending. */
const MAX_FOLDER_DEPTH = 64;

/** What to do instead, said with every refusal of something that is not an event file. */
const GIVE_A_FILE = "save the event to a .json file and give that file (or a folder of them)";

function errnoText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "no such file or folder";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ELOOP":
      return "symlink loop: its links point at each other and never reach a file or folder; fix or remove the link";
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}

/**
 * Why `info` is not something replay reads, or undefined for a regular file or a folder. A FIFO (or a pipe such as
 * /dev/stdin) would block the read until some writer appears, a device such as /dev/zero never ends: both are
 * refused from their type alone, before they are opened.
 */
function notReadable(info: Stats): string | undefined {
  if (info.isFile() || info.isDirectory()) return undefined;
  if (info.isFIFO())
    return `a named pipe (FIFO), not an event file: reading it would wait for a writer; ${GIVE_A_FILE}`;
  if (info.isCharacterDevice()) return `a character device, not an event file; ${GIVE_A_FILE}`;
  if (info.isBlockDevice()) return `a block device, not an event file; ${GIVE_A_FILE}`;
  if (info.isSocket()) return `a socket, not an event file; ${GIVE_A_FILE}`;
  return `not a regular file; ${GIVE_A_FILE}`;
}

function identity(info: Stats): string {
  return `${info.dev}:${info.ino}`;
}

/**
 * Walks a folder for `.json` files, following links to files and folders. `ancestors` holds the folders being read
 * above this one (by device and inode), so a link back to one of them is reported as a loop instead of followed.
 */
async function walk(folder: string, ancestors: Map<string, string>, out: EventFile[]): Promise<void> {
  if (ancestors.size > MAX_FOLDER_DEPTH) {
    out.push({ path: folder, ok: false, reason: `folders nested deeper than ${MAX_FOLDER_DEPTH} levels: not read` });
    return;
  }
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    out.push({ path: folder, ok: false, reason: `cannot read folder: ${errnoText(error)}` });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(folder, entry.name);
    const named = entry.name.endsWith(".json");
    // Only a link, a folder or a .json name can lead to an event file: nothing else is even looked at.
    if (!entry.isSymbolicLink() && !entry.isDirectory() && !named) continue;
    let info: Stats;
    try {
      info = await stat(path);
    } catch (error) {
      // A dangling link named like an event is reported; a loop is reported whatever its name (it may be a folder).
      if (named || (error as NodeJS.ErrnoException).code === "ELOOP")
        out.push({ path, ok: false, reason: errnoText(error) });
      continue;
    }
    if (info.isDirectory()) {
      const seen = ancestors.get(identity(info));
      if (seen !== undefined) {
        out.push({
          path,
          ok: false,
          reason: `directory loop: ${path} leads back to ${seen}, which is being read already; remove the link, or give the folder it points to`,
        });
        continue;
      }
      await walk(path, new Map([...ancestors, [identity(info), path]]), out);
      continue;
    }
    if (!named) continue;
    const refusal = notReadable(info);
    out.push(refusal === undefined ? { path, ok: true } : { path, ok: false, reason: refusal });
  }
}

/**
 * Expands the PATH arguments: a file is taken as it is, a folder for every `.json` file under it (sorted, recursive,
 * links followed). A path that cannot be read, or is not a file or a folder, is kept with the reason, so it is
 * reported and never silently dropped.
 */
export async function collectEventFiles(paths: readonly string[], cwd: string): Promise<EventFile[]> {
  const out: EventFile[] = [];
  for (const given of paths) {
    let info: Stats;
    try {
      info = await stat(resolve(cwd, given));
    } catch (error) {
      out.push({ path: given, ok: false, reason: errnoText(error) });
      continue;
    }
    if (info.isDirectory()) {
      const before = out.length;
      await walk(given, new Map([[identity(info), given]]), out);
      if (out.length === before) out.push({ path: given, ok: false, reason: "folder holds no .json event files" });
      continue;
    }
    const refusal = notReadable(info);
    out.push(refusal === undefined ? { path: given, ok: true } : { path: given, ok: false, reason: refusal });
  }
  return out;
}

/** One read's worth; the file is read in these until EOF or one byte past the limit. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Reads one event file, refusing what EventBridge could never have delivered without reading all of it. The file is
 * opened non-blocking (a FIFO put in its place since it was listed cannot hang the open), its type checked on the open
 * handle, and at most one byte more than the limit is read, whatever size the file claims (files under /proc claim 0).
 */
export async function readEventFile(path: string, cwd: string): Promise<{ text: string } | { reason: string }> {
  try {
    const handle = await open(resolve(cwd, path), constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    try {
      const info = await handle.stat();
      const refusal = info.isDirectory() ? "a folder, where a file was expected" : notReadable(info);
      if (refusal !== undefined) return { reason: refusal };
      if (info.size > MAX_EVENT_BYTES) {
        return { reason: `file is ${info.size} bytes; EventBridge events are at most ${MAX_EVENT_BYTES} bytes` };
      }
      const chunks: Buffer[] = [];
      let total = 0;
      while (total <= MAX_EVENT_BYTES) {
        const { bytesRead, buffer } = await handle.read(Buffer.alloc(CHUNK_BYTES), 0, CHUNK_BYTES, null);
        if (bytesRead === 0) break;
        chunks.push(buffer.subarray(0, bytesRead));
        total += bytesRead;
      }
      if (total > MAX_EVENT_BYTES) {
        return {
          reason: `file is over ${MAX_EVENT_BYTES} bytes; EventBridge events are at most ${MAX_EVENT_BYTES} bytes`,
        };
      }
      return { text: Buffer.concat(chunks, total).toString("utf8") };
    } finally {
      await handle.close();
    }
  } catch (error) {
    return { reason: `cannot read file: ${errnoText(error)}` };
  }
}
