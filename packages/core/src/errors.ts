/**
 * The error tree of @eks-responder/core. Every error carries a stable `code` that callers, logs and tests can match
 * on; `cause` is passed on. Expected results (a skipped event, a refused plan) are return values, not errors.
 */
export type CoreErrorCode =
  | "SIGNAL.INVALID"
  | "SIGNAL.TOO_LARGE"
  | "POLICY.INVALID"
  | "ACTION.UNKNOWN"
  | "ACTION.INVALID_PARAMS"
  | "PATTERN.INVALID"
  | "APPROVAL.TASK_INPUT_INVALID"
  | "APPROVAL.INPUT_TOO_LARGE"
  | "APPROVAL.NO_CHANNEL";

export class EksResponderError extends Error {
  override name = "EksResponderError";
  readonly code: CoreErrorCode;

  constructor(code: CoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** One problem found in an input document, with where it is and what was expected. */
export interface InputIssue {
  /** Dotted path of the offending key, for example `detail.requestParameters.groupId`. */
  path: string;
  message: string;
}

/** An event that is not a well-formed EventBridge event of a family eks-responder reads. Never acted on. */
export class SignalParseError extends EksResponderError {
  override name = "SignalParseError";
  readonly issues: readonly InputIssue[];

  constructor(message: string, issues: readonly InputIssue[] = [], options?: { cause?: unknown }) {
    super("SIGNAL.INVALID", message, options);
    this.issues = issues;
  }
}

/** An event larger than EventBridge could ever deliver; refused before it is parsed. */
export class SignalTooLargeError extends EksResponderError {
  override name = "SignalTooLargeError";

  constructor(bytes: number, limit: number) {
    super("SIGNAL.TOO_LARGE", `event is ${bytes} bytes; EventBridge events are at most ${limit} bytes`);
  }
}

/** A policy document that does not validate. The message names every bad key, its value and what was expected. */
export class PolicyError extends EksResponderError {
  override name = "PolicyError";
  readonly issues: readonly InputIssue[];

  constructor(message: string, issues: readonly InputIssue[] = [], options?: { cause?: unknown }) {
    super("POLICY.INVALID", message, options);
    this.issues = issues;
  }
}

/** An action id that is not in the registry. The message lists the valid ids. */
export class UnknownActionError extends EksResponderError {
  override name = "UnknownActionError";

  constructor(id: string, validIds: readonly string[]) {
    super("ACTION.UNKNOWN", `unknown action "${id}"; valid actions: ${validIds.join(", ")}`);
  }
}

/** Parameters handed to an action that its schema refuses. A bug in a playbook, never user input. */
export class ActionParamsError extends EksResponderError {
  override name = "ActionParamsError";
  readonly issues: readonly InputIssue[];

  constructor(actionId: string, issues: readonly InputIssue[]) {
    super(
      "ACTION.INVALID_PARAMS",
      `invalid parameters for action ${actionId}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
    );
    this.issues = issues;
  }
}

/** An EventBridge event pattern that EventBridge would refuse: each problem names where it is and what is wrong. */
export class EventPatternError extends EksResponderError {
  override name = "EventPatternError";
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super("PATTERN.INVALID", `invalid EventBridge event pattern: ${problems.join("; ")}`);
    this.problems = problems;
  }
}
