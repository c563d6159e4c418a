import { describe, expect, it } from "vitest";
import { guardDutyCompromisedNode } from "../../../packages/core/src/detectors/guardduty-compromised-node.detector.ts";
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

const ID = "guardduty-compromised-node";
const ACTOR = "guardduty/backdoor-ec2-c-cactivity-b/eks-node-actor.json";
const TARGET = "guardduty/unauthorizedaccess-ec2-sshbruteforce/eks-worker-target.json";
const NON_EKS = "guardduty/unauthorizedaccess-ec2-sshbruteforce/non-eks-instance.json";
const TROJAN_SAMPLE = "guardduty/trojan-ec2-blackholetraffic-dns/sample-generated.json";
const STANDALONE = "guardduty/cryptocurrency-runtime-bitcointool-b-dns/standalone-docker-container-not-eks.json";
const S3 = "guardduty/policy-s3-bucketblockpublicaccessdisabled/bucket-bpa-disabled.json";
const ASG = "eks-general-8ac6f1b2-1a2b-3c4d-5e6f-7a8b9c0d1e2f";
const VPC = "vpc-0a1b2c3d4e5f67890";
const TARGET_NOTE =
  "the node is the target, not the actor: nothing in the finding shows it is compromised; close the exposed port";

function finding(input: unknown): GuardDutySignal {
  const parsed = typeof input === "string" ? parseEvent(JSON.parse(input)) : parseEvent(input);
  if (parsed.status !== "signal" || parsed.signal.family !== "guardduty") throw new Error("expected a finding");
  return parsed.signal;
}

function run(input: unknown, policy = defaultPolicy()): EventResult {
  return processEvent(input, policy);
}

function calls(result: EventResult) {
  return result.plan.map((p) => ({ service: p.service, operation: p.operation, params: p.params }));
}

function mine(result: EventResult) {
  return result.assessments.filter((a) => a.detectorId === ID);
}

describe("guardduty-compromised-node", () => {
  it("routes exactly the EC2 findings on EKS nodes to the compromised-node family", () => {
    // prepare
    const findings = listFixtures("guardduty");

    // act
    const routed = findings.filter((f) => classifyFinding(finding(fixtureText(f))).family === "compromised-node");

    // assess
    expect(routed).toEqual([ACTOR, TARGET]);
  });

  it.each([
    [
      NON_EKS,
      "UnauthorizedAccess:EC2/SSHBruteForce on resource type Instance, which is not an EKS cluster or a known EKS node",
    ],
    [
      TROJAN_SAMPLE,
      "Trojan:EC2/BlackholeTraffic!DNS on resource type Instance, which is not an EKS cluster or a known EKS node",
    ],
    [
      STANDALONE,
      "CryptoCurrency:Runtime/BitcoinTool.B!DNS on resource type Container, which is not an EKS cluster or a known EKS node",
    ],
    [
      S3,
      "Policy:S3/BucketBlockPublicAccessDisabled on resource type S3Bucket, which is not an EKS cluster or a known EKS node",
    ],
  ])("routes %s to no family at all", (relPath, reason) => {
    // prepare
    const signal = finding(fixtureText(relPath));

    // act
    const classified = classifyFinding(signal);

    // assess
    expect(classified).toEqual({ reason });
  });

  it("assesses exactly the ACTOR and TARGET EKS node findings", () => {
    // prepare
    const all = [...listFixtures("cloudtrail"), ...listFixtures("guardduty")];

    // act
    const assessed = all.filter((f) => mine(run(fixtureText(f))).length > 0);

    // assess
    expect(assessed).toEqual([ACTOR, TARGET]);
  });

  it("isolates the EKS node that is the ACTOR, with the exact plan (mode approve)", () => {
    // prepare
    const text = fixtureText(ACTOR);

    // act
    const result = run(text);

    // assess
    const a = must(mine(result)[0]);
    expect(a.severity).toBe("high");
    expect(a.title).toBe(
      "Backdoor:EC2/C&CActivity.B: EC2 instance i-0a7b8c9d0e1f23456 is communicating with a Command & Control server.",
    );
    expect(a.cluster).toBe("prod-eks");
    expect(a.resources).toEqual({ instanceId: "i-0a7b8c9d0e1f23456" });
    expect(a.evidence[0]).toBe("the worker node itself is acting maliciously");
    expect(a.actions).toEqual([
      { action: "k8s:cordon-node", params: { cluster: "prod-eks", instanceId: "i-0a7b8c9d0e1f23456" } },
      {
        action: "ec2:isolate-instance",
        params: {
          instanceId: "i-0a7b8c9d0e1f23456",
          clusterName: "prod-eks",
          vpcId: VPC,
          networkInterfaceIds: ["eni-0a7b8c9d0e1f23456"],
          autoScalingGroupName: ASG,
        },
      },
    ]);
    const eni = "eni-0a7b8c9d0e1f23456";
    const instance = "i-0a7b8c9d0e1f23456";
    // The Kubernetes side first (cordon: nothing new is scheduled there, the pods keep running), then the AWS side.
    expect(calls(result)).toEqual([
      { service: "kubernetes", operation: "GET /api/v1/nodes", params: {} },
      { service: "kubernetes", operation: "GET /api/v1/nodes", params: {} },
      {
        service: "kubernetes",
        operation: `PATCH /api/v1/nodes/<node of ${instance}>`,
        params: {
          metadata: { labels: { "eks-responder.io/cordoned": "true", "eks-responder.io/assessment": a.id } },
          spec: { unschedulable: true },
        },
      },
      {
        service: "ec2",
        operation: "DescribeSecurityGroups",
        params: {
          Filters: [
            { Name: "vpc-id", Values: [VPC] },
            { Name: "tag:eks-responder:quarantine-group", Values: ["transition", "quarantine"] },
          ],
        },
      },
      {
        service: "ec2",
        operation: "DescribeNetworkInterfaces",
        params: {
          Filters: [
            { Name: "interface-type", Values: ["branch"] },
            { Name: "tag:vpcresources.k8s.aws/trunk-eni-id", Values: [`<trunk interfaces of ${instance}>`] },
          ],
          MaxResults: 1000,
        },
      },
      {
        service: "ec2",
        operation: "ModifyNetworkInterfaceAttribute",
        params: { NetworkInterfaceId: eni, Groups: [`<transition group of ${VPC}>`], DryRun: true },
      },
      {
        service: "ec2",
        operation: "ModifyNetworkInterfaceAttribute",
        params: { NetworkInterfaceId: eni, Groups: [`<quarantine group of ${VPC}>`], DryRun: true },
      },
      {
        service: "ec2",
        operation: "CreateTags",
        params: { Resources: [instance], Tags: [{ Key: "eks-responder:quarantined", Value: a.id }], DryRun: true },
      },
      {
        service: "ec2",
        operation: "ModifyInstanceAttribute",
        params: { InstanceId: instance, DisableApiTermination: { Value: true }, DryRun: true },
      },
      {
        service: "ec2",
        operation: "ModifyInstanceAttribute",
        params: { InstanceId: instance, InstanceInitiatedShutdownBehavior: { Value: "stop" }, DryRun: true },
      },
      {
        service: "autoscaling",
        operation: "SetInstanceProtection",
        params: { AutoScalingGroupName: ASG, InstanceIds: [instance], ProtectedFromScaleIn: true },
      },
      {
        service: "autoscaling",
        operation: "EnterStandby",
        params: { AutoScalingGroupName: ASG, InstanceIds: [instance], ShouldDecrementDesiredCapacity: true },
      },
      {
        service: "ec2",
        operation: "CreateSnapshots",
        params: {
          InstanceSpecification: { InstanceId: instance, ExcludeBootVolume: false },
          Description: `eks-responder forensic snapshot of ${instance} (${a.id})`,
          TagSpecifications: [{ ResourceType: "snapshot", Tags: [{ Key: "eks-responder:quarantined", Value: a.id }] }],
          CopyTagsFromSource: "volume",
          DryRun: true,
        },
      },
    ]);
    const decision = must(result.decisions[0]);
    expect(decision.mode).toBe("approve");
    expect(decision.reasons).toEqual([
      "mode approve: default for guardduty-compromised-node (isolation takes a node out of service; a human confirms first)",
      "would ask for approval, then apply 13 calls (dry-run: nothing is changed)",
    ]);
  });

  it("only alerts on the EKS node that is the TARGET of a brute force: no isolation", () => {
    // prepare
    const text = fixtureText(TARGET);

    // act
    const result = run(text);

    // assess
    const a = must(mine(result)[0]);
    expect(a.severity).toBe("low");
    expect(a.resources).toEqual({ instanceId: "i-0f1e2d3c4b5a69788" });
    expect(a.evidence[0]).toBe("the worker node is the target of an attack");
    expect(a.actions).toEqual([]);
    expect(a.notes).toEqual([TARGET_NOTE]);
    expect(result.outcome).toBe("alert");
    expect(result.plan).toEqual([]);
    expect(result.plan.some((p) => p.action === "ec2:isolate-instance")).toBe(false);
    expect(must(result.decisions[0]).reasons[1]).toBe(`alert only: ${TARGET_NOTE}`);
  });

  it("isolates the same node once the finding says it is the ACTOR", () => {
    // prepare
    const envelope = loadFixture(TARGET);
    objectAt(envelope, "detail", "service").resourceRole = "ACTOR";

    // act
    const result = run(envelope);

    // assess
    expect(must(mine(result)[0]).actions.map((x) => x.action)).toEqual(["k8s:cordon-node", "ec2:isolate-instance"]);
    expect(result.plan.filter((p) => p.action === "ec2:isolate-instance")).toHaveLength(10);
    expect(result.plan.filter((p) => p.action === "k8s:cordon-node")).toHaveLength(3);
  });

  it.each([NON_EKS, STANDALONE, S3])("produces no assessment for %s (not EKS)", (relPath) => {
    // prepare
    const text = fixtureText(relPath);

    // act
    const result = run(text);

    // assess
    expect(result.assessments).toEqual([]);
    expect(result.skipped).toBe("no-finding");
    expect(result.reason).toMatch(/^not handled: .*, which is not an EKS cluster or a known EKS node$/);
    expect(result.plan).toEqual([]);
  });

  it("skips the generated Trojan sample finding with skipped code sample-finding", () => {
    // prepare
    const text = fixtureText(TROJAN_SAMPLE);

    // act
    const result = run(text);

    // assess
    expect(result.outcome).toBe("skipped");
    expect(result.skipped).toBe("sample-finding");
    expect(result.plan).toEqual([]);
  });

  it("fails closed to an alert when the finding does not name the node's VPC", () => {
    // prepare
    const envelope = loadFixture(ACTOR);
    const eni = objectAt(envelope, "detail", "resource", "instanceDetails", "networkInterfaces", 0);
    delete eni.vpcId;

    // act
    const result = run(envelope);

    // assess
    expect(result.outcome).toBe("alert");
    expect(result.plan).toEqual([]);
    expect(must(result.decisions[0]).reasons[1]).toBe(
      "fail closed, alert only: ec2:isolate-instance refused: the finding does not name the VPC of i-0a7b8c9d0e1f23456: the quarantine group cannot be chosen",
    );
  });

  it("does not act on a node carrying the default exemption tag", () => {
    // prepare
    const envelope = loadFixture(ACTOR);
    const details = objectAt(envelope, "detail", "resource", "instanceDetails");
    details.tags = [...(details.tags as unknown[]), { key: "eks-responder:exempt", value: "true" }];

    // act
    const result = run(envelope);

    // assess
    expect(result.skipped).toBe("exempt");
    expect(must(result.decisions[0]).reasons).toEqual([
      "the resource carries the exemption tag eks-responder:exempt=true",
    ]);
    expect(result.plan).toEqual([]);
  });

  it("returns nothing for a CloudTrail signal or another family (detect called directly)", () => {
    // prepare
    const ct = parseEvent(loadFixture("cloudtrail/delete-cluster/delete.json"));
    if (ct.status !== "signal") throw new Error("expected a signal");
    const runtime = finding(fixtureText("guardduty/cryptocurrency-runtime-bitcointool-b/eks-pod.json"));
    const context = { allowedCidrs: [], endpointAllowedPublicCidrs: [] };

    // act
    const fromCloudTrail = guardDutyCompromisedNode.detect(ct.signal, {}, context);
    const fromRuntime = guardDutyCompromisedNode.detect(runtime, {}, context);

    // assess
    expect(fromCloudTrail).toEqual([]);
    expect(fromRuntime).toEqual([]);
  });

  it("is skipped in mode off and only alerts in mode alert", () => {
    // prepare
    const off = parsePolicy({ detectors: { [ID]: { mode: "off" } } });
    const alert = parsePolicy({ detectors: { [ID]: { mode: "alert" } } });

    // act
    const skipped = run(fixtureText(ACTOR), off);
    const alerted = run(fixtureText(ACTOR), alert);

    // assess
    expect(skipped.skipped).toBe("detector-off");
    expect(alerted.outcome).toBe("alert");
    expect(alerted.plan).toEqual([]);
  });
});
