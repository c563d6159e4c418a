import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CLOUDTRAIL_EVENTS,
  defaultPolicy,
  EksResponderError,
  parseEvent,
  parseEventText,
  processEvent,
} from "../../../packages/core/src/index.ts";

const policy = defaultPolicy();
const KNOWN_CODES = ["SIGNAL.INVALID", "SIGNAL.TOO_LARGE"];

/** parseEvent may only return, or throw the project's own typed error. */
function parseOrTypedError(input: unknown): void {
  try {
    parseEvent(input);
  } catch (error) {
    expect(error).toBeInstanceOf(EksResponderError);
    expect(KNOWN_CODES).toContain((error as EksResponderError).code);
  }
}

const supported = Object.entries(CLOUDTRAIL_EVENTS).flatMap(([source, names]) =>
  names.map((name) => ({ source, name })),
);

/** An envelope EventBridge could send, around a detail that is anything at all. */
const envelopeAroundAnything = fc.record({
  version: fc.constant("0"),
  id: fc.uuid(),
  "detail-type": fc.constantFrom("AWS API Call via CloudTrail", "GuardDuty Finding", "Object Created"),
  source: fc.constantFrom("aws.ec2", "aws.eks", "aws.guardduty", "aws.s3"),
  account: fc.constant("111122223333"),
  time: fc.constant("2025-01-01T00:00:00Z"),
  region: fc.constant("eu-west-1"),
  resources: fc.constant([]),
  detail: fc.oneof(
    fc.jsonValue(),
    fc.record({
      eventName: fc.constantFrom(...supported.map((s) => s.name)),
      eventID: fc.string(),
      eventTime: fc.string(),
      eventSource: fc.string(),
      awsRegion: fc.string(),
      requestParameters: fc.jsonValue(),
      responseElements: fc.jsonValue(),
    }),
  ),
});

describe("parsing arbitrary input", () => {
  it("never throws anything but the project's typed error, and never plans, for any JSON value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        parseOrTypedError(value);
        const result = processEvent(value, policy);
        expect(result.plan).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it("never throws anything but the typed error, and never plans, for any text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => {
        try {
          parseEventText(text);
        } catch (error) {
          expect(error).toBeInstanceOf(EksResponderError);
        }
        expect(processEvent(text, policy).plan).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it("never plans for a well-formed envelope around an arbitrary detail", () => {
    fc.assert(
      fc.property(envelopeAroundAnything, (event) => {
        parseOrTypedError(event);
        expect(processEvent(event, policy).plan).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it("never crashes when any field of a real event is replaced by an arbitrary value", () => {
    const real = JSON.parse(
      readFileSync(
        join(import.meta.dirname, "../../fixtures/cloudtrail/authorize-security-group-ingress/ssh-ipv4-open-real.json"),
        "utf8",
      ),
    ) as Record<string, unknown>;
    const paths: string[][] = [];
    const walk = (value: unknown, path: string[]) => {
      if (value !== null && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
      }
      paths.push(path);
    };
    walk(real, []);
    fc.assert(
      fc.property(fc.constantFrom(...paths.filter((p) => p.length > 0)), fc.jsonValue(), (path, replacement) => {
        const event = structuredClone(real);
        let target = event as Record<string, unknown>;
        for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>;
        target[path.at(-1) as string] = replacement;
        parseOrTypedError(event);
        const result = processEvent(event, policy);
        expect(["dry-run", "alert", "skipped", "invalid"]).toContain(result.outcome);
      }),
      { numRuns: 500 },
    );
  });
});

describe("processEvent on refused text", () => {
  it("names the event of a text refused for its size, and of one refused by the schemas", () => {
    const event = JSON.parse(
      readFileSync(
        join(import.meta.dirname, "../../../examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"),
        "utf8",
      ),
    ) as Record<string, unknown>;
    const big = processEvent(JSON.stringify({ ...event, padding: "x".repeat(300 * 1024) }), policy);
    expect(big.outcome).toBe("invalid");
    expect(big.error?.code).toBe("SIGNAL.TOO_LARGE");
    expect(big.eventId).toBe(event.id);
    const malformed = processEvent(JSON.stringify({ ...event, account: "not an account" }), policy);
    expect(malformed.outcome).toBe("invalid");
    expect(malformed.error?.code).toBe("SIGNAL.INVALID");
    expect(malformed.eventId).toBe(event.id);
    const notJson = processEvent(`{"id": "x", `, policy);
    expect(notJson.outcome).toBe("invalid");
    expect(notJson.eventId).toBeUndefined();
  });
});

/** The GuardDuty fixtures eks-responder handles (not samples, not findings on other resources). */
const GUARDDUTY_FIXTURES = join(import.meta.dirname, "../../fixtures/guardduty");
const handledFindings = readdirSync(GUARDDUTY_FIXTURES, { recursive: true, encoding: "utf8" })
  .filter((file) => file.endsWith(".json"))
  .map((file) => ({ file, event: JSON.parse(readFileSync(join(GUARDDUTY_FIXTURES, file), "utf8")) as unknown }))
  .filter(({ event }) => processEvent(event, policy).outcome !== "skipped");

/** Every path to a value in `value`, the root left out. */
function pathsIn(value: unknown, path: string[] = []): string[][] {
  const here = path.length > 0 ? [path] : [];
  if (value === null || typeof value !== "object") return here;
  return [...here, ...Object.entries(value).flatMap(([k, v]) => pathsIn(v, [...path, k]))];
}

/**
 * The values that decide by design that a finding is none of eks-responder's: the envelope's source and detail-type,
 * the sample marker, and an instance's tags (what makes it an EKS node).
 */
function decidesScope(path: string[]): boolean {
  const at = path.join(".");
  return (
    at === "source" ||
    at === "detail-type" ||
    at.startsWith("detail.service.additionalInfo") ||
    at.startsWith("detail.resource.instanceDetails.tags")
  );
}

const LEFT_OUT = Symbol("left out");
/** What a writer other than GuardDuty puts in a field: nothing, null, or any JSON value. */
const replacement = fc.oneof(fc.constant(LEFT_OUT), fc.constant(null), fc.jsonValue());

describe("a threat finding read in part", () => {
  it("is never skipped when any other field of a handled finding is left out, null or an arbitrary value", () => {
    expect(handledFindings.length).toBeGreaterThanOrEqual(10);
    const events = new Map(handledFindings.map(({ file, event }) => [file, event]));
    // A case names its fixture and path only, so a counterexample prints in a line.
    const cases = handledFindings.flatMap(({ file, event }) =>
      pathsIn(event)
        .filter((path) => !decidesScope(path))
        .map((path) => ({ file, path })),
    );
    fc.assert(
      fc.property(fc.constantFrom(...cases), replacement, ({ file, path }, value) => {
        const changed = structuredClone(events.get(file)) as Record<string, unknown>;
        let target = changed;
        for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>;
        const key = path.at(-1) as string;
        if (value === LEFT_OUT) delete target[key];
        else target[key] = value;
        const result = processEvent(changed, policy);
        // An invalid event goes to every notification route (routesOf): it is reported, not dropped.
        expect(["dry-run", "alert", "pending-approval", "invalid"]).toContain(result.outcome);
      }),
      { numRuns: 2000 },
    );
  });
});
