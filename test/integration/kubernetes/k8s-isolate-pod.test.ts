import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ISOLATED_LABEL, isolatePod, policyName } from "../../../packages/core/src/actions/k8s-isolate-pod.action.ts";
import { kubePath } from "../../../packages/core/src/kubernetes/client.ts";
import { type KubeTestServer, startKubeApiServer, uniqueName } from "../../helpers/kube-apiserver.ts";
import { bindShippedRole, comparable, kubeContext, notAllowed, REFUSED_SLOT } from "../../helpers/kube-rbac.ts";

/**
 * k8s:isolate-pod against a real kube-apiserver, run as the limited identity holding only the shipped ClusterRole
 * (rbacManifests(ACTIONS)): a call the role does not allow answers 403 and fails the test. Nothing enforces
 * NetworkPolicies here: the enforcers' DaemonSets are made by the tests (admin), as the action only reads them.
 */
const ASSESSMENT = "asm-3f6c2a9d0b1e4c7a";
const APPS = ["apis", "apps", "v1", "namespaces"];
const POD_SPEC = { containers: [{ name: "app", image: "registry.example/app:1.0" }] };

let kube: KubeTestServer;
let unbind: () => Promise<void>;

async function create(path: string, body: Record<string, unknown>): Promise<{ metadata: { uid: string } }> {
  return (await kube.admin.request({ method: "POST", path, body })) as { metadata: { uid: string } };
}

async function read(path: string): Promise<unknown> {
  return kube.admin.request({ method: "GET", path });
}

async function gone(path: string): Promise<boolean> {
  return kube.admin.request({ method: "GET", path }).then(
    () => false,
    (e: { status?: number }) => e.status === 404,
  );
}

async function removeDaemonSet(namespace: string, name: string): Promise<void> {
  await kube.admin
    .request({ method: "DELETE", path: kubePath(...APPS, namespace, "daemonsets", name) })
    .catch((e: { status?: number }) => {
      if (e.status !== 404) throw e;
    });
}

/** An enforcer's DaemonSet, with `ready` pods in its status (no controller runs here to count them). */
async function daemonSet(namespace: string, name: string, containers: object[], ready = 1): Promise<void> {
  await removeDaemonSet(namespace, name);
  const labels = { "k8s-app": name };
  await create(kubePath(...APPS, namespace, "daemonsets"), {
    metadata: { name, namespace },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers } } },
  });
  await kube.admin.request({
    method: "PATCH",
    path: kubePath(...APPS, namespace, "daemonsets", name, "status"),
    body: {
      status: { numberReady: ready, desiredNumberScheduled: 1, currentNumberScheduled: 1, numberMisscheduled: 0 },
    },
  });
}

/** The aws-node DaemonSet as the VPC CNI add-on makes it, its agent run with `--enable-network-policy=<enabled>`. */
async function awsNode(enabled: boolean): Promise<void> {
  await daemonSet("kube-system", "aws-node", [
    { name: "aws-node", image: "602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.19.2-eksbuild.1" },
    {
      name: "aws-eks-nodeagent",
      image: "602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon/aws-network-policy-agent:v1.1.6-eksbuild.1",
      args: ["--enable-ipv6=false", `--enable-network-policy=${enabled}`, "--enable-cloudwatch-logs=false"],
    },
  ]);
}

async function noEnforcer(): Promise<void> {
  await removeDaemonSet("kube-system", "aws-node");
  await removeDaemonSet("kube-system", "calico-node");
  await removeDaemonSet("calico-system", "calico-node");
  await removeDaemonSet("kube-system", "cilium");
}

/** A fresh namespace with a Deployment → ReplicaSet → Pod chain (ownerReferences made by hand: no controller runs). */
async function workload(spec: Record<string, unknown> = POD_SPEC) {
  const namespace = uniqueName("isolate");
  await create("/api/v1/namespaces", { metadata: { name: namespace } });
  const labels = { app: "api" };
  const template = { metadata: { labels }, spec: POD_SPEC };
  const deploy = await create(kubePath(...APPS, namespace, "deployments"), {
    metadata: { name: "api" },
    spec: { selector: { matchLabels: labels }, template },
  });
  const owner = (kind: string, name: string, uid: string) => [
    { apiVersion: "apps/v1", kind, name, uid, controller: true, blockOwnerDeletion: true },
  ];
  const rs = await create(kubePath(...APPS, namespace, "replicasets"), {
    metadata: { name: "api-7d9f8b6c5", ownerReferences: owner("Deployment", "api", deploy.metadata.uid) },
    spec: { selector: { matchLabels: labels }, template },
  });
  const pod = "api-7d9f8b6c5-x2k4p";
  await create(kubePath("api", "v1", "namespaces", namespace, "pods"), {
    metadata: { name: pod, labels, ownerReferences: owner("ReplicaSet", "api-7d9f8b6c5", rs.metadata.uid) },
    spec,
  });
  const podPath = kubePath("api", "v1", "namespaces", namespace, "pods", pod);
  const policyPath = kubePath(
    "apis",
    "networking.k8s.io",
    "v1",
    "namespaces",
    namespace,
    "networkpolicies",
    policyName(pod),
  );
  return { params: { cluster: "prod-eks", namespace, pod }, podPath, policyPath };
}

beforeAll(async () => {
  kube = await startKubeApiServer();
  unbind = await bindShippedRole(kube);
  await kube.admin
    .request({ method: "POST", path: "/api/v1/namespaces", body: { metadata: { name: "calico-system" } } })
    .catch((e: { status?: number }) => {
      if (e.status !== 409) throw e;
    });
});

afterAll(async () => {
  await noEnforcer();
  await unbind?.();
  await kube?.stop();
});

describe("k8s:isolate-pod when nothing enforces NetworkPolicies", () => {
  beforeEach(noEnforcer);

  it("refuses, says so and names what would, with the pod recorded and nothing changed", async () => {
    const { params, podPath, policyPath } = await workload();
    const podBefore = await read(podPath);

    const result = await isolatePod.apply(params, kubeContext(kube.limited));

    expect(result.status).toBe("refused");
    expect(result.reason).toMatch(/^nothing in this cluster enforces NetworkPolicies: .*; the pod is not isolated/);
    expect(result.reason).toContain("enableNetworkPolicy");
    expect(result.reason).toContain("calico-node");
    expect(result.reason).toContain("cilium");
    expect(result.before?.pod).toMatchObject({ metadata: { name: params.pod, namespace: params.namespace } });
    expect(await read(podPath)).toEqual(podBefore);
    expect(await gone(policyPath)).toBe(true);
    expect(result.calls.filter((c) => c.operation.startsWith("GET") === false)).toEqual([]);
  });

  it("refuses when the VPC CNI runs its agent with network policy off, naming the flag", async () => {
    await awsNode(false);
    const { params } = await workload();

    const result = await isolatePod.apply(params, kubeContext(kube.limited));

    expect(result.status).toBe("refused");
    expect(result.reason).toContain("kube-system/aws-node");
    expect(result.reason).toContain("--enable-network-policy=false");
  });

  it("refuses when the enforcer's DaemonSet has no ready pod", async () => {
    await daemonSet("kube-system", "cilium", [{ name: "cilium-agent", image: "quay.io/cilium/cilium:v1.16.0" }], 0);
    const { params } = await workload();

    const result = await isolatePod.apply(params, kubeContext(kube.limited));

    expect(result.status).toBe("refused");
    expect(result.reason).toContain("kube-system/cilium (Cilium) is there but it has no ready pod");
  });
});

describe("k8s:isolate-pod with the VPC CNI network policy agent on", () => {
  beforeAll(async () => {
    await noEnforcer();
    await awsNode(true);
  });

  it("labels the pod and creates the deny-all, records the pod and its owner chain first; a second run is already done", async () => {
    const { params, podPath, policyPath } = await workload();
    const podBefore = await read(podPath);
    const ctx = kubeContext(kube.limited, { assessmentId: ASSESSMENT });

    const needed = await isolatePod.check(params, ctx);
    const result = await isolatePod.apply(params, ctx);
    const checked = await isolatePod.check(params, ctx);
    const again = await isolatePod.apply(params, ctx);

    expect(needed.status).toBe("needed");
    expect(checked.status).toBe("already-done");

    expect(result.status, result.reason).toBe("applied");
    expect(result.reason).toContain("the Amazon VPC CNI network policy agent");
    expect(result.caveats?.[0]).toMatch(/^connections already open may continue: the VPC CNI network policy agent/);
    const { managedFields: _fields, ...meta } = (podBefore as { metadata: Record<string, unknown> }).metadata;
    expect(result.before?.pod).toEqual({ ...(podBefore as object), metadata: meta });
    const owners = result.before?.owners as { reference: { kind: string }; object?: unknown }[];
    expect(owners.map((o) => o.reference.kind)).toEqual(["ReplicaSet", "Deployment"]);
    expect(owners.every((o) => o.object !== undefined)).toBe(true);
    const pod = (await read(podPath)) as { metadata: { labels: Record<string, string> } };
    expect(pod.metadata.labels).toEqual({
      app: "api",
      [ISOLATED_LABEL]: "true",
      "eks-responder.io/assessment": ASSESSMENT,
    });
    const policy = (await read(policyPath)) as { metadata: { labels: object }; spec: object };
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { [ISOLATED_LABEL]: "true" } },
      policyTypes: ["Ingress", "Egress"],
    });
    expect(policy.metadata.labels).toEqual({ "eks-responder.io/assessment": ASSESSMENT });
    expect(again.status).toBe("already-done");
    expect(again.calls.every((c) => c.operation.startsWith("GET "))).toBe(true);
  });

  it("rolls back exactly: the policy deleted and the pod as it was, with only the rules the action declares", async () => {
    const { params, podPath, policyPath } = await workload();
    const podBefore = await read(podPath);
    const applied = await isolatePod.apply(params, kubeContext(kube.limited));
    expect(applied.status).toBe("applied");

    // The operator rolls back with their own access (kubernetesRollbackPermissions are never the responder's).
    const rolledBack = await isolatePod.rollback?.(applied.undo ?? {}, kubeContext(kube.admin));

    expect(rolledBack?.status, rolledBack?.reason).toBe("applied");
    expect(comparable(await read(podPath))).toEqual(comparable(podBefore));
    expect(await gone(policyPath)).toBe(true);
    const rules = [...(isolatePod.kubernetesPermissions ?? []), ...(isolatePod.kubernetesRollbackPermissions ?? [])];
    expect(notAllowed(rolledBack?.calls ?? [], rules)).toEqual([]);
    expect(rolledBack?.calls.map((c) => c.operation.split(" ")[0])).toEqual(["DELETE", "PATCH"]);
  });

  it("puts back a label the pod had before (from an earlier assessment) instead of removing it", async () => {
    const { params, podPath } = await workload();
    await kube.admin.request({
      method: "PATCH",
      path: podPath,
      body: { metadata: { labels: { "eks-responder.io/assessment": "asm-earlier" } } },
    });
    const podBefore = await read(podPath);

    const applied = await isolatePod.apply(params, kubeContext(kube.limited, { assessmentId: ASSESSMENT }));
    await isolatePod.rollback?.(applied.undo ?? {}, kubeContext(kube.admin));

    expect(applied.undo?.labels).toEqual({ [ISOLATED_LABEL]: null, "eks-responder.io/assessment": "asm-earlier" });
    expect(comparable(await read(podPath))).toEqual(comparable(podBefore));
  });

  it("dry-run: the API server validates and authorizes both writes (dryRun=All) and nothing changes", async () => {
    const { params, podPath, policyPath } = await workload();
    const podBefore = await read(podPath);

    const result = await isolatePod.apply(params, kubeContext(kube.limited, { dryRun: true }));

    expect(result.status, result.reason).toBe("would-succeed");
    expect(result.calls.filter((c) => c.result === "dry-run-ok").map((c) => c.operation.split(" ")[0])).toEqual([
      "PATCH",
      "POST",
    ]);
    expect(result.undo).toBeUndefined();
    expect(await read(podPath)).toEqual(podBefore);
    expect(await gone(policyPath)).toBe(true);
  });

  it("undoes the label when the policy cannot be created (a policy of that name appeared meanwhile)", async () => {
    const { params, podPath, policyPath } = await workload();
    const podBefore = await read(podPath);
    let writes = 0;
    const ctx = kubeContext(kube.limited, {
      // Before the second write (the policy), someone else creates one of that name: the API server answers 409.
      beforeChange: async () => {
        writes += 1;
        if (writes === 2) {
          await create(policyPath.replace(/\/[^/]+$/, ""), {
            metadata: { name: policyName(params.pod) },
            spec: { podSelector: {}, policyTypes: ["Ingress"] },
          });
        }
      },
    });

    const result = await isolatePod.apply(params, ctx);

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("Kubernetes.AlreadyExists");
    expect(result.rolledBack).toBe(true);
    expect(comparable(await read(podPath))).toEqual(comparable(podBefore));
  });

  it("sends no write while the guardrails refuse (ApplyContext.beforeChange), only reads", async () => {
    const { params, podPath } = await workload();
    const podBefore = await read(podPath);

    const result = await isolatePod.apply(params, kubeContext(kube.limited, REFUSED_SLOT));

    expect(result.status).toBe("failed");
    expect(result.reason).toContain("blast-radius slot refused");
    expect(result.calls.every((c) => c.operation.startsWith("GET "))).toBe(true);
    expect(await read(podPath)).toEqual(podBefore);
  });

  it("refuses a hostNetwork pod, with the reason, and changes nothing", async () => {
    const { params, podPath } = await workload({ ...POD_SPEC, hostNetwork: true });
    const podBefore = await read(podPath);

    const result = await isolatePod.apply(params, kubeContext(kube.limited));

    expect(result.status).toBe("refused");
    expect(result.reason).toContain("uses hostNetwork");
    expect(result.reason).toContain("no NetworkPolicy applies to it");
    expect(await read(podPath)).toEqual(podBefore);
  });

  it("records a Job's CronJob as evidence (batch, as the ownerReference's apiVersion says)", async () => {
    const namespace = uniqueName("isolate");
    await create("/api/v1/namespaces", { metadata: { name: namespace } });
    const template = { spec: { ...POD_SPEC, restartPolicy: "Never" } };
    const cron = await create(kubePath("apis", "batch", "v1beta1", "namespaces", namespace, "cronjobs"), {
      metadata: { name: "report" },
      spec: { schedule: "0 * * * *", jobTemplate: { spec: { template } } },
    });
    const ref = (apiVersion: string, kind: string, name: string, uid: string) => [
      { apiVersion, kind, name, uid, controller: true },
    ];
    const job = await create(kubePath("apis", "batch", "v1", "namespaces", namespace, "jobs"), {
      metadata: { name: "report-1", ownerReferences: ref("batch/v1beta1", "CronJob", "report", cron.metadata.uid) },
      spec: { template },
    });
    await create(kubePath("api", "v1", "namespaces", namespace, "pods"), {
      metadata: { name: "report-1-abcde", ownerReferences: ref("batch/v1", "Job", "report-1", job.metadata.uid) },
      spec: template.spec,
    });

    const result = await isolatePod.apply(
      { cluster: "prod-eks", namespace, pod: "report-1-abcde" },
      kubeContext(kube.limited, { dryRun: true }),
    );

    expect(result.status, result.reason).toBe("would-succeed");
    const owners = result.before?.owners as { reference: { kind: string }; object?: { metadata: { uid: string } } }[];
    expect(owners.map((o) => [o.reference.kind, o.object?.metadata.uid])).toEqual([
      ["Job", job.metadata.uid],
      ["CronJob", cron.metadata.uid],
    ]);
  });

  it("refuses a pod that is gone: nothing was isolated", async () => {
    const { params } = await workload();

    const result = await isolatePod.apply({ ...params, pod: "api-7d9f8b6c5-gone0" }, kubeContext(kube.limited));

    expect(result.status).toBe("refused");
    expect(result.reason).toContain("no longer exists");
  });
});

describe("k8s:isolate-pod with Calico", () => {
  beforeAll(async () => {
    await noEnforcer();
    await daemonSet("calico-system", "calico-node", [{ name: "calico-node", image: "docker.io/calico/node:v3.28.0" }]);
  });

  it("isolates once calico-node (calico-system) is there and ready", async () => {
    const { params, policyPath } = await workload();

    const result = await isolatePod.apply(params, kubeContext(kube.limited));

    expect(result.status, result.reason).toBe("applied");
    expect(result.reason).toContain("Calico");
    expect(await gone(policyPath)).toBe(false);
  });
});
