import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  builtOnFirstUse,
  COMPILE_AFTER_PARSES,
  isCompiled,
  safeParseHot,
} from "../../../packages/core/src/hot-schema.ts";
import { ACTIONS, parsePolicy, processEvent } from "../../../packages/core/src/index.ts";
import * as ct from "../../../packages/core/src/signals/cloudtrail.schema.ts";
import { envelopeSchema } from "../../../packages/core/src/signals/envelope.schema.ts";
import { guardDutyFindingSchema } from "../../../packages/core/src/signals/guardduty.schema.ts";
import * as z from "../../../packages/core/src/zod.ts";
import { FIXTURES_DIR, listFixtures } from "../../helpers/fixtures.ts";

const ROOT = join(import.meta.dirname, "../../..");
const EXAMPLES = join(ROOT, "examples/events");

function documents(): { name: string; value: Record<string, unknown> }[] {
  const texts = [
    ...listFixtures().map((f) => ({ name: f, text: readFileSync(join(FIXTURES_DIR, f), "utf8") })),
    ...readdirSync(EXAMPLES).map((f) => ({ name: f, text: readFileSync(join(EXAMPLES, f), "utf8") })),
  ];
  return texts.flatMap(({ name, text }) => {
    try {
      const value: unknown = JSON.parse(text);
      return value !== null && typeof value === "object" && !Array.isArray(value)
        ? [{ name, value: value as Record<string, unknown> }]
        : [];
    } catch {
      return [];
    }
  });
}

/** Each document, and variants with one key of its detail (and of requestParameters) set to a wrong type. */
function variants(doc: Record<string, unknown>): unknown[] {
  const out: unknown[] = [doc];
  const detail = doc.detail;
  if (detail === null || typeof detail !== "object") return out;
  for (const [key, wrong] of Object.keys(detail).flatMap((k) => [
    [k, null],
    [k, 7],
    [k, ["x"]],
  ])) {
    out.push({ ...doc, detail: { ...detail, [key as string]: wrong } });
  }
  return out;
}

/** The part of an event each schema reads (as the parsers hand it over). */
const SCHEMAS: [string, z.ZodMiniType, (doc: Record<string, unknown>) => unknown][] = [
  ["envelope", envelopeSchema, (d) => d],
  ["GuardDuty finding", guardDutyFindingSchema(), (d) => d.detail],
  ["CloudTrail detail", ct.cloudTrailDetailSchema(), (d) => d.detail],
  ...Object.entries(ct)
    .filter(([name]) => name.endsWith("RequestSchema") || name.endsWith("ResponseSchema"))
    .map(([name, schema]): [string, z.ZodMiniType, (doc: Record<string, unknown>) => unknown] => {
      const part = name.endsWith("RequestSchema") ? "requestParameters" : "responseElements";
      return [
        name,
        (schema as () => z.ZodMiniType)(),
        (d) => (d.detail as Record<string, unknown> | undefined)?.[part] ?? {},
      ];
    }),
];

describe("safeParseHot: zod's compiled parser, once a schema is hot", () => {
  it("gives exactly the runtime parser's results, issues and messages for every fixture and broken variant", () => {
    let compared = 0;
    let failures = 0;
    for (const [name, schema, part] of SCHEMAS) {
      const fast = z.compile(schema);
      for (const doc of documents()) {
        for (const variant of variants(doc.value)) {
          const input = part(variant as Record<string, unknown>);
          const slow = schema.safeParse(input);
          const quick = fast.safeParse(input);
          expect({ name, doc: doc.name, success: quick.success }).toEqual({
            name,
            doc: doc.name,
            success: slow.success,
          });
          if (slow.success && quick.success) expect(quick.data).toEqual(slow.data);
          if (!slow.success && !quick.success) {
            failures++;
            expect(quick.error.issues).toEqual(slow.error.issues);
          }
          compared++;
        }
      }
    }
    // Both paths were exercised at scale: valid inputs and refused ones.
    expect(compared).toBeGreaterThan(10_000);
    expect(failures).toBeGreaterThan(1_000);
  });

  it("gives the runtime parser's results for every action's params (the plans of every example event)", () => {
    const policy = parsePolicy({ dryRun: true });
    const plans = documents().flatMap((d) => processEvent(d.value, policy).decisions.flatMap((x) => x.plan));
    expect(plans.length).toBeGreaterThan(10);
    for (const action of ACTIONS) {
      const fast = z.compile(action.params);
      for (const input of [...plans.map((p) => p.params), {}, null, { groupId: 7 }]) {
        const slow = action.params.safeParse(input);
        const quick = fast.safeParse(input);
        expect(quick.success).toBe(slow.success);
        if (slow.success && quick.success) expect(quick.data).toEqual(slow.data);
        if (!slow.success && !quick.success) expect(quick.error.issues).toEqual(slow.error.issues);
      }
    }
  });

  it("parses with the runtime parser first, and switches after COMPILE_AFTER_PARSES parses, with the same result", () => {
    const schema = z.object({ id: z.string().check(z.minLength(1)), n: z._default(z.number(), 1) });
    const results: unknown[] = [];
    for (let i = 0; i < COMPILE_AFTER_PARSES; i++) results.push(safeParseHot(schema, { id: "a" }));
    expect(isCompiled(schema)).toBe(false);
    results.push(safeParseHot(schema, { id: "a" }));
    expect(isCompiled(schema)).toBe(true);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    const refused = safeParseHot(schema, { id: "" });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toBe("Too small: expected string to have >=1 characters");
  });

  it("builds a schema on its first call only, and hands out the same one after", () => {
    let builds = 0;
    const schema = builtOnFirstUse(() => {
      builds++;
      return z.object({ a: z.string() });
    });
    expect(builds).toBe(0);
    const first = schema();
    expect(schema()).toBe(first);
    expect(builds).toBe(1);
  });
});
