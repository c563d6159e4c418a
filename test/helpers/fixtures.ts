/**
 * Test helpers for the event fixtures under test/fixtures (see test/fixtures/PROVENANCE.md). Fixture files are only
 * ever read: a test that needs a variant changes the parsed copy in memory.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

export const FIXTURES_DIR = join(import.meta.dirname, "..", "fixtures");

export type JsonObject = Record<string, unknown>;

/** The raw text of test/fixtures/<relPath>. */
export function fixtureText(relPath: string): string {
  return readFileSync(join(FIXTURES_DIR, relPath), "utf8");
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The parsed JSON object of test/fixtures/<relPath> (a fresh copy on every call). Throws when it is not an object. */
export function loadFixture(relPath: string): JsonObject {
  const value: unknown = JSON.parse(fixtureText(relPath));
  if (!isObject(value)) throw new Error(`fixture ${relPath} is not a JSON object`);
  return value;
}

/** Relative paths (with `/`) of every `.json` fixture, optionally under one subfolder, sorted. */
export function listFixtures(subfolder?: string): string[] {
  const root = subfolder === undefined ? FIXTURES_DIR : join(FIXTURES_DIR, subfolder);
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".json")) found.push(relative(FIXTURES_DIR, path).split(sep).join("/"));
    }
  };
  walk(root);
  return found.sort();
}

/** The value, or a thrown error when it is undefined or null (instead of a non-null assertion). */
export function must<T>(value: T | undefined | null, what = "value"): T {
  if (value === undefined || value === null) throw new Error(`expected ${what} to be defined`);
  return value;
}

/** The object found at `path` inside `root` (for in-memory fixture variants). Throws when it is not an object. */
export function objectAt(root: unknown, ...path: (string | number)[]): JsonObject {
  let current: unknown = root;
  for (const key of path) {
    if (typeof current !== "object" || current === null) throw new Error(`no object at ${path.join(".")}`);
    current = (current as Record<string | number, unknown>)[key];
  }
  if (!isObject(current)) throw new Error(`no object at ${path.join(".")}`);
  return current;
}
