import { describe, expect, it } from "vitest";
import { scaleWorkload } from "../../../packages/core/src/actions/k8s-scale-workload.action.ts";
import { ACTIONS } from "../../../packages/core/src/actions/registry.ts";
import type { ApplyContext } from "../../../packages/core/src/actions/types.ts";
import { expectStoppedBeforeChange, freshNamespace, kubeContext, REFUSED_SLOT } from "../../helpers/kube-actions.ts";
import { uniqueName } from "../../helpers/kube-apiserver.ts";
import { kubeWithShippedRole } from "../../helpers/kube-rbac.ts";

interface Made {
  apiVersion: string;
  kind: string;
  metadata: { name: string; uid: string; resourceVersion: string };
  spec?: { replicas?: number };
}

const LABELS = { app: "web" };
const TEMPLATE = { metadata: { labels: LABELS }, spec: { containers: [{ name: "web", image: "nginx:1.25" }] } };

describe("k8s:scale-workload against a real kube-apiserver, as the shipped ClusterRole", () => {
  const kube = kubeWithShippedRole(ACTIONS);

  const apps = (ns: string, resource: string, name = "") =>
    `/apis/apps/v1/namespaces/${ns}/${resource}${name ? `/${name}` : ""}`;

  async function create(path: string, body: object): Promise<Made> {
    return (await kube().admin.request({ method: "POST", path, body })) as Made;
  }

  const ownedBy = (owner: Made) => [
    {
      apiVersion: owner.apiVersion,
      kind: owner.kind,
      name: owner.metadata.name,
      uid: owner.metadata.uid,
      controller: true,
    },
  ];

  /** No controllers run on this server: each object of the chain is made by hand, with its ownerReferences. */
  async function pod(ns: string, owner?: Made): Promise<string> {
    const name = uniqueName("web");
    await create(`/api/v1/namespaces/${ns}/pods`, {
      metadata: { name, labels: LABELS, ...(owner ? { ownerReferences: ownedBy(owner) } : {}) },
      spec: TEMPLATE.spec,
    });
    return name;
  }

  async function deploymentChain(ns: string, replicas = 3) {
    const deployment = await create(apps(ns, "deployments"), {
      metadata: { name: "web" },
      spec: { replicas, selector: { matchLabels: LABELS }, template: TEMPLATE },
    });
    const replicaSet = await create(apps(ns, "replicasets"), {
      metadata: { name: "web-7d4b9c8f6d", ownerReferences: ownedBy(deployment) },
      spec: { replicas, selector: { matchLabels: LABELS }, template: TEMPLATE },
    });
    return { deployment, replicaSet, pod: await pod(ns, replicaSet) };
  }

  const replicasOf = async (path: string) =>
    ((await kube().admin.request({ method: "GET", path })) as Made).spec?.replicas;
  const run = (ns: string, name: string, ctx: ApplyContext) =>
    scaleWorkload.apply(scaleWorkload.params.parse({ cluster: "prod-eks", namespace: ns, pod: name }), ctx);

  it("walks pod → ReplicaSet → Deployment, scales the Deployment to 0, then finds it already done", async () => {
    // prepare
    const ns = await freshNamespace(kube(), "scale");
    const chain = await deploymentChain(ns);

    // act
    const applied = await run(ns, chain.pod, kubeContext(kube().limited));
    const again = await run(ns, chain.pod, kubeContext(kube().limited));

    // assess
    expect(applied.status, applied.reason).toBe("applied");
    expect(applied.calls.map((c) => [c.operation, c.result])).toEqual([
      [`GET /api/v1/namespaces/${ns}/pods/${chain.pod}`, "ok"],
      [`GET ${apps(ns, "replicasets", "web-7d4b9c8f6d")}`, "ok"],
      [`GET ${apps(ns, "deployments", "web")}`, "ok"],
      [`PATCH ${apps(ns, "deployments", "web")}/scale`, "ok"],
    ]);
    expect(applied.calls[3]?.params).toEqual({ spec: { replicas: 0 } });
    expect(applied.before?.chain).toEqual([
      { kind: "Pod", name: chain.pod, uid: expect.any(String) },
      { kind: "ReplicaSet", name: "web-7d4b9c8f6d", uid: chain.replicaSet.metadata.uid },
      { kind: "Deployment", name: "web", uid: chain.deployment.metadata.uid },
    ]);
    expect(applied.undo).toEqual({
      cluster: "prod-eks",
      namespace: ns,
      kind: "Deployment",
      name: "web",
      uid: chain.deployment.metadata.uid,
      replicas: 3,
    });
    expect(await replicasOf(apps(ns, "deployments", "web"))).toBe(0);
    // The ReplicaSet is left to the Deployment controller, which scales it down in a real cluster.
    expect(await replicasOf(apps(ns, "replicasets", "web-7d4b9c8f6d"))).toBe(3);
    expect(again.status).toBe("already-done");
    expect(again.reason).toContain("already at 0 replicas");
  });

  it("is rolled back to the recorded replicas, and refuses when the workload was scaled since", async () => {
    // prepare
    const ns = await freshNamespace(kube(), "scale");
    const chain = await deploymentChain(ns, 4);
    const applied = await run(ns, chain.pod, kubeContext(kube().limited));
    expect(applied.status, applied.reason).toBe("applied");
    const undo = applied.undo ?? {};
    const path = apps(ns, "deployments", "web");

    // act: the admin stands in for the operator; then someone scales it by hand, and a second rollback is asked for
    const restored = await scaleWorkload.rollback?.(undo, kubeContext(kube().admin));
    const afterRestore = await replicasOf(path);
    await kube().admin.request({ method: "PATCH", path: `${path}/scale`, body: { spec: { replicas: 2 } } });
    const refused = await scaleWorkload.rollback?.(undo, kubeContext(kube().limited));

    // assess
    expect(restored?.status, restored?.reason).toBe("applied");
    expect(afterRestore).toBe(4);
    expect(refused?.status).toBe("refused");
    expect(refused?.reason).toContain("was scaled to 2 replicas since");
    expect(await replicasOf(path)).toBe(2);
  });

  it("is rolled back by the shipped ClusterRole too, which holds every rule the rollback needs", async () => {
    const ns = await freshNamespace(kube(), "scale");
    const chain = await deploymentChain(ns, 2);
    const applied = await run(ns, chain.pod, kubeContext(kube().limited));
    const restored = await scaleWorkload.rollback?.(applied.undo ?? {}, kubeContext(kube().limited));
    expect(restored?.status, restored?.reason).toBe("applied");
    expect(restored?.calls.map((c) => c.operation.split(" ")[0])).toEqual(["GET", "PATCH"]);
    expect(await replicasOf(apps(ns, "deployments", "web"))).toBe(2);
  });

  it("does not restore a workload changed between the rollback's read and its patch (409 Conflict)", async () => {
    // prepare: the hook before the change runs after the rollback's read; someone edits the Deployment then
    const ns = await freshNamespace(kube(), "scale");
    const chain = await deploymentChain(ns, 2);
    const applied = await run(ns, chain.pod, kubeContext(kube().limited));
    const path = apps(ns, "deployments", "web");
    const edit = async () => {
      await kube().admin.request({ method: "PATCH", path, body: { metadata: { labels: { edited: "meanwhile" } } } });
    };

    // act
    const result = await scaleWorkload.rollback?.(
      applied.undo ?? {},
      kubeContext(kube().admin, { beforeChange: edit }),
    );

    // assess
    expect(result?.status).toBe("refused");
    expect(result?.reason).toContain("409 Conflict");
    expect(await replicasOf(path)).toBe(0);
  });

  it("in dry-run sends the scale with dryRun=All and changes nothing", async () => {
    const ns = await freshNamespace(kube(), "scale");
    const chain = await deploymentChain(ns);
    const before = ((await kube().admin.request({ method: "GET", path: apps(ns, "deployments", "web") })) as Made)
      .metadata.resourceVersion;

    const result = await run(ns, chain.pod, kubeContext(kube().limited, { dryRun: true }));

    expect(result.status, result.reason).toBe("would-succeed");
    expect(result.undo).toBeUndefined();
    expect(result.calls.at(-1)).toMatchObject({ operation: `PATCH ${apps(ns, "deployments", "web")}/scale` });
    expect(result.calls.at(-1)?.result).toBe("dry-run-ok");
    const after = (await kube().admin.request({ method: "GET", path: apps(ns, "deployments", "web") })) as Made;
    expect(after.spec?.replicas).toBe(3);
    expect(after.metadata.resourceVersion).toBe(before);
  });

  it("scales a StatefulSet that owns the pod", async () => {
    const ns = await freshNamespace(kube(), "scale");
    const sts = await create(apps(ns, "statefulsets"), {
      metadata: { name: "db" },
      spec: { replicas: 2, serviceName: "db", selector: { matchLabels: LABELS }, template: TEMPLATE },
    });
    const name = await pod(ns, sts);

    const result = await run(ns, name, kubeContext(kube().limited));

    expect(result.status, result.reason).toBe("applied");
    expect(result.calls.map((c) => c.operation)).toEqual([
      `GET /api/v1/namespaces/${ns}/pods/${name}`,
      `GET ${apps(ns, "statefulsets", "db")}`,
      `PATCH ${apps(ns, "statefulsets", "db")}/scale`,
    ]);
    expect(await replicasOf(apps(ns, "statefulsets", "db"))).toBe(0);
  });

  it("scales a bare ReplicaSet, which no Deployment controls", async () => {
    const ns = await freshNamespace(kube(), "scale");
    const rs = await create(apps(ns, "replicasets"), {
      metadata: { name: "lone" },
      spec: { replicas: 1, selector: { matchLabels: LABELS }, template: TEMPLATE },
    });
    const result = await run(ns, await pod(ns, rs), kubeContext(kube().limited));
    expect(result.status, result.reason).toBe("applied");
    expect(await replicasOf(apps(ns, "replicasets", "lone"))).toBe(0);
  });

  it("refuses a bare pod (deleting it is the operator's call), a DaemonSet's and a Job's pod (scaling does not apply)", async () => {
    // prepare
    const ns = await freshNamespace(kube(), "scale");
    const bare = await pod(ns);
    const ds = await create(apps(ns, "daemonsets"), {
      metadata: { name: "agent" },
      spec: { selector: { matchLabels: LABELS }, template: TEMPLATE },
    });
    const daemonPod = await pod(ns, ds);
    const job = await create(`/apis/batch/v1/namespaces/${ns}/jobs`, {
      metadata: { name: "backup" },
      spec: { template: { spec: { ...TEMPLATE.spec, restartPolicy: "Never" } } },
    });
    const jobPod = await pod(ns, job);

    // act
    const onBare = await run(ns, bare, kubeContext(kube().limited));
    const onDaemon = await run(ns, daemonPod, kubeContext(kube().limited));
    const onJob = await run(ns, jobPod, kubeContext(kube().limited));

    // assess
    expect(onBare.status).toBe("refused");
    expect(onBare.reason).toContain("no controller owner");
    expect(onBare.reason).toContain("deleting the pod is the operator's call");
    expect(onDaemon.status).toBe("refused");
    expect(onDaemon.reason).toContain("owned by DaemonSet agent");
    expect(onDaemon.reason).toContain("scaling does not apply");
    expect(onJob.status).toBe("refused");
    expect(onJob.reason).toContain("owned by Job backup");
    expect(onJob.reason).toContain("no scale subresource");
    for (const r of [onBare, onDaemon, onJob]) expect(r.calls.map((c) => c.operation.split(" ")[0])).toEqual(["GET"]);
    await expect(
      kube().admin.request({ method: "GET", path: `/api/v1/namespaces/${ns}/pods/${bare}` }),
    ).resolves.toBeDefined();
  });

  it("refuses an owner replaced since the pod was made (another uid), and a pod that is gone", async () => {
    const ns = await freshNamespace(kube(), "scale");
    const chain = await deploymentChain(ns);
    await kube().admin.request({ method: "DELETE", path: apps(ns, "deployments", "web") });
    await create(apps(ns, "deployments"), {
      metadata: { name: "web" },
      spec: { replicas: 3, selector: { matchLabels: LABELS }, template: TEMPLATE },
    });

    const replaced = await run(ns, chain.pod, kubeContext(kube().limited));
    const gone = await run(ns, "no-such-pod", kubeContext(kube().limited));

    expect(replaced.status).toBe("refused");
    expect(replaced.reason).toContain("it was replaced");
    expect(await replicasOf(apps(ns, "deployments", "web"))).toBe(3);
    expect(gone.status).toBe("refused");
    expect(gone.reason).toContain("no longer exists");
  });

  it("scales a workload in kube-system only when approved", async () => {
    // prepare: kube-system is shared by every test run on this server, so the names are unique
    const deployment = await create(apps("kube-system", "deployments"), {
      metadata: { name: uniqueName("addon") },
      spec: { replicas: 2, selector: { matchLabels: LABELS }, template: TEMPLATE },
    });
    const name = await pod("kube-system", deployment);
    const path = apps("kube-system", "deployments", deployment.metadata.name);

    // act
    const unapproved = await run("kube-system", name, kubeContext(kube().limited));
    const replicasUnapproved = await replicasOf(path);
    const approved = await run("kube-system", name, kubeContext(kube().limited, { approvedBy: "cli:oncall" }));

    // assess
    expect(unapproved.status).toBe("refused");
    expect(unapproved.reason).toContain("needs an approval");
    expect(replicasUnapproved).toBe(2);
    expect(approved.status, approved.reason).toBe("applied");
    expect(await replicasOf(path)).toBe(0);
  });

  it("changes nothing when the guardrails refuse the change", async () => {
    const ns = await freshNamespace(kube(), "scale");
    const chain = await deploymentChain(ns);
    const result = await run(ns, chain.pod, kubeContext(kube().limited, REFUSED_SLOT));
    expectStoppedBeforeChange(result);
    expect(await replicasOf(apps(ns, "deployments", "web"))).toBe(3);
  });
});
