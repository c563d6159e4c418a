import type { AwsClients } from "../aws/clients.ts";
import type { Assessment } from "../detectors/types.ts";
import { getAction } from "./registry.ts";
import type { ApplyContext, ApplyResult, AwsService } from "./types.ts";

const CLIENT_OF: Record<AwsService, (clients: AwsClients) => Promise<unknown>> = {
  ec2: (c) => c.ec2(),
  eks: (c) => c.eks(),
  ssm: (c) => c.ssm(),
  autoscaling: (c) => c.autoscaling(),
};
const isService = (s: string): s is AwsService => Object.hasOwn(CLIENT_OF, s);

/**
 * Starts importing and creating the SDK clients an assessment's playbook will call (the services of its actions' IAM
 * permissions), so that they load while the respond path's safety reads are in flight rather than after them. Changes
 * nothing and never fails: a client that cannot load fails again, and is reported, when the action calls it.
 */
export function warmPlaybook(assessment: Assessment, clients: AwsClients): void {
  const services = new Set<AwsService>();
  for (const request of assessment.actions) {
    let permissions: readonly string[];
    try {
      permissions = getAction(request.action).permissions;
    } catch {
      continue; // an unknown action is refused by runPlaybook, with the reason
    }
    for (const permission of permissions) {
      const service = permission.split(":")[0] ?? "";
      if (isService(service)) services.add(service);
    }
  }
  for (const service of services) CLIENT_OF[service](clients).catch(() => {});
}

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
