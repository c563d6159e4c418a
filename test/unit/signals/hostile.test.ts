import { describe, expect, it } from "vitest";
import {
  defaultPolicy,
  EksResponderError,
  parseEvent,
  parseEventText,
  processEvent,
  type Signal,
  SignalParseError,
} from "../../../packages/core/src/index.ts";
import { envelopeSchema } from "../../../packages/core/src/signals/envelope.schema.ts";
import { fixtureText, listFixtures, loadFixture, must, objectAt } from "../../helpers/fixtures.ts";

const H = "hostile";

/** How each hostile fixture must be refused: the message and the issue paths it must name. */
const REFUSED: Record<string, { message: RegExp; paths: string[] }> = {
  [`${H}/detail-is-string.json`]: { message: /not an EventBridge event: detail /, paths: ["detail"] },
  [`${H}/fromport-not-a-number.json`]: { message: /fromPort/, paths: ["fromPort"] },
  [`${H}/gd-severity-string.json`]: {
    message: /malformed GuardDuty finding: detail\.severity/,
    paths: ["detail.severity"],
  },
  [`${H}/gd-truncated-detail.json`]: {
    message: /malformed GuardDuty finding: detail\.severity/,
    paths: ["detail.severity", "detail.title", "detail.createdAt", "detail.updatedAt", "detail.service"],
  },
  [`${H}/json-array.json`]: { message: /must be a JSON object, got an array/, paths: ["(root)"] },
  [`${H}/not-json.json`]: { message: /^not valid JSON: /, paths: [] },
};

/** Hostile files that are well-formed events: they parse, and the hostile part must have no effect. */
const ACCEPTED = [
  `${H}/proto-pollution-keys.json`,
  `${H}/unrelated-source-s3-object-created.json`,
  `${H}/useragent-control-chars-slack-injection.json`,
];

const POLLUTION_KEYS = ["polluted", "isAdmin", "ipProtocol", "cidrIp"];

function refusal(text: string): SignalParseError {
  try {
    parseEventText(text);
  } catch (error) {
    if (error instanceof SignalParseError) return error;
    throw error;
  }
  throw new Error("expected parseEventText to throw");
}

function signalOf(text: string): Signal {
  const parsed = parseEventText(text);
  if (parsed.status !== "signal") throw new Error(`expected a signal, got ${parsed.status}`);
  return parsed.signal;
}

function expectNoPollution(): void {
  const probe: Record<string, unknown> = {};
  for (const key of POLLUTION_KEYS) {
    expect(probe[key]).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, key)).toBe(false);
  }
  expect(Object.getPrototypeOf(probe)).toBe(Object.prototype);
}

describe("parseEventText (hostile input)", () => {
  it("has an expectation for every hostile fixture", () => {
    // prepare
    const files = listFixtures(H);

    // act
    const covered = [...Object.keys(REFUSED), ...ACCEPTED].sort();

    // assess
    expect(covered).toEqual(files);
  });

  it.each(Object.entries(REFUSED))("refuses %s with a SignalParseError naming the bad path", (relPath, expected) => {
    // prepare
    const text = fixtureText(relPath);

    // act
    const error = refusal(text);

    // assess
    expect(error).toBeInstanceOf(EksResponderError);
    expect(error.code).toBe("SIGNAL.INVALID");
    expect(error.message).toMatch(expected.message);
    const paths = error.issues.map((i) => i.path);
    for (const path of expected.paths) expect(paths.some((p) => p.includes(path))).toBe(true);
  });

  it("names the value it found when a port is not a number (fromport-not-a-number)", () => {
    // prepare
    const text = fixtureText(`${H}/fromport-not-a-number.json`);

    // act
    const error = refusal(text);

    // assess
    const issue = must(
      error.issues.find((i) => i.path.endsWith("fromPort")),
      "fromPort issue",
    );
    expect(issue.path).toMatch(/^detail\.requestParameters\.ipPermissions/);
    expect(issue.message).not.toMatch(/missing/);
    expect(issue.message).toContain("twenty-two");
  });

  it("names the value found in a string severity (gd-severity-string)", () => {
    // prepare
    const text = fixtureText(`${H}/gd-severity-string.json`);

    // act
    const error = refusal(text);

    // assess
    expect(error.issues).toEqual([{ path: "detail.severity", message: 'expected number, got "high"' }]);
  });

  it("returns unsupported for the unrelated aws.s3 event", () => {
    // prepare
    const text = fixtureText(`${H}/unrelated-source-s3-object-created.json`);

    // act
    const parsed = parseEventText(text);

    // assess
    expect(parsed).toEqual({
      status: "unsupported",
      event: {
        source: "aws.s3",
        detailType: "Object Created",
        reason: 'events of source aws.s3 and detail-type "Object Created" are not read',
      },
    });
  });

  it("does not pollute Object.prototype when parsing __proto__ and constructor.prototype keys", () => {
    // prepare
    const text = fixtureText(`${H}/proto-pollution-keys.json`);

    // act
    const signal = signalOf(text);

    // assess
    expectNoPollution();
    if (signal.family !== "cloudtrail" || signal.eventName !== "AuthorizeSecurityGroupIngress") {
      throw new Error("expected an AuthorizeSecurityGroupIngress signal");
    }
    expect(signal.permissions).toHaveLength(1);
    const permission = must(signal.permissions[0]);
    expect(Object.getPrototypeOf(permission)).toBe(Object.prototype);
    expect(permission.protocol).toBe("tcp");
    expect(permission.ipv4).toEqual([{ cidr: "203.0.113.10/32", description: "alice home office" }]);
  });

  it("parses the __proto__ fixture exactly like the benign event it was made from", () => {
    // prepare
    const hostile = fixtureText(`${H}/proto-pollution-keys.json`);
    const benign = fixtureText("cloudtrail/authorize-security-group-ingress/single-host-32-ssh.json");

    // act
    const fromHostile = signalOf(hostile);
    const fromBenign = signalOf(benign);

    // assess
    expect({ ...fromHostile, envelopeId: "same" }).toEqual({ ...fromBenign, envelopeId: "same" });
  });

  it("does not let a __proto__ key smuggle a world-open flat permission into the request", () => {
    // prepare
    const envelope = loadFixture(`${H}/proto-pollution-keys.json`);
    const request = objectAt(envelope, "detail", "requestParameters");
    Object.defineProperty(request, "__proto__", {
      value: { cidrIp: "0.0.0.0/0", ipProtocol: "-1", fromPort: 0, toPort: 65535 },
      enumerable: true,
      configurable: true,
      writable: true,
    });

    // act
    const parsed = parseEvent(envelope);
    const result = processEvent(envelope, defaultPolicy());

    // assess
    expectNoPollution();
    expect(parsed.status).toBe("signal");
    expect(result.assessments).toEqual([]);
    expect(result.plan).toEqual([]);
  });

  it("keeps the control characters and Slack markup of the user agent raw in the signal", () => {
    // prepare
    const envelope = loadFixture(`${H}/useragent-control-chars-slack-injection.json`);
    const userAgent = objectAt(envelope, "detail").userAgent;

    // act
    const signal = signalOf(fixtureText(`${H}/useragent-control-chars-slack-injection.json`));

    // assess
    if (signal.family !== "cloudtrail") throw new Error("expected a CloudTrail signal");
    expect(typeof userAgent).toBe("string");
    expect(signal.actor.userAgent).toBe(userAgent);
    expect(signal.actor.userAgent).toContain("\r\n");
    expect(signal.actor.userAgent).toContain("<!channel>");
    expect(signal.actor.userAgent).toContain("\u202e");
  });
});

describe("processEvent (hostile input)", () => {
  it.each(Object.keys(REFUSED))("refuses %s as invalid, with no plan", (relPath) => {
    // prepare
    const text = fixtureText(relPath);

    // act
    const result = processEvent(text, defaultPolicy());

    // assess
    expect(result.outcome).toBe("invalid");
    expect(result.error?.code).toBe("SIGNAL.INVALID");
    expect(result.plan).toEqual([]);
    expect(result.decisions).toEqual([]);
    expect(result.assessments).toEqual([]);
  });

  it("keeps the envelope id of a refused event whose envelope is readable", () => {
    // prepare
    const text = fixtureText(`${H}/gd-severity-string.json`);
    const envelope = loadFixture(`${H}/gd-severity-string.json`);

    // act
    const result = processEvent(text, defaultPolicy());

    // assess
    expect(result.eventId).toBe(envelope.id);
    expect(result.error?.issues).toEqual([{ path: "detail.severity", message: 'expected number, got "high"' }]);
  });

  it("skips the unrelated aws.s3 event as unsupported, with no plan", () => {
    // prepare
    const text = fixtureText(`${H}/unrelated-source-s3-object-created.json`);

    // act
    const result = processEvent(text, defaultPolicy());

    // assess
    expect(result.outcome).toBe("skipped");
    expect(result.skipped).toBe("unsupported-event");
    expect(result.plan).toEqual([]);
  });

  it("finds nothing and plans nothing for the __proto__ fixture, and pollutes nothing", () => {
    // prepare
    const text = fixtureText(`${H}/proto-pollution-keys.json`);

    // act
    const result = processEvent(text, defaultPolicy());

    // assess
    expectNoPollution();
    expect(result.outcome).toBe("skipped");
    expect(result.skipped).toBe("no-finding");
    expect(result.plan).toEqual([]);
  });

  it("still revokes the world-open SSH rule of the user-agent injection event, and no injected text reaches the plan", () => {
    // prepare
    const text = fixtureText(`${H}/useragent-control-chars-slack-injection.json`);

    // act
    const result = processEvent(text, defaultPolicy());

    // assess
    expect(result.plan.map((p) => ({ service: p.service, operation: p.operation, params: p.params }))).toEqual([
      {
        service: "ec2",
        operation: "RevokeSecurityGroupIngress",
        params: { GroupId: "sg-0a1b2c3d4e5f60718", SecurityGroupRuleIds: ["sgr-07f8091a2b3c4d5e6"], DryRun: true },
      },
    ]);
    const planText = JSON.stringify(result.plan);
    for (const injected of ["<!channel>", "<!here>", "evil.example", "\u202e", "\u001b"]) {
      expect(planText).not.toContain(injected);
    }
  });
});

describe("an event's detail and request parameters are objects, checked in place", () => {
  const base = () => ({
    version: "0",
    id: "e-1",
    "detail-type": "AWS API Call via CloudTrail",
    source: "aws.ec2",
    account: "111122223333",
    time: "2026-11-28T00:00:00Z",
    region: "eu-west-1",
    resources: [],
    detail: {
      eventID: "ev-1",
      eventTime: "2026-11-28T00:00:00Z",
      eventSource: "ec2.amazonaws.com",
      eventName: "AuthorizeSecurityGroupIngress",
      awsRegion: "eu-west-1",
      requestParameters: { groupId: "sg-0a1b2c3d4e5f60718", ipPermissions: {} } as unknown,
    } as Record<string, unknown>,
  });

  it.each([
    ["a string", "text", 'expected record, got "text"'],
    ["an array", [1], "expected record, got [1]"],
    ["null", null, "expected record, got null"],
    ["a number", 7, "expected record, got 7"],
    ["a date", new Date(0), 'expected record, got "1970-01-01T00:00:00.000Z"'],
  ])("refuses %s as the detail, naming what was expected and what was found", (_, detail, message) => {
    // prepare
    const event = { ...base(), detail };

    // act
    const act = () => parseEvent(event);

    // assess
    expect(act).toThrow(SignalParseError);
    expect(refusalOf(act).issues).toEqual([{ path: "detail", message }]);
  });

  it("refuses a missing detail as missing", () => {
    // prepare
    const { detail: _, ...event } = base();

    // act
    const act = () => parseEvent(event);

    // assess
    expect(refusalOf(act).issues).toEqual([{ path: "detail", message: "missing: expected record" }]);
  });

  it("refuses request parameters that are not an object, at their path", () => {
    // prepare
    const event = base();
    event.detail.requestParameters = ["sg-0a1b2c3d4e5f60718"];

    // act
    const act = () => parseEvent(event);

    // assess
    expect(refusalOf(act).issues).toEqual([
      { path: "detail.requestParameters", message: 'expected record, got ["sg-0a1b2c3d4e5f60718"]' },
    ]);
  });

  it("reads a valid detail without copying or changing it, and a __proto__ key stays a plain key", () => {
    // prepare
    const event = base();
    const detail = JSON.parse(
      JSON.stringify(event.detail).replace('"eventID"', '"__proto__":{"polluted":1},"eventID"'),
    );
    const before = JSON.stringify(detail);

    // act
    const parsed = parseEvent({ ...event, detail });
    const envelope = envelopeSchema.parse({ ...event, detail });

    // assess
    expect(parsed.status).toBe("signal");
    expect(envelope.detail).toBe(detail);
    expect(Object.hasOwn(envelope.detail, "__proto__")).toBe(true);
    expect(JSON.stringify(detail)).toBe(before);
    expect(Object.getPrototypeOf(detail)).toBe(Object.prototype);
    expectNoPollution();
  });
});

function refusalOf(act: () => unknown): SignalParseError {
  try {
    act();
  } catch (error) {
    if (error instanceof SignalParseError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}
