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

function run(text: string, policy = defaultPolicy()): EventResult {
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

  it.each([
    [
      EXEC,
      "Execution:Kubernetes/ExecInKubeSystemPod: A command was executed inside a pod within the kube-system namespace.",
      "prod-eks",
      { namespace: "kube-system", name: "aws-node-7xk2p" },
    ],
    [
      PRIVILEGED,
      "PrivilegeEscalation:Kubernetes/PrivilegedContainer: Privileged container with root level access launched on the EKS Cluster.",
      "guardduty-blueprint",
      { namespace: "argocd", name: "privileged-pod" },
    ],
  ])("alerts (default mode alert) on %s with the pod", (relPath, title, cluster, pod) => {
    // prepare
    const text = fixtureText(relPath);

    // act
    const result = run(text);

    // assess
    const a = must(mine(result)[0]);
    expect(a.severity).toBe("medium");
    expect(a.title).toBe(title);
    expect(a.cluster).toBe(cluster);
    expect(a.resources).toEqual({ pod });
    expect(a.subject.namespace).toBe(pod.namespace);
    expect(a.notes).toEqual([
      `inspect ${pod.namespace}/${pod.name}; if it is not expected, delete it and the binding that allowed it`,
    ]);
    expect(a.evidence).toContain(`workload pods ${pod.namespace}/${pod.name}`);
    expect(result.outcome).toBe("alert");
    expect(must(result.decisions[0]).mode).toBe("alert");
    expect(must(result.decisions[0]).reasons[0]).toBe(
      "mode alert: default for guardduty-compromised-workload (the workload may be legitimate (a CNI or a monitoring agent); a human judges)",
    );
    expect(result.plan).toEqual([]);
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
    expect(other.outcome).toBe("alert");
  });

  it("ignores a Kubernetes finding of another family (detect called directly)", () => {
    // prepare
    const signal = finding(
      fixtureText("guardduty/policy-kubernetes-anonymousaccessgranted/clusterrolebinding-anon-view.json"),
    );

    // act
    const found = guardDutyCompromisedWorkload.detect(signal, { scaleWorkload: false }, { allowedCidrs: [], endpointAllowedPublicCidrs: [] });

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
    expect(result.outcome).toBe("alert");
  });
});
