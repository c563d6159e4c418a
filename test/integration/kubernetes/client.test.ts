import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeApiError, kubePath } from "../../../packages/core/src/kubernetes/client.ts";
import { type KubeTestServer, startKubeApiServer, uniqueName } from "../../helpers/kube-apiserver.ts";

describe("createKubeClient against a real kube-apiserver", () => {
  let kube: KubeTestServer;
  beforeAll(async () => {
    kube = await startKubeApiServer();
  });
  afterAll(async () => {
    await kube?.stop();
  });

  it("creates, reads, patches and deletes an object with the admin token", async () => {
    const ns = uniqueName("client");
    await kube.admin.request({ method: "POST", path: "/api/v1/namespaces", body: { metadata: { name: ns } } });
    const cm = { metadata: { name: "c1", namespace: ns }, data: { a: "1" } };
    await kube.admin.request({ method: "POST", path: kubePath("api", "v1", "namespaces", ns, "configmaps"), body: cm });
    const path = kubePath("api", "v1", "namespaces", ns, "configmaps", "c1");
    const patched = (await kube.admin.request({ method: "PATCH", path, body: { data: { b: "2" } } })) as {
      data: Record<string, string>;
    };
    expect(patched.data).toEqual({ a: "1", b: "2" });
    await kube.admin.request({ method: "DELETE", path });
    await expect(kube.admin.request({ method: "GET", path })).rejects.toMatchObject({
      status: 404,
      reason: "NotFound",
    });
  });

  it("answers 403 Forbidden for what the limited identity holds no role for", async () => {
    // Secrets: other test files bind the shipped ClusterRole to the limited identity on the shared server, and that role
    // never grants secrets (kubernetes/rbac.ts), so this holds whatever runs beside it.
    const path = "/api/v1/namespaces/default/secrets";
    const error = await kube.limited.request({ method: "GET", path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({ status: 403, reason: "Forbidden", method: "GET", path });
  });

  it("escapes path segments", () => {
    expect(kubePath("api", "v1", "namespaces", "a/b", "pods", "x y")).toBe("/api/v1/namespaces/a%2Fb/pods/x%20y");
  });
});
