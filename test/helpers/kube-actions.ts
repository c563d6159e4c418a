/**
 * What the Kubernetes action tests share: an ApplyContext whose Kubernetes access is one test client (the limited
 * identity bound to the shipped ClusterRole, or the admin standing in for an operator), and fresh namespaces.
 */
import { expect } from "vitest";
import type { ApplyContext, ApplyResult } from "../../packages/core/src/actions/types.ts";
import { createAwsClients } from "../../packages/core/src/aws/clients.ts";
import type { KubeClient } from "../../packages/core/src/kubernetes/client.ts";
import { type KubeTestServer, uniqueName } from "./kube-apiserver.ts";

export const ASSESSMENT_ID = "asm-7e1d4c2b9a8f3e6d";

/**
 * An ApplyContext that reaches the cluster through `client` (none: no Kubernetes access at all); no AWS call is made
 * (the clients are never used).
 */
export function kubeContext(client: KubeClient | undefined, extra: Partial<ApplyContext> = {}): ApplyContext {
  return {
    dryRun: false,
    assessmentId: ASSESSMENT_ID,
    account: "111122223333",
    region: "eu-west-1",
    clients: createAwsClients("eu-west-1"),
    exemptTags: [],
    sleep: async () => {},
    ...(client ? { kubernetes: async () => client } : {}),
    ...extra,
  };
}

/** A namespace no other test uses (deleted namespaces stay Terminating on this server, so none is reused). */
export async function freshNamespace(kube: KubeTestServer, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await kube.admin.request({ method: "POST", path: "/api/v1/namespaces", body: { metadata: { name } } });
  return name;
}

/** `metadata` without the fields the API server sets on create, to compare a recreated object with its original. */
export function withoutServerFields(object: unknown): unknown {
  const o = object as { metadata?: Record<string, unknown> };
  const { uid: _u, resourceVersion: _r, creationTimestamp: _c, managedFields: _m, ...metadata } = o.metadata ?? {};
  return { ...o, metadata };
}

/** The respond path's guardrails refusing the blast-radius slot: `beforeChange` rejects before the first write. */
export const REFUSED_SLOT: Partial<ApplyContext> = {
  beforeChange: async () => {
    throw new Error("blast-radius slot refused");
  },
};

/** The action stopped at its first write, naming the refusal, after reads only. */
export function expectStoppedBeforeChange(result: ApplyResult): void {
  expect(result.status).toBe("failed");
  expect(result.reason).toContain("blast-radius slot refused");
  expect(result.calls.length).toBeGreaterThan(0);
  expect(result.calls.every((c) => c.operation.startsWith("GET"))).toBe(true);
}
