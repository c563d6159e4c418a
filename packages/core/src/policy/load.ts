import { readFile } from "node:fs/promises";
import { detectorIds } from "../detectors/registry.ts";
import { PolicyError } from "../errors.ts";
import { toInputIssues } from "../signals/zod-issues.ts";
import { type Policy, policySchema } from "./schema.ts";

/** Validates a policy document. Every problem is named: the key, the value found and what was expected. */
export function parsePolicy(document: unknown, origin = "policy"): Policy {
  const result = policySchema.safeParse(document);
  if (result.success) return result.data;
  const issues = toInputIssues(result.error, document).map((issue) =>
    issue.path === "detectors" && issue.message.startsWith("Unrecognized key")
      ? { ...issue, message: `${issue.message}; valid detectors: ${detectorIds().join(", ")}` }
      : issue,
  );
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join("\n");
  throw new PolicyError(`${origin} is not a valid policy:\n${lines}`, issues);
}

/** The policy when no file is given: every default, dry-run on. */
export function defaultPolicy(): Policy {
  return parsePolicy({});
}

/** Reads and validates a policy file (JSON). */
export async function loadPolicyFile(path: string): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new PolicyError(
      `cannot read policy file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      [],
      {
        cause: error,
      },
    );
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new PolicyError(`${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, [], {
      cause: error,
    });
  }
  return parsePolicy(document, path);
}
