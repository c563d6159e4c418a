import { describe, expect, it } from "vitest";
import { eksLoggingDisabled } from "../../../packages/core/src/detectors/eks-logging-disabled.detector.ts";
import {
  defaultPolicy,
  type EventResult,
  PolicyError,
  parseEventText,
  parsePolicy,
  processEvent,
} from "../../../packages/core/src/index.ts";
import { fixtureText, listFixtures, loadFixture, must, objectAt } from "../../helpers/fixtures.ts";

const ID = "eks-logging-disabled";
const UCC = "cloudtrail/update-cluster-config";
const DISABLED = `${UCC}/logging-disabled.json`;
const CC = "cloudtrail/create-cluster";
const CREATED_WITHOUT_LOGGING = `${CC}/legacy-2018-awsdoc.json`;
const CREATED_LOGGING_OFF = `${CC}/public-open-unencrypted.json`;

function run(input: unknown, policy = defaultPolicy()): EventResult {
  return processEvent(input, policy);
}

function calls(result: EventResult) {
  return result.plan.map((p) => ({ service: p.service, operation: p.operation, params: p.params }));
}

function mine(result: EventResult) {
  return result.assessments.filter((a) => a.detectorId === ID);
}

function requiring(requiredTypes: string[]) {
  return parsePolicy({ detectors: { [ID]: { settings: { requiredTypes } } } });
}

const enableLogging = (types: string[]) => [
  {
    service: "eks",
    operation: "UpdateClusterConfig",
    params: { name: "prod-eks", logging: { clusterLogging: [{ types, enabled: true }] } },
  },
];

describe("eks-logging-disabled", () => {
  it("assesses the update that turns logging off and the clusters created without it, under the default policy", () => {
    // prepare
    const all = [...listFixtures("cloudtrail"), ...listFixtures("guardduty")];

    // act
    const assessed = all.filter((f) => mine(run(fixtureText(f))).length > 0);

    // assess
    expect(assessed).toEqual([CREATED_WITHOUT_LOGGING, CREATED_LOGGING_OFF, DISABLED]);
  });

  it("turns api, audit and authenticator back on automatically (default mode auto)", () => {
    // prepare
    const text = fixtureText(DISABLED);

    // act
    const result = run(text);

    // assess
    const a = must(mine(result)[0]);
    expect(a.severity).toBe("high");
    expect(a.title).toBe("Cluster prod-eks control-plane logging turned off: api, audit, authenticator");
    expect(a.cluster).toBe("prod-eks");
    expect(calls(result)).toEqual(enableLogging(["api", "audit", "authenticator"]));
    const decision = must(result.decisions[0]);
    expect(decision.mode).toBe("auto");
    expect(decision.reasons).toEqual([
      "mode auto: default for eks-logging-disabled (turning logging back on changes nothing the cluster's users depend on)",
      "would apply 1 call (dry-run: nothing is changed)",
    ]);
  });

  it.each([`${UCC}/logging-enabled-all.json`, `${UCC}/public-endpoint-open.json`, `${CC}/private-encrypted.json`])(
    "finds nothing in %s (logging on, an endpoint update, or a cluster created with every log type)",
    (relPath) => {
      // prepare
      const text = fixtureText(relPath);

      // act
      const result = run(text);

      // assess
      expect(mine(result)).toEqual([]);
    },
  );

  it("only re-enables the types the policy requires, as medium when audit is not among them", () => {
    // prepare
    const policy = requiring(["api"]);

    // act
    const result = run(fixtureText(DISABLED), policy);

    // assess
    const a = must(mine(result)[0]);
    expect(a.severity).toBe("medium");
    expect(a.title).toBe("Cluster prod-eks control-plane logging turned off: api");
    expect(calls(result)).toEqual(enableLogging(["api"]));
  });

  it("finds nothing when the types turned off are not required", () => {
    // prepare
    const policy = requiring(["scheduler", "controllerManager"]);

    // act
    const result = run(fixtureText(DISABLED), policy);

    // assess
    expect(mine(result)).toEqual([]);
    expect(result.skipped).toBe("no-finding");
  });

  it("refuses a requiredTypes entry that is not a log type", () => {
    // prepare
    const document = { detectors: { [ID]: { settings: { requiredTypes: ["kubelet"] } } } };

    // act
    const act = () => parsePolicy(document);

    // assess
    expect(act).toThrow(PolicyError);
    expect(act).toThrow(/detectors\.eks-logging-disabled\.settings\.requiredTypes/);
  });

  it("reads the disabled types from update.params when the request does not carry them", () => {
    // prepare
    const envelope = loadFixture(DISABLED);
    delete objectAt(envelope, "detail", "requestParameters").logging;

    // act
    const result = run(envelope);

    // assess
    expect(calls(result)).toEqual(enableLogging(["api", "audit", "authenticator"]));
  });

  it("reports every disabled type in the evidence, also those it does not re-enable (detect called directly)", () => {
    // prepare
    const parsed = parseEventText(fixtureText(DISABLED));
    if (parsed.status !== "signal") throw new Error("expected a signal");

    // act
    const found = eksLoggingDisabled.detect(
      parsed.signal,
      { requiredTypes: ["audit"] },
      { allowedCidrs: [], endpointAllowedPublicCidrs: [] },
    );

    // assess
    const a = must(found[0]);
    expect(a.evidence[0]).toBe("UpdateClusterConfig on prod-eks disabled api, audit, authenticator");
    expect(a.actions).toEqual([
      { action: "eks:enable-logging", params: { clusterName: "prod-eks", logTypes: ["audit"] } },
    ]);
  });

  it("only alerts in mode alert", () => {
    // prepare
    const policy = parsePolicy({ detectors: { [ID]: { mode: "alert" } } });

    // act
    const result = run(fixtureText(DISABLED), policy);

    // assess
    expect(result.outcome).toBe("alert");
    expect(result.plan).toEqual([]);
  });
});

describe("eks-logging-disabled on CreateCluster", () => {
  it("flags a cluster created with every log type disabled and turns the required ones on", () => {
    // prepare
    const text = fixtureText(CREATED_LOGGING_OFF);

    // act
    const result = run(text);

    // assess
    const a = must(mine(result)[0]);
    expect(a.severity).toBe("high");
    expect(a.title).toBe("Cluster sandbox-eks created with control-plane logging off: api, audit, authenticator");
    expect(a.evidence[0]).toBe(
      "CreateCluster sandbox-eks enabled no log type and disabled api, audit, authenticator, controllerManager, scheduler",
    );
    expect(a.cluster).toBe("sandbox-eks");
    expect(a.actions).toEqual([
      {
        action: "eks:enable-logging",
        params: { clusterName: "sandbox-eks", logTypes: ["api", "audit", "authenticator"] },
      },
    ]);
  });

  it("flags a cluster created without a logging member: EKS's default exports no control-plane logs", () => {
    // prepare
    const text = fixtureText(CREATED_WITHOUT_LOGGING);

    // act
    const result = run(text);

    // assess
    const a = must(mine(result)[0]);
    expect(a.evidence[0]).toMatch(/did not set logging: EKS then exports no control-plane logs$/);
    expect(a.actions).toEqual([
      { action: "eks:enable-logging", params: { clusterName: a.cluster, logTypes: ["api", "audit", "authenticator"] } },
    ]);
  });

  it("flags only the required types a new cluster leaves off, by the policy's requiredTypes", () => {
    // prepare
    const envelope = loadFixture(`${CC}/private-encrypted.json`);
    const logging = objectAt(envelope, "detail", "requestParameters", "logging");
    logging.clusterLogging = [
      { types: ["api", "audit"], enabled: true },
      { types: ["scheduler"], enabled: false },
    ];

    // act
    const byDefault = run(envelope);
    const strict = run(envelope, requiring(["api", "audit", "authenticator", "scheduler"]));
    const lenient = run(envelope, requiring(["audit"]));

    // assess
    expect(must(mine(byDefault)[0]).title).toMatch(/logging off: authenticator$/);
    expect(must(mine(byDefault)[0]).severity).toBe("medium");
    expect(must(mine(strict)[0]).title).toMatch(/logging off: authenticator, scheduler$/);
    expect(mine(lenient)).toEqual([]);
  });
});
