import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CORDONED_LABEL, cordonNode } from "../../../packages/core/src/actions/k8s-cordon-node.action.ts";
import { kubePath } from "../../../packages/core/src/kubernetes/client.ts";
import { type KubeTestServer, startKubeApiServer, uniqueName } from "../../helpers/kube-apiserver.ts";
import { bindShippedRole, comparable, kubeContext, notAllowed, REFUSED_SLOT } from "../../helpers/kube-rbac.ts";

/**
 * k8s:cordon-node against a real kube-apiserver, run as the limited identity holding only the shipped ClusterRole
 * (rbacManifests(ACTIONS)). Nodes exist only as the tests create them (no kubelet); each test makes its own node group.
 */
const ASSESSMENT = "asm-3f6c2a9d0b1e4c7a";

let kube: KubeTestServer;
let unbind: () => Promise<void>;
const made: string[] = [];

function instance(): string {
  return `i-0${randomBytes(8).toString("hex")}`;
}

/** A node as EKS registers one: named after its private DNS name, providerID aws:///<az>/<instance id>. */
async function node(labels: Record<string, string>, extra: { unschedulable?: boolean } = {}) {
  const id = instance();
  const name = `${uniqueName("ip-10-0-1")}.eu-west-1.compute.internal`;
  await kube.admin.request({
    method: "POST",
    path: "/api/v1/nodes",
    body: { metadata: { name, labels }, spec: { providerID: `aws:///eu-west-1a/${id}`, ...extra } },
  });
  made.push(name);
  return { name, instanceId: id, path: kubePath("api", "v1", "nodes", name) };
}

/** A node of a group of two schedulable nodes (labelled `key`), and the node as it was read before the test acts. */
async function groupOfTwo(key = "eks.amazonaws.com/nodegroup") {
  const group = { [key]: uniqueName("general") };
  const target = await node(group);
  await node(group);
  return { group, target, before: await read(target.path) };
}

async function read(path: string): Promise<unknown> {
  return kube.admin.request({ method: "GET", path });
}

beforeAll(async () => {
  kube = await startKubeApiServer();
  unbind = await bindShippedRole(kube);
});

afterAll(async () => {
  for (const name of made) await kube.admin.request({ method: "DELETE", path: kubePath("api", "v1", "nodes", name) });
  await unbind?.();
  await kube?.stop();
});

describe("k8s:cordon-node", () => {
  it("cordons and labels a node of a group with another schedulable node; a second run is already done", async () => {
    const { group, target } = await groupOfTwo();
    const params = cordonNode.params.parse({ cluster: "prod-eks", node: target.name });
    const needed = await cordonNode.check(params, kubeContext(kube.limited));

    const result = await cordonNode.apply(params, kubeContext(kube.limited, { assessmentId: ASSESSMENT }));
    const checked = await cordonNode.check(params, kubeContext(kube.limited));

    expect(needed.status).toBe("needed");
    expect(checked.status).toBe("already-done");
    const again = await cordonNode.apply({ cluster: "prod-eks", node: target.name }, kubeContext(kube.limited));

    expect(result.status, result.reason).toBe("applied");
    expect(result.reason).toContain("not drained");
    const live = (await read(target.path)) as { metadata: { labels: object }; spec: { unschedulable?: boolean } };
    expect(live.spec.unschedulable).toBe(true);
    expect(live.metadata.labels).toEqual({
      ...group,
      [CORDONED_LABEL]: "true",
      "eks-responder.io/assessment": ASSESSMENT,
    });
    expect(result.before?.node).toMatchObject({
      metadata: { name: target.name },
      spec: { providerID: expect.any(String) },
    });
    expect(again.status).toBe("already-done");
    expect(again.undo).toBeUndefined();
  });

  it("finds the node by instance id through spec.providerID", async () => {
    const { target } = await groupOfTwo();

    const result = await cordonNode.apply(
      { cluster: "prod-eks", instanceId: target.instanceId },
      kubeContext(kube.limited),
    );

    expect(result.status, result.reason).toBe("applied");
    expect(result.undo?.node).toBe(target.name);
    expect(((await read(target.path)) as { spec: { unschedulable?: boolean } }).spec.unschedulable).toBe(true);
  });

  it("refuses an instance id no node has", async () => {
    const result = await cordonNode.apply({ cluster: "prod-eks", instanceId: instance() }, kubeContext(kube.limited));

    expect(result.status).toBe("refused");
    expect(result.reason).toMatch(/no node of cluster prod-eks has a spec\.providerID ending with \/i-/);
  });

  it("rolls back exactly: the node as it was, through the rules the action declares", async () => {
    const { target, before } = await groupOfTwo("karpenter.sh/nodepool");
    const applied = await cordonNode.apply({ cluster: "prod-eks", node: target.name }, kubeContext(kube.limited));

    const rolledBack = await cordonNode.rollback?.(applied.undo ?? {}, kubeContext(kube.limited));

    expect(rolledBack?.status, rolledBack?.reason).toBe("applied");
    expect(comparable(await read(target.path))).toEqual(comparable(before));
    expect(notAllowed(rolledBack?.calls ?? [], cordonNode.kubernetesPermissions ?? [])).toEqual([]);
  });

  it("never cordons the last schedulable node of its node group unapproved; with approvedBy it does", async () => {
    const group = { "eks.amazonaws.com/nodegroup": uniqueName("critical") };
    const target = await node(group);
    await node(group, { unschedulable: true });

    const refused = await cordonNode.apply({ cluster: "prod-eks", node: target.name }, kubeContext(kube.limited));
    const unchanged = await read(target.path);
    const approved = await cordonNode.apply(
      { cluster: "prod-eks", node: target.name },
      kubeContext(kube.limited, { approvedBy: "arn:aws:iam::111122223333:role/platform-oncall" }),
    );

    expect(refused.status).toBe("refused");
    expect(refused.reason).toContain(`the last schedulable node of node group ${group["eks.amazonaws.com/nodegroup"]}`);
    expect((unchanged as { spec: { unschedulable?: boolean } }).spec.unschedulable).toBeUndefined();
    expect(approved.status, approved.reason).toBe("applied");
    expect(approved.reason).toContain("approved by arn:aws:iam::111122223333:role/platform-oncall");
  });

  it("a node already unschedulable is already done, and nothing is recorded that could uncordon it", async () => {
    const group = { "eks.amazonaws.com/nodegroup": uniqueName("general") };
    const target = await node(group, { unschedulable: true });
    const before = await read(target.path);

    const result = await cordonNode.apply({ cluster: "prod-eks", node: target.name }, kubeContext(kube.limited));

    expect(result.status).toBe("already-done");
    expect(result.undo).toBeUndefined();
    expect(await read(target.path)).toEqual(before);
  });

  it("dry-run: the API server validates and authorizes the patch (dryRun=All) and nothing changes", async () => {
    const { target, before } = await groupOfTwo();

    const result = await cordonNode.apply(
      { cluster: "prod-eks", node: target.name },
      kubeContext(kube.limited, { dryRun: true }),
    );

    expect(result.status, result.reason).toBe("would-succeed");
    expect(result.calls.at(-1)).toMatchObject({ operation: `PATCH ${target.path}`, result: "dry-run-ok" });
    expect(await read(target.path)).toEqual(before);
  });

  it("sends no write while the guardrails refuse (ApplyContext.beforeChange)", async () => {
    const { target, before } = await groupOfTwo();

    const result = await cordonNode.apply(
      { cluster: "prod-eks", node: target.name },
      kubeContext(kube.limited, REFUSED_SLOT),
    );

    expect(result.status).toBe("failed");
    expect(result.reason).toContain("blast-radius slot refused");
    expect(result.calls.every((c) => c.operation.startsWith("GET "))).toBe(true);
    expect(await read(target.path)).toEqual(before);
  });
});
