import type { Assessment } from "../detectors/types.ts";
import { getAction } from "./registry.ts";
import type { ApplyContext, ApplyResult } from "./types.ts";

/** One action's result, with the parameters it was given (what audit and rollback need). */
export type ActionOutcome = ApplyResult & { params: Record<string, unknown> };

/**
 * Carries out an assessment's playbook, action by action. Parameters are validated again by each action's schema (a
 * refusal, never a throw). A failed action stops the rest: nothing runs on a half-known state.
 */
export async function runPlaybook(assessment: Assessment, context: ApplyContext): Promise<ActionOutcome[]> {
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
      try {
        result = await action.apply(parsed.data, context);
      } catch (error) {
        // apply reports AWS errors itself; anything thrown here is unexpected, and is a failure, never a success.
        const message = error instanceof Error ? error.message : String(error);
        result = {
          action: action.id,
          status: "failed",
          reason: message,
          calls: [],
          error: { code: "ACTION.CRASHED", message },
        };
      }
    }
    outcomes.push({ ...result, params: request.params });
    if (result.status === "failed") break;
  }
  return outcomes;
}
