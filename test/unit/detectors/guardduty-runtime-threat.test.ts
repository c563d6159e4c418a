import { describe, expect, it } from "vitest";
import { classifyFinding } from "../../../packages/core/src/detectors/guardduty-families.ts";
import { guardDutyRuntimeThreat } from "../../../packages/core/src/detectors/guardduty-runtime-threat.detector.ts";
import {
  defaultPolicy,
  type EventResult,
  type GuardDutySignal,
  parseEvent,
  parsePolicy,
  processEvent,
} from "../../../packages/core/src/index.ts";
import { fixtureText, listFixtures, loadFixture, must, objectAt } from "../../helpers/fixtures.ts";

const ID = "guardduty-runtime-threat";
const NODE = "guardduty/backdoor-runtime-c-cactivity-b-dns/eks-node-instance.json";
const POD = "guardduty/cryptocurrency-runtime-bitcointool-b/eks-pod.json";
const STANDALONE = "guardduty/cryptocurrency-runtime-bitcointool-b-dns/standalone-docker-container-not-eks.json";
const ASG = "eks-general-8ac6f1b2-1a2b-3c4d-5e6f-7a8b9c0d1e2f";

function finding(input: unknown): GuardDutySignal {
  const parsed = parseEvent(typeof input === "string" ? JSON.parse(input) : input);
  if (parsed.status !== "signal" || parsed.signal.family !== "guardduty") throw new Error("expected a finding");
  return parsed.signal;
}

function run(input: unknown, policy = defaultPolicy()): EventResult {
  return processEvent(input, policy);
}

function mine(result: EventResult) {
  return result.assessments.filter((a) => a.detectorId === ID);
}

const isolateParams = {
  instanceId: "i-0f1e2d3c4b5a69788",
  clusterName: "prod-eks",
  vpcId: "vpc-0a1b2c3d4e5f67890",
  networkInterfaceIds: ["eni-0a9b8c7d6e5f43210"],
  autoScalingGroupName: ASG,
};

describe("guardduty-runtime-threat", () => {
  it("routes exactly the runtime findings on EKS to the runtime-threat family", () => {
    // prepare
    const findings = listFixtures("guardduty");

    // act
    const routed = findings.filter((f) => classifyFinding(finding(fixtureText(f))).family === "runtime-threat");

    // assess
    expect(routed).toEqual([NODE, POD]);
  });

  it("assesses exactly the runtime findings on an EKS node and on an EKS pod", () => {
    // prepare
    const all = [...listFixtures("cloudtrail"), ...listFixtures("guardduty")];

    // act
    const assessed = all.filter((f) => mine(run(fixtureText(f))).length > 0);

    // assess
    expect(assessed).toEqual([NODE, POD]);
  });

  it("cordons the node and isolates the instance for a finding on the node itself (mode approve)", () => {
    // prepare
    const text = fixtureText(NODE);

    // act
    const result = run(text);

    // assess
    const a = must(mine(result)[0]);
    expect(a.severity).toBe("high");
    expect(a.title).toBe(
      "Backdoor:Runtime/C&CActivity.B!DNS: An Amazon EC2 instance or a container is querying a domain name that is associated with a known command and control server.",
    );
    expect(a.cluster).toBe("prod-eks");
    expect(a.resources).toEqual({ instanceId: "i-0f1e2d3c4b5a69788" });
    // Kubernetes side first, then the AWS side.
    expect(a.actions).toEqual([
      { action: "k8s:cordon-node", params: { cluster: "prod-eks", instanceId: "i-0f1e2d3c4b5a69788" } },
      { action: "ec2:isolate-instance", params: isolateParams },
    ]);
    expect(result.plan.map((p) => `${p.service}:${p.operation}`)).toEqual([
      "kubernetes:GET /api/v1/nodes",
      "kubernetes:GET /api/v1/nodes",
      "kubernetes:PATCH /api/v1/nodes/<node of i-0f1e2d3c4b5a69788>",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeNetworkInterfaces",
      "ec2:ModifyNetworkInterfaceAttribute",
      "ec2:ModifyNetworkInterfaceAttribute",
      "ec2:CreateTags",
      "ec2:ModifyInstanceAttribute",
      "ec2:ModifyInstanceAttribute",
      "autoscaling:SetInstanceProtection",
      "autoscaling:EnterStandby",
      "ec2:CreateSnapshots",
    ]);
    expect(must(result.plan[8]).params).toEqual({
      InstanceId: "i-0f1e2d3c4b5a69788",
      DisableApiTermination: { Value: true },
      DryRun: true,
    });
    const decision = must(result.decisions[0]);
    expect(decision.mode).toBe("approve");
    expect(decision.reasons[0]).toBe(
      "mode approve: default for guardduty-runtime-threat (isolation takes a pod, or a node and every pod on it, out of service; a human confirms first)",
    );
  });

  it("isolates the pod and cordons its node for a finding in a pod, leaving the other pods of the node running", () => {
    // prepare
    const text = fixtureText(POD);

    // act
    const result = run(text);

    // assess
    const a = must(mine(result)[0]);
    expect(a.resources).toEqual({
      instanceId: "i-0f1e2d3c4b5a69788",
      pod: { namespace: "shop", name: "web-6d9f7c8b5-x2kqz" },
    });
    expect(a.actions).toEqual([
      { action: "k8s:isolate-pod", params: { cluster: "prod-eks", namespace: "shop", pod: "web-6d9f7c8b5-x2kqz" } },
      { action: "k8s:cordon-node", params: { cluster: "prod-eks", instanceId: "i-0f1e2d3c4b5a69788" } },
    ]);
    expect(result.plan.every((p) => p.service === "kubernetes")).toBe(true);
    const writes = result.plan.filter((p) => !p.operation.startsWith("GET "));
    expect(writes.map((p) => `${p.action} ${p.operation}`)).toEqual([
      "k8s:isolate-pod PATCH /api/v1/namespaces/shop/pods/web-6d9f7c8b5-x2kqz",
      "k8s:isolate-pod POST /apis/networking.k8s.io/v1/namespaces/shop/networkpolicies",
      "k8s:cordon-node PATCH /api/v1/nodes/<node of i-0f1e2d3c4b5a69788>",
    ]);
    expect(must(result.decisions[0]).mode).toBe("approve");
  });

  it("falls back to the node for a pod on the node's network, which a NetworkPolicy cannot isolate", () => {
    // prepare
    const envelope = loadFixture(POD);
    objectAt(envelope, "detail", "resource", "kubernetesDetails", "kubernetesWorkloadDetails").hostNetwork = true;

    // act
    const a = must(mine(run(envelope))[0]);

    // assess
    expect(a.actions.map((x) => x.action)).toEqual(["k8s:cordon-node", "ec2:isolate-instance"]);
    expect(a.notes).toEqual([
      "pod shop/web-6d9f7c8b5-x2kqz uses the node's network: a NetworkPolicy does not apply to it, so it is not isolated by one",
    ]);
  });

  it("adds scaling the pod's workload to zero only when the policy asks for it, and then only with approval", () => {
    // prepare
    const policy = parsePolicy({
      detectors: { "guardduty-runtime-threat": { mode: "auto", settings: { scaleWorkload: true } } },
    });

    // act
    const result = run(fixtureText(POD), policy);

    // assess
    expect(must(mine(result)[0]).actions.map((x) => x.action)).toEqual([
      "k8s:isolate-pod",
      "k8s:cordon-node",
      "k8s:scale-workload",
    ]);
    const decision = must(result.decisions[0]);
    expect(decision.mode).toBe("approve");
    expect(decision.reasons).toContain("approval required: k8s:scale-workload never runs without a human's approval");
  });

  it("produces no assessment for the standalone (non-EKS) container", () => {
    // prepare
    const text = fixtureText(STANDALONE);

    // act
    const result = run(text);

    // assess
    expect(classifyFinding(finding(text)).family).toBeUndefined();
    expect(result.assessments).toEqual([]);
    expect(result.skipped).toBe("no-finding");
    expect(result.plan).toEqual([]);
  });

  it("isolates the pod alone, saying the node is not cordoned, when a pod finding names no instance", () => {
    // prepare
    const envelope = loadFixture(POD);
    delete objectAt(envelope, "detail", "resource").instanceDetails;

    // act
    const result = run(envelope);

    // assess
    const a = must(mine(result)[0]);
    expect(a.actions.map((x) => x.action)).toEqual(["k8s:isolate-pod"]);
    expect(a.notes).toEqual(["the finding names no node to cordon"]);
    expect(result.plan.every((p) => p.action === "k8s:isolate-pod")).toBe(true);
  });

  it("does not act on a pod in an exempt namespace", () => {
    // prepare
    const policy = parsePolicy({ exemptions: { namespaces: ["shop"] } });

    // act
    const result = run(fixtureText(POD), policy);

    // assess
    expect(result.skipped).toBe("exempt");
    expect(must(result.decisions[0]).reasons).toEqual(["namespace shop is exempt"]);
    expect(result.plan).toEqual([]);
  });

  it("puts the cluster and node tags in the subject used by exemptions (detect called directly)", () => {
    // prepare
    const signal = finding(fixtureText(POD));

    // act
    const found = guardDutyRuntimeThreat.detect(
      signal,
      { scaleWorkload: false },
      { allowedCidrs: [], endpointAllowedPublicCidrs: [] },
    );

    // assess
    const subject = must(found[0]).subject;
    expect(subject.namespace).toBe("shop");
    // The cluster's tags and the node's, kept apart so an exempt tag on either counts.
    expect(subject.tags).toEqual([
      expect.objectContaining({ env: "prod" }),
      expect.objectContaining({ "eks:cluster-name": "prod-eks", "eks:nodegroup-name": "general" }),
    ]);
  });
});

describe("guardduty-runtime-threat: actor, target and severity", () => {
  it.each([
    ["Execution:Runtime/NewBinaryExecuted", 5, "medium"],
    ["DefenseEvasion:Runtime/ProcessInjection.Ptrace", 5, "medium"],
    ["Discovery:Runtime/SuspiciousCommand", 2, "low"],
  ])("only alerts on %s at severity %i: it does not show the node is compromised", (type, severity, band) => {
    // prepare
    const envelope = loadFixture(POD);
    Object.assign(objectAt(envelope, "detail"), { type, severity });

    // act
    const result = run(envelope);

    // assess
    const a = must(mine(result)[0]);
    expect(a.actions).toEqual([]);
    expect(a.notes).toEqual([
      `a ${band}-severity ${type} finding does not show the node is compromised: inspect the process and the pod before taking the node out of service`,
    ]);
    expect(result.outcome).toBe("alert");
    expect(result.plan).toEqual([]);
  });

  it.each([
    ["PrivilegeEscalation:Runtime/RuncContainerEscape", 8],
    ["Impact:Runtime/CryptoMinerExecuted", 5],
  ])(
    "cordons and isolates the node for %s at severity %i (High, or a purpose that shows compromise)",
    (type, severity) => {
      // prepare
      const envelope = loadFixture(NODE);
      Object.assign(objectAt(envelope, "detail"), { type, severity });

      // act
      const result = run(envelope);

      // assess
      expect(must(mine(result)[0]).actions).toEqual([
        { action: "k8s:cordon-node", params: { cluster: "prod-eks", instanceId: "i-0f1e2d3c4b5a69788" } },
        { action: "ec2:isolate-instance", params: isolateParams },
      ]);
      expect(result.outcome).toBe("dry-run");
    },
  );

  it("names the process as the actor and the context's process and file as the target in the evidence", () => {
    // prepare
    const envelope = loadFixture(NODE);
    const runtime = objectAt(envelope, "detail", "service", "runtimeDetails");
    runtime.context = {
      targetProcess: { name: "sshd", executablePath: "/usr/sbin/sshd", pid: 812 },
      threatFilePath: "/tmp/.x/implant",
    };

    // act
    const a = must(mine(run(envelope))[0]);

    // assess
    expect(a.evidence).toContain("actor: process /usr/bin/curl pid 1873");
    expect(a.evidence).toContain("target: process /usr/sbin/sshd pid 812");
    expect(a.evidence).toContain("target: /tmp/.x/implant");
    expect(a.resources).toEqual({ instanceId: "i-0f1e2d3c4b5a69788" });
  });
});
