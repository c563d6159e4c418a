import type { z } from "zod";
import type { InputIssue } from "../errors.ts";

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

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    if (!Object.hasOwn(current, key)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

export function formatPath(path: readonly PropertyKey[], prefix = ""): string {
  const parts = path.map((key) => (typeof key === "number" ? `[${key}]` : `.${String(key)}`));
  const joined = `${prefix}${parts.join("")}`.replace(/^\./, "");
  return joined === "" ? "(root)" : joined;
}

/** Turns zod issues into issues that name the key, the value found there and what was expected. */
export function toInputIssues(error: z.ZodError, input: unknown, prefix = ""): InputIssue[] {
  return error.issues.map((issue) => {
    const found = valueAt(input, issue.path);
    let message: string;
    if (issue.code === "unrecognized_keys") message = issue.message;
    else if (issue.code === "invalid_type" && found === undefined) message = `missing: expected ${issue.expected}`;
    else if (issue.code === "invalid_type") message = `expected ${issue.expected}, got ${describeValue(found)}`;
    else message = `${issue.message} (got ${describeValue(found)})`;
    return { path: formatPath(issue.path, prefix), message };
  });
}

/** One line naming the first few problems, for error messages; the full list stays in the error's `issues`. */
export function summarizeIssues(issues: readonly InputIssue[], max = 3): string {
  const shown = issues.slice(0, max).map((i) => `${i.path} ${i.message}`);
  const rest = issues.length > max ? ` (and ${issues.length - max} more)` : "";
  return `${shown.join("; ")}${rest}`;
}
