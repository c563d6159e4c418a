import * as z from "../zod.ts";
import { assessFinding } from "./guardduty-common.ts";
import { nodeIsCompromised } from "./guardduty-families.ts";
import { nodeSteps, playbookOf } from "./guardduty-kubernetes.ts";
import type { DetectorDefinition } from "./types.ts";

const settings = z._default(z.strictObject({}), {});

export const guardDutyCompromisedNode: DetectorDefinition<typeof settings> = {
  id: "guardduty-compromised-node",
  title: "GuardDuty: compromised worker node",
  summary:
    "GuardDuty EC2 findings on an instance that is an EKS worker node (known by its `eks:cluster-name`, " +
    "`kubernetes.io/cluster/<name>` or eksctl tags). When the node is the actor (or the finding's purpose is " +
    "Backdoor, CryptoCurrency, Trojan or Impact) the playbook cordons the node (Kubernetes side first) and isolates " +
    "the instance; when it is only the target of a " +
    "probe or brute force, the team is alerted.",
  triggers: ["aws.guardduty *:EC2/* on an EKS node"],
  actions: ["k8s:cordon-node", "ec2:isolate-instance"],
  defaultMode: "approve",
  defaultModeReason: "isolation takes a node out of service; a human confirms first",
  settings,
  detect(signal) {
    return assessFinding(signal, guardDutyCompromisedNode.id, "compromised-node", (s) => {
      if (!nodeIsCompromised(s)) {
        return {
          notes: [
            "the node is the target, not the actor: nothing in the finding shows it is compromised; close the exposed port",
          ],
        };
      }
      return playbookOf(nodeSteps(s));
    });
  },
};
