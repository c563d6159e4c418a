import { SignalParseError, SignalTooLargeError } from "../errors.ts";
import { safeParseHot } from "../hot-schema.ts";
import { CLOUDTRAIL_EVENTS, isCloudTrailSource, isSupportedCloudTrailEvent, parseCloudTrail } from "./cloudtrail.ts";
import { envelopeSchema, MAX_EVENT_BYTES } from "./envelope.schema.ts";
import { GUARDDUTY_DETAIL_TYPE, parseGuardDuty } from "./guardduty.ts";
import type { Signal } from "./types.ts";
import { describeValue, summarizeIssues, toInputIssues } from "./zod-issues.ts";

export const CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail";

/** A well-formed event that eks-responder does not read. Reported, never acted on, never dropped silently. */
export interface UnsupportedEvent {
  source: string;
  detailType: string;
  eventName?: string;
  reason: string;
}

export type ParsedEvent = { status: "signal"; signal: Signal } | { status: "unsupported"; event: UnsupportedEvent };

/**
 * Validates one EventBridge event and turns it into a signal. A well-formed event of a kind eks-responder does not
 * read comes back as `unsupported`; a malformed one throws {@link SignalParseError}. Nothing else is ever thrown.
 */
export function parseEvent(raw: unknown): ParsedEvent {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new SignalParseError(
      `an event must be a JSON object, got ${Array.isArray(raw) ? "an array" : describeValue(raw)}`,
      [{ path: "(root)", message: "expected an EventBridge event object" }],
    );
  }
  const result = safeParseHot(envelopeSchema, raw);
  if (!result.success) {
    const issues = toInputIssues(result.error, raw);
    throw new SignalParseError(`not an EventBridge event: ${summarizeIssues(issues)}`, issues);
  }
  const envelope = result.data;
  const detailType = envelope["detail-type"];
  const { source } = envelope;
  try {
    if (detailType === CLOUDTRAIL_DETAIL_TYPE && isCloudTrailSource(source)) {
      const eventName = envelope.detail.eventName;
      if (typeof eventName !== "string") {
        throw new SignalParseError("malformed CloudTrail event: detail.eventName is missing", [
          { path: "detail.eventName", message: `expected the API operation name (got ${describeValue(eventName)})` },
        ]);
      }
      if (!isSupportedCloudTrailEvent(source, eventName)) {
        return {
          status: "unsupported",
          event: {
            source,
            detailType,
            eventName,
            reason: `${source} ${eventName} is not an event eks-responder reads (it reads ${CLOUDTRAIL_EVENTS[source].join(", ")})`,
          },
        };
      }
      return { status: "signal", signal: parseCloudTrail(envelope, source) };
    }
    if (detailType === GUARDDUTY_DETAIL_TYPE && source === "aws.guardduty") {
      return { status: "signal", signal: parseGuardDuty(envelope) };
    }
  } catch (error) {
    if (error instanceof SignalParseError) throw error;
    // Anything else escaping a schema is a bug in it; the event is still refused, as malformed, with the cause kept.
    throw new SignalParseError(`could not read ${source} event: ${String(error)}`, [], { cause: error });
  }
  return {
    status: "unsupported",
    event: { source, detailType, reason: `events of source ${source} and detail-type "${detailType}" are not read` },
  };
}

/**
 * The JSON value of one event's text (a file, an SQS message body): refuses what EventBridge could never have
 * delivered (over 256 KB), then what is not JSON, each with a typed error.
 */
export function readEventText(text: string): unknown {
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so a short text cannot be too large: only a long one is measured
  // (counting the bytes reads the whole text, a cost next to JSON.parse's own).
  if (text.length * 3 > MAX_EVENT_BYTES) {
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes > MAX_EVENT_BYTES) throw new SignalTooLargeError(bytes, MAX_EVENT_BYTES);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SignalParseError(`not valid JSON: ${error instanceof Error ? error.message : String(error)}`, [], {
      cause: error,
    });
  }
}

/** Reads one event from text: {@link readEventText}, then {@link parseEvent}. */
export function parseEventText(text: string): ParsedEvent {
  return parseEvent(readEventText(text));
}
