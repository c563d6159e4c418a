import { describe, expect, it } from "vitest";
import { eksClusterInsecureCreate } from "../../../packages/core/src/detectors/eks-cluster-insecure-create.detector.ts";
import {
  defaultPolicy,
  type EventResult,
  parseEventText,
  parsePolicy,
  processEvent,
} from "../../../packages/core/src/index.ts";
import { fixtureText, listFixtures, loadFixture, must, objectAt } from "../../helpers/fixtures.ts";

const ID = "eks-cluster-insecure-create";
const CC = "cloudtrail/create-cluster";
const OPEN = `${CC}/public-open-unencrypted.json`;
const LEGACY = `${CC}/legacy-2018-awsdoc.json`;
const NO_PRIVATE_NOTE =
  "not restricting: private endpoint access is off and the policy sets no endpoint.allowedPublicCidrs, so turning public access off could make the cluster unreachable";

function run(input: unknown, policy = defaultPolicy()): EventResult {
  return processEvent(input, policy);
}

/** This detector's calls only: the same CreateCluster may also be flagged by eks-logging-disabled. */
function calls(result: EventResult) {
  const ids = new Set(mine(result).map((a) => a.id));
  return result.plan
    .filter((p) => ids.has(p.assessmentId))
    .map((p) => ({ service: p.service, operation: p.operation, params: p.params }));
}

function mine(result: EventResult) {
  return result.assessments.filter((a) => a.detectorId === ID);
}

function myDecisions(result: EventResult) {
  return result.decisions.filter((d) => d.detectorId === ID);
}

describe("eks-cluster-insecure-create", () => {
  it("assesses exactly the clusters created open or unencrypted, under the default policy", () => {
    // prepare
    const all = [...listFixtures("cloudtrail"), ...listFixtures("guardduty")];

    // act
    const assessed = all.filter((f) => mine(run(fixtureText(f))).length > 0);

    // assess
    expect(assessed).toEqual([LEGACY, OPEN]);
  });

  it("finds an open endpoint (high) and missing secrets encryption (medium), and only alerts on both", () => {
    // prepare
    const text = fixtureText(OPEN);

    // act
    const result = run(text);

    // assess
    const found = mine(result);
    expect(found.map((a) => [a.severity, a.title])).toEqual([
      ["high", "Cluster sandbox-eks created with its API endpoint public to 0.0.0.0/0"],
      ["medium", "Cluster sandbox-eks created without KMS encryption of Kubernetes secrets"],
    ]);
    expect(must(found[0]).notes).toEqual([NO_PRIVATE_NOTE]);
    expect(must(found[1]).notes[0]).toContain("aws eks associate-encryption-config --cluster-name sandbox-eks");
    expect(new Set(found.map((a) => a.id)).size).toBe(2);
    expect(myDecisions(result).map((d) => d.mode)).toEqual(["alert", "alert"]);
    expect(must(myDecisions(result)[0]).reasons[0]).toBe(
      "mode approve: default for eks-cluster-insecure-create (a new cluster may still be reached by the tooling that created it from outside)",
    );
    expect(calls(result)).toEqual([]);
  });

  it("says so when the open endpoint comes from EKS's defaults (legacy 2018 record)", () => {
    // prepare
    const text = fixtureText(LEGACY);

    // act
    const result = run(text);

    // assess
    const [endpoint, encryption] = mine(result);
    expect(must(endpoint).title).toBe("Cluster test created with its API endpoint public to 0.0.0.0/0");
    expect(must(endpoint).cluster).toBe("test");
    expect(must(endpoint).evidence).toContain("the request did not set endpoint access: these are EKS's defaults");
    expect(must(encryption).severity).toBe("medium");
  });

  it("finds nothing in a private, encrypted cluster", () => {
    // prepare
    const text = fixtureText(`${CC}/private-encrypted.json`);

    // act
    const result = run(text);

    // assess
    expect(result.skipped).toBe("no-finding");
    expect(mine(result)).toEqual([]);
  });

  it("does not ask for encryption when requireSecretsEncryption is false", () => {
    // prepare
    const policy = parsePolicy({ detectors: { [ID]: { settings: { requireSecretsEncryption: false } } } });

    // act
    const result = run(fixtureText(OPEN), policy);

    // assess
    expect(mine(result).map((a) => a.severity)).toEqual(["high"]);
  });

  it("narrows the endpoint to endpoint.allowedPublicCidrs (mode approve)", () => {
    // prepare
    const policy = parsePolicy({ endpoint: { allowedPublicCidrs: ["203.0.113.0/24"] } });

    // act
    const result = run(fixtureText(OPEN), policy);

    // assess
    expect(calls(result)).toEqual([
      {
        service: "eks",
        operation: "UpdateClusterConfig",
        params: {
          name: "sandbox-eks",
          resourcesVpcConfig: {
            endpointPublicAccess: true,
            endpointPrivateAccess: true,
            publicAccessCidrs: ["203.0.113.0/24"],
          },
        },
      },
    ]);
    expect(myDecisions(result).map((d) => d.mode)).toEqual(["approve", "alert"]);
  });

  it("turns public access off when the new cluster has private access on", () => {
    // prepare
    const envelope = loadFixture(OPEN);
    objectAt(envelope, "detail", "requestParameters", "resourcesVpcConfig").endpointPrivateAccess = true;

    // act
    const result = run(envelope);

    // assess
    expect(calls(result)).toEqual([
      {
        service: "eks",
        operation: "UpdateClusterConfig",
        params: {
          name: "sandbox-eks",
          resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true },
        },
      },
    ]);
  });

  it("does not flag the endpoint when it is only public to an exempt CIDR", () => {
    // prepare
    const policy = parsePolicy({ exemptions: { cidrs: ["0.0.0.0/0"] } });

    // act
    const result = run(fixtureText(OPEN), policy);

    // assess
    expect(mine(result).map((a) => a.severity)).toEqual(["medium"]);
  });

  it("ignores an UpdateClusterConfig (detect called directly)", () => {
    // prepare
    const parsed = parseEventText(fixtureText("cloudtrail/update-cluster-config/public-endpoint-open.json"));
    if (parsed.status !== "signal") throw new Error("expected a signal");

    // act
    const found = eksClusterInsecureCreate.detect(parsed.signal, eksClusterInsecureCreate.settings.parse(undefined), {
      allowedCidrs: [],
      endpointAllowedPublicCidrs: [],
    });

    // assess
    expect(found).toEqual([]);
  });
});
