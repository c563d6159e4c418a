import { ActionParamsError, UnknownActionError } from "../errors.ts";
import { safeParseHot } from "../hot-schema.ts";
import { toInputIssues } from "../signals/zod-issues.ts";
import { enableLogging } from "./enable-logging.action.ts";
import { isolateInstance } from "./isolate-instance.action.ts";
import { cordonNode } from "./k8s-cordon-node.action.ts";
import { isolatePod } from "./k8s-isolate-pod.action.ts";
import { patchNodes } from "./patch-nodes.action.ts";
import { restrictEndpoint } from "./restrict-endpoint.action.ts";
import { revokeAccess } from "./revoke-access.action.ts";
import { revokeIngress } from "./revoke-ingress.action.ts";
import type { ActionDefinition, PlanContext, PlanResult } from "./types.ts";

/** Every action, in one explicit list: no side-effect registration. */
export const ACTIONS: readonly ActionDefinition[] = [
  revokeIngress,
  restrictEndpoint,
  enableLogging,
  revokeAccess,
  isolateInstance,
  patchNodes,
  isolatePod,
  cordonNode,
];

const BY_ID = new Map(ACTIONS.map((a) => [a.id, a]));

export function actionIds(): string[] {
  return ACTIONS.map((a) => a.id);
}

/** The action with this id; an unknown id throws and lists the valid ones. */
export function getAction(id: string): ActionDefinition {
  const action = BY_ID.get(id);
  if (!action) throw new UnknownActionError(id, actionIds());
  return action;
}

/** Validates the params against the action's schema and plans the calls. */
export function planAction(id: string, params: unknown, context: PlanContext): PlanResult {
  const action = getAction(id);
  const parsed = safeParseHot(action.params, params);
  if (!parsed.success) throw new ActionParamsError(id, toInputIssues(parsed.error, params, "params"));
  return action.plan(parsed.data, context);
}
