import { describe, expect, it } from "vitest";
import { revokeBinding } from "../../../packages/core/src/actions/k8s-revoke-binding.action.ts";
import { ACTIONS } from "../../../packages/core/src/actions/registry.ts";
import type { ApplyContext } from "../../../packages/core/src/actions/types.ts";
import { kubePath } from "../../../packages/core/src/kubernetes/client.ts";
import {
  expectStoppedBeforeChange,
  freshNamespace,
  kubeContext,
  REFUSED_SLOT,
  withoutServerFields,
} from "../../helpers/kube-actions.ts";
import { uniqueName } from "../../helpers/kube-apiserver.ts";
import { kubeWithShippedRole } from "../../helpers/kube-rbac.ts";

const RBAC = "/apis/rbac.authorization.k8s.io/v1";
const ANONYMOUS = { apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "system:anonymous" };
const UNAUTHENTICATED = { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:unauthenticated" };
const ALICE = { apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "alice@example.com" };

interface Meta {
  metadata: { name: string; uid: string; resourceVersion: string };
}

describe("k8s:revoke-binding against a real kube-apiserver, as the shipped ClusterRole", () => {
  const kube = kubeWithShippedRole(ACTIONS);

  const crbPath = (name: string) => kubePath("apis", "rbac.authorization.k8s.io", "v1", "clusterrolebindings", name);

  async function clusterRoleBinding(subjects: object[], role = "cluster-admin", extra: object = {}): Promise<Meta> {
    const name = uniqueName("grant");
    return (await kube().admin.request({
      method: "POST",
      path: `${RBAC}/clusterrolebindings`,
      body: {
        metadata: { name, labels: { team: "platform" }, annotations: { note: "made by the test" }, ...extra },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
        subjects,
      },
    })) as Meta;
  }

  const read = (path: string) => kube().admin.request({ method: "GET", path });
  const run = (name: string, ctx: ApplyContext) =>
    revokeBinding.apply(revokeBinding.params.parse({ cluster: "prod-eks", kind: "ClusterRoleBinding", name }), ctx);

  it("records the binding, deletes it with uid and resourceVersion preconditions, then finds it already done", async () => {
    // prepare
    const made = await clusterRoleBinding([ANONYMOUS]);
    const name = made.metadata.name;
    const original = await read(crbPath(name));

    // act
    const applied = await run(name, kubeContext(kube().limited));
    const again = await run(name, kubeContext(kube().limited));

    // assess
    expect(applied.status, applied.reason).toBe("applied");
    expect(applied.reason).toContain("User system:anonymous");
    expect(applied.before?.binding).toEqual(original);
    expect(applied.calls.map((c) => [c.operation, c.result])).toEqual([
      [`GET ${crbPath(name)}`, "ok"],
      [`GET ${RBAC}/clusterroles/cluster-admin`, "ok"],
      [`DELETE ${crbPath(name)}`, "ok"],
    ]);
    expect(applied.calls[2]?.params).toEqual({
      apiVersion: "v1",
      kind: "DeleteOptions",
      preconditions: { uid: made.metadata.uid, resourceVersion: made.metadata.resourceVersion },
    });
    await expect(read(crbPath(name))).rejects.toMatchObject({ status: 404 });
    expect(again.status).toBe("already-done");
    expect(again.reason).toContain("no longer exists");
  });

  it("is rolled back by an operator only: the responder's role is Forbidden, the admin recreates the exact object", async () => {
    // prepare
    const { metadata } = await clusterRoleBinding([ANONYMOUS, UNAUTHENTICATED]);
    const original = await read(crbPath(metadata.name));
    const applied = await run(metadata.name, kubeContext(kube().limited));
    expect(applied.status, applied.reason).toBe("applied");
    const undo = applied.undo ?? {};

    // act
    const byResponder = await revokeBinding.rollback?.(undo, kubeContext(kube().limited));
    const goneAfterResponder = await read(crbPath(metadata.name)).catch((e: { status: number }) => e.status);
    const byOperator = await revokeBinding.rollback?.(undo, kubeContext(kube().admin));
    const twice = await revokeBinding.rollback?.(undo, kubeContext(kube().admin));

    // assess
    expect(byResponder?.status).toBe("failed");
    expect(byResponder?.error?.code).toBe("Kubernetes.Forbidden");
    expect(byResponder?.reason).toMatch(/403 Forbidden.*bind on ClusterRole cluster-admin.*own kubeconfig/);
    expect(goneAfterResponder).toBe(404);
    expect(byOperator?.status, byOperator?.reason).toBe("applied");
    const recreated = await read(crbPath(metadata.name));
    expect(withoutServerFields(recreated)).toEqual(withoutServerFields(original));
    expect((recreated as Meta).metadata.uid).not.toBe(metadata.uid);
    expect(twice?.status).toBe("already-done");
  });

  it("in dry-run sends the delete with dryRun=All and changes nothing", async () => {
    // prepare
    const { metadata } = await clusterRoleBinding([UNAUTHENTICATED]);

    // act
    const result = await run(metadata.name, kubeContext(kube().limited, { dryRun: true }));

    // assess
    expect(result.status, result.reason).toBe("would-succeed");
    expect(result.undo).toBeUndefined();
    expect(result.calls.at(-1)).toMatchObject({ operation: `DELETE ${crbPath(metadata.name)}`, result: "dry-run-ok" });
    expect(((await read(crbPath(metadata.name))) as Meta).metadata.resourceVersion).toBe(metadata.resourceVersion);
  });

  it("never touches Kubernetes' own bindings: system:public-info-viewer and rbac-defaults are refused", async () => {
    // prepare
    const viewer = (await read(crbPath("system:public-info-viewer"))) as Meta;
    const labelled = await clusterRoleBinding([ANONYMOUS], "cluster-admin", {
      labels: { "kubernetes.io/bootstrapping": "rbac-defaults" },
    });

    // act
    const onViewer = await run("system:public-info-viewer", kubeContext(kube().limited));
    const onLabelled = await run(labelled.metadata.name, kubeContext(kube().limited));

    // assess
    expect(onViewer.status).toBe("refused");
    expect(onViewer.reason).toContain("starts with system:");
    expect(onLabelled.status).toBe("refused");
    expect(onLabelled.reason).toContain("kubernetes.io/bootstrapping: rbac-defaults");
    for (const r of [onViewer, onLabelled]) expect(r.calls.map((c) => c.operation.split(" ")[0])).toEqual(["GET"]);
    const after = (await read(crbPath("system:public-info-viewer"))) as Meta;
    expect(after.metadata.resourceVersion).toBe(viewer.metadata.resourceVersion);
    await expect(read(crbPath(labelled.metadata.name))).resolves.toBeDefined();
  });

  it("refuses a binding with other subjects unless approved, and names whose access goes with it", async () => {
    // prepare
    const { metadata } = await clusterRoleBinding([ANONYMOUS, ALICE]);

    // act
    const unapproved = await run(metadata.name, kubeContext(kube().limited));
    const stillThere = await read(crbPath(metadata.name));
    const approved = await run(metadata.name, kubeContext(kube().limited, { approvedBy: "cli:oncall" }));

    // assess
    expect(unapproved.status).toBe("refused");
    expect(unapproved.reason).toContain("User alice@example.com");
    expect(unapproved.reason).toContain("needs an approval");
    expect(stillThere).toBeDefined();
    expect(approved.status, approved.reason).toBe("applied");
    expect(approved.reason).toContain("approved by cli:oncall, this also removed the access of User alice@example.com");
    await expect(read(crbPath(metadata.name))).rejects.toMatchObject({ status: 404 });
  });

  it("does not delete a binding changed between its read and the delete (409 Conflict), and says so", async () => {
    // prepare: the guardrails' hook runs after the reads and before the delete; someone edits the binding then
    const { metadata } = await clusterRoleBinding([ANONYMOUS]);
    const edit = async () => {
      await kube().admin.request({
        method: "PATCH",
        path: crbPath(metadata.name),
        body: { metadata: { labels: { edited: "meanwhile" } } },
      });
    };

    // act
    const result = await run(metadata.name, kubeContext(kube().limited, { beforeChange: edit }));

    // assess
    expect(result.status).toBe("refused");
    expect(result.reason).toContain("409 Conflict");
    expect(result.reason).toContain("not deleted");
    expect(result.calls.map((c) => [c.operation.split(" ")[0], c.result])).toEqual([
      ["GET", "ok"],
      ["GET", "ok"],
      ["DELETE", "error"],
      ["GET", "ok"],
    ]);
    const live = (await read(crbPath(metadata.name))) as Meta & { metadata: { labels: Record<string, string> } };
    expect(live.metadata.labels.edited).toBe("meanwhile");
    expect(result.reason).toContain(`now uid ${metadata.uid} resourceVersion ${live.metadata.resourceVersion}`);
  });

  it("deletes nothing when the guardrails refuse the change", async () => {
    const { metadata } = await clusterRoleBinding([ANONYMOUS]);
    const result = await run(metadata.name, kubeContext(kube().limited, REFUSED_SLOT));
    expectStoppedBeforeChange(result);
    await expect(read(crbPath(metadata.name))).resolves.toBeDefined();
  });

  it("deletes a RoleBinding of a namespace's default service account to admin", async () => {
    // prepare
    const ns = await freshNamespace(kube(), "rb");
    const path = kubePath("apis", "rbac.authorization.k8s.io", "v1", "namespaces", ns, "rolebindings", "default-admin");
    await kube().admin.request({
      method: "POST",
      path: `${RBAC}/namespaces/${ns}/rolebindings`,
      body: {
        metadata: { name: "default-admin" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" },
        subjects: [{ kind: "ServiceAccount", name: "default", namespace: ns }],
      },
    });
    const params = revokeBinding.params.parse({
      cluster: "prod-eks",
      kind: "RoleBinding",
      name: "default-admin",
      namespace: ns,
    });

    // act
    const result = await revokeBinding.apply(params, kubeContext(kube().limited));

    // assess
    expect(result.status, result.reason).toBe("applied");
    expect(result.reason).toContain(`ServiceAccount ${ns}/default`);
    expect(result.calls.map((c) => c.operation)).toEqual([
      `GET ${path}`,
      `GET ${RBAC}/clusterroles/admin`,
      `DELETE ${path}`,
    ]);
    await expect(read(path)).rejects.toMatchObject({ status: 404 });
  });

  it("leaves a binding alone when it grants no admin role, or none of the risky subjects", async () => {
    const toView = await clusterRoleBinding([ANONYMOUS], "view");
    const toAlice = await clusterRoleBinding([ALICE]);
    const view = await run(toView.metadata.name, kubeContext(kube().limited));
    const alice = await run(toAlice.metadata.name, kubeContext(kube().limited));
    expect(view.status).toBe("refused");
    expect(view.reason).toContain("not an admin role");
    expect(alice.status).toBe("already-done");
    expect(alice.reason).toContain("nothing to remove");
    await expect(read(crbPath(toView.metadata.name))).resolves.toBeDefined();
    await expect(read(crbPath(toAlice.metadata.name))).resolves.toBeDefined();
  });

  it("refuses, with the reason, where no Kubernetes access is set up", async () => {
    const ctx = kubeContext(kube().limited);
    delete ctx.kubernetes;
    const result = await run("anything", ctx);
    const checked = await revokeBinding.check(
      revokeBinding.params.parse({ cluster: "prod-eks", kind: "ClusterRoleBinding", name: "anything" }),
      ctx,
    );
    expect(result).toMatchObject({ status: "refused", calls: [] });
    expect(result.reason).toContain("no Kubernetes access to cluster prod-eks");
    expect(checked.status).toBe("refused");
  });
});
