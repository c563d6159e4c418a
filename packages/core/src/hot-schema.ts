/**
 * zod's compiled fast path for the event schemas, taken once a schema is hot. `z.compile()` generates a parser for a
 * schema (with `new Function`) and falls back to the runtime parser for anything its fast path does not accept, so
 * results, issues and messages are those of the runtime parser (test/unit/hot-schema.test.ts compares both on
 * every fixture). Generating a parser takes time a cold Lambda's first event should not spend for a gain it never
 * uses; a replay over many files, a benchmark or a warm container parses the same schemas over and over and gains
 * from it. So a schema is compiled after COMPILE_AFTER_PARSES runtime parses, like a JIT's tiering.
 */
import * as z from "./zod.ts";

/** Runtime parses of a schema before it is compiled. */
export const COMPILE_AFTER_PARSES = 32;

interface Tier {
  parses: number;
  compiled?: z.ZodMiniType;
}

const tiers = new WeakMap<z.ZodMiniType, Tier>();

/** `schema.safeParse(value)`, through the compiled parser once the schema has been parsed often enough. */
export function safeParseHot<T extends z.ZodMiniType>(
  schema: T,
  value: unknown,
): z.core.util.SafeParseResult<z.output<T>> {
  let tier = tiers.get(schema);
  if (!tier) {
    tier = { parses: 0 };
    tiers.set(schema, tier);
  }
  if (!tier.compiled && ++tier.parses > COMPILE_AFTER_PARSES) tier.compiled = z.compile(schema);
  // The compiled clone has the schema's type (z.compile returns T); the map only loses it.
  const parser = (tier.compiled ?? schema) as T;
  return parser.safeParse(value);
}

/** For tests: whether `schema` is parsed by its compiled parser now. */
export function isCompiled(schema: z.ZodMiniType): boolean {
  return tiers.get(schema)?.compiled !== undefined;
}

/**
 * A schema built on its first call and kept: a module of schemas then costs nothing at import, and an event builds
 * only the schemas it parses with. (Not z.lazy: a lazy schema keeps an indirection in every parse, compiled or not;
 * with it, the parse step of bench/throughput.ts ran markedly slower when tried.)
 */
export function builtOnFirstUse<T extends z.ZodMiniType>(build: () => T): () => T {
  let schema: T | undefined;
  return () => {
    schema ??= build();
    return schema;
  };
}
