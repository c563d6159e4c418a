/**
 * One contract per seam of the approval workflow: the ASL `Parameters` of every Task state against the schema its
 * handler parses with (packages/core/src/approval/contract.ts), and the task handlers' typed refusal of a mismatch.
 */
import { describe, expect, it } from "vitest";
import {
  APPROVAL_PLACEHOLDERS,
  type AslDefinition,
  approvalDefinition,
  type JsonValue,
} from "../../../infra/approval.ts";
import {
  APPROVAL_TASK_SCHEMAS,
  type ApprovalTask,
  ApprovalTaskInputError,
  approvalPayloadSchema,
  parseApprovalTaskInput,
  requiredFields,
} from "../../../packages/core/src/approval/contract.ts";
import { approvalTasks } from "../../../packages/functions/src/approval-tasks.ts";
import { Runtime } from "../../../packages/functions/src/runtime.ts";

/** Placeholders stand in for the ARNs, so each Task state names the task it invokes. */
const BY_PLACEHOLDER = Object.fromEntries(
  Object.entries(APPROVAL_PLACEHOLDERS).map(([placeholder, task]) => [placeholder, `fn:${task}`]),
);
const TASK_OF_ARN = new Map(Object.values(APPROVAL_PLACEHOLDERS).map((task) => [`fn:${task}`, task]));

function definition(): AslDefinition {
  return approvalDefinition({
    requestApproval: BY_PLACEHOLDER.RequestApprovalFunctionArn ?? "",
    apply: BY_PLACEHOLDER.ApplyFunctionArn ?? "",
    notify: BY_PLACEHOLDER.NotifyFunctionArn ?? "",
    record: BY_PLACEHOLDER.RecordFunctionArn ?? "",
  });
}

function object(value: JsonValue | undefined): { [key: string]: JsonValue } {
  if (value === null || value === undefined || typeof value !== "object" || Array.isArray(value)) return {};
  return value;
}

interface TaskState {
  state: string;
  task: ApprovalTask;
  /** The Lambda payload's fields, `.$` dropped, and the path or value each is given. */
  payload: Map<string, JsonValue>;
}

function taskStates(def: AslDefinition): TaskState[] {
  return Object.entries(def.States).flatMap(([state, body]) => {
    if (body.Type !== "Task") return [];
    const parameters = object(body.Parameters);
    const task = TASK_OF_ARN.get(String(parameters.FunctionName));
    if (!task) throw new Error(`Task state ${state} invokes no known function`);
    const payload = new Map(
      Object.entries(object(parameters.Payload)).map(([key, value]) => [key.replace(/\.\$$/, ""), value]),
    );
    return [{ state, task, payload }];
  });
}

/** What is wrong with each Task state against its handler's schema: a required field not passed, an unknown one passed. */
function contractGaps(def: AslDefinition): string[] {
  return taskStates(def).flatMap(({ state, task, payload }) => {
    const schema = APPROVAL_TASK_SCHEMAS[task];
    const known = new Set(Object.keys(schema.shape));
    return [
      ...requiredFields(schema)
        .filter((field) => !payload.has(field))
        .map((field) => `${state}: ${task} requires ${field}, not passed`),
      ...[...payload.keys()]
        .filter((field) => !known.has(field))
        .map((field) => `${state}: ${field} is not in ${task}`),
    ];
  });
}

describe("the approval workflow's task contracts", () => {
  it("every Task state passes every field its handler's schema requires, and nothing the schema does not know", () => {
    const def = definition();

    const gaps = contractGaps(def);

    expect(taskStates(def).map((t) => t.task)).toEqual(expect.arrayContaining(Object.keys(APPROVAL_TASK_SCHEMAS)));
    expect(gaps).toEqual([]);
  });

  it("finds the field a state stops passing (the check itself can fail)", () => {
    const def = definition();
    const request = object(object(def.States.RequestApproval).Parameters);
    delete object(request.Payload)["reasons.$"];

    expect(contractGaps(def)).toEqual(["RequestApproval: requestApproval requires reasons, not passed"]);
  });

  it("reads only payload fields the execution input's contract has ($.Payload after the defaults are merged)", () => {
    const known = new Set(Object.keys(approvalPayloadSchema.shape));
    const paths = taskStates(definition()).flatMap(({ payload }) =>
      [...payload.values()].flatMap((v) => (typeof v === "string" ? [...v.matchAll(/^\$\.Payload\.(\w+)/g)] : [])),
    );

    expect(paths.length).toBeGreaterThan(0);
    expect(paths.map((m) => m[1]).filter((field) => field === undefined || !known.has(field))).toEqual([]);
    expect(object(object(definition().States.MergeDefaults).Parameters)).toHaveProperty(["Payload.$"]);
  });
});

describe("parseApprovalTaskInput", () => {
  it("refuses a request without the decision's reasons with a typed error naming the task and the path", () => {
    const parse = () =>
      parseApprovalTaskInput("requestApproval", {
        taskToken: "t",
        executionId: "e",
        assessment: {},
        plan: [],
        approvers: { slackUserIds: [], emails: [] },
        timeoutSeconds: 3600,
      });

    expect(parse).toThrow(ApprovalTaskInputError);
    expect(parse).toThrow(/^approval task requestApproval: input does not match its contract: .*reasons/);
    try {
      parse();
    } catch (error) {
      expect(error).toMatchObject({ name: "ApprovalTaskInputError", code: "APPROVAL.TASK_INPUT_INVALID" });
      const paths = (error as ApprovalTaskInputError).issues.map((i) => i.path);
      expect(paths).toEqual(expect.arrayContaining(["reasons", "assessment.id", "assessment.region"]));
    }
  });

  it.each(Object.keys(APPROVAL_TASK_SCHEMAS) as ApprovalTask[])(
    "the %s task handler refuses a mismatched input before reading anything",
    async (task) => {
      // A runtime whose every read would fail: the refusal must come first.
      const rt = new Runtime({ TABLE_NAME: "none", POLICY_PARAMETER_NAME: "/none" });

      await expect(approvalTasks[task]({ executionId: 7 }, rt)).rejects.toMatchObject({
        name: "ApprovalTaskInputError",
        task,
      });
    },
  );
});
