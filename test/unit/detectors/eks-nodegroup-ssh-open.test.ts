import { describe, expect, it } from "vitest";
import { eksNodegroupSshOpen } from "../../../packages/core/src/detectors/eks-nodegroup-ssh-open.detector.ts";
import { defaultPolicy, type EventResult, parsePolicy, processEvent } from "../../../packages/core/src/index.ts";
import { fixtureText, listFixtures, must } from "../../helpers/fixtures.ts";

const ID = "eks-nodegroup-ssh-open";
const CNG = "cloudtrail/create-nodegroup";
const OPEN = `${CNG}/ssh-key-no-source-sg.json`;
const NOTE =
  "EKS creates the remote-access security group after the call: find it with `aws eks describe-nodegroup --cluster-name prod-eks --nodegroup-name ops-debug` (resources.remoteAccessSecurityGroup) and revoke tcp/22 from 0.0.0.0/0, or recreate the node group with sourceSecurityGroups";

function run(relPath: string, policy = defaultPolicy()): EventResult {
  return processEvent(fixtureText(relPath), policy);
}

function mine(result: EventResult) {
  return result.assessments.filter((a) => a.detectorId === ID);
}

describe("eks-nodegroup-ssh-open", () => {
  it("assesses only the node group with an SSH key and no source security groups", () => {
    // prepare
    const all = [...listFixtures("cloudtrail"), ...listFixtures("guardduty")];

    // act
    const assessed = all.filter((f) => mine(run(f)).length > 0);

    // assess
    expect(assessed).toEqual([OPEN]);
  });

  it("alerts (default mode alert) with the node group and how to find the security group", () => {
    // prepare
    const relPath = OPEN;

    // act
    const result = run(relPath);

    // assess
    const a = must(mine(result)[0]);
    expect(a.severity).toBe("high");
    expect(a.title).toBe("Node group ops-debug on cluster prod-eks opens SSH (tcp/22) to 0.0.0.0/0");
    expect(a.cluster).toBe("prod-eks");
    expect(a.resources).toEqual({ nodegroup: "ops-debug" });
    expect(a.evidence[0]).toBe("CreateNodegroup ops-debug with ec2SshKey ops-key and no sourceSecurityGroups");
    expect(a.actions).toEqual([]);
    expect(a.notes).toEqual([NOTE]);
    expect(result.outcome).toBe("alert");
    expect(result.plan).toEqual([]);
    expect(must(result.decisions[0]).reasons).toEqual([
      "mode alert: default for eks-nodegroup-ssh-open (the security group to fix does not exist yet when the event arrives, so there is no exact plan)",
      NOTE,
    ]);
  });

  it.each([`${CNG}/ssh-key-with-source-sg.json`, `${CNG}/no-remote-access.json`])(
    "finds nothing in %s (source groups set, or no remote access)",
    (relPath) => {
      // prepare
      const policy = defaultPolicy();

      // act
      const result = run(relPath, policy);

      // assess
      expect(result.skipped).toBe("no-finding");
      expect(mine(result)).toEqual([]);
    },
  );

  it("still only alerts in mode approve or auto, since there is no action to plan", () => {
    // prepare
    const approve = parsePolicy({ detectors: { [ID]: { mode: "approve" } } });
    const auto = parsePolicy({ detectors: { [ID]: { mode: "auto" } } });

    // act
    const approved = run(OPEN, approve);
    const automatic = run(OPEN, auto);

    // assess
    expect(must(approved.decisions[0]).mode).toBe("alert");
    expect(must(approved.decisions[0]).reasons[1]).toBe(`alert only: ${NOTE}`);
    expect(must(automatic.decisions[0]).mode).toBe("alert");
    expect(approved.plan).toEqual([]);
    expect(automatic.plan).toEqual([]);
  });

  it("has alert as its default mode and no settings", () => {
    // prepare
    const detector = eksNodegroupSshOpen;

    // act
    const parsed = detector.settings.parse(undefined);

    // assess
    expect(detector.defaultMode).toBe("alert");
    expect(parsed).toEqual({});
  });
});
