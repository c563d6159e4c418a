import * as z from "../zod.ts";
import { assessFinding } from "./guardduty-common.ts";
import type { DetectorDefinition } from "./types.ts";

const settings = z._default(z.strictObject({}), {});

export const guardDutyAttackSequence: DetectorDefinition<typeof settings> = {
  id: "guardduty-attack-sequence",
  title: "GuardDuty: attack sequence on an EKS cluster",
  summary:
    "`AttackSequence:EKS/CompromisedCluster`: GuardDuty Extended Threat Detection tied several signals into one " +
    "multi-stage attack on a cluster. The team is alerted at once with the sequence's evidence; each underlying " +
    "finding is handled by its own detector.",
  triggers: ["aws.guardduty AttackSequence:EKS/*"],
  actions: [],
  defaultMode: "alert",
  defaultModeReason: "an attack sequence spans many resources; responders decide the containment",
  settings,
  detect(signal) {
    return assessFinding(signal, guardDutyAttackSequence.id, "attack-sequence", () => ({
      notes: ["treat the cluster as compromised: follow the incident runbook"],
    }));
  },
};
