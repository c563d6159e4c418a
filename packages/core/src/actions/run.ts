import type { AwsClients } from "../aws/clients.ts";
import type { Assessment } from "../detectors/types.ts";
import { getAction } from "./registry.ts";
import type { ActionDefinition, ApplyContext, ApplyResult, ApplyStatus, AwsService, CallRecord } from "./types.ts";

const CLIENT_OF: Record<AwsService, (clients: AwsClients) => Promise<unknown>> = {
  ec2: (c) => c.ec2(),
  eks: (c) => c.eks(),
  ssm: (c) => c.ssm(),
  autoscaling: (c) => c.autoscaling(),
};
const isService = (s: string): s is AwsService => Object.hasOwn(CLIENT_OF, s);

/**
 * Starts importing the code an assessment's playbook will run (each action's runtime module, actions/deferred.ts) and
 * creating the SDK clients it will call (the services of its actions' IAM permissions), so that they load while the
 * respond path's safety reads are in flight rather than after them. Changes nothing and never fails: a module or client
 * that cannot load fails again, and is reported, when the action calls it.
 */
export function warmPlaybook(assessment: Assessment, clients: AwsClients): void {
  const services = new Set<AwsService>();
  for (const request of assessment.actions) {
    let action: ActionDefinition;
    try {
      action = getAction(request.action);
    } catch {
      continue; // an unknown action is refused by runPlaybook, with the reason
    }
    action.load().catch(() => {});
    for (const permission of action.permissions) {
      const service = permission.split(":")[0] ?? "";
      if (isService(service)) services.add(service);
    }
  }
  for (const service of services) CLIENT_OF[service](clients).catch(() => {});
}

/**
 * How an action applied earlier in a playbook was undone after a later action failed: its own `rollback` run from its
 * recorded `undo` (`status` and `calls` as rollback returned them), or `refused` with why it was not attempted.
 */
export interface UndoRecord {
  status: ApplyStatus;
  reason: string;
  calls: CallRecord[];
  error?: { code: string; message: string };
}

/** One action's result, with the parameters it was given (what audit and rollback need). */
export type ActionOutcome = ApplyResult & {
  params: Record<string, unknown>;
  /** Set on an applied action when a later action of the same playbook failed: how (and whether) it was undone. */
  undone?: UndoRecord;
};

export interface PlaybookOptions {
  /**
   * Whether the caller's own identity may run `action`'s rollback, so that a later failure in the playbook undoes it.
   * Absent, or false for an action: it is not attempted, and the outcome says it stays applied (see stillApplied).
   *
   * Why it is the caller's to say: rollback permissions (`rollbackPermissions`, `kubernetesRollbackPermissions`) are
   * held only by the operator rollback role (infra/iam.ts), never by the respond and approval-apply roles, because an
   * undo re-opens what a fix closed (world-open ingress, a cluster-admin grant, a node's network). An undo those roles
   * cannot authorize would only fail with AccessDenied after the fact; widening them would let every function re-open
   * access. So the functions pass nothing (nothing is undone, the half-done plan is reported loudly with the exact
   * rollback command, for the operator), and a caller whose identity holds the permissions (the CLI, run by the
   * operator who confirmed the whole plan) says so here.
   */
  mayUndo?: (action: ActionDefinition) => boolean;
}

/** An outcome whose change is undone (or found undone) and needs no rollback any more. */
export function isUndone(outcome: ActionOutcome): boolean {
  return outcome.undone?.status === "applied" || outcome.undone?.status === "already-done";
}

/**
 * The applied, reversible outcomes of a playbook whose change is still in place: applied, with an undo, and not undone
 * after a later failure. What a rollback of the plan must undo, last first.
 */
export function stillApplied(outcomes: readonly ActionOutcome[]): ActionOutcome[] {
  return outcomes.filter((o) => o.status === "applied" && o.undo !== undefined && !isUndone(o));
}

/** The command that undoes what is still applied of an assessment's plan (`--table` for the deployment's audit). */
export function rollbackCommandFor(assessmentId: string, table?: string): string {
  return `eks-responder rollback ${assessmentId}${table ? ` --table ${table}` : ""}`;
}

/**
 * What a failed playbook left behind, in one sentence for the outcome's reason, the audit and the notification; undefined
 * when no action failed or nothing earlier stays applied.
 */
export function halfDoneNotice(
  assessmentId: string,
  outcomes: readonly ActionOutcome[],
  table?: string,
): string | undefined {
  const failed = outcomes.find((o) => o.status === "failed");
  if (!failed) return undefined;
  const undone = outcomes.filter(isUndone).map((o) => o.action);
  const left = outcomes.filter((o) => o.status === "applied" && !isUndone(o));
  if (left.length === 0) return undefined;
  const reversible = left.filter((o) => o.undo !== undefined);
  const irreversible = left.filter((o) => o.undo === undefined).map((o) => o.action);
  // The command comes right after what stays applied: a notification that cuts a long reason keeps it.
  const parts = [
    `PLAN HALF DONE: ${failed.action} failed; still applied: ${left.map((o) => (o.undone ? `${o.action} (not undone: ${o.undone.reason})` : o.action)).join(", ")}`,
  ];
  if (reversible.length > 0) parts.push(`undo with: ${rollbackCommandFor(assessmentId, table)}`);
  if (irreversible.length > 0) parts.push(`not reversible: ${irreversible.join(", ")}`);
  if (undone.length > 0) parts.push(`undone: ${undone.join(", ")}`);
  return parts.join("; ");
}

/**
 * Carries out an assessment's playbook, action by action. Parameters are validated again by each action's schema (a
 * refusal, never a throw). A failed action stops the rest: nothing runs on a half-known state. The actions applied
 * before it are then undone, last first, through their own rollback and recorded undo, where `options.mayUndo` allows
 * it; each gets its `undone` record either way.
 */
export async function runPlaybook(
  assessment: Assessment,
  context: ApplyContext,
  options: PlaybookOptions = {},
): Promise<ActionOutcome[]> {
  const outcomes: ActionOutcome[] = [];
  for (const request of assessment.actions) {
    const action = getAction(request.action);
    const parsed = action.params.safeParse(request.params);
    let result: ApplyResult;
    if (!parsed.success) {
      result = {
        action: action.id,
        status: "refused",
        reason: `invalid parameters: ${parsed.error.message}`,
        calls: [],
      };
    } else {
      result = await settled(action.id, () => action.apply(parsed.data, context));
    }
    outcomes.push({ ...result, params: request.params });
    if (result.status === "failed") {
      await undoEarlier(outcomes, context, options);
      break;
    }
  }
  return outcomes;
}

/**
 * An action's apply or rollback, whose own errors it reports as a result: anything thrown is unexpected, and is a
 * failure, never a success.
 */
async function settled(action: string, run: () => Promise<ApplyResult>): Promise<ApplyResult> {
  try {
    return await run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { action, status: "failed", reason: message, calls: [], error: { code: "ACTION.CRASHED", message } };
  }
}

/**
 * Undoes the applied outcomes before the failed last one, last first, each through its action's rollback. An undo that
 * fails stops the rest (they are older still, and a later undo may depend on state the failed one did not restore):
 * each outcome not undone says why, and halfDoneNotice turns that into the rollback command.
 */
async function undoEarlier(outcomes: ActionOutcome[], context: ApplyContext, options: PlaybookOptions): Promise<void> {
  let stopped: string | undefined;
  for (const outcome of outcomes.slice(0, -1).reverse()) {
    if (outcome.status !== "applied") continue;
    const action = getAction(outcome.action);
    const refuse = (reason: string) => {
      outcome.undone = { status: "refused", reason, calls: [] };
    };
    if (stopped) refuse(`the undo of ${stopped} failed first`);
    else if (!action.rollback || outcome.undo === undefined) refuse("not reversible: no undo was recorded");
    else if (!options.mayUndo?.(action)) {
      refuse("no rollback permission in this role (rollback is the operator's)");
    } else {
      const rollback = action.rollback.bind(action);
      const recorded = outcome.undo;
      const result = await settled(action.id, () => rollback(recorded, context));
      outcome.undone = {
        status: result.status,
        reason: result.reason,
        calls: result.calls,
        ...(result.error ? { error: result.error } : {}),
      };
      if (!isUndone(outcome)) stopped = action.id;
    }
  }
}
