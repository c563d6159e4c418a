/**
 * The approval workflow, for real: the very definition infra deploys (infra/approval.asl.json through
 * approvalDefinition) is checked by asl-validator and executed by aws-local-stepfunctions on every path.
 *
 * How the callback maps: aws-local-stepfunctions has no task tokens of its own. It runs a `Task` state by calling the
 * local handler given for that state (`overrides.taskResourceLocalHandlers`) with the state's effective input (its
 * `Parameters`, here `{ FunctionName, Payload }`) and takes what the handler resolves as the task result. So for the
 * `lambda:invoke.waitForTaskToken` state the handler plays both the request Lambda and the approver: resolving is
 * SendTaskSuccess (the value is its `output`), rejecting with an error named `Rejected` is
 * SendTaskFailure(error: "Rejected", cause), and never settling is nobody answering, which the library bounds with the
 * state's TimeoutSecondsPath and raises as `States.Timeout`, catchable like on AWS. `$$.Task.Token` and
 * `$$.Execution.Id` come from the Context Object passed to `run` (the library does not make them up).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { StateMachine } from "aws-local-stepfunctions";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  APPROVAL_DEFAULT_TIMEOUT_SECONDS,
  APPROVAL_PLACEHOLDERS,
  APPROVAL_REJECTED_ERROR,
  type ApprovalFunctionArns,
  approvalDefinition,
} from "../../../infra/approval.ts";
import { parseApprovalTaskInput } from "../../../packages/core/src/approval/contract.ts";
import { approvalExecutionInput } from "../../../packages/core/src/approval/execution-input.ts";
import { parsePolicy, processEvent } from "../../../packages/core/src/index.ts";
import { must } from "../../helpers/fixtures.ts";

type Definition = ConstructorParameters<typeof StateMachine>[0];
type RunOptions = NonNullable<Parameters<StateMachine["run"]>[1]>;
type LocalHandlers = NonNullable<NonNullable<RunOptions["overrides"]>["taskResourceLocalHandlers"]>;
type LocalHandler = LocalHandlers[string];
type Json = Parameters<LocalHandler>[0];
type EventLog = Awaited<ReturnType<ReturnType<StateMachine["run"]>["eventLogs"]["next"]>>["value"];

/** asl-validator 4 ships no type declarations: its documented call shape. */
interface AslValidation {
  isValid: boolean;
  errors: { "Error code": string; Message: string }[];
  errorsText(separator?: string): string;
}
type AslValidator = (definition: object, options?: { checkPaths?: boolean; checkArn?: boolean }) => AslValidation;
const aslValidator = createRequire(import.meta.url)("asl-validator") as AslValidator;

const ARNS: ApprovalFunctionArns = {
  requestApproval: "arn:aws:lambda:eu-west-1:111122223333:function:eks-responder-request-approval",
  apply: "arn:aws:lambda:eu-west-1:111122223333:function:eks-responder-apply",
  notify: "arn:aws:lambda:eu-west-1:111122223333:function:eks-responder-notify",
  record: "arn:aws:lambda:eu-west-1:111122223333:function:eks-responder-record",
};
const ROOT = join(import.meta.dirname, "../../..");
const TASK_TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAZEXAMPLETOKEN";
const EXECUTION_ID = "arn:aws:states:eu-west-1:111122223333:execution:eks-responder-approval:asm-3f9c";

/**
 * The execution input exactly as respond builds it (approvalExecutionInput, the one builder of that seam) for the
 * bundled open-SSH event in approve mode, without timeoutSeconds (the workflow's default applies unless a test sets
 * one). Every task payload is parsed by its handler's contract below, so the two sides are tested through each other.
 */
const POLICY = parsePolicy({
  dryRun: false,
  detectors: { "ec2-open-ingress": { mode: "approve" } },
  approvals: { approvers: { emails: ["alice@example.com"] } },
});
const PROCESSED = processEvent(
  readFileSync(join(ROOT, "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"), "utf8"),
  POLICY,
  { forceDryRun: false },
);
const BUILT: Json = JSON.parse(
  JSON.stringify(
    approvalExecutionInput({
      assessment: must(PROCESSED.assessments[0], "assessment"),
      decision: must(PROCESSED.decisions[0], "decision"),
      approvers: POLICY.approvals.approvers,
      timeoutSeconds: POLICY.approvals.timeoutSeconds,
    }),
  ),
);
const ASSESSMENT = must(field(BUILT, "assessment"), "assessment");
const PLAN = must(field(BUILT, "plan"), "plan");
const REASONS = must(field(BUILT, "reasons"), "reasons");
const APPROVERS = must(field(BUILT, "approvers"), "approvers");
const APPROVED = { decision: "approved", approver: "email:alice@example.com" };

function input(extra: { [key: string]: Json } = {}): Json {
  return { assessment: ASSESSMENT, plan: PLAN, reasons: REASONS, approvers: APPROVERS, ...extra };
}

/** An error as Step Functions sees it: `name` is the error name that Retry and Catch match, `message` the cause. */
class TaskError extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

interface Call {
  state: string;
  functionName: string;
  payload: Json;
}

type LambdaFn = (payload: Json) => Json | Promise<Json>;

interface Scenario {
  /** The request Lambda plus the approver: resolve = SendTaskSuccess output, reject = SendTaskFailure. */
  approval: LambdaFn;
  apply?: LambdaFn;
  notify?: LambdaFn;
  record?: LambdaFn;
  retryIntervalOverrides?: { [state: string]: number };
}

interface Run {
  output: Json | undefined;
  failure: unknown;
  calls: Call[];
  events: EventLog[];
  entered: string[];
}

function field(value: Json, key: string): Json | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  return value[key];
}

function taskStates(definition: Definition): [string, { Resource: string; functionName: string }][] {
  return Object.entries(definition.States).flatMap(([name, state]) => {
    if (state.Type !== "Task") return [];
    const functionName = field(state.Parameters ?? null, "FunctionName");
    return typeof functionName === "string" ? [[name, { Resource: state.Resource, functionName }]] : [];
  });
}

function isDefinition(value: object): value is Definition {
  return (
    "StartAt" in value && typeof value.StartAt === "string" && "States" in value && typeof value.States === "object"
  );
}

function definition(): Definition {
  const def = approvalDefinition(ARNS);
  if (!isDefinition(def)) throw new Error("approvalDefinition did not return a state machine");
  return def;
}

/**
 * One local handler per Task state, routed by FunctionName like Step Functions routes to the Lambda:
 * - `arn:aws:states:::lambda:invoke`: returns `{ StatusCode, Payload }`; a function error becomes the task error named
 *   by its errorType with the JSON cause, a TaskError (a Lambda service error) passes through as it is;
 * - `...lambda:invoke.waitForTaskToken`: the task result is the callback, not the Lambda's response (see the top).
 */
function handlersFor(def: Definition, scenario: Scenario, calls: Call[]): LocalHandlers {
  const byArn = new Map<string, LambdaFn>([
    [ARNS.requestApproval, scenario.approval],
    [ARNS.apply, scenario.apply ?? (() => ({ applied: 1 }))],
    [ARNS.notify, scenario.notify ?? (() => ({ sent: true }))],
    [ARNS.record, scenario.record ?? (() => ({ recorded: true }))],
  ]);
  const handlers: LocalHandlers = {};
  for (const [state, { Resource, functionName }] of taskStates(def)) {
    const fn = byArn.get(functionName);
    if (!fn) throw new Error(`no local function for ${functionName} (state ${state})`);
    const task = Object.values(APPROVAL_PLACEHOLDERS).find((key) => ARNS[key] === functionName);
    if (!task) throw new Error(`no task for ${functionName} (state ${state})`);
    handlers[state] = async (parameters) => {
      const payload = field(parameters, "Payload") ?? null;
      calls.push({ state, functionName: String(field(parameters, "FunctionName")), payload });
      // The handler's own contract: a payload the deployed function would refuse fails the test here.
      parseApprovalTaskInput(task, payload);
      if (Resource.endsWith(".waitForTaskToken")) return await fn(payload);
      try {
        return { StatusCode: 200, ExecutedVersion: "$LATEST", Payload: await fn(payload) };
      } catch (error) {
        if (error instanceof TaskError) throw error;
        const { name, message } = error instanceof Error ? error : new Error(String(error));
        throw new TaskError(name, JSON.stringify({ errorType: name, errorMessage: message }));
      }
    };
  }
  return handlers;
}

function start(scenario: Scenario, executionInput: Json) {
  const def = definition();
  const calls: Call[] = [];
  const execution = new StateMachine(def).run(executionInput, {
    overrides: {
      taskResourceLocalHandlers: handlersFor(def, scenario, calls),
      ...(scenario.retryIntervalOverrides ? { retryIntervalOverrides: scenario.retryIntervalOverrides } : {}),
    },
    context: { Execution: { Id: EXECUTION_ID }, Task: { Token: TASK_TOKEN } },
  });
  const finished = (async (): Promise<Run> => {
    let output: Json | undefined;
    let failure: unknown;
    try {
      output = await execution.result;
    } catch (error) {
      failure = error;
    }
    const events: EventLog[] = [];
    for await (const event of execution.eventLogs) events.push(event);
    const entered = events.flatMap((event) => (event.type === "StateEntered" ? [event.state.name] : []));
    return { output, failure, calls, events, entered };
  })();
  return { calls, finished };
}

async function runWorkflow(scenario: Scenario, executionInput: Json = input()): Promise<Run> {
  return await start(scenario, executionInput).finished;
}

function callsTo(run: Run, functionName: string): Call[] {
  return run.calls.filter((call) => call.functionName === functionName);
}

function executionFailed(run: Run): { Error: string; Cause: unknown } | undefined {
  const event = run.events.find((candidate) => candidate.type === "ExecutionFailed");
  return event?.type === "ExecutionFailed" ? { Error: event.Error, Cause: event.Cause } : undefined;
}

const never = (): Promise<Json> => new Promise<Json>(() => {});
const START = ["ApplyDefaults", "MergeDefaults", "RequestApproval"];

describe("approvalDefinition", () => {
  it("puts each function ARN in place of its placeholder and leaves no placeholder behind", () => {
    // prepare
    const expected = new Map([
      ["RequestApproval", ARNS.requestApproval],
      ["Apply", ARNS.apply],
      ["NotifyResult", ARNS.notify],
      ["NotifyRejected", ARNS.notify],
      ["NotifyTimedOut", ARNS.notify],
      ["NotifyApplyFailed", ARNS.notify],
      ["NotifyApplyRefused", ARNS.notify],
      ["NotifyRequestFailed", ARNS.notify],
      ["Record", ARNS.record],
    ]);

    // act
    const def = definition();

    // assess
    expect(new Map(taskStates(def).map(([name, task]) => [name, task.functionName]))).toEqual(expected);
    expect(JSON.stringify(def)).not.toContain("${");
  });

  it("returns a fresh object on every call, so a validator that adds fields cannot change the next one", () => {
    // prepare
    const first = approvalDefinition(ARNS);
    first.StartAt = "Elsewhere";

    // act
    const second = approvalDefinition(ARNS);

    // assess
    expect(second.StartAt).toBe("ApplyDefaults");
  });

  it("refuses an empty ARN", () => {
    // prepare
    const arns = { ...ARNS, apply: " " };

    // act
    const build = () => approvalDefinition(arns);

    // assess
    expect(build).toThrow(/ARN "apply" is empty/);
  });

  it("is JSONPath ASL whose default timeout is APPROVAL_DEFAULT_TIMEOUT_SECONDS", () => {
    // prepare
    const def = approvalDefinition(ARNS);

    // act
    const text = JSON.stringify(def);

    // assess
    expect(def.QueryLanguage).toBe("JSONPath");
    expect(text).not.toContain("JSONata");
    expect(text).not.toContain("{%");
    expect(APPROVAL_DEFAULT_TIMEOUT_SECONDS).toBe(3600);
    expect(text).toContain(`"defaults":{"timeoutSeconds":${APPROVAL_DEFAULT_TIMEOUT_SECONDS}}`);
  });
});

describe("approval.asl.json under asl-validator", () => {
  it("accepts the definition, paths and ARNs checked", () => {
    // prepare
    const def = definition();

    // act
    const result = aslValidator(def, { checkPaths: true, checkArn: true });

    // assess
    expect(result.errorsText("\n")).toBe("");
    expect(result.isValid).toBe(true);
  });

  it("refuses a copy whose Next points to a missing state", () => {
    // prepare
    const broken = definition();
    const apply = broken.States.Apply;
    if (!apply || !("Next" in apply)) throw new Error("the definition has no Apply state with a Next");
    apply.Next = "NotifyApplied";

    // act
    const result = aslValidator(broken, { checkPaths: true, checkArn: true });

    // assess
    expect(result.isValid).toBe(false);
    expect(result.errorsText("\n")).toContain("NotifyApplied");
  });

  it("refuses a copy with both TimeoutSeconds and TimeoutSecondsPath on RequestApproval", () => {
    // prepare
    const broken = definition();
    const request = broken.States.RequestApproval;
    if (request?.Type !== "Task") throw new Error("the definition has no RequestApproval Task");
    request.TimeoutSeconds = 60;

    // act
    const result = aslValidator(broken, { checkPaths: true, checkArn: true });

    // assess
    expect(result.isValid).toBe(false);
  });
});

describe("approval workflow on aws-local-stepfunctions", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("approved: asks with the task token, applies the plan unchanged, notifies and records once, succeeds", async () => {
    // prepare
    const scenario: Scenario = { approval: () => APPROVED, apply: () => ({ applied: 1, outcomes: ["done"] }) };

    // act
    const run = await runWorkflow(scenario);

    // assess
    expect(run.failure).toBeUndefined();
    expect(run.entered).toEqual([...START, "Decision", "Apply", "Applied", "NotifyResult", "Record", "Finish", "Done"]);
    expect(callsTo(run, ARNS.requestApproval)).toEqual([
      {
        state: "RequestApproval",
        functionName: ARNS.requestApproval,
        payload: {
          taskToken: TASK_TOKEN,
          executionId: EXECUTION_ID,
          assessment: ASSESSMENT,
          plan: PLAN,
          reasons: REASONS,
          approvers: APPROVERS,
          timeoutSeconds: APPROVAL_DEFAULT_TIMEOUT_SECONDS,
        },
      },
    ]);
    const applies = callsTo(run, ARNS.apply);
    expect(applies).toHaveLength(1);
    expect(field(applies[0]?.payload ?? null, "plan")).toStrictEqual(PLAN);
    expect(field(applies[0]?.payload ?? null, "approval")).toEqual(APPROVED);
    expect(callsTo(run, ARNS.notify)).toEqual([
      {
        state: "NotifyResult",
        functionName: ARNS.notify,
        payload: {
          outcome: "applied",
          executionId: EXECUTION_ID,
          assessment: ASSESSMENT,
          plan: PLAN,
          approval: APPROVED,
          result: { applied: 1, outcomes: ["done"] },
        },
      },
    ]);
    const records = callsTo(run, ARNS.record);
    expect(records).toHaveLength(1);
    expect(field(records[0]?.payload ?? null, "outcome")).toBe("applied");
    expect(run.output).toEqual({ status: "applied" });
  });

  it("rejected by SendTaskFailure: the Rejected error goes to NotifyRejected, nothing is applied", async () => {
    // prepare
    const cause = "rejected by bob@example.com: change window closed";
    const scenario: Scenario = {
      approval: () => Promise.reject(new TaskError(APPROVAL_REJECTED_ERROR, cause)),
    };

    // act
    const run = await runWorkflow(scenario);

    // assess
    expect(run.failure).toBeUndefined();
    expect(run.entered).toEqual([...START, "Rejected", "NotifyRejected", "Record", "Finish", "Done"]);
    expect(callsTo(run, ARNS.apply)).toEqual([]);
    const notifications = callsTo(run, ARNS.notify);
    expect(notifications.map((call) => call.state)).toEqual(["NotifyRejected"]);
    expect(field(notifications[0]?.payload ?? null, "outcome")).toBe("rejected");
    expect(field(notifications[0]?.payload ?? null, "approval")).toEqual({ Error: "Rejected", Cause: cause });
    expect(callsTo(run, ARNS.record).map((call) => field(call.payload, "outcome"))).toEqual(["rejected"]);
    expect(run.output).toEqual({ status: "rejected" });
  });

  it.each([
    ["decision rejected", { decision: "rejected", approver: "bob@example.com" }],
    ["an unknown decision", { decision: "APPROVED" }],
    ["no decision at all", { approver: "alice@example.com" }],
  ])("fails closed on SendTaskSuccess with %s: rejected, nothing applied", async (_label, output) => {
    // prepare
    const scenario: Scenario = { approval: () => output };

    // act
    const run = await runWorkflow(scenario);

    // assess
    expect(run.entered).toEqual([...START, "Decision", "Rejected", "NotifyRejected", "Record", "Finish", "Done"]);
    expect(callsTo(run, ARNS.apply)).toEqual([]);
    expect(callsTo(run, ARNS.notify).map((call) => field(call.payload, "approval"))).toEqual([output]);
    expect(callsTo(run, ARNS.record)).toHaveLength(1);
    expect(run.output).toEqual({ status: "rejected" });
  });

  it("timed out: no answer within the input's timeoutSeconds raises States.Timeout, caught to NotifyTimedOut", async () => {
    // prepare
    const scenario: Scenario = { approval: never };
    const started = Date.now();

    // act
    const run = await runWorkflow(scenario, input({ timeoutSeconds: 1 }));

    // assess
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(5000);
    expect(run.failure).toBeUndefined();
    expect(run.entered).toEqual([...START, "TimedOut", "NotifyTimedOut", "Record", "Finish", "Done"]);
    expect(
      run.events.some(
        (event) =>
          event.type === "StateFailed" && event.state.name === "RequestApproval" && event.Error === "States.Timeout",
      ),
    ).toBe(true);
    expect(field(callsTo(run, ARNS.requestApproval)[0]?.payload ?? null, "timeoutSeconds")).toBe(1);
    expect(callsTo(run, ARNS.apply)).toEqual([]);
    expect(callsTo(run, ARNS.notify).map((call) => [call.state, field(call.payload, "timeoutSeconds")])).toEqual([
      ["NotifyTimedOut", 1],
    ]);
    expect(callsTo(run, ARNS.record).map((call) => field(call.payload, "outcome"))).toEqual(["timed-out"]);
    expect(run.output).toEqual({ status: "timed-out" });
  });

  it("without timeoutSeconds in the input, waits 3600 s: still waiting at 3599 s, timed out at 3600 s", async () => {
    // prepare
    vi.useFakeTimers();
    const { calls, finished } = start({ approval: never }, input());
    await vi.advanceTimersByTimeAsync(0);

    // act
    await vi.advanceTimersByTimeAsync((APPROVAL_DEFAULT_TIMEOUT_SECONDS - 1) * 1000);
    const beforeDeadline = calls.map((call) => call.state);
    await vi.advanceTimersByTimeAsync(1000);
    const afterDeadline = calls.map((call) => call.state);

    // assess
    expect(beforeDeadline).toEqual(["RequestApproval"]);
    expect(afterDeadline).toEqual(["RequestApproval", "NotifyTimedOut", "Record"]);
    expect(field(calls[0]?.payload ?? null, "timeoutSeconds")).toBe(APPROVAL_DEFAULT_TIMEOUT_SECONDS);
    const run = await finished;
    expect(run.entered).toEqual([...START, "TimedOut", "NotifyTimedOut", "Record", "Finish", "Done"]);
    expect(run.output).toEqual({ status: "timed-out" });
  });

  it("apply failed: the error and cause reach NotifyApplyFailed, recorded once, the execution fails", async () => {
    // prepare
    const scenario: Scenario = {
      approval: () => APPROVED,
      apply: () => {
        const error = new Error("not authorized to perform: ec2:RevokeSecurityGroupIngress");
        error.name = "UnauthorizedOperation";
        throw error;
      },
    };
    const cause = JSON.stringify({
      errorType: "UnauthorizedOperation",
      errorMessage: "not authorized to perform: ec2:RevokeSecurityGroupIngress",
    });

    // act
    const run = await runWorkflow(scenario);

    // assess
    expect(run.entered).toEqual([
      ...START,
      "Decision",
      "Apply",
      "ApplyFailed",
      "NotifyApplyFailed",
      "Record",
      "Finish",
      "ApplyFailedEnd",
    ]);
    expect(callsTo(run, ARNS.apply)).toHaveLength(1);
    const notifications = callsTo(run, ARNS.notify);
    expect(notifications.map((call) => call.state)).toEqual(["NotifyApplyFailed"]);
    expect(notifications[0]?.payload).toEqual({
      outcome: "apply-failed",
      executionId: EXECUTION_ID,
      assessment: ASSESSMENT,
      plan: PLAN,
      approval: APPROVED,
      error: "UnauthorizedOperation",
      cause,
    });
    const records = callsTo(run, ARNS.record);
    expect(records.map((call) => field(call.payload, "outcome"))).toEqual(["apply-failed"]);
    expect(field(field(records[0]?.payload ?? null, "state") ?? null, "error")).toEqual({
      Error: "UnauthorizedOperation",
      Cause: cause,
    });
    expect(run.failure).toBeInstanceOf(Error);
    expect(executionFailed(run)).toEqual({ Error: "ApplyFailed", Cause: cause });
  });

  it("apply refused: an ActionRefused error (an exemption tag) is notified and recorded as refused, the execution succeeds", async () => {
    // prepare
    const scenario: Scenario = {
      approval: () => APPROVED,
      apply: () => {
        const error = new Error("ec2:revoke-ingress refused: security group sg-1 carries the exemption tag x=y");
        error.name = "ActionRefused";
        throw error;
      },
    };
    const cause = JSON.stringify({
      errorType: "ActionRefused",
      errorMessage: "ec2:revoke-ingress refused: security group sg-1 carries the exemption tag x=y",
    });

    // act
    const run = await runWorkflow(scenario);

    // assess
    expect(run.entered).toEqual([
      ...START,
      "Decision",
      "Apply",
      "ApplyRefused",
      "NotifyApplyRefused",
      "Record",
      "Finish",
      "Done",
    ]);
    const notifications = callsTo(run, ARNS.notify);
    expect(notifications.map((call) => call.state)).toEqual(["NotifyApplyRefused"]);
    expect(notifications[0]?.payload).toMatchObject({ outcome: "apply-refused", error: "ActionRefused", cause });
    const records = callsTo(run, ARNS.record);
    expect(records.map((call) => field(call.payload, "outcome"))).toEqual(["apply-refused"]);
    expect(run.failure).toBeUndefined();
    expect(run.output).toEqual({ status: "apply-refused" });
  });

  it("retries Apply after a Lambda service error, then applies once", async () => {
    // prepare
    let attempts = 0;
    const scenario: Scenario = {
      approval: () => APPROVED,
      apply: () => {
        attempts += 1;
        if (attempts === 1) throw new TaskError("Lambda.TooManyRequestsException", "Rate exceeded");
        return { applied: 1 };
      },
      retryIntervalOverrides: { Apply: 0 },
    };

    // act
    const run = await runWorkflow(scenario);

    // assess
    expect(callsTo(run, ARNS.apply)).toHaveLength(2);
    expect(run.events.filter((event) => event.type === "StateRetried").map((event) => event.state.name)).toEqual([
      "Apply",
    ]);
    expect(callsTo(run, ARNS.notify).map((call) => call.state)).toEqual(["NotifyResult"]);
    expect(callsTo(run, ARNS.record)).toHaveLength(1);
    expect(run.output).toEqual({ status: "applied" });
  });

  it("request failed: a request Lambda error is notified and recorded, nothing applied, the execution fails", async () => {
    // prepare
    const scenario: Scenario = {
      approval: () => Promise.reject(new TaskError("SlackApiError", "channel_not_found")),
    };

    // act
    const run = await runWorkflow(scenario);

    // assess
    expect(run.entered).toEqual([
      ...START,
      "RequestFailed",
      "NotifyRequestFailed",
      "Record",
      "Finish",
      "RequestFailedEnd",
    ]);
    expect(callsTo(run, ARNS.apply)).toEqual([]);
    expect(callsTo(run, ARNS.notify).map((call) => [call.state, field(call.payload, "error")])).toEqual([
      ["NotifyRequestFailed", "SlackApiError"],
    ]);
    expect(callsTo(run, ARNS.record).map((call) => field(call.payload, "outcome"))).toEqual(["request-failed"]);
    expect(executionFailed(run)).toEqual({ Error: "ApprovalRequestFailed", Cause: "channel_not_found" });
  });

  it("a failing notification is recorded, once, and never blocks the record", async () => {
    // prepare
    const scenario: Scenario = {
      approval: () => APPROVED,
      notify: () => {
        throw new Error("SNS topic not found");
      },
    };

    // act
    const run = await runWorkflow(scenario);

    // assess
    expect(callsTo(run, ARNS.notify)).toHaveLength(1);
    const records = callsTo(run, ARNS.record);
    expect(records).toHaveLength(1);
    expect(field(records[0]?.payload ?? null, "outcome")).toBe("applied");
    expect(field(field(records[0]?.payload ?? null, "state") ?? null, "notifyError")).toEqual({
      Error: "Error",
      Cause: JSON.stringify({ errorType: "Error", errorMessage: "SNS topic not found" }),
    });
    expect(run.output).toEqual({ status: "applied" });
  });
});
