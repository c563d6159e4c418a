import { open, readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { MAX_EVENT_BYTES } from "@eks-responder/core";

export type EventFile = { path: string } & ({ ok: true } | { ok: false; reason: string });

function errnoText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "no such file or folder";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}

async function walk(folder: string, out: EventFile[]): Promise<void> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    out.push({ path: folder, ok: false, reason: `cannot read folder: ${errnoText(error)}` });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) await walk(path, out);
    else if (entry.isFile() && entry.name.endsWith(".json")) out.push({ path, ok: true });
  }
}

/**
 * Expands the PATH arguments: a file is taken as it is, a folder for every `.json` file under it (sorted, recursive).
 * A path that cannot be read is kept, with the reason, so it is reported and never silently dropped.
 */
export async function collectEventFiles(paths: readonly string[], cwd: string): Promise<EventFile[]> {
  const out: EventFile[] = [];
  for (const given of paths) {
    const absolute = resolve(cwd, given);
    try {
      const info = await stat(absolute);
      if (info.isDirectory()) {
        const before = out.length;
        await walk(given, out);
        if (out.length === before) out.push({ path: given, ok: false, reason: "folder holds no .json event files" });
      } else out.push({ path: given, ok: true });
    } catch (error) {
      out.push({ path: given, ok: false, reason: errnoText(error) });
    }
  }
  return out;
}

/** Reads one event file, refusing what EventBridge could never have delivered without reading all of it. */
export async function readEventFile(path: string, cwd: string): Promise<{ text: string } | { reason: string }> {
  try {
    const handle = await open(resolve(cwd, path), "r");
    try {
      const info = await handle.stat();
      if (!info.isFile()) return { reason: "not a regular file" };
      if (info.size > MAX_EVENT_BYTES) {
        return { reason: `file is ${info.size} bytes; EventBridge events are at most ${MAX_EVENT_BYTES} bytes` };
      }
      return { text: await handle.readFile({ encoding: "utf8" }) };
    } finally {
      await handle.close();
    }
  } catch (error) {
    return { reason: `cannot read file: ${errnoText(error)}` };
  }
}
