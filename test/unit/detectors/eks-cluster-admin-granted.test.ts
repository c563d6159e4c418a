import { describe, expect, it } from "vitest";
import { eksClusterAdminGranted } from "../../../packages/core/src/detectors/eks-cluster-admin-granted.detector.ts";
import {
  defaultPolicy,
  type EventResult,
  parseEvent,
  parsePolicy,
  processEvent,
} from "../../../packages/core/src/index.ts";
import { fixtureText, listFixtures, loadFixture, must, objectAt } from "../../helpers/fixtures.ts";

const ID = "eks-cluster-admin-granted";
const AAP = "cloudtrail/associate-access-policy";
const CAE = "cloudtrail/create-access-entry";
const CLUSTER_ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy";
const CI = "arn:aws:iam::111122223333:role/external-ci-deployer";
const CONTRACTOR = "arn:aws:iam::111122223333:role/contractor-admin";

function run(input: unknown, policy = defaultPolicy()): EventResult {
  return processEvent(input, policy);
}

function calls(result: EventResult) {
  return result.plan.map((p) => ({ service: p.service, operation: p.operation, params: p.params }));
}

function mine(result: EventResult) {
  return result.assessments.filter((a) => a.detectorId === ID);
}

function settings(value: unknown) {
  return parsePolicy({ detectors: { [ID]: { settings: value } } });
}

const disassociate = (principalArn: string, policyArn: string) => [
  {
    service: "eks",
    operation: "DisassociateAccessPolicy",
    params: { clusterName: "prod-eks", principalArn, policyArn },
  },
];

/** system-masters-rejected without its error: as if EKS had accepted the call. */
function systemMastersAccepted(): unknown {
  const envelope = loadFixture(`${CAE}/system-masters-rejected.json`);
  const detail = objectAt(envelope, "detail");
  detail.errorCode = null;
  detail.errorMessage = null;
  return envelope;
}

const FLAGGED = {
  [`${AAP}/admin-namespace-kube-system.json`]: {
    severity: "high",
    title: `AmazonEKSAdminPolicy granted on cluster prod-eks to ${CI}`,
    principalArn: CI,
    evidence: `AssociateAccessPolicy ${ADMIN} on namespaces kube-system`,
    calls: disassociate(CI, ADMIN),
  },
  [`${AAP}/cluster-admin-encoded-arn.json`]: {
    severity: "critical",
    title: `AmazonEKSClusterAdminPolicy granted on cluster prod-eks to ${CI}`,
    principalArn: CI,
    evidence: `AssociateAccessPolicy ${CLUSTER_ADMIN} on the whole cluster`,
    calls: disassociate(CI, CLUSTER_ADMIN),
  },
  [`${AAP}/cluster-admin-plain-arn.json`]: {
    severity: "critical",
    title: `AmazonEKSClusterAdminPolicy granted on cluster prod-eks to ${CONTRACTOR}`,
    principalArn: CONTRACTOR,
    evidence: `AssociateAccessPolicy ${CLUSTER_ADMIN} on the whole cluster`,
    calls: disassociate(CONTRACTOR, CLUSTER_ADMIN),
  },
};

describe("eks-cluster-admin-granted", () => {
  it("assesses exactly the admin policy associations, under the default policy", () => {
    // prepare
    const all = [...listFixtures("cloudtrail"), ...listFixtures("guardduty")];

    // act
    const assessed = all.filter((f) => mine(run(fixtureText(f))).length > 0);

    // assess
    expect(assessed).toEqual(Object.keys(FLAGGED).sort());
  });

  it.each(Object.entries(FLAGGED))("flags %s and plans to disassociate exactly that policy", (relPath, expected) => {
    // prepare
    const text = fixtureText(relPath);

    // act
    const result = run(text);

    // assess
    const a = must(mine(result)[0]);
    expect(a.severity).toBe(expected.severity);
    expect(a.title).toBe(expected.title);
    expect(a.resources).toEqual({ principalArn: expected.principalArn });
    expect(a.cluster).toBe("prod-eks");
    expect(a.evidence[0]).toBe(expected.evidence);
    expect(calls(result)).toEqual(expected.calls);
    const decision = must(result.decisions[0]);
    expect(decision.mode).toBe("approve");
    expect(decision.reasons).toEqual([
      "mode approve: default for eks-cluster-admin-granted (revoking access can break a deployment pipeline that was meant to have it)",
      "would ask for approval, then apply 1 call (dry-run: nothing is changed)",
    ]);
  });

  it.each([`${AAP}/view-policy.json`, `${CAE}/custom-group.json`, `${CAE}/no-groups.json`])(
    "finds nothing in %s (a non-admin policy or groups)",
    (relPath) => {
      // prepare
      const text = fixtureText(relPath);

      // act
      const result = run(text);

      // assess
      expect(result.skipped).toBe("no-finding");
      expect(mine(result)).toEqual([]);
    },
  );

  it("skips the rejected system:masters access entry as a failed call", () => {
    // prepare
    const text = fixtureText(`${CAE}/system-masters-rejected.json`);

    // act
    const result = run(text);

    // assess
    expect(result.skipped).toBe("failed-call");
    expect(result.reason).toBe("the CreateAccessEntry call failed (InvalidParameterException): nothing changed");
    expect(result.plan).toEqual([]);
  });

  it("takes a principal out of system:masters when such an access entry is accepted", () => {
    // prepare
    const envelope = systemMastersAccepted();

    // act
    const result = run(envelope);

    // assess
    const a = must(mine(result)[0]);
    expect(a.severity).toBe("critical");
    expect(a.title).toBe(`Access entry on cluster prod-eks puts ${CI} in system:masters`);
    expect(calls(result)).toEqual([
      {
        service: "eks",
        operation: "UpdateAccessEntry",
        params: { clusterName: "prod-eks", principalArn: CI, kubernetesGroups: [] },
      },
    ]);
  });

  it("keeps the other groups of a system:masters entry (detect called directly)", () => {
    // prepare
    const envelope = systemMastersAccepted();
    objectAt(envelope, "detail", "requestParameters").kubernetesGroups = ["system:masters", "deployers"];
    const parsed = parseEvent(envelope);
    if (parsed.status !== "signal") throw new Error("expected a signal");

    // act
    const found = eksClusterAdminGranted.detect(parsed.signal, eksClusterAdminGranted.settings.parse(undefined), {
      allowedCidrs: [],
      endpointAllowedPublicCidrs: [],
    });

    // assess
    expect(must(found[0]).actions).toEqual([
      {
        action: "eks:revoke-access",
        params: { clusterName: "prod-eks", principalArn: CI, remainingGroups: ["deployers"], deleteAccessEntry: false },
      },
    ]);
  });

  it("does not flag a principal in allowedPrincipals (wildcard), and still flags the others", () => {
    // prepare
    const policy = settings({ allowedPrincipals: ["arn:aws:iam::*:role/external-ci-*"] });

    // act
    const allowed = run(fixtureText(`${AAP}/cluster-admin-encoded-arn.json`), policy);
    const allowedEntry = run(systemMastersAccepted(), policy);
    const other = run(fixtureText(`${AAP}/cluster-admin-plain-arn.json`), policy);

    // assess
    expect(mine(allowed)).toEqual([]);
    expect(mine(allowedEntry)).toEqual([]);
    expect(calls(other)).toEqual(disassociate(CONTRACTOR, CLUSTER_ADMIN));
  });

  it("deletes the whole access entry when deleteAccessEntry is set", () => {
    // prepare
    const policy = settings({ deleteAccessEntry: true });

    // act
    const association = run(fixtureText(`${AAP}/cluster-admin-encoded-arn.json`), policy);
    const entry = run(systemMastersAccepted(), policy);

    // assess
    const deleteEntry = [
      { service: "eks", operation: "DeleteAccessEntry", params: { clusterName: "prod-eks", principalArn: CI } },
    ];
    expect(calls(association)).toEqual(deleteEntry);
    expect(calls(entry)).toEqual(deleteEntry);
  });

  it("flags the view policy once adminPolicies lists it", () => {
    // prepare
    const policy = settings({ adminPolicies: ["arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"] });

    // act
    const view = run(fixtureText(`${AAP}/view-policy.json`), policy);
    const clusterAdmin = run(fixtureText(`${AAP}/cluster-admin-encoded-arn.json`), policy);

    // assess
    expect(must(mine(view)[0]).title).toBe(
      "AmazonEKSViewPolicy granted on cluster prod-eks to arn:aws:iam::111122223333:role/observability-agent",
    );
    expect(mine(clusterAdmin)).toEqual([]);
  });

  it("waits for approval when dry-run is off everywhere", () => {
    // prepare
    const policy = parsePolicy({ dryRun: false });

    // act
    const result = processEvent(fixtureText(`${AAP}/cluster-admin-encoded-arn.json`), policy, { forceDryRun: false });

    // assess
    expect(result.outcome).toBe("pending-approval");
    expect(must(result.decisions[0]).reasons[1]).toBe("will ask for approval, then apply 1 call");
  });

  it("does not act outside the policy's cluster scope", () => {
    // prepare
    const policy = parsePolicy({ scope: { clusters: ["other-eks"] } });

    // act
    const result = run(fixtureText(`${AAP}/cluster-admin-encoded-arn.json`), policy);

    // assess
    expect(result.skipped).toBe("out-of-scope");
    expect(must(result.decisions[0]).reasons).toEqual(["cluster prod-eks is outside the policy's scope"]);
    expect(result.plan).toEqual([]);
  });
});

describe("eks-cluster-admin-granted with namespaceAdmins", () => {
  const declared = (namespaces: string[]) => settings({ namespaceAdmins: [{ principal: CI, namespaces }] });
  const narrowTo = (principalArn: string, policyArn: string, namespaces: string[]) => [
    {
      service: "eks",
      operation: "AssociateAccessPolicy",
      params: { clusterName: "prod-eks", principalArn, policyArn, accessScope: { type: "namespace", namespaces } },
    },
  ];

  it("narrows a cluster-wide grant to a declared namespace admin back to its namespaces, not removing it", () => {
    // act
    const result = run(fixtureText(`${AAP}/cluster-admin-encoded-arn.json`), declared(["team-b", "team-a"]));

    // assess
    const assessment = must(mine(result)[0], "assessment");
    expect(assessment.title).toBe(
      `AmazonEKSClusterAdminPolicy widened on cluster prod-eks for ${CI} beyond namespaces team-a, team-b`,
    );
    expect(assessment.evidence).toContain("the policy lets this principal hold it in namespaces team-a, team-b only");
    expect(calls(result)).toEqual(narrowTo(CI, CLUSTER_ADMIN, ["team-a", "team-b"]));
  });

  it("narrows a namespace grant beyond the declared namespaces, and lets one within them be", () => {
    // act
    const beyond = run(fixtureText(`${AAP}/admin-namespace-kube-system.json`), declared(["team-a"]));
    const within = run(fixtureText(`${AAP}/admin-namespace-kube-system.json`), declared(["kube-system", "team-a"]));

    // assess
    expect(calls(beyond)).toEqual(narrowTo(CI, ADMIN, ["team-a"]));
    expect(mine(within)).toEqual([]);
  });

  it("removes the grant, as before, for a principal the policy declares nothing for", () => {
    // act
    const result = run(fixtureText(`${AAP}/cluster-admin-plain-arn.json`), declared(["team-a"]));

    // assess
    expect(calls(result)).toEqual(disassociate(CONTRACTOR, CLUSTER_ADMIN));
  });
});
