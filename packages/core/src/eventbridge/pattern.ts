/**
 * Amazon EventBridge event-pattern matching, hand-written: no JavaScript library implements AWS's exact semantics (the
 * reference engine, aws/event-ruler, is Java). The tests use it to prove that the deployed rule patterns match every
 * event the detectors act on, and nothing unrelated.
 *
 * Followed, in this order:
 * - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern.html (fields AND, values OR, nesting)
 * - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html (every operator, `$or`)
 * - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html (array intersection)
 * - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-filtering-data-types.html (JSON types, null)
 * - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html (null vs "")
 * - where the pages are silent (wildcard escapes, arrays of objects, what the parser rejects, lists of prefixes or
 *   suffixes inside anything-but, the names reserved inside `$or`): the README and `JsonRuleCompiler.java` of
 *   https://github.com/aws/event-ruler, the engine EventBridge uses.
 *
 * Supported, every operator of "Comparison operators for use in event patterns" (formerly "Content filtering in
 * Amazon EventBridge event patterns", eb-event-patterns-content-based-filtering.html):
 * - exact values: strings (character by character, case-sensitive), numbers, `true`, `false`, `null`; `""` is the
 *   empty string and never matches `null`, nor `null` a missing field
 * - `prefix`, `suffix` (a string, or `{"equals-ignore-case": string}`), `equals-ignore-case`, `wildcard` (`*`, with
 *   `\*` and `\\` escapes, no `**`); strings only
 * - `anything-but`: a string, a number, a list of only strings or only numbers, `{"prefix": …}` or `{"suffix": …}`
 *   (a non-empty string or a list of them), `{"equals-ignore-case": …}` or `{"wildcard": …}` (a string or a list)
 * - `numeric`: `["=", n]`, one comparison (`>`, `>=`, `<`, `<=`) or a range (a lower then an upper bound); several
 *   numeric filters in one leaf are alternatives (OR); JSON numbers only
 * - `exists`: `true` when the field has a leaf value (`null` is one; an empty array or an object is none), `false`
 *   otherwise; `anything-but` never matches a missing field
 * - `cidr`: IPv4 or IPv6 ranges, against strings that are addresses of the same family
 * - `$or` (an array of at least two patterns) at any level, ANDed with its sibling fields; inside it, field names
 *   EventBridge keeps for operators are refused
 * Anything else (an unknown operator, an operand of the wrong type, an empty array or object) is reported by
 * validatePattern with its path, and such a pattern never matches.
 *
 * Semantics in short: a pattern is an object; every field must match (AND). A leaf is an array of values or content
 * filters, any of which may match (OR). The event value is read as its leaf values: a scalar is one, an array is all
 * its scalar elements (nested arrays flattened), an object or a missing field is none. A filter matches when any leaf
 * value matches it; `exists` looks only at whether there is a leaf value, so `anything-but` never matches a missing
 * field. A nested pattern against an array of objects matches when one element matches it as a whole.
 *
 * Known gaps: numbers are compared as JavaScript numbers, so 300 and 300.0 are equal here (JSON.parse cannot tell them
 * apart), and event-ruler's numeric precision and range limits (6 decimals; ±5e9, wider in its newer releases) are
 * not enforced. event-ruler also matches an exact string that is an IP address by address (so "::1" would equal
 * "0:0:0:0:0:0:0:1"); here it is compared as text. Its undocumented `exactly` operator is refused as unknown.
 */
import { BlockList, isIP } from "node:net";
import { EventPatternError } from "../errors.ts";

/** A JSON scalar: what exact matching compares, and what an event's leaf values are. */
export type JsonScalar = string | number | boolean | null;

export interface IgnoreCase {
  "equals-ignore-case": string;
}

export type NumericOperator = "=" | ">" | ">=" | "<" | "<=";
export type NumericCondition = [NumericOperator, number] | [">" | ">=", number, "<" | "<=", number];

export type AnythingBut =
  | string
  | number
  | string[]
  | number[]
  | { prefix: string | string[] }
  | { suffix: string | string[] }
  | { "equals-ignore-case": string | string[] }
  | { wildcard: string | string[] };

export type ContentFilter =
  | { prefix: string | IgnoreCase }
  | { suffix: string | IgnoreCase }
  | { "anything-but": AnythingBut }
  | { numeric: NumericCondition }
  | { exists: boolean }
  | { cidr: string }
  | { "equals-ignore-case": string }
  | { wildcard: string };

/** One element of a leaf array. */
export type PatternValue = JsonScalar | ContentFilter;

/** An EventBridge event pattern: leaf arrays, nested patterns, and `$or` (an array of patterns) at any level. */
export interface EventPattern {
  [field: string]: PatternValue[] | EventPattern | EventPattern[];
}

type Json = Record<string, unknown>;
type LeafTest = (value: JsonScalar) => boolean;
type Condition = { kind: "test"; test: LeafTest } | { kind: "exists"; present: boolean };
type Field =
  | { key: string; kind: "leaf"; conditions: Condition[] }
  | { key: string; kind: "nested"; pattern: Compiled };
interface Compiled {
  fields: Field[];
  anyOf: Compiled[] | undefined;
}

/** The problems that make `pattern` invalid (each names where it is), or [] when it is a valid event pattern. */
export function validatePattern(pattern: unknown): string[] {
  const problems: string[] = [];
  compilePattern(pattern, "pattern", problems);
  return problems;
}

/** Throws an EventPatternError listing every problem when `pattern` is not a pattern EventBridge would accept. */
export function assertValidPattern(pattern: unknown): void {
  const problems = validatePattern(pattern);
  if (problems.length > 0) throw new EventPatternError(problems);
}

/** True when `event` matches `pattern`. An invalid pattern or an event that is not an object never matches. */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  const problems: string[] = [];
  const compiled = compilePattern(pattern, "pattern", problems);
  if (compiled === undefined || problems.length > 0 || !isObject(event)) return false;
  return matchCompiled(compiled, event);
}

// ---------------------------------------------------------------------------------------------------------- matching

function matchCompiled(pattern: Compiled, event: Json): boolean {
  const fieldsMatch = pattern.fields.every((field) => matchField(field, own(event, field.key)));
  return fieldsMatch && (pattern.anyOf === undefined || pattern.anyOf.some((option) => matchCompiled(option, event)));
}

function matchField(field: Field, value: unknown): boolean {
  if (field.kind === "nested") {
    const candidates = objectsIn(value);
    // A missing or scalar value has no sub-fields: the nested pattern sees an empty object (so `exists: false` holds).
    return candidates.length === 0
      ? matchCompiled(field.pattern, {})
      : candidates.some((candidate) => matchCompiled(field.pattern, candidate));
  }
  const leaves = leafValues(value);
  return field.conditions.some((condition) =>
    condition.kind === "exists" ? leaves.length > 0 === condition.present : leaves.some(condition.test),
  );
}

/** The scalar values at a field: one for a scalar, every scalar element of an array, none for an object or absence. */
function leafValues(value: unknown): JsonScalar[] {
  if (Array.isArray(value)) return value.flatMap(leafValues);
  return isScalar(value) ? [value] : [];
}

function objectsIn(value: unknown): Json[] {
  if (Array.isArray(value)) return value.flatMap(objectsIn);
  return isObject(value) ? [value] : [];
}

// --------------------------------------------------------------------------------------------------------- compiling

/** Deeper than any real pattern; stops a cyclic object from recursing forever. */
const MAX_DEPTH = 64;

/**
 * The field names EventBridge refuses anywhere inside a `$or` alternative, because it would read them as operators
 * there (aws/event-ruler `Constants.RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP`: the operators, the numeric comparisons
 * and names it keeps for future operators). Outside `$or` they are ordinary field names.
 */
const RESERVED_IN_OR = new Set([
  "exactly",
  "equals-ignore-case",
  "prefix",
  "suffix",
  "anything-but",
  "exists",
  "wildcard",
  "numeric",
  "cidr",
  "html",
  "=",
  "<",
  "<=",
  ">",
  ">=",
  "regex",
  "not-wildcard",
  "not-equals-ignore-case",
  "date-after",
  "date-on-or-after",
  "date-before",
  "date-on-or-before",
  "in-date-range",
  "ip-address-in-range",
  "ip-address-not-in-range",
]);

function compilePattern(
  pattern: unknown,
  path: string,
  problems: string[],
  depth = 0,
  insideOr = false,
): Compiled | undefined {
  if (!isObject(pattern)) return problem(problems, path, `a pattern must be a JSON object, got ${describe(pattern)}`);
  if (depth > MAX_DEPTH) return problem(problems, path, `nested deeper than ${MAX_DEPTH} levels`);
  const entries = Object.entries(pattern);
  if (entries.length === 0) problems.push(`${path}: empty object (it would match every event)`);
  const compiled: Compiled = { fields: [], anyOf: undefined };
  for (const [key, value] of entries) {
    const at = `${path}.${key}`;
    if (key === "$or") compiled.anyOf = compileOr(value, at, problems, depth + 1);
    else if (insideOr && RESERVED_IN_OR.has(key))
      problems.push(`${at}: "${key}" is reserved inside $or (EventBridge refuses a field of that name there)`);
    else if (Array.isArray(value))
      compiled.fields.push({ key, kind: "leaf", conditions: compileLeaf(value, at, problems) });
    else if (isObject(value)) {
      const nested = compilePattern(value, at, problems, depth + 1, insideOr);
      if (nested !== undefined) compiled.fields.push({ key, kind: "nested", pattern: nested });
    } else problems.push(`${at}: expected an array of values or a nested pattern, got ${describe(value)}`);
  }
  return compiled;
}

function compileOr(value: unknown, at: string, problems: string[], depth: number): Compiled[] {
  if (!Array.isArray(value) || value.length < 2) {
    problems.push(`${at}: $or takes an array of at least two patterns, got ${describe(value)}`);
    return [];
  }
  return value.flatMap((option, i) => compilePattern(option, `${at}[${i}]`, problems, depth, true) ?? []);
}

function compileLeaf(values: unknown[], at: string, problems: string[]): Condition[] {
  if (values.length === 0) problems.push(`${at}: empty array (it would match nothing)`);
  return values.flatMap((value, i) => compileValue(value, `${at}[${i}]`, problems) ?? []);
}

function compileValue(value: unknown, at: string, problems: string[]): Condition | undefined {
  if (isScalar(value)) {
    if (typeof value === "number" && !Number.isFinite(value)) return problem(problems, at, "numbers must be finite");
    return { kind: "test", test: (leaf) => leaf === value };
  }
  if (!isObject(value))
    return problem(problems, at, `expected a JSON value or a content filter, got ${describe(value)}`);
  const [entry, ...extra] = Object.entries(value);
  if (entry === undefined || extra.length > 0) {
    return problem(problems, at, `a content filter has exactly one operator, got ${describe(value)}`);
  }
  const [operator, operand] = entry;
  const where = `${at}.${operator}`;
  if (operator === "exists") {
    if (typeof operand !== "boolean")
      return problem(problems, where, `expected true or false, got ${describe(operand)}`);
    return { kind: "exists", present: operand };
  }
  const test = compileOperator(operator, operand, where, problems);
  return test === undefined ? undefined : { kind: "test", test };
}

function compileOperator(operator: string, operand: unknown, at: string, problems: string[]): LeafTest | undefined {
  switch (operator) {
    case "prefix":
      return prefixFilter(operand, at, problems);
    case "suffix":
      return suffixFilter(operand, at, problems);
    case "equals-ignore-case":
      return equalsIgnoreCaseFilter(operand, at, problems);
    case "wildcard":
      return wildcardFilter(operand, at, problems);
    case "anything-but":
      return anythingButFilter(operand, at, problems);
    case "numeric":
      return numericFilter(operand, at, problems);
    case "cidr":
      return cidrFilter(operand, at, problems);
    default:
      return problem(problems, at, "unknown operator");
  }
}

// --------------------------------------------------------------------------------------------------------- operators

/** `{"prefix": "us-"}` or `{"prefix": {"equals-ignore-case": "us-"}}`: strings only. */
function prefixFilter(operand: unknown, at: string, problems: string[]): LeafTest | undefined {
  const text = stringOrIgnoreCase(operand, at, problems);
  if (text === undefined) return undefined;
  const { value, ignoreCase } = text;
  return (leaf) => typeof leaf === "string" && fold(leaf, ignoreCase).startsWith(fold(value, ignoreCase));
}

/** `{"suffix": ".png"}` or `{"suffix": {"equals-ignore-case": ".png"}}`: strings only. */
function suffixFilter(operand: unknown, at: string, problems: string[]): LeafTest | undefined {
  const text = stringOrIgnoreCase(operand, at, problems);
  if (text === undefined) return undefined;
  const { value, ignoreCase } = text;
  return (leaf) => typeof leaf === "string" && fold(leaf, ignoreCase).endsWith(fold(value, ignoreCase));
}

/** `{"equals-ignore-case": "alice"}`: strings only. */
function equalsIgnoreCaseFilter(operand: unknown, at: string, problems: string[]): LeafTest | undefined {
  if (typeof operand !== "string") return problem(problems, at, `expected a string, got ${describe(operand)}`);
  const expected = operand.toLowerCase();
  return (leaf) => typeof leaf === "string" && leaf.toLowerCase() === expected;
}

/** `{"wildcard": "dir/*.png"}`: `*` is any run of characters, `\*` a star, `\\` a backslash; strings only. */
function wildcardFilter(operand: unknown, at: string, problems: string[]): LeafTest | undefined {
  if (typeof operand !== "string") return problem(problems, at, `expected a string, got ${describe(operand)}`);
  const regExp = wildcardRegExp(operand, at, problems);
  return regExp === undefined ? undefined : (leaf) => typeof leaf === "string" && regExp.test(leaf);
}

/**
 * `{"anything-but": …}`: a value, a list of only strings or only numbers, or one of prefix / suffix (a non-empty
 * string or a list of them: `{"anything-but": {"prefix": ["us-", "eu-"]}}` starts with none), equals-ignore-case /
 * wildcard (a string or a list of strings). Matches any leaf value that the inner test rejects; a missing field has
 * no leaf value, so it never matches.
 */
function anythingButFilter(operand: unknown, at: string, problems: string[]): LeafTest | undefined {
  const inner = anythingButInner(operand, at, problems);
  return inner === undefined ? undefined : (leaf) => !inner(leaf);
}

function anythingButInner(operand: unknown, at: string, problems: string[]): LeafTest | undefined {
  if (typeof operand === "string" || (typeof operand === "number" && Number.isFinite(operand))) {
    return (leaf) => leaf === operand;
  }
  if (Array.isArray(operand)) {
    const items: readonly unknown[] = operand;
    const allStrings = items.every((v) => typeof v === "string");
    const allNumbers = items.every((v) => typeof v === "number" && Number.isFinite(v));
    if (items.length === 0 || !(allStrings || allNumbers)) {
      return problem(
        problems,
        at,
        `expected a non-empty list of only strings or only numbers, got ${describe(operand)}`,
      );
    }
    const excluded = new Set<unknown>(items);
    return (leaf) => excluded.has(leaf);
  }
  if (!isObject(operand)) {
    return problem(problems, at, `expected a string, a number, a list or an operator, got ${describe(operand)}`);
  }
  const [entry, ...extra] = Object.entries(operand);
  if (entry === undefined || extra.length > 0) return problem(problems, at, "expected exactly one inner operator");
  const [operator, inner] = entry;
  const where = `${at}.${operator}`;
  switch (operator) {
    case "prefix":
      return anyOfStrings(inner, where, problems, nonEmpty(prefixFilter));
    case "suffix":
      return anyOfStrings(inner, where, problems, nonEmpty(suffixFilter));
    case "equals-ignore-case":
      return anyOfStrings(inner, where, problems, equalsIgnoreCaseFilter);
    case "wildcard":
      return anyOfStrings(inner, where, problems, wildcardFilter);
    default:
      return problem(problems, where, "unknown operator inside anything-but");
  }
}

/**
 * `{"numeric": ["=", 5]}`, one comparison (`>`, `>=`, `<`, `<=`), or a range: a lower bound (`>`, `>=`) then an
 * upper bound (`<`, `<=`). JSON numbers only: a string never matches, even "5".
 */
function numericFilter(operand: unknown, at: string, problems: string[]): LeafTest | undefined {
  if (!Array.isArray(operand)) return problem(problems, at, `expected an array, got ${describe(operand)}`);
  const items: readonly unknown[] = operand;
  const [firstOp, first, secondOp, second, ...rest] = items;
  const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
  if (items.length === 2 && isComparison(firstOp) && isNumber(first)) {
    return (leaf) => typeof leaf === "number" && compare(firstOp, leaf, first);
  }
  const isRange =
    items.length === 4 &&
    rest.length === 0 &&
    (firstOp === ">" || firstOp === ">=") &&
    (secondOp === "<" || secondOp === "<=") &&
    isNumber(first) &&
    isNumber(second);
  if (!isRange) {
    return problem(problems, at, `expected [op, n] or [">"|">=", n, "<"|"<=", m], got ${describe(operand)}`);
  }
  if (first >= second) return problem(problems, at, `the lower bound ${first} is not below the upper bound ${second}`);
  return (leaf) => typeof leaf === "number" && compare(firstOp, leaf, first) && compare(secondOp, leaf, second);
}

/** `{"cidr": "10.0.0.0/24"}` (IPv4 or IPv6): matches a string that is an IP address of the same family in the range. */
function cidrFilter(operand: unknown, at: string, problems: string[]): LeafTest | undefined {
  const [address = "", bits, ...rest] = typeof operand === "string" ? operand.split("/") : [];
  const version = isIP(address);
  const max = version === 4 ? 32 : 128;
  if (version === 0 || bits === undefined || rest.length > 0 || !/^\d{1,3}$/.test(bits) || Number(bits) > max) {
    return problem(problems, at, `expected an IPv4 or IPv6 CIDR such as 10.0.0.0/24, got ${describe(operand)}`);
  }
  const family = version === 4 ? "ipv4" : "ipv6";
  const range = new BlockList();
  range.addSubnet(address, Number(bits), family);
  return (leaf) => typeof leaf === "string" && isIP(leaf) === version && range.check(leaf, family);
}

// ----------------------------------------------------------------------------------------------------------- helpers

function stringOrIgnoreCase(
  operand: unknown,
  at: string,
  problems: string[],
): { value: string; ignoreCase: boolean } | undefined {
  if (typeof operand === "string") return { value: operand, ignoreCase: false };
  const [entry, ...extra] = isObject(operand) ? Object.entries(operand) : [];
  if (entry !== undefined && extra.length === 0 && entry[0] === "equals-ignore-case" && typeof entry[1] === "string") {
    return { value: entry[1], ignoreCase: true };
  }
  return problem(problems, at, `expected a string or {"equals-ignore-case": string}, got ${describe(operand)}`);
}

function anyOfStrings(operand: unknown, at: string, problems: string[], filter: StringFilter): LeafTest | undefined {
  const values: readonly unknown[] = Array.isArray(operand) ? operand : [operand];
  if (values.length === 0) return problem(problems, at, "expected a string or a non-empty list of strings");
  const tests = values.flatMap(
    (value, i) => filter(value, Array.isArray(operand) ? `${at}[${i}]` : at, problems) ?? [],
  );
  return tests.length === values.length ? (leaf) => tests.some((test) => test(leaf)) : undefined;
}

type StringFilter = (operand: unknown, at: string, problems: string[]) => LeafTest | undefined;

/** `filter` for a non-empty string only: what a prefix or suffix inside anything-but takes (EventBridge refuses ""). */
function nonEmpty(filter: StringFilter): StringFilter {
  return (operand, at, problems) =>
    typeof operand === "string" && operand !== ""
      ? filter(operand, at, problems)
      : problem(problems, at, `expected a non-empty string, got ${describe(operand)}`);
}

const REGEXP_SYNTAX = new Set([..."^$\\.*+?()[]{}|/"]);

function wildcardRegExp(text: string, at: string, problems: string[]): RegExp | undefined {
  let source = "";
  let previousStar = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text.charAt(i);
    if (char === "*") {
      if (previousStar) return problem(problems, at, `consecutive wildcard characters in ${JSON.stringify(text)}`);
      source += ".*";
      previousStar = true;
      continue;
    }
    let literal = char;
    if (char === "\\") {
      literal = text.charAt(i + 1);
      if (literal !== "*" && literal !== "\\") {
        return problem(problems, at, `a backslash may only escape * or \\ in ${JSON.stringify(text)}`);
      }
      i += 1;
    }
    source += REGEXP_SYNTAX.has(literal) ? `\\${literal}` : literal;
    previousStar = false;
  }
  return new RegExp(`^${source}$`, "s");
}

function isComparison(value: unknown): value is NumericOperator {
  return value === "=" || value === ">" || value === ">=" || value === "<" || value === "<=";
}

function compare(operator: NumericOperator, value: number, bound: number): boolean {
  switch (operator) {
    case "=":
      return value === bound;
    case ">":
      return value > bound;
    case ">=":
      return value >= bound;
    case "<":
      return value < bound;
    case "<=":
      return value <= bound;
  }
}

function fold(text: string, ignoreCase: boolean): string {
  return ignoreCase ? text.toLowerCase() : text;
}

function own(object: Json, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is JsonScalar {
  return value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}

function problem(problems: string[], at: string, message: string): undefined {
  problems.push(`${at}: ${message}`);
  return undefined;
}
