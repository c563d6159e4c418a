import { awsErrorCode, awsErrorMessage, isDryRunSuccess, isNotFound } from "../aws/errors.ts";
import { KubeApiError, type KubeClient, type KubeRequest } from "../kubernetes/api.ts";
import type { ApplyContext, ApplyResult, ApplyStatus, AwsService, CallRecord } from "./types.ts";

/** Operations that only read: every other one changes something and waits for `beforeChange` first. */
const READ_ONLY = /^(Describe|Get|List)[A-Z]/;

/**
 * Records every AWS call an action makes, for its outcome and audit. Every action sends its calls through one, so this
 * is where `ApplyContext.beforeChange` holds back the first call that is not a read.
 */
export class CallLog {
  readonly calls: CallRecord[] = [];
  private readonly beforeChange: (() => Promise<void>) | undefined;

  constructor(ctx?: Pick<ApplyContext, "beforeChange">) {
    this.beforeChange = ctx?.beforeChange;
  }

  /** Whether `operation` changes something (anything but Describe*, Get* and List*). */
  static changes(operation: string): boolean {
    return !READ_ONLY.test(operation);
  }

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
    // Reads go out at once; a change waits until the caller's guardrails have passed, and is never sent if they refuse.
    if (this.beforeChange && CallLog.changes(operation)) await this.beforeChange();
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

  /**
   * Sends one Kubernetes API call and records it as `kubernetes` `METHOD /path` with its body. A write waits for
   * `beforeChange` like an AWS change. With `dryRun`, a write goes with `dryRun=All`: the API server runs validation,
   * admission and RBAC and stores nothing, and the call is recorded `dry-run-ok` (the Kubernetes form of EC2's DryRun).
   * A 404 is recorded `not-found`; every error is rethrown.
   * @see https://kubernetes.io/docs/reference/using-api/api-concepts/#dry-run
   */
  async sendKube(client: KubeClient, req: KubeRequest, options: { dryRun?: boolean } = {}): Promise<unknown> {
    const writes = req.method !== "GET";
    if (this.beforeChange && writes) await this.beforeChange();
    const dryRun = writes && options.dryRun === true;
    // A DELETE with a body (DeleteOptions: preconditions, propagation) is read from the body alone and its query is
    // ignored, so the query's dryRun would be lost and the object deleted: the body carries dryRun too.
    // https://github.com/kubernetes/kubernetes/blob/v1.20.2/staging/src/k8s.io/apiserver/pkg/endpoints/handlers/delete.go
    const deleteBody = req.method === "DELETE" && req.body !== null && typeof req.body === "object";
    const sent: KubeRequest = dryRun
      ? {
          ...req,
          query: { ...req.query, dryRun: "All" },
          ...(deleteBody ? { body: { ...(req.body as Record<string, unknown>), dryRun: ["All"] } } : {}),
        }
      : req;
    const record = {
      service: "kubernetes" as const,
      operation: `${req.method} ${req.path}`,
      params: (req.body !== null && typeof req.body === "object" ? req.body : {}) as Record<string, unknown>,
    };
    try {
      const output = await client.request(sent);
      this.calls.push({ ...record, result: dryRun ? "dry-run-ok" : "ok" });
      return output;
    } catch (error) {
      const notFound = error instanceof KubeApiError && error.status === 404;
      this.calls.push({
        ...record,
        result: notFound ? "not-found" : "error",
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
