import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { classifyFinding, splitFindingType } from "../../../packages/core/src/detectors/guardduty-families.ts";
import {
  type FindingTypeEntry,
  GUARDDUTY_EKS_FINDING_TYPES,
} from "../../../packages/core/src/detectors/guardduty-finding-types.ts";
import { guardDutySignalOf } from "../../helpers/guardduty.ts";

const FIXTURES = join(import.meta.dirname, "../../fixtures/guardduty");

/**
 * A real finding of each resource kind, whose type is swapped for the one under test: the minimal signal of that type
 * (a cluster for a Kubernetes finding, an EKS node for a Runtime, EC2 or standalone-container one).
 */
const TEMPLATES: Record<string, string> = {
  Kubernetes: "credentialaccess-kubernetes-maliciousipcaller/compromised-iam-user-secrets-list.json",
  Runtime: "cryptocurrency-runtime-bitcointool-b/eks-pod.json",
  EC2: "backdoor-ec2-c-cactivity-b/eks-node-actor.json",
  Container: "backdoor-ec2-c-cactivity-b/eks-node-actor.json",
  EKS: "attacksequence-eks-compromisedcluster/exec-c2-cryptomining-sequence.json",
};

function signalOf(entry: FindingTypeEntry) {
  const { resource } = splitFindingType(entry.type);
  const template = TEMPLATES[resource];
  if (!template) throw new Error(`no template for ${resource} findings`);
  const event = JSON.parse(readFileSync(join(FIXTURES, template), "utf8")) as { detail: { type: string } };
  event.detail.type = entry.type;
  return guardDutySignalOf(event);
}

describe("the GuardDuty EKS finding-type catalogue", () => {
  it("lists each type once, in GuardDuty's ThreatPurpose:Resource/Name form", () => {
    const types = GUARDDUTY_EKS_FINDING_TYPES.map((e) => e.type);
    expect(new Set(types).size).toBe(types.length);
    for (const type of types)
      expect(type).toMatch(/^[A-Za-z]+:(Kubernetes|Runtime|EC2|Container|EKS)\/[A-Za-z0-9.&!]+$/);
    // Every family eks-responder has is reached by some type.
    expect(new Set(GUARDDUTY_EKS_FINDING_TYPES.map((e) => e.family))).toEqual(
      new Set([
        "configuration-issue",
        "compromised-user",
        "compromised-workload",
        "compromised-node",
        "runtime-threat",
        "attack-sequence",
      ]),
    );
  });

  it.each(GUARDDUTY_EKS_FINDING_TYPES.map((e) => [e.type, e] as const))(
    "classifyFinding puts %s in the catalogue's family",
    (_type, entry) => {
      const signal = signalOf(entry);
      expect(signal.findingType).toBe(entry.type);
      expect(classifyFinding(signal).family).toBe(entry.family);
    },
  );
});
