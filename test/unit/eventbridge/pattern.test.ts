import { describe, expect, it } from "vitest";
import { EventPatternError } from "../../../packages/core/src/errors.ts";
import { assertValidPattern, matchesPattern, validatePattern } from "../../../packages/core/src/eventbridge/pattern.ts";

interface Case {
  name: string;
  pattern: unknown;
  event: unknown;
  matches: boolean;
}

// ------------------------------------------------------------------------------------------------- shared doc events

/** The Amazon EC2 state-change event of "Creating Amazon EventBridge event patterns". */
const EC2_TERMINATED = {
  version: "0",
  id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "111122223333",
  time: "2017-12-22T18:43:48Z",
  region: "us-west-1",
  resources: ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  detail: { "instance-id": "i-1234567890abcdef0", state: "terminated" },
};

/** The Amazon EC2 Auto Scaling event of "Matching events on event field values" and "Matching null values". */
const AUTOSCALING = {
  version: "0",
  id: "3e3c153a-8339-4e30-8c35-687ebef853fe",
  "detail-type": "EC2 Instance Launch Successful",
  source: "aws.autoscaling",
  account: "123456789012",
  time: "2015-11-11T21:31:47Z",
  region: "us-east-1",
  resources: [],
  detail: { eventVersion: "", responseElements: null },
};

/** The (truncated) Amazon Macie finding event of "Matching events on event field values". */
const MACIE_FINDING = {
  version: "0",
  id: "0948ba87-d3b8-c6d4-f2da-732a1example",
  "detail-type": "Macie Finding",
  source: "aws.macie",
  account: "123456789012",
  time: "2021-04-29T23:12:15Z",
  region: "us-east-1",
  resources: [],
  detail: {
    schemaVersion: "1.0",
    id: "64b917aa-3843-014c-91d8-937ffexample",
    accountId: "123456789012",
    partition: "aws",
    region: "us-east-1",
    type: "Policy:IAMUser/S3BucketEncryptionDisabled",
    title: "Encryption is disabled for the S3 bucket",
    description:
      "Encryption is disabled for the Amazon S3 bucket. The data in the bucket isn’t encrypted using server-side encryption.",
    severity: { score: 1, description: "Low" },
    createdAt: "2021-04-29T15:46:02Z",
    updatedAt: "2021-04-29T23:12:15Z",
    count: 2,
  },
};

/** The (truncated) Amazon Macie Classic alert of the earlier edition of the same page. */
const MACIE_ALERT = {
  version: "0",
  id: "3e355723-fca9-4de3-9fd7-154c289d6b59",
  "detail-type": "Macie Alert",
  source: "aws.macie",
  account: "123456789012",
  time: "2017-04-24T22:28:49Z",
  region: "us-east-1",
  resources: [
    "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_id",
    "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id",
  ],
  detail: {
    "notification-type": "ALERT_CREATED",
    name: "Scanning bucket policies",
    tags: ["Custom_Alert", "Insider"],
    url: "https://lb00.us-east-1.macie.aws.amazon.com/111122223333/posts/alert_id",
    "alert-arn": "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_",
    "risk-score": 80,
    trigger: {
      "rule-arn": "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id",
      "alert-type": "basic",
      "created-at": "2017-01-02 19:54:00.644000",
      description: "Alerting on failed enumeration of large number of bucket policies",
      risk: 8,
    },
    "created-at": "2017-04-18T00:21:12.059000",
  },
};

/** The sample event the operator examples are written against (aws/event-ruler README, "Ruler by Example"). */
const RULER_EVENT = {
  version: "0",
  id: "ddddd4-aaaa-7777-4444-345dd43cc333",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "012345679012",
  time: "2017-10-02T16:24:49Z",
  region: "us-east-1",
  resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
  detail: {
    "c-count": 5,
    "d-count": 3,
    "x-limit": 301.8,
    "source-ip": "10.0.0.33",
    "instance-id": "i-000000aaaaaa00000",
    state: "running",
  },
};

/** An event whose `detail` is `detail`, for the operator cases. */
function withDetail(detail: Record<string, unknown>): Record<string, unknown> {
  return { ...RULER_EVENT, detail };
}

/** `RULER_EVENT` with some detail fields replaced. */
function rulerWith(changes: Record<string, unknown>): Record<string, unknown> {
  return { ...RULER_EVENT, detail: { ...RULER_EVENT.detail, ...changes } };
}

const EC2_PATTERN = {
  source: ["aws.ec2"],
  "detail-type": ["EC2 Instance State-change Notification"],
  detail: { state: ["terminated"] },
};

const NUMERIC = {
  detail: {
    "c-count": [{ numeric: [">", 0, "<=", 5] }],
    "d-count": [{ numeric: ["<", 10] }],
    "x-limit": [{ numeric: ["=", 3.018e2] }],
  },
};

const COMPLEX = {
  time: [{ prefix: "2017-10-02" }],
  detail: {
    state: [{ "anything-but": "initializing" }],
    "c-count": [{ numeric: [">", 0, "<=", 5] }],
    "d-count": [{ numeric: ["<", 10] }],
    "x-limit": [{ "anything-but": [100, 200, 300] }],
  },
};

// ------------------------------------------------------------------------------------------------------------ cases

const DOC_CASES: Case[] = [
  // "Creating event patterns":
  // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern.html
  // (its EC2 example event and pattern are on https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html)
  {
    name: "create: the EC2 instance-termination pattern matches",
    pattern: EC2_PATTERN,
    event: EC2_TERMINATED,
    matches: true,
  },
  {
    name: "create: ... but not a running instance",
    pattern: EC2_PATTERN,
    event: { ...EC2_TERMINATED, detail: { ...EC2_TERMINATED.detail, state: "running" } },
    matches: false,
  },
  {
    name: "create: source is aws.ec2 or aws.fargate (fargate)",
    pattern: { source: ["aws.ec2", "aws.fargate"] },
    event: { ...EC2_TERMINATED, source: "aws.fargate" },
    matches: true,
  },
  {
    name: "create: source is aws.ec2 or aws.fargate (ec2)",
    pattern: { source: ["aws.ec2", "aws.fargate"] },
    event: EC2_TERMINATED,
    matches: true,
  },
  {
    name: "create: source is aws.ec2 or aws.fargate (ecs)",
    pattern: { source: ["aws.ec2", "aws.fargate"] },
    event: { ...EC2_TERMINATED, source: "aws.ecs" },
    matches: false,
  },
  {
    name: "create: the event must contain every field name of the pattern",
    pattern: { ...EC2_PATTERN, detail: { state: ["terminated"], "previous-state": ["running"] } },
    event: EC2_TERMINATED,
    matches: false,
  },
  {
    name: "create: ... with the same nesting (state at the top level is not detail.state)",
    pattern: { detail: { state: ["terminated"] } },
    event: { source: "aws.ec2", state: "terminated", detail: {} },
    matches: false,
  },
  {
    name: "create: strings match character by character, without case folding",
    pattern: { detail: { state: ["Terminated"] } },
    event: EC2_TERMINATED,
    matches: false,
  },

  // "Event pattern examples" (Matching events on event field values):
  // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-filtering-data-types.html
  {
    name: "examples: field matching on responseElements: [null]",
    pattern: {
      source: ["aws.autoscaling"],
      "detail-type": ["EC2 Instance Launch Successful"],
      detail: { responseElements: [null] },
    },
    event: AUTOSCALING,
    matches: true,
  },
  {
    name: "examples: value matching, severity score 1 and count 2",
    pattern: {
      source: ["aws.macie"],
      "detail-type": ["Macie Finding"],
      detail: { severity: { score: [1] }, count: [2] },
    },
    event: MACIE_FINDING,
    matches: true,
  },
  {
    name: "examples: ... not a finding of severity 3",
    pattern: { source: ["aws.macie"], detail: { severity: { score: [1] }, count: [2] } },
    event: { ...MACIE_FINDING, detail: { ...MACIE_FINDING.detail, severity: { score: 3, description: "Medium" } } },
    matches: false,
  },
  {
    name: "examples (earlier edition): risk score 80 and trigger risk 8",
    pattern: {
      source: ["aws.macie"],
      "detail-type": ["Macie Alert"],
      detail: { "risk-score": [80], trigger: { risk: [8] } },
    },
    event: MACIE_ALERT,
    matches: true,
  },
  {
    name: "examples: a number never equals its string",
    pattern: { detail: { "risk-score": ["80"] } },
    event: MACIE_ALERT,
    matches: false,
  },

  // "Matching null values and empty strings":
  // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html
  {
    name: "null: eventVersion is an empty string",
    pattern: { detail: { eventVersion: [""] } },
    event: AUTOSCALING,
    matches: true,
  },
  {
    name: "null: responseElements is null",
    pattern: { detail: { responseElements: [null] } },
    event: AUTOSCALING,
    matches: true,
  },
  {
    name: "null: an empty string does not match null",
    pattern: { detail: { responseElements: [""] } },
    event: AUTOSCALING,
    matches: false,
  },
  {
    name: "null: null does not match an empty string",
    pattern: { detail: { eventVersion: [null] } },
    event: AUTOSCALING,
    matches: false,
  },

  // "Array matching" (Matching on multiple field values / Arrays in event patterns):
  // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html
  {
    name: "arrays: the first pattern value matches the second event element",
    pattern: {
      resources: [
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f",
      ],
    },
    event: {
      resources: [
        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
      ],
    },
    matches: true,
  },
  {
    name: "arrays: an empty intersection does not match",
    pattern: { resources: ["arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"] },
    event: { resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"] },
    matches: false,
  },
  {
    name: "arrays: an empty event array intersects nothing",
    pattern: { resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"] },
    event: AUTOSCALING,
    matches: false,
  },

  // "Content filtering in Amazon EventBridge event patterns" (now "Comparison operators for use in event patterns"):
  // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
  // (earlier URL: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html)
  {
    name: "prefix: time starts with 2017-10-02",
    pattern: { time: [{ prefix: "2017-10-02" }] },
    event: { time: "2017-10-02T18:43:48Z" },
    matches: true,
  },
  {
    name: "prefix: ... not 2017-10-03",
    pattern: { time: [{ prefix: "2017-10-02" }] },
    event: { time: "2017-10-03T18:43:48Z" },
    matches: false,
  },
  {
    name: "prefix: Auto Scaling events from European regions",
    pattern: { source: ["aws.autoscaling"], region: [{ prefix: "eu-" }] },
    event: { ...AUTOSCALING, region: "eu-west-1" },
    matches: true,
  },
  {
    name: "prefix: ... not from us-east-1",
    pattern: { source: ["aws.autoscaling"], region: [{ prefix: "eu-" }] },
    event: AUTOSCALING,
    matches: false,
  },
  {
    name: "prefix ignoring case: service starts with EventB (EVENTBRIDGE)",
    pattern: { detail: { service: [{ prefix: { "equals-ignore-case": "EventB" } }] } },
    event: withDetail({ service: "EVENTBRIDGE" }),
    matches: true,
  },
  {
    name: "prefix ignoring case: ... not eventsbridge",
    pattern: { detail: { service: [{ prefix: { "equals-ignore-case": "EventB" } }] } },
    event: withDetail({ service: "eventsbridge" }),
    matches: false,
  },
  {
    name: "suffix: FileName ends with .png",
    pattern: { FileName: [{ suffix: ".png" }] },
    event: { FileName: "image.png" },
    matches: true,
  },
  {
    name: "suffix: ... is case-sensitive",
    pattern: { FileName: [{ suffix: ".png" }] },
    event: { FileName: "image.PNG" },
    matches: false,
  },
  {
    name: "suffix ignoring case: FileName ends with .png or .PNG",
    pattern: { detail: { FileName: [{ suffix: { "equals-ignore-case": ".png" } }] } },
    event: withDetail({ FileName: "IMAGE.PNG" }),
    matches: true,
  },
  {
    name: "suffix ignoring case: ... not .jpg",
    pattern: { detail: { FileName: [{ suffix: { "equals-ignore-case": ".png" } }] } },
    event: withDetail({ FileName: "image.jpg" }),
    matches: false,
  },
  {
    name: "anything-but: state is not initializing",
    pattern: { detail: { state: [{ "anything-but": "initializing" }] } },
    event: RULER_EVENT,
    matches: true,
  },
  {
    name: "anything-but: ... initializing is excluded",
    pattern: { detail: { state: [{ "anything-but": "initializing" }] } },
    event: rulerWith({ state: "initializing" }),
    matches: false,
  },
  {
    name: "anything-but: x-limit is not 123",
    pattern: { detail: { "x-limit": [{ "anything-but": 123 }] } },
    event: RULER_EVENT,
    matches: true,
  },
  {
    name: "anything-but: ... 123 is excluded",
    pattern: { detail: { "x-limit": [{ "anything-but": 123 }] } },
    event: rulerWith({ "x-limit": 123 }),
    matches: false,
  },
  {
    name: "anything-but list of strings: running is neither stopped nor overloaded",
    pattern: { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } },
    event: RULER_EVENT,
    matches: true,
  },
  {
    name: "anything-but list of strings: ... overloaded is excluded",
    pattern: { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } },
    event: rulerWith({ state: "overloaded" }),
    matches: false,
  },
  {
    name: "anything-but list of numbers: 301.8 is not 100, 200 or 300",
    pattern: { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } },
    event: RULER_EVENT,
    matches: true,
  },
  {
    name: "anything-but list of numbers: ... 200 is excluded",
    pattern: { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } },
    event: rulerWith({ "x-limit": 200 }),
    matches: false,
  },
  {
    name: "anything-but prefix: state does not start with init",
    pattern: { detail: { state: [{ "anything-but": { prefix: "init" } }] } },
    event: RULER_EVENT,
    matches: true,
  },
  {
    name: "anything-but prefix: ... initializing does",
    pattern: { detail: { state: [{ "anything-but": { prefix: "init" } }] } },
    event: rulerWith({ state: "initializing" }),
    matches: false,
  },
  {
    name: "anything-but: every event except CloudTrail API calls",
    pattern: { "detail-type": [{ "anything-but": "AWS API Call via CloudTrail" }] },
    event: EC2_TERMINATED,
    matches: true,
  },
  {
    name: "anything-but: ... not a CloudTrail API call",
    pattern: { "detail-type": [{ "anything-but": "AWS API Call via CloudTrail" }] },
    event: { ...EC2_TERMINATED, "detail-type": "AWS API Call via CloudTrail" },
    matches: false,
  },
  {
    name: "anything-but: all events except from EC2 or S3 (autoscaling)",
    pattern: { source: [{ "anything-but": ["aws.ec2", "aws.s3"] }] },
    event: AUTOSCALING,
    matches: true,
  },
  {
    name: "anything-but: all events except from EC2 or S3 (ec2)",
    pattern: { source: [{ "anything-but": ["aws.ec2", "aws.s3"] }] },
    event: EC2_TERMINATED,
    matches: false,
  },
  {
    name: "anything-but prefix: only your own events, not aws.*",
    pattern: { source: [{ "anything-but": { prefix: "aws." } }] },
    event: { ...EC2_TERMINATED, source: "com.example.orders" },
    matches: true,
  },
  {
    name: "anything-but prefix: ... an AWS event is excluded",
    pattern: { source: [{ "anything-but": { prefix: "aws." } }] },
    event: EC2_TERMINATED,
    matches: false,
  },
  {
    name: "anything-but suffix: FileName does not end with .png",
    pattern: { FileName: [{ "anything-but": { suffix: ".png" } }] },
    event: { FileName: "notes.txt" },
    matches: true,
  },
  {
    name: "anything-but suffix: ... a .png is excluded",
    pattern: { FileName: [{ "anything-but": { suffix: ".png" } }] },
    event: { FileName: "image.png" },
    matches: false,
  },
  {
    name: "anything-but ignoring case: state is not initializing in any casing",
    pattern: { state: [{ "anything-but": { "equals-ignore-case": "initializing" } }] },
    event: { state: "running" },
    matches: true,
  },
  {
    name: "anything-but ignoring case: ... INITIALIZING is excluded",
    pattern: { state: [{ "anything-but": { "equals-ignore-case": "initializing" } }] },
    event: { state: "INITIALIZING" },
    matches: false,
  },
  {
    name: "anything-but wildcard: FilePath does not include /lib/",
    pattern: { FilePath: [{ "anything-but": { wildcard: "*/lib/*" } }] },
    event: { FilePath: "/usr/bin/tool" },
    matches: true,
  },
  {
    name: "anything-but wildcard: ... /usr/lib/libc.so is excluded",
    pattern: { FilePath: [{ "anything-but": { wildcard: "*/lib/*" } }] },
    event: { FilePath: "/usr/lib/libc.so" },
    matches: false,
  },
  { name: "numeric: c-count, d-count and x-limit all in range", pattern: NUMERIC, event: RULER_EVENT, matches: true },
  { name: "numeric: ... c-count 0 is not > 0", pattern: NUMERIC, event: rulerWith({ "c-count": 0 }), matches: false },
  { name: "numeric: ... c-count 6 is not <= 5", pattern: NUMERIC, event: rulerWith({ "c-count": 6 }), matches: false },
  {
    name: "numeric: ... d-count 10 is not < 10",
    pattern: NUMERIC,
    event: rulerWith({ "d-count": 10 }),
    matches: false,
  },
  {
    name: "numeric: ... x-limit 301.9 is not = 3.018e2",
    pattern: NUMERIC,
    event: rulerWith({ "x-limit": 301.9 }),
    matches: false,
  },
  {
    name: 'numeric: ... only JSON numbers, not the string "5"',
    pattern: NUMERIC,
    event: rulerWith({ "c-count": "5" }),
    matches: false,
  },
  {
    name: "cidr: sourceIPAddress in 10.0.0.0/24",
    pattern: { detail: { sourceIPAddress: [{ cidr: "10.0.0.0/24" }] } },
    event: withDetail({ sourceIPAddress: "10.0.0.255" }),
    matches: true,
  },
  {
    name: "cidr: ... not 10.0.1.0",
    pattern: { detail: { sourceIPAddress: [{ cidr: "10.0.0.0/24" }] } },
    event: withDetail({ sourceIPAddress: "10.0.1.0" }),
    matches: false,
  },
  {
    name: "cidr: source-ip in 10.0.0.0/24 (the earlier example)",
    pattern: { detail: { "source-ip": [{ cidr: "10.0.0.0/24" }] } },
    event: RULER_EVENT,
    matches: true,
  },
  {
    name: "exists: detail.state exists",
    pattern: { detail: { state: [{ exists: true }] } },
    event: {
      version: "0",
      id: "7bf73129-1428-4cd3-a780-95db273d1602",
      "detail-type": "EC2 Instance State-change Notification",
      source: "aws.ec2",
      account: "123456789012",
      time: "2015-11-11T21:29:54Z",
      region: "us-east-1",
      resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
      detail: { "instance-id": "i-abcd1111", state: "pending" },
    },
    matches: true,
  },
  {
    name: "exists: ... NOT an event without detail.state",
    pattern: { detail: { state: [{ exists: true }] } },
    event: {
      "detail-type": ["EC2 Instance State-change Notification"],
      resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],
      detail: { "c-count": { c1: 100 } },
    },
    matches: false,
  },
  {
    name: "exists false: no detail.c-count field",
    pattern: { detail: { "c-count": [{ exists: false }] } },
    event: {
      "detail-type": ["EC2 Instance State-change Notification"],
      resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],
      detail: { state: ["initializing", "running"] },
    },
    matches: true,
  },
  {
    name: "exists false: ... also when c-count is an object, not a leaf",
    pattern: { detail: { "c-count": [{ exists: false }] } },
    event: {
      "detail-type": ["EC2 Instance State-change Notification"],
      resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],
      detail: { state: ["initializing", "running"], "c-count": { c1: 100 } },
    },
    matches: true,
  },
  {
    name: "exists false: ... not when c-count is 5",
    pattern: { detail: { "c-count": [{ exists: false }] } },
    event: RULER_EVENT,
    matches: false,
  },
  {
    name: "exists: events that have a description",
    pattern: { detail: { description: [{ exists: true }] } },
    event: MACIE_FINDING,
    matches: true,
  },
  {
    name: "exists: ... the EC2 event has none",
    pattern: { detail: { description: [{ exists: true }] } },
    event: EC2_TERMINATED,
    matches: false,
  },
  {
    name: "wildcard: a .png file within the folder dir",
    pattern: { FileName: [{ wildcard: "dir/*.png" }] },
    event: { FileName: "dir/image.png" },
    matches: true,
  },
  {
    name: "wildcard: ... not within another folder",
    pattern: { FileName: [{ wildcard: "dir/*.png" }] },
    event: { FileName: "other/image.png" },
    matches: false,
  },
  { name: "complex: prefix, anything-but and numeric together", pattern: COMPLEX, event: RULER_EVENT, matches: true },
  {
    name: "complex: ... x-limit 300 is excluded",
    pattern: COMPLEX,
    event: rulerWith({ "x-limit": 300 }),
    matches: false,
  },
  {
    name: "complex: ... another day",
    pattern: COMPLEX,
    event: { ...RULER_EVENT, time: "2017-10-03T16:24:49Z" },
    matches: false,
  },
  {
    name: "duplicate key: only the last reference is used (eu-west passes anything-but us-east)",
    pattern: JSON.parse('{"detail":{"location":[{"prefix":"us-"}],"location":[{"anything-but":"us-east"}]}}'),
    event: withDetail({ location: "eu-west" }),
    matches: true,
  },
  {
    name: "duplicate key: ... us-east is excluded",
    pattern: JSON.parse('{"detail":{"location":[{"prefix":"us-"}],"location":[{"anything-but":"us-east"}]}}'),
    event: withDetail({ location: "us-east" }),
    matches: false,
  },

  // The summary table of the same page, one row at a time.
  {
    name: "table And: New York and Monday",
    pattern: { Location: ["New York"], Day: ["Monday"] },
    event: { Location: "New York", Day: "Monday" },
    matches: true,
  },
  {
    name: "table And: ... not New York on Tuesday",
    pattern: { Location: ["New York"], Day: ["Monday"] },
    event: { Location: "New York", Day: "Tuesday" },
    matches: false,
  },
  {
    name: "table Begins with: Region us-",
    pattern: { Region: [{ prefix: "us-" }] },
    event: { Region: "us-west-2" },
    matches: true,
  },
  {
    name: "table Anything-but begins with: Region not us-",
    pattern: { Region: [{ "anything-but": { prefix: "us-" } }] },
    event: { Region: "us-west-2" },
    matches: false,
  },
  {
    name: "table Begins with ignore case: eventb",
    pattern: { service: [{ prefix: { "equals-ignore-case": "eventb" } }] },
    event: { service: "EventBridge" },
    matches: true,
  },
  { name: "table Empty: LastName is empty", pattern: { LastName: [""] }, event: { LastName: "" }, matches: true },
  { name: "table Empty: ... not Smith", pattern: { LastName: [""] }, event: { LastName: "Smith" }, matches: false },
  { name: "table Equals: Name is Alice", pattern: { Name: ["Alice"] }, event: { Name: "Alice" }, matches: true },
  { name: "table Equals: ... not alice", pattern: { Name: ["Alice"] }, event: { Name: "alice" }, matches: false },
  {
    name: "table Equals ignore case: alice matches Alice",
    pattern: { Name: [{ "equals-ignore-case": "alice" }] },
    event: { Name: "Alice" },
    matches: true,
  },
  {
    name: "table Equals ignore case: ... not Alicia",
    pattern: { Name: [{ "equals-ignore-case": "alice" }] },
    event: { Name: "Alicia" },
    matches: false,
  },
  {
    name: "table Ends with ignore case: tBridge",
    pattern: { service: [{ suffix: { "equals-ignore-case": "tBridge" } }] },
    event: { service: "EVENTBRIDGE" },
    matches: true,
  },
  {
    name: "table Exists: ProductName exists",
    pattern: { ProductName: [{ exists: true }] },
    event: { ProductName: "Widget" },
    matches: true,
  },
  {
    name: "table Does not exist: ProductName",
    pattern: { ProductName: [{ exists: false }] },
    event: { ProductName: "Widget" },
    matches: false,
  },
  {
    name: "table Does not exist: ... absent",
    pattern: { ProductName: [{ exists: false }] },
    event: { Name: "Alice" },
    matches: true,
  },
  {
    name: "table Not: Weather anything but Raining",
    pattern: { Weather: [{ "anything-but": ["Raining"] }] },
    event: { Weather: "Sunny" },
    matches: true,
  },
  {
    name: "table Not: ... Raining",
    pattern: { Weather: [{ "anything-but": ["Raining"] }] },
    event: { Weather: "Raining" },
    matches: false,
  },
  { name: "table Null: UserID is null", pattern: { UserID: [null] }, event: { UserID: null }, matches: true },
  { name: "table Null: ... not when absent", pattern: { UserID: [null] }, event: {}, matches: false },
  {
    name: "table Numeric equals: Price is 100",
    pattern: { Price: [{ numeric: ["=", 100] }] },
    event: { Price: 100 },
    matches: true,
  },
  {
    name: "table Numeric equals: ... not 101",
    pattern: { Price: [{ numeric: ["=", 100] }] },
    event: { Price: 101 },
    matches: false,
  },
  {
    name: "table Numeric range: 20 is in (10, 20]",
    pattern: { Price: [{ numeric: [">", 10, "<=", 20] }] },
    event: { Price: 20 },
    matches: true,
  },
  {
    name: "table Numeric range: ... 10 is not",
    pattern: { Price: [{ numeric: [">", 10, "<=", 20] }] },
    event: { Price: 10 },
    matches: false,
  },
  {
    name: "table Or: PaymentType Credit or Debit",
    pattern: { PaymentType: ["Credit", "Debit"] },
    event: { PaymentType: "Debit" },
    matches: true,
  },
  {
    name: "table Or: ... not Cash",
    pattern: { PaymentType: ["Credit", "Debit"] },
    event: { PaymentType: "Cash" },
    matches: false,
  },
  {
    name: "table Or ($or): Location is New York, or Day is Monday",
    pattern: { $or: [{ Location: ["New York"] }, { Day: ["Monday"] }] },
    event: { Location: "Boston", Day: "Monday" },
    matches: true,
  },
  {
    name: "table Or ($or): ... neither",
    pattern: { $or: [{ Location: ["New York"] }, { Day: ["Monday"] }] },
    event: { Location: "Boston", Day: "Tuesday" },
    matches: false,
  },
];

/** Edge cases derived from the semantics (and, where the pages are silent, the aws/event-ruler README). */
const EDGE_CASES: Case[] = [
  // Arrays in the event.
  {
    name: "edge: anything-but matches when any array element is not excluded",
    pattern: { s: [{ "anything-but": "stopped" }] },
    event: { s: ["stopped", "running"] },
    matches: true,
  },
  {
    name: "edge: anything-but fails when every array element is excluded",
    pattern: { s: [{ "anything-but": "stopped" }] },
    event: { s: ["stopped", "stopped"] },
    matches: false,
  },
  {
    name: "edge: numeric on an array, one element in range",
    pattern: { n: [{ numeric: [">", 2] }] },
    event: { n: [0, 3] },
    matches: true,
  },
  {
    name: "edge: numeric on an array, none in range",
    pattern: { n: [{ numeric: [">", 2] }] },
    event: { n: [0, 1] },
    matches: false,
  },
  { name: "edge: nested arrays are flattened", pattern: { a: ["x"] }, event: { a: [["y"], ["x"]] }, matches: true },
  {
    name: "edge: objects inside an event array are not leaf values",
    pattern: { a: ["x"] },
    event: { a: [{ b: "x" }] },
    matches: false,
  },
  {
    name: "edge: a nested pattern matches one element of an array of objects (event-ruler)",
    pattern: { employees: { firstName: ["Anna"] } },
    event: {
      employees: [
        { firstName: "John", lastName: "Doe" },
        { firstName: "Anna", lastName: "Smith" },
      ],
    },
    matches: true,
  },
  {
    name: "edge: ... but its fields must match in the same element (event-ruler)",
    pattern: { employees: { firstName: ["Anna"], lastName: ["Jones"] } },
    event: {
      employees: [
        { firstName: "Anna", lastName: "Smith" },
        { firstName: "Peter", lastName: "Jones" },
      ],
    },
    matches: false,
  },
  {
    name: "edge: a nested pattern against a scalar",
    pattern: { detail: { state: ["x"] } },
    event: { detail: "x" },
    matches: false,
  },
  {
    name: "edge: a nested pattern against a missing object",
    pattern: { detail: { state: ["x"] } },
    event: {},
    matches: false,
  },
  {
    name: "edge: exists false under a missing parent",
    pattern: { detail: { state: [{ exists: false }] } },
    event: {},
    matches: true,
  },
  {
    name: "edge: a leaf pattern against an object",
    pattern: { detail: ["x"] },
    event: { detail: { x: "x" } },
    matches: false,
  },

  // Missing fields and types.
  {
    name: "edge: anything-but does NOT match a missing field",
    pattern: { state: [{ "anything-but": "initializing" }] },
    event: {},
    matches: false,
  },
  {
    name: "edge: anything-but or exists false covers a missing field",
    pattern: { state: [{ "anything-but": "x" }, { exists: false }] },
    event: {},
    matches: true,
  },
  {
    name: "edge: anything-but matches a null value",
    pattern: { state: [{ "anything-but": "x" }] },
    event: { state: null },
    matches: true,
  },
  {
    name: "edge: anything-but a string matches a number",
    pattern: { state: [{ "anything-but": "5" }] },
    event: { state: 5 },
    matches: true,
  },
  {
    name: "edge: exists true matches a null value",
    pattern: { a: [{ exists: true }] },
    event: { a: null },
    matches: true,
  },
  {
    name: "edge: exists true does not match an empty array",
    pattern: { a: [{ exists: true }] },
    event: { a: [] },
    matches: false,
  },
  {
    name: "edge: exists false matches an empty array",
    pattern: { a: [{ exists: false }] },
    event: { a: [] },
    matches: true,
  },
  {
    name: 'edge: the string "true" is not the boolean true',
    pattern: { a: ["true"] },
    event: { a: true },
    matches: false,
  },
  { name: "edge: booleans match exactly", pattern: { a: [false] }, event: { a: false }, matches: true },
  { name: "edge: false is not null", pattern: { a: [false] }, event: { a: null }, matches: false },
  { name: 'edge: the number 5 is not the string "5"', pattern: { a: [5] }, event: { a: "5" }, matches: false },
  { name: "edge: a missing field never equals null", pattern: { a: [null] }, event: { b: null }, matches: false },
  {
    name: "edge: an empty string matches only an empty string",
    pattern: { a: [""] },
    event: { a: " " },
    matches: false,
  },

  // String operators on non-strings, and their boundaries.
  { name: "edge: prefix on a number", pattern: { a: [{ prefix: "1" }] }, event: { a: 12 }, matches: false },
  { name: "edge: suffix on a boolean", pattern: { a: [{ suffix: "e" }] }, event: { a: true }, matches: false },
  {
    name: "edge: equals-ignore-case on a number",
    pattern: { a: [{ "equals-ignore-case": "5" }] },
    event: { a: 5 },
    matches: false,
  },
  {
    name: "edge: prefix ignoring case keeps the rest of the string",
    pattern: { a: [{ prefix: { "equals-ignore-case": "AB" } }] },
    event: { a: "xab" },
    matches: false,
  },
  {
    name: "edge: anything-but prefix, a non-string is not excluded",
    pattern: { a: [{ "anything-but": { prefix: "aws." } }] },
    event: { a: 7 },
    matches: true,
  },
  {
    name: "edge: anything-but list ignoring case",
    pattern: { a: [{ "anything-but": { "equals-ignore-case": ["x", "Y"] } }] },
    event: { a: "y" },
    matches: false,
  },
  {
    name: "edge: anything-but list of wildcards",
    pattern: { a: [{ "anything-but": { wildcard: ["*/lib/*", "*/bin/*"] } }] },
    event: { a: "/etc/x" },
    matches: true,
  },
  {
    name: "edge: anything-but list of wildcards, excluded",
    pattern: { a: [{ "anything-but": { wildcard: ["*/lib/*", "*/bin/*"] } }] },
    event: { a: "/usr/bin/x" },
    matches: false,
  },

  // Wildcards.
  {
    name: "edge: wildcard is anchored at both ends",
    pattern: { a: [{ wildcard: "dir/*" }] },
    event: { a: "xdir/a.png" },
    matches: false,
  },
  {
    name: "edge: wildcard * matches the empty string",
    pattern: { a: [{ wildcard: "a*b" }] },
    event: { a: "ab" },
    matches: true,
  },
  {
    name: "edge: wildcard with several stars",
    pattern: { a: [{ wildcard: "*Title*" }] },
    event: { a: "The Title Page" },
    matches: true,
  },
  {
    name: "edge: wildcard with several stars, missing middle",
    pattern: { a: [{ wildcard: "*Title*" }] },
    event: { a: "The Page" },
    matches: false,
  },
  {
    name: "edge: wildcard \\* is a literal star",
    pattern: { a: [{ wildcard: "a\\*b" }] },
    event: { a: "a*b" },
    matches: true,
  },
  {
    name: "edge: wildcard \\* does not match other characters",
    pattern: { a: [{ wildcard: "a\\*b" }] },
    event: { a: "aXb" },
    matches: false,
  },
  {
    name: "edge: wildcard \\\\ is a literal backslash",
    pattern: { a: [{ wildcard: "C:\\\\*" }] },
    event: { a: "C:\\Windows" },
    matches: true,
  },
  {
    name: "edge: wildcard regexp characters are literal",
    pattern: { a: [{ wildcard: "a.b(*)" }] },
    event: { a: "aXb(1)" },
    matches: false,
  },
  {
    name: "edge: wildcard across a newline",
    pattern: { a: [{ wildcard: "a*b" }] },
    event: { a: "a\nb" },
    matches: true,
  },
  { name: "edge: wildcard on a number", pattern: { a: [{ wildcard: "*" }] }, event: { a: 1 }, matches: false },

  // Numbers.
  {
    name: "edge: numeric >= includes the bound",
    pattern: { n: [{ numeric: [">=", 5] }] },
    event: { n: 5 },
    matches: true,
  },
  {
    name: "edge: numeric < excludes the bound",
    pattern: { n: [{ numeric: ["<", 5] }] },
    event: { n: 5 },
    matches: false,
  },
  {
    name: "edge: numeric >= and < range",
    pattern: { n: [{ numeric: [">=", 0, "<", 1] }] },
    event: { n: 0.5 },
    matches: true,
  },
  { name: "edge: numeric on a boolean", pattern: { n: [{ numeric: [">", 0] }] }, event: { n: true }, matches: false },
  { name: "edge: numeric on null", pattern: { n: [{ numeric: ["<", 1] }] }, event: { n: null }, matches: false },
  { name: "edge: negative numbers", pattern: { n: [{ numeric: ["<", 0] }] }, event: { n: -1e9 }, matches: true },

  // IP addresses.
  {
    name: "edge: cidr IPv6",
    pattern: { ip: [{ cidr: "2001:db8::/32" }] },
    event: { ip: "2001:db8:1::1" },
    matches: true,
  },
  {
    name: "edge: cidr IPv6 outside",
    pattern: { ip: [{ cidr: "2001:db8::/32" }] },
    event: { ip: "2001:db9::1" },
    matches: false,
  },
  {
    name: "edge: cidr IPv4 range, IPv6 address",
    pattern: { ip: [{ cidr: "0.0.0.0/0" }] },
    event: { ip: "::1" },
    matches: false,
  },
  {
    name: "edge: cidr /0 holds every IPv4 address",
    pattern: { ip: [{ cidr: "0.0.0.0/0" }] },
    event: { ip: "203.0.113.9" },
    matches: true,
  },
  {
    name: "edge: cidr /32 is one address",
    pattern: { ip: [{ cidr: "10.0.0.1/32" }] },
    event: { ip: "10.0.0.2" },
    matches: false,
  },
  {
    name: "edge: cidr against a CIDR string",
    pattern: { ip: [{ cidr: "10.0.0.0/8" }] },
    event: { ip: "10.0.0.0/24" },
    matches: false,
  },
  {
    name: "edge: cidr against a host name",
    pattern: { ip: [{ cidr: "10.0.0.0/8" }] },
    event: { ip: "ec2.amazonaws.com" },
    matches: false,
  },
  { name: "edge: cidr against a number", pattern: { ip: [{ cidr: "10.0.0.0/8" }] }, event: { ip: 10 }, matches: false },

  // $or at other levels, and with AND.
  {
    name: "edge: $or inside detail",
    pattern: {
      source: ["aws.ec2"],
      detail: { $or: [{ state: ["running"] }, { "c-count": [{ numeric: [">", 10] }] }] },
    },
    event: RULER_EVENT,
    matches: true,
  },
  {
    name: "edge: $or inside detail, no alternative",
    pattern: {
      source: ["aws.ec2"],
      detail: { $or: [{ state: ["stopped"] }, { "c-count": [{ numeric: [">", 10] }] }] },
    },
    event: RULER_EVENT,
    matches: false,
  },
  {
    name: "edge: $or is ANDed with its sibling fields",
    pattern: { source: ["aws.s3"], $or: [{ region: ["us-east-1"] }, { account: ["1"] }] },
    event: RULER_EVENT,
    matches: false,
  },
  {
    name: "edge: an $or alternative is itself an AND",
    pattern: { $or: [{ region: ["eu-west-1"] }, { region: ["us-east-1"], source: ["aws.s3"] }] },
    event: RULER_EVENT,
    matches: false,
  },
  {
    name: "edge: nested $or",
    pattern: {
      $or: [
        { region: ["eu-west-1"] },
        { source: ["aws.ec2"], $or: [{ account: ["1"] }, { detail: { state: ["running"] } }] },
      ],
    },
    event: RULER_EVENT,
    matches: true,
  },

  // Robustness.
  {
    name: "edge: a parsed __proto__ key is an ordinary field",
    pattern: JSON.parse('{"__proto__": {"a": ["b"]}}'),
    event: JSON.parse('{"__proto__": {"a": "b"}}'),
    matches: true,
  },
  {
    name: "edge: ... and is absent from a plain event",
    pattern: JSON.parse('{"__proto__": {"a": [{"exists": true}]}}'),
    event: {},
    matches: false,
  },
  {
    name: "edge: inherited properties are not event fields",
    pattern: { constructor: [{ exists: true }] },
    event: {},
    matches: false,
  },
  { name: "edge: an event that is not an object", pattern: { a: [{ exists: false }] }, event: "a", matches: false },
  { name: "edge: an event that is an array", pattern: { a: [{ exists: false }] }, event: [], matches: false },

  // anything-but with a list of prefixes or suffixes (aws/event-ruler JsonRuleCompiler: a string or a list of
  // non-empty strings after "prefix" / "suffix"): the value must start (end) with none of them.
  {
    name: "edge: anything-but a list of prefixes, none matches",
    pattern: { region: [{ "anything-but": { prefix: ["us-", "eu-"] } }] },
    event: { region: "ap-south-1" },
    matches: true,
  },
  {
    name: "edge: anything-but a list of prefixes, the second one matches",
    pattern: { region: [{ "anything-but": { prefix: ["us-", "eu-"] } }] },
    event: { region: "eu-west-1" },
    matches: false,
  },
  {
    name: "edge: anything-but a list of prefixes is case-sensitive",
    pattern: { region: [{ "anything-but": { prefix: ["us-", "eu-"] } }] },
    event: { region: "EU-WEST-1" },
    matches: true,
  },
  {
    name: "edge: anything-but a list of prefixes over an array, one element starts with neither",
    pattern: { region: [{ "anything-but": { prefix: ["us-", "eu-"] } }] },
    event: { region: ["us-east-1", "sa-east-1"] },
    matches: true,
  },
  {
    name: "edge: anything-but a list of prefixes over an array, every element excluded",
    pattern: { region: [{ "anything-but": { prefix: ["us-", "eu-"] } }] },
    event: { region: ["us-east-1", "eu-west-1"] },
    matches: false,
  },
  {
    name: "edge: anything-but a list of prefixes never matches a missing field",
    pattern: { region: [{ "anything-but": { prefix: ["us-", "eu-"] } }] },
    event: { zone: "ap-south-1a" },
    matches: false,
  },
  {
    name: "edge: anything-but a list of prefixes, a number is not excluded",
    pattern: { region: [{ "anything-but": { prefix: ["1", "2"] } }] },
    event: { region: 12 },
    matches: true,
  },
  {
    name: "edge: anything-but a list of one prefix is the single prefix",
    pattern: { region: [{ "anything-but": { prefix: ["us-"] } }] },
    event: { region: "us-west-2" },
    matches: false,
  },
  {
    name: "edge: anything-but a list of suffixes, none matches",
    pattern: { FileName: [{ "anything-but": { suffix: [".png", ".jpg"] } }] },
    event: { FileName: "notes.txt" },
    matches: true,
  },
  {
    name: "edge: anything-but a list of suffixes, one matches",
    pattern: { FileName: [{ "anything-but": { suffix: [".png", ".jpg"] } }] },
    event: { FileName: "photo.jpg" },
    matches: false,
  },
  // Several numeric filters in one leaf: each is a range or one comparison, and any of them may match (OR).
  {
    name: "edge: two numeric ranges in one leaf, the second holds the value",
    pattern: { n: [{ numeric: [">", 0, "<", 10] }, { numeric: [">=", 100, "<=", 200] }] },
    event: { n: 150 },
    matches: true,
  },
  {
    name: "edge: two numeric ranges in one leaf, between them",
    pattern: { n: [{ numeric: [">", 0, "<", 10] }, { numeric: [">=", 100, "<=", 200] }] },
    event: { n: 50 },
    matches: false,
  },
  {
    name: "edge: a numeric range and an exact value in one leaf",
    pattern: { n: [{ numeric: ["<", 0] }, 42] },
    event: { n: 42 },
    matches: true,
  },
  {
    name: "edge: numeric = compares values, not spellings (3.018e2 is 301.8)",
    pattern: { n: [{ numeric: ["=", 3.018e2] }] },
    event: JSON.parse('{"n": 301.80}'),
    matches: true,
  },
  // exists on arrays and null.
  {
    name: "edge: exists true matches an array with one null element",
    pattern: { a: [{ exists: true }] },
    event: { a: [null] },
    matches: true,
  },
  {
    name: "edge: exists true does not match an array of objects only (no leaf value)",
    pattern: { a: [{ exists: true }] },
    event: { a: [{ b: 1 }] },
    matches: false,
  },
  {
    name: "edge: exists false matches an array of objects only",
    pattern: { a: [{ exists: false }] },
    event: { a: [{ b: 1 }] },
    matches: true,
  },
  {
    name: "edge: exists false does not match null (null is a value)",
    pattern: { a: [{ exists: false }] },
    event: { a: null },
    matches: false,
  },
  {
    name: "edge: null matches an array holding null",
    pattern: { a: [null] },
    event: { a: ["x", null] },
    matches: true,
  },
  {
    name: "edge: an empty string matches an array holding one",
    pattern: { a: [""] },
    event: { a: ["x", ""] },
    matches: true,
  },
  // $or: a field named like an operator is fine outside $or.
  {
    name: "edge: a field named prefix outside $or is an ordinary field",
    pattern: { prefix: ["a"] },
    event: { prefix: "a" },
    matches: true,
  },
];

// ------------------------------------------------------------------------------------------------------ invalid ones

interface Invalid {
  name: string;
  pattern: unknown;
  /** A fragment of the first problem: where it is and what is wrong. */
  problem: string;
}

const INVALID: Invalid[] = [
  { name: "null", pattern: null, problem: "pattern: a pattern must be a JSON object" },
  { name: "an array", pattern: [{ source: ["aws.ec2"] }], problem: "pattern: a pattern must be a JSON object" },
  { name: "a string", pattern: '{"source": ["aws.ec2"]}', problem: "pattern: a pattern must be a JSON object" },
  { name: "an empty pattern", pattern: {}, problem: "pattern: empty object" },
  { name: "an empty nested pattern", pattern: { detail: {} }, problem: "pattern.detail: empty object" },
  {
    name: "a leaf that is not an array",
    pattern: { source: "aws.ec2" },
    problem: "pattern.source: expected an array of values",
  },
  { name: "a leaf that is a number", pattern: { detail: { n: 5 } }, problem: "pattern.detail.n: expected an array" },
  { name: "an empty leaf array", pattern: { source: [] }, problem: "pattern.source: empty array" },
  {
    name: "a nested array",
    pattern: { source: [["aws.ec2"]] },
    problem: "pattern.source[0]: expected a JSON value or a content filter",
  },
  {
    name: "an infinite number",
    pattern: { n: [Number.POSITIVE_INFINITY] },
    problem: "pattern.n[0]: numbers must be finite",
  },
  { name: "undefined", pattern: { n: [undefined] }, problem: "pattern.n[0]: expected a JSON value" },
  {
    name: "an unknown operator",
    pattern: { type: [{ contains: "Normal" }] },
    problem: "pattern.type[0].contains: unknown operator",
  },
  {
    name: "a nested pattern inside a leaf",
    pattern: { detail: [{ state: ["x"] }] },
    problem: "pattern.detail[0].state: unknown operator",
  },
  {
    name: "two operators in one filter",
    pattern: { a: [{ prefix: "a", suffix: "b" }] },
    problem: "pattern.a[0]: a content filter has exactly one operator",
  },
  { name: "an empty filter", pattern: { a: [{}] }, problem: "pattern.a[0]: a content filter has exactly one operator" },
  { name: "prefix with a number", pattern: { a: [{ prefix: 1 }] }, problem: "pattern.a[0].prefix: expected a string" },
  {
    name: "prefix ignoring case with a number",
    pattern: { a: [{ prefix: { "equals-ignore-case": 1 } }] },
    problem: "pattern.a[0].prefix",
  },
  {
    name: "suffix with another operator",
    pattern: { a: [{ suffix: { wildcard: "*" } }] },
    problem: "pattern.a[0].suffix: expected a string",
  },
  {
    name: "equals-ignore-case with a list",
    pattern: { a: [{ "equals-ignore-case": ["a"] }] },
    problem: "pattern.a[0].equals-ignore-case",
  },
  {
    name: "wildcard with consecutive stars",
    pattern: { a: [{ wildcard: "dir/**.png" }] },
    problem: "pattern.a[0].wildcard: consecutive wildcard",
  },
  {
    name: "wildcard escaping a letter",
    pattern: { a: [{ wildcard: "a\\d" }] },
    problem: "pattern.a[0].wildcard: a backslash may only escape",
  },
  {
    name: "wildcard ending in a backslash",
    pattern: { a: [{ wildcard: "a\\" }] },
    problem: "pattern.a[0].wildcard: a backslash may only escape",
  },
  {
    name: "wildcard with a number",
    pattern: { a: [{ wildcard: 1 }] },
    problem: "pattern.a[0].wildcard: expected a string",
  },
  { name: "anything-but null", pattern: { a: [{ "anything-but": null }] }, problem: "pattern.a[0].anything-but" },
  { name: "anything-but a boolean", pattern: { a: [{ "anything-but": true }] }, problem: "pattern.a[0].anything-but" },
  {
    name: "anything-but a mixed list",
    pattern: { a: [{ "anything-but": ["a", 1] }] },
    problem: "only strings or only numbers",
  },
  {
    name: "anything-but an empty list",
    pattern: { a: [{ "anything-but": [] }] },
    problem: "pattern.a[0].anything-but: expected a non-empty list",
  },
  {
    name: "anything-but a list with null",
    pattern: { a: [{ "anything-but": [null] }] },
    problem: "pattern.a[0].anything-but",
  },
  {
    name: "anything-but an empty list of prefixes",
    pattern: { a: [{ "anything-but": { prefix: [] } }] },
    problem: "pattern.a[0].anything-but.prefix: expected a string or a non-empty list of strings",
  },
  {
    name: "anything-but a list of prefixes with an empty one",
    pattern: { a: [{ "anything-but": { prefix: ["us-", ""] } }] },
    problem: "pattern.a[0].anything-but.prefix[1]: expected a non-empty string",
  },
  {
    name: "anything-but a list of suffixes with a number",
    pattern: { a: [{ "anything-but": { suffix: [".png", 5] } }] },
    problem: "pattern.a[0].anything-but.suffix[1]: expected a non-empty string, got 5",
  },
  {
    name: "anything-but a prefix ignoring case (EventBridge has no such form)",
    pattern: { a: [{ "anything-but": { prefix: { "equals-ignore-case": "us-" } } }] },
    problem: "pattern.a[0].anything-but.prefix: expected a non-empty string",
  },
  {
    name: "a field named like an operator inside $or (EventBridge reserves it)",
    pattern: { $or: [{ numeric: [1] }, { prefix: ["a"] }] },
    problem: 'pattern.$or[0].numeric: "numeric" is reserved inside $or',
  },
  {
    name: "a reserved field name deeper inside $or",
    pattern: { detail: { $or: [{ a: { exists: [true] } }, { b: ["x"] }] } },
    problem: 'pattern.detail.$or[0].a.exists: "exists" is reserved inside $or',
  },
  {
    name: "anything-but an empty prefix",
    pattern: { a: [{ "anything-but": { prefix: "" } }] },
    problem: "pattern.a[0].anything-but.prefix",
  },
  {
    name: "anything-but numeric",
    pattern: { a: [{ "anything-but": { numeric: [">", 1] } }] },
    problem: "pattern.a[0].anything-but.numeric: unknown operator",
  },
  {
    name: "anything-but two operators",
    pattern: { a: [{ "anything-but": { prefix: "a", suffix: "b" } }] },
    problem: "exactly one inner operator",
  },
  {
    name: "anything-but an empty wildcard list",
    pattern: { a: [{ "anything-but": { wildcard: [] } }] },
    problem: "pattern.a[0].anything-but.wildcard",
  },
  {
    name: "anything-but a bad wildcard in a list",
    pattern: { a: [{ "anything-but": { wildcard: ["*", "**"] } }] },
    problem: "pattern.a[0].anything-but.wildcard[1]",
  },
  {
    name: "numeric not an array",
    pattern: { n: [{ numeric: 5 }] },
    problem: "pattern.n[0].numeric: expected an array",
  },
  {
    name: "numeric with an unknown operator",
    pattern: { n: [{ numeric: ["!=", 5] }] },
    problem: "pattern.n[0].numeric",
  },
  {
    name: "numeric with the typographic ≤",
    pattern: { n: [{ numeric: [">", 10, "≤", 20] }] },
    problem: "pattern.n[0].numeric",
  },
  { name: "numeric with a string bound", pattern: { n: [{ numeric: [">", "5"] }] }, problem: "pattern.n[0].numeric" },
  {
    name: "numeric with the upper bound first",
    pattern: { n: [{ numeric: ["<", 5, ">", 0] }] },
    problem: "pattern.n[0].numeric",
  },
  { name: "numeric = in a range", pattern: { n: [{ numeric: ["=", 5, "<", 6] }] }, problem: "pattern.n[0].numeric" },
  {
    name: "numeric with an empty range",
    pattern: { n: [{ numeric: [">", 5, "<", 5] }] },
    problem: "lower bound 5 is not below the upper bound 5",
  },
  {
    name: "numeric with three elements",
    pattern: { n: [{ numeric: [">", 5, "<"] }] },
    problem: "pattern.n[0].numeric",
  },
  {
    name: "numeric with extra elements",
    pattern: { n: [{ numeric: [">", 0, "<", 5, "<", 6] }] },
    problem: "pattern.n[0].numeric",
  },
  {
    name: "exists with a string",
    pattern: { a: [{ exists: "true" }] },
    problem: "pattern.a[0].exists: expected true or false",
  },
  {
    name: "cidr without a prefix length",
    pattern: { ip: [{ cidr: "10.0.0.1" }] },
    problem: "pattern.ip[0].cidr: expected an IPv4 or IPv6 CIDR",
  },
  { name: "cidr /33", pattern: { ip: [{ cidr: "10.0.0.0/33" }] }, problem: "pattern.ip[0].cidr" },
  { name: "cidr /129 for IPv6", pattern: { ip: [{ cidr: "2001:db8::/129" }] }, problem: "pattern.ip[0].cidr" },
  { name: "cidr not an address", pattern: { ip: [{ cidr: "10.0.0/24" }] }, problem: "pattern.ip[0].cidr" },
  { name: "cidr with two slashes", pattern: { ip: [{ cidr: "10.0.0.0/8/8" }] }, problem: "pattern.ip[0].cidr" },
  { name: "cidr with a number", pattern: { ip: [{ cidr: 10 }] }, problem: "pattern.ip[0].cidr" },
  {
    name: "$or not an array",
    pattern: { $or: { a: ["x"] } },
    problem: "pattern.$or: $or takes an array of at least two patterns",
  },
  {
    name: "$or with one pattern",
    pattern: { $or: [{ a: ["x"] }] },
    problem: "pattern.$or: $or takes an array of at least two patterns",
  },
  {
    name: "$or with a leaf value",
    pattern: { $or: [{ a: ["x"] }, "b"] },
    problem: "pattern.$or[1]: a pattern must be a JSON object",
  },
  {
    name: "$or with an invalid alternative",
    pattern: { $or: [{ a: ["x"] }, { b: "y" }] },
    problem: "pattern.$or[1].b: expected an array",
  },
  {
    name: "a problem deep inside",
    pattern: { detail: { x: { y: [{ numeric: [] }] } } },
    problem: "pattern.detail.x.y[0].numeric",
  },
];

// ------------------------------------------------------------------------------------------------------------- tests

describe("matchesPattern: the examples of the AWS EventBridge documentation", () => {
  it.each(DOC_CASES)("$name", ({ pattern, event, matches }) => {
    expect(validatePattern(pattern)).toEqual([]);
    expect(matchesPattern(pattern, event)).toBe(matches);
  });
});

describe("matchesPattern: edge cases derived from the semantics", () => {
  it.each(EDGE_CASES)("$name", ({ pattern, event, matches }) => {
    expect(validatePattern(pattern)).toEqual([]);
    expect(matchesPattern(pattern, event)).toBe(matches);
  });
});

describe("validatePattern", () => {
  it.each(INVALID)("reports $name, and such a pattern never matches", ({ pattern, problem }) => {
    const problems = validatePattern(pattern);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join("\n")).toContain(problem);
    // An event that every valid reading of these patterns would accept, were they valid.
    expect(matchesPattern(pattern, { a: "a", n: 1, ip: "10.0.0.1", source: "aws.ec2", detail: {} })).toBe(false);
  });

  it("throws a typed EventPatternError for what EventBridge refuses: an unknown operator, a wrong operand type", () => {
    const bad = { detail: { type: [{ contains: "Normal" }], n: [{ numeric: [">", "5"] }] } };
    let thrown: unknown;
    try {
      assertValidPattern(bad);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(EventPatternError);
    const error = thrown as EventPatternError;
    expect(error.code).toBe("PATTERN.INVALID");
    expect(error.problems).toEqual([
      "pattern.detail.type[0].contains: unknown operator",
      'pattern.detail.n[0].numeric: expected [op, n] or [">"|">=", n, "<"|"<=", m], got [">","5"]',
    ]);
    expect(error.message).toBe(`invalid EventBridge event pattern: ${error.problems.join("; ")}`);
    expect(() => assertValidPattern({ source: [{ "anything-but": { prefix: ["aws.", "com."] } }] })).not.toThrow();
  });

  it("reports every problem of a pattern, each with its path", () => {
    const problems = validatePattern({ source: "aws.ec2", detail: { state: [], n: [{ numeric: ["<", "1"] }] } });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^pattern\.source: /);
    expect(problems[1]).toMatch(/^pattern\.detail\.state: /);
    expect(problems[2]).toMatch(/^pattern\.detail\.n\[0\]\.numeric: /);
  });

  it("never throws, whatever it is given", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const inLeaf: Record<string, unknown> = {};
    inLeaf.self = [inLeaf];
    const odd: unknown[] = [undefined, 1n, () => 1, Symbol("s"), cyclic, inLeaf, { a: [1n] }, { a: [{ prefix: 1n }] }];
    for (const pattern of odd) {
      expect(() => validatePattern(pattern)).not.toThrow();
      expect(validatePattern(pattern).length).toBeGreaterThan(0);
      expect(matchesPattern(pattern, { a: 1 })).toBe(false);
    }
  });

  it("accepts the patterns this project deploys", () => {
    const cloudTrail = {
      source: ["aws.eks"],
      "detail-type": ["AWS API Call via CloudTrail"],
      detail: { eventSource: ["eks.amazonaws.com"], eventName: ["CreateCluster", "DeleteCluster"] },
    };
    expect(validatePattern(cloudTrail)).toEqual([]);
    expect(validatePattern({ source: ["aws.guardduty"], "detail-type": ["GuardDuty Finding"] })).toEqual([]);
  });
});
