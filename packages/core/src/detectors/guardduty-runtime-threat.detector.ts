import * as z from "../zod.ts";
import { severityFromGuardDuty } from "./common.ts";
import { assessFinding } from "./guardduty-common.ts";
import { runtimeShowsCompromise } from "./guardduty-families.ts";
import {
  cordonNodeStep,
  isolatePodStep,
  nodeSteps,
  playbookOf,
  type Step,
  scaleWorkloadStep,
} from "./guardduty-kubernetes.ts";
import type { DetectorDefinition } from "./types.ts";

const settings = z._default(
  z.strictObject({
    /** Also scale the pod's owning workload to zero (`k8s:scale-workload`); destructive: only after approval. */
    scaleWorkload: z._default(z.boolean(), false),
  }),
  { scaleWorkload: false },
);

export const guardDutyRuntimeThreat: DetectorDefinition<typeof settings> = {
  id: "guardduty-runtime-threat",
  title: "GuardDuty: malware, crypto-mining or command-and-control at runtime",
  summary:
    "GuardDuty Runtime Monitoring findings on EKS (`*:Runtime/*`, for example `CryptoCurrency:Runtime/BitcoinTool.B`, " +
    "`Backdoor:Runtime/C&CActivity.B`): a process on a node or in a pod doing what malware does. The process is " +
    "the actor, the pod or node it runs on (and any target process or file) the target. When the finding shows " +
    "compromise (purpose Backdoor, CryptoCurrency, Trojan or Impact, or severity High or Critical): in a pod, the " +
    "playbook isolates the pod with a deny-all NetworkPolicy and cordons its node (Kubernetes side; the node keeps " +
    "running, nothing new is scheduled on it); on the node itself, or in a pod a NetworkPolicy cannot isolate (host " +
    "network, kube-system), it cordons the node and isolates the instance (network first, disks kept for forensics). " +
    "Otherwise the team is alerted.",
  triggers: ["aws.guardduty *:Runtime/* on an EKS cluster or node"],
  actions: ["k8s:isolate-pod", "k8s:cordon-node", "ec2:isolate-instance", "k8s:scale-workload"],
  defaultMode: "approve",
  defaultModeReason: "isolation takes a pod, or a node and every pod on it, out of service; a human confirms first",
  settings,
  detect(signal, config) {
    return assessFinding(signal, guardDutyRuntimeThreat.id, "runtime-threat", (s) => {
      if (!runtimeShowsCompromise(s)) {
        return {
          notes: [
            `a ${severityFromGuardDuty(s.severity)}-severity ${s.findingType} finding does not show the node is compromised: inspect the process and the pod before taking the node out of service`,
          ],
        };
      }
      const pod = isolatePodStep(s);
      if ("request" in pod) {
        const steps: Step[] = [pod, cordonNodeStep(s)];
        if (config.scaleWorkload) steps.push(scaleWorkloadStep(s));
        return playbookOf(steps);
      }
      // No pod a NetworkPolicy can isolate: the node is what is contained.
      const node = playbookOf(nodeSteps(s));
      return s.workload ? { actions: node.actions, notes: [pod.note, ...node.notes] } : node;
    });
  },
};
