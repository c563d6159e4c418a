import { describe, expect, it } from "vitest";
import { labelChange } from "../../../packages/core/src/actions/k8s-common.live.ts";
import { assessmentLabels, DNS_SUBDOMAIN, labelValue } from "../../../packages/core/src/actions/k8s-common.ts";
import { cordonNode } from "../../../packages/core/src/actions/k8s-cordon-node.action.ts";
import { ISOLATED_LABEL, isolatePod, policyName } from "../../../packages/core/src/actions/k8s-isolate-pod.action.ts";
import { ActionParamsError } from "../../../packages/core/src/errors.ts";
import { planAction } from "../../../packages/core/src/index.ts";
import { kubeContext } from "../../helpers/kube-rbac.ts";

const CONTEXT = { dryRun: false, assessmentId: "asm-3f6c2a9d0b1e4c7a", account: "111122223333", region: "eu-west-1" };
const POD = { cluster: "prod-eks", namespace: "payments", pod: "api-7d9f8b6c5-x2k4p" };

describe("k8s:isolate-pod params", () => {
  it.each([
    ["a namespace that is not a DNS label", { ...POD, namespace: "Payments" }, "params.namespace"],
    ["a pod name longer than 253 characters", { ...POD, pod: "a".repeat(254) }, "params.pod"],
    ["a pod name with a slash", { ...POD, pod: "api/../kube-system" }, "params.pod"],
    ["a cluster name EKS would refuse", { ...POD, cluster: "-prod" }, "params.cluster"],
    ["an unknown key", { ...POD, node: "ip-10-0-1-5" }, "params"],
  ])("refuses %s, naming the key", (_label, params, key) => {
    expect(() => planAction("k8s:isolate-pod", params, CONTEXT)).toThrow(ActionParamsError);
    expect(() => planAction("k8s:isolate-pod", params, CONTEXT)).toThrow(key);
  });
});

describe("k8s:isolate-pod plan", () => {
  it("is pure: the same params and context give the same calls, and the params are not changed", () => {
    const params = Object.freeze({ ...POD });

    const first = isolatePod.plan(params, CONTEXT);
    const second = isolatePod.plan(params, CONTEXT);

    expect(first).toEqual(second);
    expect(params).toEqual(POD);
  });

  it("lists the exact calls: reads with a note, then the label patch and the deny-all, in the pod's namespace", () => {
    const result = isolatePod.plan(POD, CONTEXT);
    if (!("calls" in result)) throw new Error("must plan");

    const writes = result.calls.filter((c) => !c.operation.startsWith("GET "));
    const reads = result.calls.filter((c) => c.operation.startsWith("GET "));

    expect(result.calls.every((c) => c.service === "kubernetes")).toBe(true);
    expect(reads.every((c) => c.note?.startsWith("read, changes nothing") && Object.keys(c.params).length === 0)).toBe(
      true,
    );
    expect(reads.map((c) => c.operation)).toContain("GET /apis/apps/v1/namespaces/kube-system/daemonsets/aws-node");
    expect(writes).toEqual([
      expect.objectContaining({
        operation: "PATCH /api/v1/namespaces/payments/pods/api-7d9f8b6c5-x2k4p",
        params: {
          metadata: { labels: { [ISOLATED_LABEL]: "true", "eks-responder.io/assessment": CONTEXT.assessmentId } },
        },
      }),
      expect.objectContaining({
        operation: "POST /apis/networking.k8s.io/v1/namespaces/payments/networkpolicies",
        params: {
          apiVersion: "networking.k8s.io/v1",
          kind: "NetworkPolicy",
          metadata: {
            name: "eks-responder-isolate-api-7d9f8b6c5-x2k4p",
            namespace: "payments",
            labels: { "eks-responder.io/assessment": CONTEXT.assessmentId },
            annotations: { "eks-responder.io/pod": POD.pod },
          },
          spec: { podSelector: { matchLabels: { [ISOLATED_LABEL]: "true" } }, policyTypes: ["Ingress", "Egress"] },
        },
      }),
    ]);
  });

  it("says in dry-run that writes go with dryRun=All", () => {
    const result = isolatePod.plan(POD, { ...CONTEXT, dryRun: true });
    if (!("calls" in result)) throw new Error("must plan");

    const writes = result.calls.filter((c) => !c.operation.startsWith("GET "));

    expect(writes.every((c) => c.note?.includes("dryRun=All"))).toBe(true);
  });
});

describe("policyName", () => {
  it("is eks-responder-isolate-<pod> while it fits 253 characters", () => {
    expect(policyName("web-0")).toBe("eks-responder-isolate-web-0");
    expect(policyName("a".repeat(231))).toHaveLength(253);
  });

  it("cuts a longer pod name and adds a stable hash: valid, distinct, at most 253 characters", () => {
    const a = `${"a".repeat(240)}.x-1`;
    const b = `${"a".repeat(240)}.x-2`;

    expect(policyName(a)).toBe(policyName(a));
    expect(policyName(a)).not.toBe(policyName(b));
    for (const name of [
      policyName(a),
      policyName(b),
      policyName(`${"b".repeat(230)}.${"c".repeat(22)}`),
      policyName(`${"b".repeat(219)}.${"c".repeat(40)}`),
    ]) {
      expect(name.length).toBeLessThanOrEqual(253);
      expect(name).toMatch(DNS_SUBDOMAIN);
    }
  });
});

describe("k8s:cordon-node params and plan", () => {
  it.each([
    ["neither node nor instanceId", { cluster: "prod-eks" }],
    ["both node and instanceId", { cluster: "prod-eks", node: "ip-10-0-1-5", instanceId: "i-0f1e2d3c4b5a69788" }],
  ])("refuses %s", (_label, params) => {
    expect(() => planAction("k8s:cordon-node", params, CONTEXT)).toThrow("exactly one of node or instanceId");
  });

  it("refuses an instance id that is not one, naming the key", () => {
    expect(() => planAction("k8s:cordon-node", { cluster: "prod-eks", instanceId: "ip-10-0-1-5" }, CONTEXT)).toThrow(
      "params.instanceId",
    );
  });

  it("plans one patch that cordons and labels, never a drain; reads say what they are for", () => {
    const result = cordonNode.plan(cordonNode.params.parse({ cluster: "prod-eks", node: "ip-10-0-1-5" }), CONTEXT);
    if (!("calls" in result)) throw new Error("must plan");

    expect(result.calls.map((c) => c.operation)).toEqual([
      "GET /api/v1/nodes/ip-10-0-1-5",
      "GET /api/v1/nodes",
      "PATCH /api/v1/nodes/ip-10-0-1-5",
    ]);
    expect(result.calls[2]?.params).toEqual({
      metadata: {
        labels: { "eks-responder.io/cordoned": "true", "eks-responder.io/assessment": CONTEXT.assessmentId },
      },
      spec: { unschedulable: true },
    });
    expect(result.calls.some((c) => /evict|drain/i.test(c.operation))).toBe(false);
    expect(result.calls[1]?.note).toContain("refused when it is the last one");
  });

  it("is pure, and says when an approval lets it cordon the last node of a group", () => {
    const params = cordonNode.params.parse({ cluster: "prod-eks", instanceId: "i-0f1e2d3c4b5a69788" });

    const unapproved = cordonNode.plan(params, CONTEXT);
    const approved = cordonNode.plan(params, { ...CONTEXT, approvedBy: "U0123ABCD" });

    expect(cordonNode.plan(params, CONTEXT)).toEqual(unapproved);
    if (!("calls" in approved)) throw new Error("must plan");
    expect(approved.calls[1]?.note).toContain("approved by U0123ABCD");
    expect(approved.calls[2]?.operation).toBe("PATCH /api/v1/nodes/<node of i-0f1e2d3c4b5a69788>");
  });
});

describe("Kubernetes actions without Kubernetes access (ApplyContext.kubernetes absent)", () => {
  it("k8s:isolate-pod refuses with the reason, never throws", async () => {
    const ctx = kubeContext(undefined);

    const checked = await isolatePod.check(POD, ctx);
    const applied = await isolatePod.apply(POD, ctx);

    expect(checked).toEqual({ status: "refused", reason: expect.stringContaining("no Kubernetes access") });
    expect(applied).toMatchObject({ status: "refused", calls: [] });
    expect(applied.reason).toContain("nothing was changed");
  });

  it("k8s:cordon-node refuses with the reason, never throws", async () => {
    const ctx = kubeContext(undefined);
    const params = cordonNode.params.parse({ cluster: "prod-eks", node: "ip-10-0-1-5" });

    const checked = await cordonNode.check(params, ctx);
    const applied = await cordonNode.apply(params, ctx);

    expect(checked).toEqual({ status: "refused", reason: expect.stringContaining("no Kubernetes access") });
    expect(applied).toMatchObject({ status: "refused", calls: [] });
  });
});

describe("k8s-common", () => {
  it("cuts the assessment label to 63 characters of a valid label value", () => {
    const long = `asm-${"0123456789abcdef".repeat(5)}`;

    const value = assessmentLabels(long)["eks-responder.io/assessment"] ?? "";

    expect(value).toHaveLength(63);
    expect(long.startsWith(value)).toBe(true);
    expect(labelValue("a:b/c-")).toBe("a-b-c");
  });

  it("records, for each label it sets, the value before (null when absent), and leaves labels already set out", () => {
    const change = labelChange({ app: "api", a: "1", b: "x" }, { a: "1", b: "y", c: "z" });

    expect(change).toEqual({ set: { b: "y", c: "z" }, restore: { b: "x", c: null } });
  });
});
