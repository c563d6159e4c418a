import { describe, expect, it } from "vitest";
import { CallLog } from "../../../packages/core/src/actions/calls.ts";
import { isTransient } from "../../../packages/core/src/guardrails/faults.ts";
import { KubeApiError, type KubeClient, type KubeRequest } from "../../../packages/core/src/kubernetes/client.ts";

function fakeClient(answer: (req: KubeRequest) => unknown): KubeClient & { sent: KubeRequest[] } {
  const sent: KubeRequest[] = [];
  return {
    server: "https://127.0.0.1:1",
    sent,
    async request(req) {
      sent.push(req);
      return answer(req);
    },
  };
}

describe("CallLog.sendKube", () => {
  it("records a read as kubernetes METHOD /path and sends it before the guardrails pass", async () => {
    const order: string[] = [];
    const log = new CallLog({ beforeChange: async () => void order.push("guard") });
    const client = fakeClient(() => {
      order.push("call");
      return { kind: "Node" };
    });
    await log.sendKube(client, { method: "GET", path: "/api/v1/nodes/n1" });
    expect(order).toEqual(["call"]);
    expect(log.calls).toEqual([{ service: "kubernetes", operation: "GET /api/v1/nodes/n1", params: {}, result: "ok" }]);
  });

  it("holds a write for beforeChange and sends it with dryRun=All in dry-run", async () => {
    const order: string[] = [];
    const log = new CallLog({ beforeChange: async () => void order.push("guard") });
    const client = fakeClient(() => {
      order.push("call");
      return {};
    });
    const body = { spec: { unschedulable: true } };
    await log.sendKube(client, { method: "PATCH", path: "/api/v1/nodes/n1", body }, { dryRun: true });
    expect(order).toEqual(["guard", "call"]);
    expect(client.sent[0]?.query).toEqual({ dryRun: "All" });
    expect(log.calls[0]).toEqual({
      service: "kubernetes",
      operation: "PATCH /api/v1/nodes/n1",
      params: body,
      result: "dry-run-ok",
    });
  });

  it("records a 404 as not-found and rethrows; the error code is Kubernetes.<reason>", async () => {
    const log = new CallLog();
    const req: KubeRequest = { method: "DELETE", path: "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/x" };
    const client = fakeClient(() => {
      throw new KubeApiError(404, "NotFound", 'clusterrolebindings "x" not found', req);
    });
    await expect(log.sendKube(client, req)).rejects.toMatchObject({ code: "Kubernetes.NotFound" });
    expect(log.calls[0]).toMatchObject({ result: "not-found" });
    expect(log.calls[0]?.error).toMatch(/^Kubernetes\.NotFound: DELETE .*404 NotFound/);
  });

  it("puts dryRun in a DELETE's DeleteOptions body too, which the API server reads instead of the query", async () => {
    const log = new CallLog();
    const client = fakeClient(() => ({}));
    const path = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/x";
    const body = { apiVersion: "v1", kind: "DeleteOptions", preconditions: { uid: "u1", resourceVersion: "7" } };
    await log.sendKube(client, { method: "DELETE", path, body }, { dryRun: true });
    await log.sendKube(client, { method: "DELETE", path, body });
    expect(client.sent[0]).toEqual({
      method: "DELETE",
      path,
      query: { dryRun: "All" },
      body: { ...body, dryRun: ["All"] },
    });
    expect(client.sent[1]).toEqual({ method: "DELETE", path, body });
    expect(log.calls.map((c) => [c.params, c.result])).toEqual([
      [body, "dry-run-ok"],
      [body, "ok"],
    ]);
  });
});

describe("Kubernetes answers and retries", () => {
  it("retries throttling, server errors and lost connections, never a refusal", () => {
    for (const code of ["Kubernetes.TooManyRequests", "Kubernetes.ServiceUnavailable", "Kubernetes.RequestError"]) {
      expect(isTransient(code)).toBe(true);
    }
    for (const code of ["Kubernetes.Forbidden", "Kubernetes.NotFound", "Kubernetes.Conflict", "Kubernetes.Invalid"]) {
      expect(isTransient(code)).toBe(false);
    }
  });
});
