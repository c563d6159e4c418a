import type { InputIssue } from "../errors.ts";
import type * as z from "../zod.ts";

const MAX_VALUE_CHARS = 80;

/** Renders a value found in user input for an error message: JSON, shortened, control characters escaped by JSON. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}

/**
 * Follows a zod issue path through the raw input. The schemas reshape some CloudTrail lists before validating them
 * (`{"items": [...]}` and `{}` become arrays, a single object becomes a one-element list), so an index into such a list
 * is followed into `items`, or stays on the single object: the value found and the path shown are those of the JSON
 * the user wrote.
 */
function locate(root: unknown, path: readonly PropertyKey[]): { value: unknown; path: PropertyKey[] } {
  let current: unknown = root;
  const raw: PropertyKey[] = [];
  for (const key of path) {
    if (current === null || typeof current !== "object") return { value: undefined, path: [...raw, key] };
    if (typeof key === "number" && !Array.isArray(current)) {
      const items = (current as { items?: unknown }).items;
      if (Array.isArray(items)) {
        raw.push("items", key);
        current = items[key];
        continue;
      }
      if (key === 0) continue;
      return { value: undefined, path: [...raw, key] };
    }
    raw.push(key);
    if (!Object.hasOwn(current, key)) return { value: undefined, path: raw };
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return { value: current, path: raw };
}

export function formatPath(path: readonly PropertyKey[], prefix = ""): string {
  const parts = path.map((key) => (typeof key === "number" ? `[${key}]` : `.${String(key)}`));
  const joined = `${prefix}${parts.join("")}`.replace(/^\./, "");
  return joined === "" ? "(root)" : joined;
}

/** Turns zod issues into issues that name the key, the value found there and what was expected. */
export function toInputIssues(error: z.core.$ZodError, input: unknown, prefix = ""): InputIssue[] {
  return error.issues.map((issue) => {
    const { value: found, path } = locate(input, issue.path);
    // A custom schema that names what it expects (envelope.schema.ts `jsonObject`) reads like a type mismatch.
    const expected =
      issue.code === "invalid_type" ? issue.expected : issue.code === "custom" ? issue.params?.expected : undefined;
    let message: string;
    if (issue.code === "unrecognized_keys") message = issue.message;
    else if (typeof expected === "string" && found === undefined) message = `missing: expected ${expected}`;
    else if (typeof expected === "string") message = `expected ${expected}, got ${describeValue(found)}`;
    else message = `${issue.message} (got ${describeValue(found)})`;
    return { path: formatPath(path, prefix), message };
  });
}

/** One line naming the first few problems, for error messages; the full list stays in the error's `issues`. */
export function summarizeIssues(issues: readonly InputIssue[], max = 3): string {
  const shown = issues.slice(0, max).map((i) => `${i.path} ${i.message}`);
  const rest = issues.length > max ? ` (and ${issues.length - max} more)` : "";
  return `${shown.join("; ")}${rest}`;
}
