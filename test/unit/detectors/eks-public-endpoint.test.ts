import { describe, expect, it } from "vitest";
import { eksPublicEndpoint } from "../../../packages/core/src/detectors/eks-public-endpoint.detector.ts";
import {
  defaultPolicy,
  type EventResult,
  parseEvent,
  parseEventText,
  parsePolicy,
  processEvent,
} from "../../../packages/core/src/index.ts";
import { fixtureText, listFixtures, loadFixture, must, objectAt } from "../../helpers/fixtures.ts";

const ID = "eks-public-endpoint";
const UCC = "cloudtrail/update-cluster-config";
const OPEN = `${UCC}/public-endpoint-open.json`;
const NO_CIDRS = `${UCC}/public-endpoint-no-cidrs.json`;
const NO_PRIVATE_NOTE =
  "not restricting: private endpoint access is off and the policy sets no endpoint.allowedPublicCidrs, so turning public access off could make the cluster unreachable";

function run(input: unknown, policy = defaultPolicy()): EventResult {
  return processEvent(input, policy);
}

function calls(result: EventResult) {
  return result.plan.map((p) => ({ service: p.service, operation: p.operation, params: p.params }));
}

function mine(result: EventResult) {
  return result.assessments.filter((a) => a.detectorId === ID);
}

/** public-endpoint-open with private access turned on, in the request and the response. */
function openWithPrivateAccess(): unknown {
  const envelope = loadFixture(OPEN);
  objectAt(envelope, "detail", "requestParameters", "resourcesVpcConfig").endpointPrivateAccess = true;
  return envelope;
}

describe("eks-public-endpoint", () => {
  it("assesses exactly the world-open endpoint updates, under the default policy", () => {
    // prepare
    const all = [...listFixtures("cloudtrail"), ...listFixtures("guardduty")];

    // act
    const assessed = all.filter((f) => mine(run(fixtureText(f))).length > 0);

    // assess
    expect(assessed).toEqual([NO_CIDRS, OPEN]);
  });

  it.each([
    `${UCC}/private-endpoint.json`,
    `${UCC}/public-restricted-cidr.json`,
    `${UCC}/logging-disabled.json`,
    `${UCC}/logging-enabled-all.json`,
  ])("finds nothing in %s", (relPath) => {
    // prepare
    const text = fixtureText(relPath);

    // act
    const result = run(text);

    // assess
    expect(mine(result)).toEqual([]);
  });

  it("alerts on an endpoint opened to 0.0.0.0/0 with private access off, since turning it off would lock everyone out", () => {
    // prepare
    const text = fixtureText(OPEN);

    // act
    const result = run(text);

    // assess
    const a = must(mine(result)[0]);
    expect(a.severity).toBe("high");
    expect(a.title).toBe("Cluster prod-eks API endpoint made public to 0.0.0.0/0");
    expect(a.cluster).toBe("prod-eks");
    expect(a.actions).toEqual([]);
    expect(a.notes).toEqual([NO_PRIVATE_NOTE]);
    expect(a.evidence[0]).toBe(
      'UpdateClusterConfig on prod-eks: endpointPublicAccess=true, endpointPrivateAccess=false, publicAccessCidrs=["0.0.0.0/0"]',
    );
    const decision = must(result.decisions[0]);
    expect(decision.mode).toBe("alert");
    expect(decision.reasons).toEqual([
      "mode approve: default for eks-public-endpoint (cutting public access can lock out people and CI systems that reach the API from outside)",
      `alert only: ${NO_PRIVATE_NOTE}`,
    ]);
    expect(result.plan).toEqual([]);
  });

  it("narrows the endpoint to endpoint.allowedPublicCidrs when the policy sets them (mode approve)", () => {
    // prepare
    const policy = parsePolicy({ endpoint: { allowedPublicCidrs: ["198.51.100.0/24", "203.0.113.0/24"] } });

    // act
    const result = run(fixtureText(OPEN), policy);

    // assess
    expect(calls(result)).toEqual([
      {
        service: "eks",
        operation: "UpdateClusterConfig",
        params: {
          name: "prod-eks",
          resourcesVpcConfig: {
            endpointPublicAccess: true,
            endpointPrivateAccess: true,
            publicAccessCidrs: ["198.51.100.0/24", "203.0.113.0/24"],
          },
        },
      },
    ]);
    const decision = must(result.decisions[0]);
    expect(decision.mode).toBe("approve");
    expect(decision.reasons[1]).toBe("would ask for approval, then apply 1 call (dry-run: nothing is changed)");
    expect(result.outcome).toBe("dry-run");
  });

  it("turns public access off when private access is on and the policy allows no public CIDRs", () => {
    // prepare
    const envelope = openWithPrivateAccess();

    // act
    const result = run(envelope);

    // assess
    expect(calls(result)).toEqual([
      {
        service: "eks",
        operation: "UpdateClusterConfig",
        params: { name: "prod-eks", resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true } },
      },
    ]);
    expect(must(result.decisions[0]).mode).toBe("approve");
  });

  it("waits for approval, not dry-run, when dry-run is off everywhere", () => {
    // prepare
    const policy = parsePolicy({ dryRun: false });

    // act
    const result = processEvent(openWithPrivateAccess(), policy, { forceDryRun: false });

    // assess
    expect(result.outcome).toBe("pending-approval");
    expect(result.plan).toHaveLength(1);
  });

  it("fails closed to an alert when the event does not say which CIDRs may reach the endpoint", () => {
    // prepare
    const policy = parsePolicy({ endpoint: { allowedPublicCidrs: ["203.0.113.0/24"] } });

    // act
    const result = run(fixtureText(NO_CIDRS), policy);

    // assess
    const a = must(mine(result)[0]);
    expect(a.title).toBe("Cluster prod-eks API endpoint made public (allowed sources not in the event)");
    expect(a.doubts).toEqual(["the event does not say which CIDRs may reach the public endpoint"]);
    expect(result.outcome).toBe("alert");
    expect(must(result.decisions[0]).reasons[1]).toBe(
      "fail closed, alert only: the event does not say which CIDRs may reach the public endpoint",
    );
    expect(result.plan).toEqual([]);
  });

  it("reads the endpoint from the response update.params when the request does not carry it", () => {
    // prepare
    const envelope = loadFixture(OPEN);
    delete objectAt(envelope, "detail", "requestParameters").resourcesVpcConfig;
    const policy = parsePolicy({ endpoint: { allowedPublicCidrs: ["203.0.113.0/24"] } });

    // act
    const result = run(envelope, policy);

    // assess
    expect(must(mine(result)[0]).title).toBe("Cluster prod-eks API endpoint made public to 0.0.0.0/0");
    expect(result.plan).toHaveLength(1);
  });

  it("does not flag an endpoint open to a CIDR that endpoint.allowedPublicCidrs or exemptions.cidrs covers", () => {
    // prepare
    const viaEndpoint = parsePolicy({ endpoint: { allowedPublicCidrs: ["0.0.0.0/0"] } });
    const viaExemption = parsePolicy({ exemptions: { cidrs: ["0.0.0.0/0"] } });

    // act
    const a = run(fixtureText(OPEN), viaEndpoint);
    const b = run(fixtureText(OPEN), viaExemption);

    // assess
    expect(mine(a)).toEqual([]);
    expect(mine(b)).toEqual([]);
  });

  it("treats a public CIDR wider than /8 as open, and a /8 as not open (detect called directly)", () => {
    // prepare
    const wide = loadFixture(`${UCC}/public-restricted-cidr.json`);
    objectAt(wide, "detail", "requestParameters", "resourcesVpcConfig").publicAccessCidrs = ["10.0.0.0/7"];
    const narrow = loadFixture(`${UCC}/public-restricted-cidr.json`);
    objectAt(narrow, "detail", "requestParameters", "resourcesVpcConfig").publicAccessCidrs = ["10.0.0.0/8"];
    const context = { allowedCidrs: [], endpointAllowedPublicCidrs: [] };
    const settings = eksPublicEndpoint.settings.parse(undefined);
    const wideSignal = parseEvent(wide);
    const narrowSignal = parseEvent(narrow);
    if (wideSignal.status !== "signal" || narrowSignal.status !== "signal") throw new Error("expected signals");

    // act
    const fromWide = eksPublicEndpoint.detect(wideSignal.signal, settings, context);
    const fromNarrow = eksPublicEndpoint.detect(narrowSignal.signal, settings, context);

    // assess
    expect(must(fromWide[0]).title).toBe("Cluster prod-eks API endpoint made public to 10.0.0.0/7");
    expect(fromNarrow).toEqual([]);
  });

  it("ignores every signal that is not an UpdateClusterConfig with an endpoint (detect called directly)", () => {
    // prepare
    const logging = parseEventText(fixtureText(`${UCC}/logging-disabled.json`));
    const create = parseEventText(fixtureText("cloudtrail/create-cluster/public-open-unencrypted.json"));
    if (logging.status !== "signal" || create.status !== "signal") throw new Error("expected signals");
    const context = { allowedCidrs: [], endpointAllowedPublicCidrs: [] };

    // act
    const fromLogging = eksPublicEndpoint.detect(logging.signal, {}, context);
    const fromCreate = eksPublicEndpoint.detect(create.signal, {}, context);

    // assess
    expect(fromLogging).toEqual([]);
    expect(fromCreate).toEqual([]);
  });

  it("is skipped in mode off", () => {
    // prepare
    const policy = parsePolicy({ detectors: { [ID]: { mode: "off" } } });

    // act
    const result = run(fixtureText(OPEN), policy);

    // assess
    expect(result.skipped).toBe("detector-off");
    expect(result.plan).toEqual([]);
  });
});
