import { describe, expect, it } from "vitest";
import { defaultPolicy, type EventResult, parsePolicy, processEvent } from "../../../packages/core/src/index.ts";
import { type JsonObject, loadFixture, must, objectAt } from "../../helpers/fixtures.ts";
import { guardDutySignalOf as finding } from "../../helpers/guardduty.ts";

/**
 * GuardDuty findings as others write them: odd but readable fields, and findings readable only in part. Variants
 * are made in memory from the fixtures (the files are never changed). Field types follow the GuardDuty API
 * reference (https://docs.aws.amazon.com/guardduty/latest/APIReference/API_Finding.html and the pages it links).
 */
const NODE = "guardduty/backdoor-runtime-c-cactivity-b-dns/eks-node-instance.json";
const POD = "guardduty/cryptocurrency-runtime-bitcointool-b/eks-pod.json";
const EC2_ACTOR = "guardduty/backdoor-ec2-c-cactivity-b/eks-node-actor.json";
const WORKLOAD = "guardduty/privilegeescalation-kubernetes-privilegedcontainer/blueprint-transformed.json";
const S3 = "guardduty/policy-s3-bucketblockpublicaccessdisabled/bucket-bpa-disabled.json";

function variant(relPath: string, change: (detail: JsonObject) => void): JsonObject {
  const envelope = loadFixture(relPath);
  change(objectAt(envelope, "detail"));
  return envelope;
}

function firstEni(detail: JsonObject): JsonObject {
  return must((objectAt(detail, "resource", "instanceDetails").networkInterfaces as JsonObject[])[0]);
}

function reasons(result: EventResult): string[] {
  return result.decisions.flatMap((d) => d.reasons);
}

describe("GuardDuty findings with odd but readable fields", () => {
  it("reads numbers written as strings (severity, count, port, pid) as numbers", () => {
    // prepare
    const event = variant(POD, (d) => {
      d.severity = "8";
      objectAt(d, "service").count = "3";
      objectAt(d, "service", "action", "networkConnectionAction", "remotePortDetails").port = "443";
      objectAt(d, "service", "runtimeDetails", "process").pid = "1873";
    });

    // act
    const signal = finding(event);

    // assess
    expect(signal.severity).toBe(8);
    expect(signal.count).toBe(3);
    expect(signal.remote?.port).toBe(443);
    expect(signal.process?.pid).toBe(1873);
    expect(signal.unreadable).toBeUndefined();
  });

  it("reads epoch times (seconds or milliseconds) as ISO text, and keeps the idempotency key stable", () => {
    // prepare
    const seconds = variant(NODE, (d) => {
      d.createdAt = 1746685531.702;
      d.updatedAt = 1746685531.702;
    });
    const millis = variant(NODE, (d) => {
      d.createdAt = 1746685531702;
      d.updatedAt = 1746685531702;
    });

    // act
    const a = finding(seconds);
    const b = finding(millis);

    // assess
    expect(a.updatedAt).toBe("2025-05-08T06:25:31.702Z");
    expect(a.createdAt).toBe("2025-05-08T06:25:31.702Z");
    expect(b.updatedAt).toBe(a.updatedAt);
    expect(processEvent(seconds, defaultPolicy()).signal?.key).toBe(processEvent(millis, defaultPolicy()).signal?.key);
  });

  it("reads empty lists and unknown extra fields, giving the same signal as the finding without them", () => {
    // prepare
    const original = finding(loadFixture(POD));
    const event = variant(POD, (d) => {
      d.newTopLevelField = { nested: [1, 2, 3] };
      objectAt(d, "resource").somethingAwsAddsLater = "x";
      objectAt(d, "resource", "kubernetesDetails", "kubernetesWorkloadDetails").volumes = [];
      firstEni(d).ipv6Addresses = [];
    });

    // act
    const signal = finding(event);

    // assess
    expect({ ...signal, envelopeId: "same" }).toEqual({ ...original, envelopeId: "same" });
  });

  it("reads a network interface without an id, and then only alerts: the isolation plan would miss it", () => {
    // prepare
    const event = variant(NODE, (d) => {
      delete firstEni(d).networkInterfaceId;
    });

    // act
    const signal = finding(event);
    const result = processEvent(event, defaultPolicy());

    // assess
    expect(signal.unreadable).toBeUndefined();
    expect(signal.instance?.networkInterfaces).toEqual([]);
    expect(signal.instance?.networkInterfacesWithoutId).toBe(1);
    expect(signal.instance?.vpcId).toBe("vpc-0a1b2c3d4e5f67890");
    const a = must(result.assessments.find((x) => x.detectorId === "guardduty-runtime-threat"));
    expect(a.doubts).toEqual([
      "1 network interface of i-0f1e2d3c4b5a69788 is listed without an id: the plan would not cover it",
    ]);
    expect(result.outcome).toBe("alert");
    expect(result.plan).toEqual([]);
  });
});

describe("GuardDuty findings readable only in part", () => {
  it("alerts on an EC2 finding whose instance cannot be read, with what was read and the path in the reasons", () => {
    // prepare
    const event = variant(EC2_ACTOR, (d) => {
      objectAt(d, "resource", "instanceDetails").instanceId = 12345;
    });

    // act
    const signal = finding(event);
    const result = processEvent(event, defaultPolicy());

    // assess
    expect(signal.unreadable).toEqual([
      { path: "detail.resource.instanceDetails.instanceId", message: "expected string, got 12345" },
    ]);
    expect(signal.instance).toBeUndefined();
    expect(result.signal?.unreadable).toEqual(["detail.resource.instanceDetails.instanceId"]);
    const a = must(result.assessments[0]);
    expect(a.detectorId).toBe("guardduty-compromised-node");
    expect([a.severity, a.account, a.region]).toEqual(["high", "111122223333", "eu-west-1"]);
    expect(a.title).toMatch(/^Backdoor:EC2\/C&CActivity\.B: /);
    expect(result.outcome).toBe("alert");
    expect(result.plan).toEqual([]);
    expect(reasons(result)).toContain(
      "fail closed, alert only: the finding could not be fully read: detail.resource.instanceDetails.instanceId expected string, got 12345; it is reported with what was read",
    );
  });

  it("keeps the readable part of a workload when one container is unreadable, and says which", () => {
    // prepare
    const event = variant(WORKLOAD, (d) => {
      const workload = objectAt(d, "resource", "kubernetesDetails", "kubernetesWorkloadDetails");
      (workload.containers as unknown[]).unshift("not-a-container");
    });

    // act
    const signal = finding(event);
    const result = processEvent(event, defaultPolicy());

    // assess
    expect(signal.workload?.namespace).toBe("argocd");
    expect(signal.workload?.containers).toHaveLength(1);
    expect(signal.unreadable?.map((i) => i.path)).toEqual([
      "detail.resource.kubernetesDetails.kubernetesWorkloadDetails.containers[0]",
    ]);
    expect(result.outcome).toBe("alert");
    expect(
      reasons(result).some((r) => /^fail closed(, alert only)?: the finding could not be fully read/.test(r)),
    ).toBe(true);
  });

  it("alerts on a runtime finding whose resource, service and times are all unreadable: type, severity, account, region", () => {
    // prepare
    const event = variant(POD, (d) => {
      d.resource = "broken";
      d.service = 42;
      d.title = null;
      d.updatedAt = "yesterday";
    });

    // act
    const signal = finding(event);
    const result = processEvent(event, defaultPolicy());

    // assess
    expect(signal.findingType).toBe("CryptoCurrency:Runtime/BitcoinTool.B");
    expect(signal.title).toBe("CryptoCurrency:Runtime/BitcoinTool.B");
    expect(signal.resourceType).toBe("unknown");
    expect(signal.updatedAt).toBe(signal.createdAt);
    expect(signal.unreadable?.map((i) => i.path).sort()).toEqual([
      "detail.resource",
      "detail.service",
      "detail.title",
      "detail.updatedAt",
    ]);
    const a = must(result.assessments[0]);
    expect(a.detectorId).toBe("guardduty-runtime-threat");
    expect(a.actions).toEqual([]);
    expect(result.outcome).toBe("alert");
    expect(result.plan).toEqual([]);
  });

  it("alerts on a finding of an unreadable cluster even when the policy is scoped to clusters", () => {
    // prepare
    const event = variant(WORKLOAD, (d) => {
      objectAt(d, "resource", "eksClusterDetails").name = "";
    });

    // act
    const result = processEvent(event, parsePolicy({ scope: { clusters: ["prod-eks"] } }));

    // assess
    expect(result.outcome).toBe("alert");
    expect(result.skipped).toBeUndefined();
  });

  it.each([
    ["null", (d: JsonObject) => (objectAt(d, "resource").eksClusterDetails = null)],
    ["left out", (d: JsonObject) => delete objectAt(d, "resource").eksClusterDetails],
  ])(
    'alerts on a Kubernetes finding whose cluster details are %s: it is about a cluster, not "not EKS"',
    (_, change) => {
      // prepare
      const event = variant(WORKLOAD, change);

      // act
      const signal = finding(event);
      const result = processEvent(event, parsePolicy({ scope: { clusters: ["prod-eks"] } }));

      // assess
      expect(signal.cluster).toBeUndefined();
      expect(signal.unreadable).toEqual([
        {
          path: "detail.resource.eksClusterDetails",
          message: "missing: a finding on resource type EKSCluster names its cluster there",
        },
      ]);
      expect(result.outcome).toBe("alert");
      expect(result.plan).toEqual([]);
      expect(must(result.assessments[0]).detectorId).toBe("guardduty-compromised-workload");
      expect(reasons(result)).toContain(
        "fail closed, alert only: the finding could not be fully read: detail.resource.eksClusterDetails missing: a finding on resource type EKSCluster names its cluster there; it is reported with what was read",
      );
    },
  );

  it("alerts on an Instance finding without instance details: the instance may be a node", () => {
    // prepare
    const event = variant(EC2_ACTOR, (d) => {
      objectAt(d, "resource").instanceDetails = null;
    });

    // act
    const result = processEvent(event, defaultPolicy());

    // assess
    expect(finding(event).unreadable?.map((i) => i.path)).toEqual(["detail.resource.instanceDetails"]);
    expect(result.outcome).toBe("alert");
    expect(result.plan).toEqual([]);
    expect(must(result.assessments[0]).detectorId).toBe("guardduty-compromised-node");
  });

  it.each(["title", "createdAt", "updatedAt", "resource", "service"])(
    "alerts on a finding without its %s, the path in the reasons (the identity is all it needs)",
    (key) => {
      // prepare
      const event = variant(WORKLOAD, (d) => {
        delete d[key];
      });

      // act
      const result = processEvent(event, defaultPolicy());

      // assess
      expect(finding(event).unreadable?.map((i) => i.path)).toEqual([`detail.${key}`]);
      expect(result.outcome).toBe("alert");
      expect(result.plan).toEqual([]);
      expect(must(result.assessments[0]).detectorId).toBe("guardduty-compromised-workload");
    },
  );

  it("keeps a finding readable in part when a member it does not read is a list nested 20,000 deep", () => {
    // prepare: the copy made to leave unreadable parts out stops where the schema stops reading
    const deep = JSON.parse(`${"[".repeat(20_000)}${"]".repeat(20_000)}`) as unknown;
    const event = variant(WORKLOAD, (d) => {
      d.title = 5;
      objectAt(d, "service").nestedDeep = deep;
    });

    // act
    const result = processEvent(event, defaultPolicy());

    // assess
    expect(result.outcome).toBe("alert");
    expect(result.signal?.unreadable).toEqual(["detail.title"]);
  });

  it("is never acted on in mode auto either: the doubts fail it closed", () => {
    // prepare
    const event = variant(EC2_ACTOR, (d) => {
      objectAt(d, "resource", "instanceDetails").tags = "env=prod";
    });
    const policy = parsePolicy({ dryRun: false, detectors: { "guardduty-compromised-node": { mode: "auto" } } });

    // act
    const result = processEvent(event, policy, { forceDryRun: false });

    // assess
    expect(result.outcome).toBe("alert");
    expect(result.plan).toEqual([]);
  });

  it("skips a finding that is not about EKS whatever it could read, saying what it could not", () => {
    // prepare
    const event = variant(S3, (d) => {
      objectAt(d, "service").count = "many";
    });

    // act
    const result = processEvent(event, defaultPolicy());

    // assess
    expect(result.skipped).toBe("no-finding");
    expect(result.reason).toMatch(/S3Bucket, which is not an EKS cluster.*; read in part, detail\.service\.count/);
  });

  it.each([
    ["id", (d: JsonObject) => delete d.id],
    ["type", (d: JsonObject) => (d.type = "not a finding type")],
    ["accountId", (d: JsonObject) => (d.accountId = "me")],
    ["region", (d: JsonObject) => (d.region = "the moon")],
    ["severity", (d: JsonObject) => (d.severity = "high")],
  ])("stays invalid when the finding's %s cannot be read: there is nothing to name in an alert", (key, change) => {
    // prepare
    const event = variant(POD, change);

    // act
    const result = processEvent(event, defaultPolicy());

    // assess
    expect(result.outcome).toBe("invalid");
    expect(result.error?.issues.map((i) => i.path)).toEqual([`detail.${key}`]);
  });
});

/** `value` with the first letter of every key upper-cased: a finding as the AWS SDKs print `GetFindings` output. */
function pascalCased(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pascalCased);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k.charAt(0).toUpperCase() + k.slice(1), pascalCased(v)]),
  );
}

describe("GuardDuty findings written with the SDKs' PascalCase member names", () => {
  /** The shape other tools' test events use (GuardDuty-SOAR's scenario templates: `Id`, `Resource.InstanceDetails`). */
  function pascalVariant(relPath: string): JsonObject {
    const envelope = loadFixture(relPath);
    return { ...envelope, detail: pascalCased(envelope.detail) as JsonObject };
  }

  it("reads what it says, with its cluster and node, and alerts: never acted on, even in mode auto", () => {
    // prepare
    const event = pascalVariant(EC2_ACTOR);
    const policy = parsePolicy({ dryRun: false, detectors: { "guardduty-compromised-node": { mode: "auto" } } });

    // act
    const signal = finding(event);
    const result = processEvent(event, policy, { forceDryRun: false });

    // assess
    const original = finding(loadFixture(EC2_ACTOR));
    expect(signal.findingType).toBe(original.findingType);
    expect(signal.instance?.instanceId).toBe(original.instance?.instanceId);
    expect(signal.instance?.eksNode).toEqual(original.instance?.eksNode);
    expect(signal.unreadable?.map((i) => i.path)).toEqual(["detail"]);
    const a = must(result.assessments[0]);
    expect([a.detectorId, a.cluster]).toEqual(["guardduty-compromised-node", original.instance?.eksNode?.cluster]);
    expect(result.outcome).toBe("alert");
    expect(result.plan).toEqual([]);
    expect(reasons(result)).toContain(
      "fail closed, alert only: the finding could not be fully read: detail is written with the AWS SDKs' PascalCase member names (Id, Type, Resource), not as EventBridge delivers a finding: read with its keys camel-cased; it is reported with what was read",
    );
  });

  it("keeps a __proto__ key a plain member, and a key written both ways keeps its camelCase value", () => {
    // prepare
    const event = pascalVariant(WORKLOAD);
    const detail = JSON.parse(
      `{"__proto__": {"polluted": true}, ${JSON.stringify(event.detail).slice(1, -1)}, "title": "camel title"}`,
    ) as JsonObject;

    // act
    const signal = finding({ ...event, detail });

    // assess
    expect(signal.title).toBe("camel title");
    expect(signal.cluster?.name).toBe(finding(loadFixture(WORKLOAD)).cluster?.name);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("stays invalid when it is PascalCase and its identity cannot be read either", () => {
    // prepare
    const event = pascalVariant(POD);
    delete (event.detail as JsonObject).Severity;

    // act
    const result = processEvent(event, defaultPolicy());

    // assess
    expect(result.outcome).toBe("invalid");
    expect(result.error?.issues.map((i) => i.path)).toEqual(["detail.severity"]);
  });
});

describe("GuardDuty sample findings", () => {
  it("counts the sample marker written as JSON text under additionalInfo.value as a sample", () => {
    // prepare
    const event = variant(POD, (d) => {
      objectAt(d, "service").additionalInfo = { value: '{"sample":true}', type: "default" };
    });

    // act
    const result = processEvent(event, defaultPolicy());

    // assess
    expect(finding(event).sample).toBe(true);
    expect(result.skipped).toBe("sample-finding");
    expect(result.plan).toEqual([]);
  });

  it.each([
    ['{"sample":false}', false],
    ['{"threatListName":"Amazon","sample":"true"}', false],
    ["sample: true", false],
    ['{"threatListName":"Amazon","sample":true}', true],
  ])("reads additionalInfo.value %s as sample = %s", (value, sample) => {
    // prepare
    const event = variant(POD, (d) => {
      objectAt(d, "service").additionalInfo = { value, type: "default" };
    });

    // act
    const signal = finding(event);

    // assess
    expect(signal.sample).toBe(sample);
  });
});
