import { describe, expect, it } from "vitest";
import { guardDutyAttackSequence } from "../../../packages/core/src/detectors/guardduty-attack-sequence.detector.ts";
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

const ID = "guardduty-attack-sequence";
const SEQUENCE = "guardduty/attacksequence-eks-compromisedcluster/exec-c2-cryptomining-sequence.json";
const NOTE = "treat the cluster as compromised: follow the incident runbook";

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

describe("guardduty-attack-sequence", () => {
  it("routes exactly the EKS attack sequence to the attack-sequence family", () => {
    // prepare
    const findings = listFixtures("guardduty");

    // act
    const routed = findings.filter((f) => classifyFinding(finding(fixtureText(f))).family === "attack-sequence");

    // assess
    expect(routed).toEqual([SEQUENCE]);
  });

  it("assesses exactly the attack sequence fixture", () => {
    // prepare
    const all = [...listFixtures("cloudtrail"), ...listFixtures("guardduty")];

    // act
    const assessed = all.filter((f) => mine(run(fixtureText(f))).length > 0);

    // assess
    expect(assessed).toEqual([SEQUENCE]);
  });

  it("alerts at once (default mode alert) with a critical assessment of the cluster", () => {
    // prepare
    const text = fixtureText(SEQUENCE);

    // act
    const result = run(text);

    // assess
    const a = must(mine(result)[0]);
    expect(a.severity).toBe("critical");
    expect(a.title).toBe(
      "AttackSequence:EKS/CompromisedCluster: Potential compromise of the Amazon EKS cluster prod-eks indicated by a sequence of actions.",
    );
    expect(a.cluster).toBe("prod-eks");
    expect(a.resources).toEqual({});
    expect(a.evidence[0]).toBe("an attack sequence on an EKS cluster");
    expect(a.notes).toEqual([NOTE]);
    expect(result.assessments).toHaveLength(1);
    expect(result.outcome).toBe("alert");
    expect(must(result.decisions[0]).reasons).toEqual([
      "mode alert: default for guardduty-attack-sequence (an attack sequence spans many resources; responders decide the containment)",
      NOTE,
    ]);
    expect(result.plan).toEqual([]);
  });

  it("does not take an attack sequence on another resource type", () => {
    // prepare
    const envelope = loadFixture(SEQUENCE);
    objectAt(envelope, "detail").type = "AttackSequence:IAM/CompromisedCredentials";

    // act
    const classified = classifyFinding(finding(envelope));
    const result = run(envelope);

    // assess
    expect(classified).toEqual({ reason: "attack sequence on IAM, not EKS" });
    expect(result.assessments).toEqual([]);
    expect(result.reason).toBe("not handled: attack sequence on IAM, not EKS");
  });

  it("routes the alert to a route whose minimum severity is critical", () => {
    // prepare
    const policy = parsePolicy({ notify: { routes: [{ name: "pager", minSeverity: "critical" }] } });

    // act
    const result = run(fixtureText(SEQUENCE), policy);

    // assess
    expect(must(result.decisions[0]).notify).toEqual(["pager"]);
  });

  it("ignores other GuardDuty findings (detect called directly)", () => {
    // prepare
    const signal = finding(fixtureText("guardduty/cryptocurrency-runtime-bitcointool-b/eks-pod.json"));

    // act
    const found = guardDutyAttackSequence.detect(signal, {}, { allowedCidrs: [], endpointAllowedPublicCidrs: [] });

    // assess
    expect(found).toEqual([]);
  });
});
