import { awsErrorCode, awsErrorMessage, isDryRunSuccess, isNotFound } from "../aws/errors.ts";
import type { ApplyResult, ApplyStatus, AwsService, CallRecord } from "./types.ts";

/** Records every AWS call an action makes, for its outcome and audit. */
export class CallLog {
  readonly calls: CallRecord[] = [];

  /**
   * Sends one call and records it. EC2's DryRunOperation answer is returned as `"dry-run-ok"` rather than thrown;
   * any other error is recorded and rethrown.
   */
  async send<T>(
    service: AwsService,
    operation: string,
    params: Record<string, unknown>,
    exec: () => Promise<T>,
  ): Promise<T | "dry-run-ok"> {
    try {
      const output = await exec();
      this.calls.push({ service, operation, params, result: "ok" });
      return output;
    } catch (error) {
      if (isDryRunSuccess(error)) {
        this.calls.push({ service, operation, params, result: "dry-run-ok" });
        return "dry-run-ok";
      }
      this.calls.push({
        service,
        operation,
        params,
        result: isNotFound(error) ? "not-found" : "error",
        error: `${awsErrorCode(error)}: ${awsErrorMessage(error)}`,
      });
      throw error;
    }
  }

  result(action: string, status: ApplyStatus, reason: string, extra: Partial<ApplyResult> = {}): ApplyResult {
    return { action, status, reason, calls: this.calls, ...extra };
  }

  failed(action: string, error: unknown, extra: Partial<ApplyResult> = {}): ApplyResult {
    const code = awsErrorCode(error);
    return this.result(action, "failed", `${code}: ${awsErrorMessage(error)}`, {
      error: { code, message: awsErrorMessage(error) },
      ...extra,
    });
  }
}
