import { describe, expect, it, vi } from "vitest";
import { deferred, deferredReversible } from "../../../packages/core/src/actions/deferred.ts";
import { ACTIONS } from "../../../packages/core/src/actions/registry.ts";
import { warmPlaybook } from "../../../packages/core/src/actions/run.ts";
import type { ApplyContext, ApplyResult, CheckResult } from "../../../packages/core/src/actions/types.ts";
import type { AwsClients } from "../../../packages/core/src/aws/clients.ts";
import type { Assessment } from "../../../packages/core/src/detectors/types.ts";

/**
 * Each action's check, apply and rollback live in a runtime module imported on first use (actions/deferred.ts), so the
 * respond function loads every plan at import and no live code; test/unit/infra/bundles.test.ts checks the bundle.
 */
const applied: ApplyResult = { action: "test:act", status: "applied", reason: "done", calls: [] };
const needed: CheckResult = { status: "needed", before: {} };
const context = {} as ApplyContext;

function fakeRuntime() {
  return {
    check: vi.fn(async () => needed),
    apply: vi.fn(async () => applied),
    rollback: vi.fn(async () => ({ ...applied, reason: "undone" })),
  };
}

describe("an action's runtime module", () => {
  it.each(ACTIONS.map((a) => [a.id, a] as const))(
    "%s: load() gives check and apply, and rollback exactly when the action is reversible",
    async (_id, action) => {
      expect(action.load).toBeTypeOf("function");
      const runtime = (await action.load()) as Record<string, unknown>;
      expect(runtime.check).toBeTypeOf("function");
      expect(runtime.apply).toBeTypeOf("function");
      expect(typeof runtime.rollback === "function").toBe(action.reversible);
      expect(action.rollback !== undefined).toBe(action.reversible);
    },
  );

  it("is imported once, on the first call, and shared by check, apply and rollback", async () => {
    const runtime = fakeRuntime();
    const load = vi.fn(async () => runtime);
    const parts = deferredReversible<{ a: number }>(load);
    expect(load).not.toHaveBeenCalled();
    await expect(parts.check({ a: 1 }, context)).resolves.toBe(needed);
    await expect(parts.apply({ a: 2 }, context)).resolves.toBe(applied);
    await expect(parts.rollback({ u: 1 }, context)).resolves.toMatchObject({ reason: "undone" });
    expect(load).toHaveBeenCalledTimes(1);
    expect(runtime.check).toHaveBeenCalledWith({ a: 1 }, context);
    expect(runtime.apply).toHaveBeenCalledWith({ a: 2 }, context);
    expect(runtime.rollback).toHaveBeenCalledWith({ u: 1 }, context);
  });

  it("a load that fails rejects the call, changes nothing, and is tried again by the next call", async () => {
    const runtime = fakeRuntime();
    const load = vi
      .fn<() => Promise<ReturnType<typeof fakeRuntime>>>()
      .mockRejectedValueOnce(new Error("Cannot find module 'chunks/x.mjs'"))
      .mockResolvedValue(runtime);
    const parts = deferred<{ a: number }>(load);
    await expect(parts.apply({ a: 1 }, context)).rejects.toThrow("Cannot find module");
    expect(runtime.apply).not.toHaveBeenCalled();
    await expect(parts.apply({ a: 1 }, context)).resolves.toBe(applied);
    expect(load).toHaveBeenCalledTimes(2);
  });
});

describe("warmPlaybook", () => {
  const clients = () => {
    const make = () => vi.fn(async () => ({}) as never);
    return { region: "eu-west-1", ec2: make(), eks: make(), ssm: make(), autoscaling: make() } satisfies AwsClients;
  };
  const assessment = (actions: string[]) =>
    ({ actions: actions.map((action) => ({ action, params: {} })) }) as unknown as Assessment;

  it("starts loading each named action's runtime and its services' clients, and nothing else", async () => {
    const revoke = ACTIONS.find((a) => a.id === "ec2:revoke-ingress");
    const logging = ACTIONS.find((a) => a.id === "eks:enable-logging");
    const cordon = ACTIONS.find((a) => a.id === "k8s:cordon-node");
    if (!revoke || !logging || !cordon) throw new Error("the actions are not registered");
    const loads = [vi.spyOn(revoke, "load"), vi.spyOn(logging, "load"), vi.spyOn(cordon, "load")];
    try {
      const c = clients();
      warmPlaybook(assessment(["ec2:revoke-ingress", "no:such-action"]), c);
      expect(loads[0]).toHaveBeenCalledTimes(1);
      expect(loads[1]).not.toHaveBeenCalled();
      expect(loads[2]).not.toHaveBeenCalled();
      expect(c.ec2).toHaveBeenCalledTimes(1);
      expect(c.eks).not.toHaveBeenCalled();
      expect(c.ssm).not.toHaveBeenCalled();
    } finally {
      for (const l of loads) l.mockRestore();
    }
  });

  it("never throws, even when a runtime or a client cannot load", () => {
    const revoke = ACTIONS.find((a) => a.id === "ec2:revoke-ingress");
    if (!revoke) throw new Error("ec2:revoke-ingress is not registered");
    const load = vi.spyOn(revoke, "load").mockRejectedValue(new Error("chunk missing"));
    try {
      const c = clients();
      c.ec2.mockRejectedValue(new Error("no credentials"));
      expect(() => warmPlaybook(assessment(["ec2:revoke-ingress"]), c)).not.toThrow();
      expect(load).toHaveBeenCalledTimes(1);
    } finally {
      load.mockRestore();
    }
  });
});
