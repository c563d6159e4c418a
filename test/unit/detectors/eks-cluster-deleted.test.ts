import { describe, expect, it } from "vitest";
import { eksClusterDeleted } from "../../../packages/core/src/detectors/eks-cluster-deleted.detector.ts";
import { defaultPolicy, type EventResult, parsePolicy, processEvent } from "../../../packages/core/src/index.ts";
import { fixtureText, listFixtures, must } from "../../helpers/fixtures.ts";

const ID = "eks-cluster-deleted";
const DELETE = "cloudtrail/delete-cluster/delete.json";

function run(relPath: string, policy = defaultPolicy()): EventResult {
  return processEvent(fixtureText(relPath), policy);
}

function mine(result: EventResult) {
  return result.assessments.filter((a) => a.detectorId === ID);
}

describe("eks-cluster-deleted", () => {
  it("assesses only the DeleteCluster event", () => {
    // prepare
    const all = [...listFixtures("cloudtrail"), ...listFixtures("guardduty")];

    // act
    const assessed = all.filter((f) => mine(run(f)).length > 0);

    // assess
    expect(assessed).toEqual([DELETE]);
  });

  it("alerts (default mode alert) with who deleted the cluster, and plans nothing", () => {
    // prepare
    const relPath = DELETE;

    // act
    const result = run(relPath);

    // assess
    const a = must(mine(result)[0]);
    expect(a.severity).toBe("medium");
    expect(a.title).toBe("Cluster staging-eks deleted");
    expect(a.cluster).toBe("staging-eks");
    expect(a.resources).toEqual({});
    expect(a.evidence[0]).toBe("DeleteCluster staging-eks");
    expect(a.evidence.some((line) => line.startsWith("by "))).toBe(true);
    expect(a.evidence).toContain("CloudTrail event 73200b4e-4f88-48dd-b93c-93d857e04a66 at 2025-05-07T14:00:51Z");
    expect(a.actions).toEqual([]);
    expect(result.outcome).toBe("alert");
    expect(result.plan).toEqual([]);
    expect(must(result.decisions[0]).reasons).toEqual([
      "mode alert: default for eks-cluster-deleted (a deletion cannot be reversed by any action)",
      "a deleted cluster cannot be restored; check that the deletion was planned",
    ]);
  });

  it("is skipped in mode off", () => {
    // prepare
    const policy = parsePolicy({ detectors: { [ID]: { mode: "off" } } });

    // act
    const result = run(DELETE, policy);

    // assess
    expect(result.outcome).toBe("skipped");
    expect(result.skipped).toBe("detector-off");
    expect(must(result.decisions[0]).reasons).toEqual(["detector eks-cluster-deleted is off in the policy"]);
  });

  it("sends the alert to the notification routes whose minimum severity it reaches", () => {
    // prepare
    const policy = parsePolicy({
      notify: {
        routes: [
          { name: "all", minSeverity: "low" },
          { name: "urgent", minSeverity: "high" },
          { name: "deletions", detectors: [ID] },
          { name: "ingress", detectors: ["ec2-open-ingress"] },
        ],
      },
    });

    // act
    const result = run(DELETE, policy);

    // assess
    expect(must(result.decisions[0]).notify).toEqual(["all", "deletions"]);
  });

  it("has alert as its default mode", () => {
    // prepare
    const detector = eksClusterDeleted;

    // act
    const mode = detector.defaultMode;

    // assess
    expect(mode).toBe("alert");
    expect(detector.triggers).toEqual(["aws.eks DeleteCluster"]);
  });
});
