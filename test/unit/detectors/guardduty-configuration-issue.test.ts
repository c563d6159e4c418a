import { describe, expect, it } from "vitest";
import { guardDutyConfigurationIssue } from "../../../packages/core/src/detectors/guardduty-configuration-issue.detector.ts";
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

const ID = "guardduty-configuration-issue";
const ANON = "guardduty/policy-kubernetes-anonymousaccessgranted/clusterrolebinding-anon-view.json";
const S3 = "guardduty/policy-s3-bucketblockpublicaccessdisabled/bucket-bpa-disabled.json";
const NOTE =
  "fix the exposure inside the cluster (a Service or dashboard): the finding names the Kubernetes API call that made it";

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

describe("guardduty-configuration-issue", () => {
  it("routes exactly the Policy:Kubernetes finding to the configuration-issue family", () => {
    // prepare
    const findings = listFixtures("guardduty");

    // act
    const routed = findings.filter((f) => classifyFinding(finding(fixtureText(f))).family === "configuration-issue");

    // assess
    expect(routed).toEqual([ANON]);
  });

  it("assesses exactly the anonymous-access binding", () => {
    // prepare
    const all = [...listFixtures("cloudtrail"), ...listFixtures("guardduty")];

    // act
    const assessed = all.filter((f) => mine(run(fixtureText(f))).length > 0);

    // assess
    expect(assessed).toEqual([ANON]);
  });

  it("deletes the binding the finding names, after approval, with the binding read whole and deleted on its uid", () => {
    // prepare
    const text = fixtureText(ANON);

    // act
    const result = run(text);

    // assess
    const a = must(mine(result)[0]);
    expect(a.severity).toBe("high");
    expect(a.title).toBe(
      "Policy:Kubernetes/AnonymousAccessGranted: The system:anonymous user was granted API permission on a Kubernetes cluster.",
    );
    expect(a.cluster).toBe("prod-eks");
    expect(a.resources).toEqual({});
    expect(a.evidence[0]).toBe("a risky cluster configuration");
    // The binding, from the API call GuardDuty saw (resource clusterrolebindings, resourceName anon-view).
    expect(a.actions).toEqual([
      { action: "k8s:revoke-binding", params: { cluster: "prod-eks", kind: "ClusterRoleBinding", name: "anon-view" } },
    ]);
    expect(a.notes).toEqual([]);
    const decision = must(result.decisions[0]);
    expect(decision.mode).toBe("approve");
    expect(decision.reasons[0]).toBe(
      "mode approve: default for guardduty-configuration-issue (removing a binding removes whatever access it grants; a human confirms the exact binding first (and the action never removes another subject's access without approval))",
    );
    expect(result.plan.map((p) => p.operation)).toContain(
      "DELETE /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/anon-view",
    );
    expect(result.plan.every((p) => p.service === "kubernetes")).toBe(true);
  });

  it("only alerts on an exposed dashboard: a Service is not a binding", () => {
    // prepare
    const envelope = loadFixture(ANON);
    objectAt(envelope, "detail").type = "Policy:Kubernetes/ExposedDashboard";

    // act
    const result = run(envelope);

    // assess
    const a = must(mine(result)[0]);
    expect(a.actions).toEqual([]);
    expect(a.notes).toEqual([NOTE]);
    expect(result.outcome).toBe("alert");
  });

  it("does not treat the Policy:S3 finding as a cluster configuration issue", () => {
    // prepare
    const text = fixtureText(S3);

    // act
    const result = run(text);

    // assess
    expect(classifyFinding(finding(text)).family).toBeUndefined();
    expect(result.assessments).toEqual([]);
    expect(result.skipped).toBe("no-finding");
  });

  it("skips a cluster that carries an exemption tag of the policy (cluster tags)", () => {
    // prepare
    const policy = parsePolicy({ exemptions: { tags: [{ key: "env", value: "prod" }] } });

    // act
    const result = run(fixtureText(ANON), policy);

    // assess
    expect(result.skipped).toBe("exempt");
    expect(must(result.decisions[0]).reasons).toEqual(["the resource carries the exemption tag env=prod"]);
  });

  it("skips a finding outside the policy's account scope", () => {
    // prepare
    const policy = parsePolicy({ scope: { accounts: ["444455556666"] } });

    // act
    const result = run(fixtureText(ANON), policy);

    // assess
    expect(result.skipped).toBe("out-of-scope");
    expect(must(result.decisions[0]).reasons).toEqual(["account 111122223333 is outside the policy's scope"]);
  });

  it("returns nothing for a CloudTrail signal (detect called directly)", () => {
    // prepare
    const parsed = parseEvent(JSON.parse(fixtureText("cloudtrail/delete-cluster/delete.json")));
    if (parsed.status !== "signal") throw new Error("expected a signal");

    // act
    const found = guardDutyConfigurationIssue.detect(
      parsed.signal,
      {},
      {
        allowedCidrs: [],
        endpointAllowedPublicCidrs: [],
      },
    );

    // assess
    expect(found).toEqual([]);
  });
});
