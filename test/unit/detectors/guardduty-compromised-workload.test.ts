import { describe, expect, it } from "vitest";
import { guardDutyCompromisedWorkload } from "../../../packages/core/src/detectors/guardduty-compromised-workload.detector.ts";
import { classifyFinding } from "../../../packages/core/src/detectors/guardduty-families.ts";
import {
  defaultPolicy,
  type EventResult,
  type GuardDutySignal,
  parseEvent,
  parsePolicy,
  processEvent,
} from "../../../packages/core/src/index.ts";
import { fixtureText, listFixtures, loadFixture, must, objectAt } from "../../helpers/fixtures.ts";

const ID = "guardduty-compromised-workload";
const EXEC = "guardduty/execution-kubernetes-execinkubesystempod/exec-aws-node-by-ci-serviceaccount.json";
const PRIVILEGED = "guardduty/privilegeescalation-kubernetes-privilegedcontainer/blueprint-transformed.json";

function finding(text: string): GuardDutySignal {
  const parsed = parseEvent(JSON.parse(text));
  if (parsed.status !== "signal" || parsed.signal.family !== "guardduty") throw new Error("expected a finding");
  return parsed.signal;
}

function run(text: unknown, policy = defaultPolicy()): EventResult {
  return processEvent(text, policy);
}

function mine(result: EventResult) {
  return result.assessments.filter((a) => a.detectorId === ID);
}

describe("guardduty-compromised-workload", () => {
  it("routes exactly the workload findings to the compromised-workload family", () => {
    // prepare
    const findings = listFixtures("guardduty");

    // act
    const routed = findings.filter((f) => classifyFinding(finding(fixtureText(f))).family === "compromised-workload");

    // assess
    expect(routed).toEqual([EXEC, PRIVILEGED]);
  });

  it("assesses exactly the exec into kube-system and the privileged container", () => {
    // prepare
    const all = [...listFixtures("cloudtrail"), ...listFixtures("guardduty")];

    // act
    const assessed = all.filter((f) => mine(run(fixtureText(f))).length > 0);

    // assess
    expect(assessed).toEqual([EXEC, PRIVILEGED]);
  });

  it("only alerts on an exec into a kube-system pod: the finding is about the caller, not the pod", () => {
    // prepare
    const text = fixtureText(EXEC);

    // act
    const result = run(text);

    // assess
    const a = must(mine(result)[0]);
    expect(a.severity).toBe("medium");
    expect(a.title).toBe(
      "Execution:Kubernetes/ExecInKubeSystemPod: A command was executed inside a pod within the kube-system namespace.",
    );
    expect(a.cluster).toBe("prod-eks");
    expect(a.resources).toEqual({ pod: { namespace: "kube-system", name: "aws-node-7xk2p" } });
    expect(a.subject.namespace).toBe("kube-system");
    expect(a.actions).toEqual([]);
    expect(a.notes).toEqual([
      "Execution:Kubernetes/ExecInKubeSystemPod is about the caller (system:serviceaccount:ci:deployer), not the pod: revoke the caller's access and review what it ran",
      "inspect kube-system/aws-node-7xk2p; if it is not expected, delete it and the binding that allowed it",
    ]);
    expect(a.evidence).toContain("workload pods kube-system/aws-node-7xk2p");
    expect(result.outcome).toBe("alert");
    expect(result.plan).toEqual([]);
  });

  it("isolates a privileged pod with a deny-all NetworkPolicy, after approval (default mode approve)", () => {
    // prepare
    const text = fixtureText(PRIVILEGED);

    // act
    const result = run(text);

    // assess
    const a = must(mine(result)[0]);
    expect(a.resources).toEqual({ pod: { namespace: "argocd", name: "privileged-pod" } });
    expect(a.actions).toEqual([
      {
        action: "k8s:isolate-pod",
        params: { cluster: "guardduty-blueprint", namespace: "argocd", pod: "privileged-pod" },
      },
    ]);
    expect(a.notes).toEqual([
      "inspect argocd/privileged-pod; if it is not expected, delete it and the binding that allowed it",
    ]);
    const decision = must(result.decisions[0]);
    expect(decision.mode).toBe("approve");
    expect(decision.reasons[0]).toBe(
      "mode approve: default for guardduty-compromised-workload (the workload may be legitimate (a CNI or a monitoring agent); a human confirms before it loses the network)",
    );
    expect(result.outcome).toBe("dry-run");
    expect(result.plan.map((p) => p.operation).filter((o) => !o.startsWith("GET "))).toEqual([
      "PATCH /api/v1/namespaces/argocd/pods/privileged-pod",
      "POST /apis/networking.k8s.io/v1/namespaces/argocd/networkpolicies",
    ]);
  });

  it.each([
    ["a pod on the node's network", { hostNetwork: true }, "uses the node's network"],
    ["a kube-system pod", { namespace: "kube-system" }, "is a kube-system pod"],
    ["a Deployment rather than a pod", { type: "deployments" }, "not a pod"],
  ])("does not isolate %s, and says why", (_what, change, why) => {
    // prepare
    const envelope = loadFixture(PRIVILEGED);
    Object.assign(objectAt(envelope, "detail", "resource", "kubernetesDetails", "kubernetesWorkloadDetails"), change);

    // act
    const a = must(mine(run(envelope))[0]);

    // assess
    expect(a.actions).toEqual([]);
    expect(a.notes[0]).toContain(why);
  });

  it("skips a workload in an exempt namespace, and still alerts on the others", () => {
    // prepare
    const policy = parsePolicy({ exemptions: { namespaces: ["kube-system"] } });

    // act
    const exempt = run(fixtureText(EXEC), policy);
    const other = run(fixtureText(PRIVILEGED), policy);

    // assess
    expect(exempt.skipped).toBe("exempt");
    expect(must(exempt.decisions[0]).reasons).toEqual(["namespace kube-system is exempt"]);
    expect(other.outcome).toBe("dry-run");
  });

  it("ignores a Kubernetes finding of another family (detect called directly)", () => {
    // prepare
    const signal = finding(
      fixtureText("guardduty/policy-kubernetes-anonymousaccessgranted/clusterrolebinding-anon-view.json"),
    );

    // act
    const found = guardDutyCompromisedWorkload.detect(
      signal,
      { scaleWorkload: false },
      { allowedCidrs: [], endpointAllowedPublicCidrs: [] },
    );

    // assess
    expect(found).toEqual([]);
  });
});

describe("guardduty-compromised-workload: Malware Protection findings on a container workload", () => {
  // https://docs.aws.amazon.com/guardduty/latest/ug/findings-malware-protection.html
  it.each([
    "Execution:Kubernetes/MaliciousFile",
    "Execution:Kubernetes/SuspiciousFile",
    "Execution:Kubernetes/MaliciousFile!Snapshot",
  ])("routes %s to the workload family, not to the compromised user", (type) => {
    // prepare
    const envelope = loadFixture(
      "guardduty/privilegeescalation-kubernetes-privilegedcontainer/blueprint-transformed.json",
    );
    objectAt(envelope, "detail").type = type;

    // act
    const result = processEvent(envelope, defaultPolicy());

    // assess
    expect(result.assessments.map((a) => a.detectorId)).toEqual(["guardduty-compromised-workload"]);
    expect(must(result.assessments[0]).resources.pod).toEqual({ namespace: "argocd", name: "privileged-pod" });
    expect(must(result.assessments[0]).actions.map((a) => a.action)).toEqual(["k8s:isolate-pod"]);
    expect(must(result.decisions[0]).mode).toBe("approve");
  });
});
