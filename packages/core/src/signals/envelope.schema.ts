import { REGION_MESSAGE, REGION_PATTERN } from "../aws/partitions.ts";
import * as z from "../zod.ts";

/**
 * A JSON object, checked in place. `z.record(z.string(), z.unknown())` accepts the same values but rebuilds the
 * object key by key, and an event's detail is then read again by the schema of its own kind, which copies what it
 * reads: a copy for nothing, on every event (the parse step's row in bench/throughput.ts). Reported like a type
 * mismatch ("expected record, got …": signals/zod-issues.ts reads `expected` from the params; the messages
 * are tested in test/unit/signals/hostile.test.ts).
 */
export const jsonObject = z.custom<Record<string, unknown>>(isPlainObject, { params: { expected: "record" } });

/**
 * An object made by JSON.parse or an object literal: not an array, a Date or any other class instance. Written here
 * because zod's own `isPlainObject` is reached only through its `core` namespace, and using that namespace bundles
 * all of zod's core into every handler (bench/cold-start.ts showed the respond bundle grow from 207 to 542 KiB).
 */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * The EventBridge envelope around every event a rule hands to a Lambda target.
 * @see https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html
 * Sample: examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json
 */
export const envelopeSchema = z.object({
  version: z.string(),
  id: z.string().check(z.minLength(1)),
  "detail-type": z.string().check(z.minLength(1)),
  source: z.string().check(z.minLength(1)),
  account: z.string().check(z.regex(/^\d{12}$/, "expected a 12-digit AWS account id")),
  time: z.string(),
  region: z.string().check(z.regex(REGION_PATTERN, REGION_MESSAGE)),
  resources: z._default(z.array(z.string()), []),
  detail: jsonObject,
});

export type Envelope = z.infer<typeof envelopeSchema>;

/** EventBridge refuses events larger than 256 KB, so anything larger did not come from it. */
export const MAX_EVENT_BYTES = 256 * 1024;
