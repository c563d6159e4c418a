import { describe, expect, it } from "vitest";
import { guardDutyCompromisedUser } from "../../../packages/core/src/detectors/guardduty-compromised-user.detector.ts";
import { classifyFinding } from "../../../packages/core/src/detectors/guardduty-families.ts";
import {
  defaultPolicy,
  type EventResult,
  type GuardDutySignal,
  parseEvent,
  processEvent,
} from "../../../packages/core/src/index.ts";
import { fixtureText, listFixtures, must } from "../../helpers/fixtures.ts";

const ID = "guardduty-compromised-user";
const CA = "guardduty/credentialaccess-kubernetes-maliciousipcaller";
const FIRST = `${CA}/compromised-iam-user-secrets-list.json`;
const UPDATED = `${CA}/compromised-iam-user-secrets-list-updated-count5.json`;
const SAMPLE = "guardduty/persistence-kubernetes-successfulanonymousaccess/sample-generated.json";
const ALICE = "arn:aws:sts::111122223333:assumed-role/DevOpsEngineer/alice";
const NOTE = `revoke the credentials of ${ALICE} and review its RBAC bindings`;

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

describe("guardduty-compromised-user", () => {
  it("routes exactly the Kubernetes API caller findings to the compromised-user family", () => {
    // prepare
    const findings = listFixtures("guardduty");

    // act
    const routed = findings.filter((f) => classifyFinding(finding(fixtureText(f))).family === "compromised-user");

    // assess
    expect(routed).toEqual([UPDATED, FIRST, SAMPLE]);
  });

  it("assesses exactly those findings (the sample too, to be skipped by the decision)", () => {
    // prepare
    const all = [...listFixtures("cloudtrail"), ...listFixtures("guardduty")];

    // act
    const assessed = all.filter((f) => mine(run(fixtureText(f))).length > 0);

    // assess
    expect(assessed).toEqual([UPDATED, FIRST, SAMPLE]);
  });

  it.each([FIRST, UPDATED])(
    "removes the access entry of the IAM principal the user maps to, after approval, on %s",
    (relPath) => {
      // prepare
      const text = fixtureText(relPath);

      // act
      const result = run(text);

      // assess
      const a = must(mine(result)[0]);
      expect(a.severity).toBe("high");
      expect(a.title).toBe(
        "CredentialAccess:Kubernetes/MaliciousIPCaller: An API commonly used to access credentials or secrets in a Kubernetes cluster was invoked from a known malicious IP address.",
      );
      expect(a.cluster).toBe("prod-eks");
      expect(a.resources).toEqual({});
      expect(a.notes).toEqual([NOTE]);
      expect(a.evidence).toContain(`Kubernetes user ${ALICE} (groups platform-admins, system:authenticated)`);
      expect(a.evidence).toContain("remote 198.51.100.77 (Seychelles)");
      // The session's role, rebuilt from the assumed-role ARN: the access entry names the role, not the session.
      expect(a.actions).toEqual([
        {
          action: "eks:revoke-access",
          params: {
            clusterName: "prod-eks",
            principalArn: "arn:aws:iam::111122223333:role/DevOpsEngineer",
            deleteAccessEntry: true,
          },
        },
      ]);
      const decision = must(result.decisions[0]);
      expect(decision.mode).toBe("approve");
      expect(decision.reasons[0]).toBe(
        "mode approve: default for guardduty-compromised-user (an access entry often serves a whole team or pipeline, not only the compromised session; a human confirms first)",
      );
      expect(result.outcome).toBe("dry-run");
    },
  );

  it("says how often an updated finding was seen", () => {
    // prepare
    const first = fixtureText(FIRST);
    const updated = fixtureText(UPDATED);

    // act
    const a = must(mine(run(first))[0]);
    const b = must(mine(run(updated))[0]);

    // assess
    expect(a.evidence[1]).toBe(
      "GuardDuty CredentialAccess:Kubernetes/MaliciousIPCaller (severity 8), finding e78bd166065c4e9888d12675bea38e7f, updated 2025-05-08T03:18:02.511Z, seen 1 times",
    );
    expect(b.evidence[1]).toBe(
      "GuardDuty CredentialAccess:Kubernetes/MaliciousIPCaller (severity 8), finding e78bd166065c4e9888d12675bea38e7f, updated 2025-05-08T04:52:36.904Z, seen 5 times",
    );
  });

  it("skips the generated sample finding with skipped code sample-finding", () => {
    // prepare
    const text = fixtureText(SAMPLE);

    // act
    const result = run(text);

    // assess
    expect(result.outcome).toBe("skipped");
    expect(result.skipped).toBe("sample-finding");
    const decision = must(result.decisions[0]);
    expect(decision.skipped).toBe("sample-finding");
    expect(decision.mode).toBe("off");
    expect(decision.reasons).toEqual([
      "GuardDuty sample finding (service.additionalInfo.sample = true): generated for testing, never acted on",
    ]);
    expect(result.plan).toEqual([]);
  });

  it("names the anonymous user in the note of the sample (detect called directly)", () => {
    // prepare
    const signal = finding(fixtureText(SAMPLE));

    // act
    const found = guardDutyCompromisedUser.detect(signal, {}, { allowedCidrs: [], endpointAllowedPublicCidrs: [] });

    // assess
    expect(must(found[0]).actions).toEqual([]);
    expect(must(found[0]).notes).toEqual([
      "system:anonymous maps to no IAM principal: revoke its credentials and review its RBAC bindings by hand",
      "revoke the credentials of system:anonymous and review its RBAC bindings",
    ]);
    expect(must(found[0]).cluster).toBe("GeneratedFindingEKSClusterName");
  });
});
