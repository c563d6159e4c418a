import { loadOnce } from "../lazy.ts";
import type { ApplyContext, ApplyResult, CheckResult } from "./types.ts";

/**
 * What an action's `*.apply.ts` module exports: the code that reads and changes live state. Its definition
 * (`*.action.ts`: id, params, plan, permissions, docs) is what every event needs, since assessing and deciding plan the
 * calls synchronously; this part is needed only once an action runs, so the definition imports it on first use. The
 * respond function then loads, at import, the plans of every action and the apply code of none (bench/cold-start.ts
 * measures it; test/unit/infra/bundles.test.ts keeps it so).
 */
export interface ActionRuntime<P> {
  check(params: P, context: ApplyContext): Promise<CheckResult>;
  apply(params: P, context: ApplyContext): Promise<ApplyResult>;
}

export interface ReversibleRuntime<P> extends ActionRuntime<P> {
  rollback(undo: Record<string, unknown>, context: ApplyContext): Promise<ApplyResult>;
}

/** Check and apply, calling into the runtime module that `runtime` imports once. */
function checkAndApply<P>(runtime: () => Promise<ActionRuntime<P>>) {
  return {
    load: runtime,
    check: async (params: P, context: ApplyContext) => (await runtime()).check(params, context),
    apply: async (params: P, context: ApplyContext) => (await runtime()).apply(params, context),
  };
}

/** An irreversible action's check and apply, each importing the runtime module on its first call. */
export function deferred<P>(load: () => Promise<ActionRuntime<P>>) {
  return checkAndApply(loadOnce(load));
}

/** A reversible action's check, apply and rollback, each importing the runtime module on its first call. */
export function deferredReversible<P>(load: () => Promise<ReversibleRuntime<P>>) {
  const runtime = loadOnce(load);
  return {
    ...checkAndApply(runtime),
    rollback: async (undo: Record<string, unknown>, context: ApplyContext) => (await runtime()).rollback(undo, context),
  };
}
