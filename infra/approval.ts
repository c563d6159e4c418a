/**
 * The approval workflow: JSONPath ASL kept as data in approval.asl.json (SST's StepFunctions component emits JSONata,
 * which aws-local-stepfunctions ignores), deployed with aws.sfn.StateMachine. Pure: no SST or Pulumi globals, so the
 * tests run the very definition that is deployed. See APPROVAL.md.
 */
import asl from "./approval.asl.json" with { type: "json" };

/** The approval timeout when the execution input gives no `timeoutSeconds`; approval.asl.json holds the same number. */
export const APPROVAL_DEFAULT_TIMEOUT_SECONDS = 3600;

/** The error name the approval callback sends with SendTaskFailure when a human rejects. */
export const APPROVAL_REJECTED_ERROR = "Rejected";

/** The Lambda functions the workflow invokes, by ARN. */
export interface ApprovalFunctionArns {
  requestApproval: string;
  apply: string;
  notify: string;
  record: string;
}

/** The execution input (StartExecution `input`). */
export interface ApprovalExecutionInput {
  assessment: unknown;
  plan: unknown;
  approvers: unknown;
  /** Seconds to wait for a decision; a positive integer. Default APPROVAL_DEFAULT_TIMEOUT_SECONDS. */
  timeoutSeconds?: number;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** An Amazon States Language definition, as plain JSON. */
export interface AslDefinition {
  [key: string]: JsonValue;
  StartAt: string;
  States: { [name: string]: { [key: string]: JsonValue } };
}

/** Placeholder names in approval.asl.json, written `${Name}`, and the ARN each one stands for. */
export const APPROVAL_PLACEHOLDERS = {
  RequestApprovalFunctionArn: "requestApproval",
  ApplyFunctionArn: "apply",
  NotifyFunctionArn: "notify",
  RecordFunctionArn: "record",
} as const satisfies Record<string, keyof ApprovalFunctionArns>;

const PLACEHOLDER = /\$\{([A-Za-z][A-Za-z0-9]*)\}/g;

function isPlaceholderName(name: string): name is keyof typeof APPROVAL_PLACEHOLDERS {
  return Object.hasOwn(APPROVAL_PLACEHOLDERS, name);
}

function substitute(value: unknown, arns: ApprovalFunctionArns, used: Set<string>): JsonValue {
  if (typeof value === "string") {
    return value.replace(PLACEHOLDER, (_match, name: string) => {
      if (!isPlaceholderName(name)) throw new Error(`approval.asl.json: unknown placeholder \${${name}}`);
      used.add(name);
      return arns[APPROVAL_PLACEHOLDERS[name]];
    });
  }
  if (value === null || typeof value === "boolean" || typeof value === "number") return value;
  if (Array.isArray(value)) return value.map((item: unknown) => substitute(item, arns, used));
  if (typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, arns, used)]));
  }
  throw new Error(`approval.asl.json: not JSON: ${typeof value}`);
}

function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return value !== null && value !== undefined && typeof value === "object" && !Array.isArray(value);
}

/**
 * The approval state machine definition with the Lambda ARNs in place of the `${…}` placeholders: a fresh object on
 * every call (validators add fields to what they are given). Throws on an empty ARN, an unknown placeholder, or a
 * placeholder the definition no longer uses.
 */
export function approvalDefinition(arns: ApprovalFunctionArns): AslDefinition {
  for (const [key, arn] of Object.entries(arns)) {
    if (typeof arn !== "string" || arn.trim() === "") throw new Error(`approvalDefinition: ARN "${key}" is empty`);
  }
  const used = new Set<string>();
  const definition = substitute(asl, arns, used);
  const unused = Object.keys(APPROVAL_PLACEHOLDERS).filter((name) => !used.has(name));
  if (unused.length > 0) throw new Error(`approval.asl.json: placeholders never used: ${unused.join(", ")}`);
  if (!isObject(definition) || typeof definition.StartAt !== "string" || !isObject(definition.States)) {
    throw new Error("approval.asl.json: not a state machine (StartAt and States)");
  }
  const states: AslDefinition["States"] = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (!isObject(state)) throw new Error(`approval.asl.json: state ${name} is not an object`);
    states[name] = state;
  }
  return { ...definition, StartAt: definition.StartAt, States: states };
}
