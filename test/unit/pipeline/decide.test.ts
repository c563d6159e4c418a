import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  DETECTORS,
  decide,
  defaultPolicy,
  type PolicyInput,
  parseEvent,
  parsePolicy,
  processEvent,
} from "../../../packages/core/src/index.ts";

const FIXTURES = join(import.meta.dirname, "../../fixtures");
const SSH_OPEN = "cloudtrail/authorize-security-group-ingress/ssh-ipv4-open-real.json";
const RUNTIME_POD = "guardduty/cryptocurrency-runtime-bitcointool-b/eks-pod.json";
/** A runtime finding on the node itself: cordon it, then isolate the instance. */
const RUNTIME_NODE = "guardduty/backdoor-runtime-c-cactivity-b-dns/eks-node-instance.json";

function fixture(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, path), "utf8")) as Record<string, unknown>;
}

function run(
  path: string,
  policy: PolicyInput = {},
  forceDryRun = true,
  mutate?: (event: Record<string, unknown>) => void,
) {
  const event = fixture(path);
  mutate?.(event);
  return processEvent(event, parsePolicy(policy), { forceDryRun });
}

function detail(event: Record<string, unknown>): Record<string, unknown> {
  return event.detail as Record<string, unknown>;
}

describe("decide", () => {
  it("plans with DryRun while the policy is in dry-run (the default)", () => {
    const result = run(SSH_OPEN, {}, false);
    expect(result.outcome).toBe("dry-run");
    expect(result.plan[0]?.params.DryRun).toBe(true);
  });

  it("applies auto mode for real only when both the policy and the caller leave dry-run", () => {
    const live = run(SSH_OPEN, { dryRun: false }, false);
    expect(live.outcome).toBe("apply");
    expect(live.plan[0]?.params).not.toHaveProperty("DryRun");
    expect(run(SSH_OPEN, { dryRun: false }, true).outcome).toBe("dry-run");
  });

  it("keeps one detector in dry-run when the global switch is off", () => {
    const result = run(SSH_OPEN, { dryRun: false, detectors: { "ec2-open-ingress": { dryRun: true } } }, false);
    expect(result.outcome).toBe("dry-run");
  });

  it("asks for approval in approve mode", () => {
    const result = run(SSH_OPEN, { dryRun: false, detectors: { "ec2-open-ingress": { mode: "approve" } } }, false);
    expect(result.outcome).toBe("pending-approval");
    expect(result.decisions[0]?.reasons[0]).toBe("mode approve set in the policy for ec2-open-ingress");
  });

  it("only alerts in alert mode, with no plan", () => {
    const result = run(SSH_OPEN, { detectors: { "ec2-open-ingress": { mode: "alert" } } });
    expect(result.outcome).toBe("alert");
    expect(result.plan).toEqual([]);
  });

  it("skips a detector that is off, saying so", () => {
    const result = run(SSH_OPEN, { detectors: { "ec2-open-ingress": { mode: "off" } } });
    expect(result.outcome).toBe("skipped");
    expect(result.skipped).toBe("detector-off");
    expect(result.reason).toBe("detector ec2-open-ingress is off in the policy");
  });

  it("skips events outside the scope: account, region, cluster", () => {
    expect(run(SSH_OPEN, { scope: { accounts: ["111122223333"] } }).reason).toBe(
      "account 776520358045 is outside the policy's scope",
    );
    expect(run(SSH_OPEN, { scope: { regions: ["eu-west-1"] } }).skipped).toBe("out-of-scope");
    expect(run(RUNTIME_POD, { scope: { clusters: ["staging"] } }).reason).toBe(
      "cluster prod-eks is outside the policy's scope",
    );
    expect(run(RUNTIME_POD, { scope: { clusters: ["prod-eks"] } }).outcome).toBe("dry-run");
  });

  it("never acts on a change made by an exempt principal", () => {
    const result = run(SSH_OPEN, { exemptions: { principals: ["arn:aws:iam::776520358045:role/voclabs"] } });
    expect(result.skipped).toBe("exempt");
    expect(result.reason).toContain("arn:aws:iam::776520358045:role/voclabs");
    expect(run(SSH_OPEN, { exemptions: { principals: ["arn:aws:sts::*:assumed-role/voclabs/*"] } }).skipped).toBe(
      "exempt",
    );
    expect(run(SSH_OPEN, { exemptions: { principals: ["arn:aws:iam::*:role/other"] } }).skipped).toBeUndefined();
  });

  it("never acts on exempt accounts, namespaces or resources carrying the exemption tag", () => {
    expect(run(SSH_OPEN, { exemptions: { accounts: ["776520358045"] } }).skipped).toBe("exempt");
    expect(run(RUNTIME_POD, { exemptions: { namespaces: ["shop"] } }).reason).toBe("namespace shop is exempt");
    const tagged = run(RUNTIME_POD, {}, true, (event) => {
      const instance = (detail(event).resource as { instanceDetails: { tags: { key: string; value: string }[] } })
        .instanceDetails;
      instance.tags.push({ key: "eks-responder:exempt", value: "true" });
    });
    expect(tagged.skipped).toBe("exempt");
    expect(tagged.plan).toEqual([]);
    const anyValue = run(RUNTIME_POD, { exemptions: { tags: [{ key: "env" }] } });
    expect(anyValue.reason).toBe("the resource carries the exemption tag env");
  });

  it("does not exempt a node because its stack or a controller tagged it: those default tags are for security groups", () => {
    // eksctl node groups are CloudFormation stacks: their instances carry aws:cloudformation:stack-name.
    const result = run(RUNTIME_POD, {}, true, (event) => {
      const instance = (detail(event).resource as { instanceDetails: { tags: { key: string; value: string }[] } })
        .instanceDetails;
      instance.tags.push({ key: "aws:cloudformation:stack-name", value: "eksctl-prod-eks-nodegroup-general" });
      instance.tags.push({ key: "elbv2.k8s.aws/cluster", value: "prod-eks" });
    });
    expect(result.skipped).toBeUndefined();
    expect(result.outcome).toBe("dry-run");
  });

  it("exempts on a cluster tag even when the instance has the same key with another value", () => {
    const result = run(
      RUNTIME_POD,
      { dryRun: false, exemptions: { tags: [{ key: "env", value: "prod" }] } },
      false,
      (event) => {
        const instance = (detail(event).resource as { instanceDetails: { tags: { key: string; value: string }[] } })
          .instanceDetails;
        instance.tags.push({ key: "env", value: "sandbox" });
      },
    );
    expect(result.skipped).toBe("exempt");
    expect(result.plan).toEqual([]);
  });

  it("treats CIDRs on the policy's allowlist as not open", () => {
    const result = run("cloudtrail/authorize-security-group-ingress/all-ports-tcp-open.json", {
      exemptions: { cidrs: ["0.0.0.0/0"] },
    });
    expect(result.outcome).toBe("skipped");
    expect(result.skipped).toBe("no-finding");
  });

  it("fails closed to an alert when the event leaves a doubt", () => {
    const result = run("cloudtrail/update-cluster-config/public-endpoint-no-cidrs.json", {
      endpoint: { allowedPublicCidrs: ["203.0.113.0/24"] },
      detectors: { "eks-public-endpoint": { mode: "auto" } },
    });
    expect(result.outcome).toBe("alert");
    expect(result.plan).toEqual([]);
    expect(result.decisions[0]?.reasons.join(" ")).toContain("fail closed");
  });

  it("fails closed to an alert when an action refuses to plan", () => {
    const result = run(RUNTIME_NODE, {}, true, (event) => {
      const resource = detail(event).resource as { instanceDetails: { networkInterfaces: { vpcId?: string }[] } };
      for (const eni of resource.instanceDetails.networkInterfaces) delete eni.vpcId;
    });
    expect(result.outcome).toBe("alert");
    expect(result.reason).toMatch(/fail closed.*ec2:isolate-instance refused: the finding does not name the VPC/);
  });

  it("fails closed to an alert when planning throws (an unknown action)", () => {
    const parsed = parseEvent(fixture(SSH_OPEN));
    if (parsed.status !== "signal") throw new Error("expected a signal");
    const detector = DETECTORS.find((d) => d.id === "ec2-open-ingress");
    if (!detector) throw new Error("detector missing");
    const decision = decide(
      {
        id: "asm-test",
        detectorId: detector.id,
        severity: "high",
        title: "t",
        account: "776520358045",
        region: "us-east-1",
        resources: {},
        evidence: [],
        actions: [{ action: "ec2:delete-everything", params: {} }],
        notes: [],
        doubts: [],
        subject: {},
      },
      parsed.signal,
      detector,
      defaultPolicy(),
      { forceDryRun: true },
    );
    expect(decision.mode).toBe("alert");
    expect(decision.plan).toEqual([]);
    expect(decision.reasons.at(-1)).toMatch(
      /unknown action "ec2:delete-everything"; valid actions: ec2:revoke-ingress/,
    );
  });

  it("routes notifications by severity and detector", () => {
    const result = run(SSH_OPEN, {
      notify: {
        routes: [
          { name: "all", slack: { channel: "#all" } },
          { name: "critical-only", minSeverity: "critical" },
          { name: "ingress", detectors: ["ec2-open-ingress"], minSeverity: "high" },
          { name: "logging", detectors: ["eks-logging-disabled"] },
        ],
      },
    });
    expect(result.decisions[0]?.severity).toBe("high");
    expect(result.decisions[0]?.notify).toEqual(["all", "ingress"]);
  });

  it("observes only with a staged detector: recorded as an alert with no plan and no notification route", () => {
    const result = run(
      SSH_OPEN,
      { dryRun: false, detectors: { "ec2-open-ingress": { staged: true } }, notify: { routes: [{ name: "all" }] } },
      false,
    );
    expect(result.outcome).toBe("alert");
    expect(result.plan).toEqual([]);
    expect(result.decisions[0]?.notify).toEqual([]);
    expect(result.decisions[0]?.reasons[0]).toContain("staged: ec2-open-ingress observes only");
  });

  it("skips failed API calls: nothing changed", () => {
    const result = run("cloudtrail/authorize-security-group-ingress/failed-unauthorized-world.json");
    expect(result.outcome).toBe("skipped");
    expect(result.skipped).toBe("failed-call");
    expect(result.reason).toContain("Client.UnauthorizedOperation");
  });

  it("gives the same assessment id to the same event every time, and a new one to an updated finding", () => {
    const first = run("guardduty/credentialaccess-kubernetes-maliciousipcaller/compromised-iam-user-secrets-list.json");
    const again = run("guardduty/credentialaccess-kubernetes-maliciousipcaller/compromised-iam-user-secrets-list.json");
    const updated = run(
      "guardduty/credentialaccess-kubernetes-maliciousipcaller/compromised-iam-user-secrets-list-updated-count5.json",
    );
    expect(first.assessments[0]?.id).toMatch(/^asm-[0-9a-f]{20}$/);
    expect(again.assessments[0]?.id).toBe(first.assessments[0]?.id);
    expect(updated.assessments[0]?.id).not.toBe(first.assessments[0]?.id);
  });
});
