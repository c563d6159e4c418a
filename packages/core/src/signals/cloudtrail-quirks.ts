import { ARN_PARTITION } from "../aws/partitions.ts";
import * as z from "../zod.ts";

/**
 * Helpers for the quirks of CloudTrail records, shared by the CloudTrail schemas.
 * - EC2 writes lists as `{"items": [...]}` and an empty list as `{}` (sample ct-01: `"groups": {}`).
 * - Numbers sometimes arrive as strings; EKS writes timestamps as epoch seconds with a fraction.
 * - EKS request parameters that are URL path segments arrive URL-encoded (`arn%3Aaws%3Aiam…`, sample ct-10).
 */

function unwrapItems(value: unknown): unknown {
  if (value === undefined || value === null) return [];
  if (typeof value === "object" && !Array.isArray(value)) {
    const items = (value as { items?: unknown }).items;
    return items === undefined ? [] : items;
  }
  return value;
}

/**
 * Runs `fn` on the raw input before `schema` validates it: what classic zod's `z.preprocess` was, which zod/mini
 * spells as a pipe from a transform.
 */
function preprocess<T extends z.core.$ZodType>(fn: (value: unknown) => unknown, schema: T) {
  return z.pipe(z.transform(fn), schema);
}

/** A CloudTrail EC2 list: `{items:[…]}`, `{}` (empty) or a plain array. */
export function ctList<T extends z.core.$ZodType>(item: T) {
  return preprocess(unwrapItems, z.array(item));
}

/** A plain list that may be missing or null; both mean empty. */
export function optionalList<T extends z.core.$ZodType>(item: T) {
  return preprocess((v) => (v === undefined || v === null ? [] : v), z.array(item));
}

/** An integer that may be written as a string of digits. */
export const ctInt = preprocess(
  (v) => (typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v),
  z.number().check(z.int()),
);

/** A boolean that may be written as "true" / "false". */
export const ctBool = preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean());

/** An ARN that may be URL-encoded because it was a path segment of the request. */
export const ctArn = preprocess(
  (v) => {
    if (typeof v !== "string" || !/%[0-9A-Fa-f]{2}/.test(v)) return v;
    try {
      return decodeURIComponent(v);
    } catch {
      return v;
    }
  },
  z.string().check(z.regex(new RegExp(`^arn:${ARN_PARTITION}:[a-z0-9-]+:`), "expected an ARN")),
);

/** An optional string that may be null in the record. */
export const optString = z.pipe(
  z.nullish(z.string()),
  z.transform((v) => v ?? undefined),
);

/** Epoch seconds (EKS), ISO text, or missing. Normalised to ISO text. */
export const ctTime = z.pipe(
  z.nullish(z.union([z.number(), z.string()])),
  z.transform((v) => {
    if (v === undefined || v === null) return undefined;
    const date = typeof v === "number" ? new Date(v * 1000) : new Date(v);
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  }),
);
