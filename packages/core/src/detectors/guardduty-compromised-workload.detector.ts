import * as z from "../zod.ts";
import { assessFinding } from "./guardduty-common.ts";
import { isolatePodStep, playbookOf, type Step, scaleWorkloadStep } from "./guardduty-kubernetes.ts";
import type { DetectorDefinition } from "./types.ts";

const settings = z._default(
  z.strictObject({
    /**
     * Also scale the pod's owning workload to zero (`k8s:scale-workload`), for a workload that keeps recreating the
     * pod. Destructive: only ever run after approval.
     */
    scaleWorkload: z._default(z.boolean(), false),
  }),
  { scaleWorkload: false },
);

/** Exec findings are about the caller, not the pod: the pod exec'd into is usually a system pod doing its job. */
const EXEC_FINDING = /ExecInKubeSystemPod|ExecInPod/;

export const guardDutyCompromisedWorkload: DetectorDefinition<typeof settings> = {
  id: "guardduty-compromised-workload",
  title: "GuardDuty: suspicious workload",
  summary:
    "EKS audit-log findings about a workload: a privileged container, a sensitive host mount, an exec into a " +
    "kube-system pod (for example `PrivilegeEscalation:Kubernetes/PrivilegedContainer`, " +
    "`Execution:Kubernetes/ExecInKubeSystemPod`), and Malware Protection's scan results on a container workload " +
    "(`Execution:Kubernetes/MaliciousFile`, `Execution:Kubernetes/SuspiciousFile`). The playbook isolates the pod " +
    "with a deny-all NetworkPolicy (`k8s:isolate-pod`, which first checks that something enforces NetworkPolicies), " +
    "and with `scaleWorkload` scales its owner to zero; an exec finding, a pod on the node's network or a kube-system " +
    "pod is alerted on with the pod, namespace and image.",
  triggers: [
    "aws.guardduty *:Kubernetes/PrivilegedContainer|ContainerWithSensitiveMount|ExecInKubeSystemPod|…",
    "aws.guardduty Execution:Kubernetes/MaliciousFile|SuspiciousFile",
  ],
  actions: ["k8s:isolate-pod", "k8s:scale-workload"],
  defaultMode: "approve",
  defaultModeReason:
    "the workload may be legitimate (a CNI or a monitoring agent); a human confirms before it loses the network",
  settings,
  detect(signal, config) {
    return assessFinding(signal, guardDutyCompromisedWorkload.id, "compromised-workload", (s) => {
      const inspect = `inspect ${s.workload?.namespace ?? "?"}/${s.workload?.name ?? "?"}; if it is not expected, delete it and the binding that allowed it`;
      if (EXEC_FINDING.test(s.findingType)) {
        return {
          notes: [
            `${s.findingType} is about the caller (${s.kubernetesUser?.username ?? "unknown"}), not the pod: revoke the caller's access and review what it ran`,
            inspect,
          ],
        };
      }
      const steps: Step[] = [isolatePodStep(s)];
      if (config.scaleWorkload) steps.push(scaleWorkloadStep(s));
      const playbook = playbookOf(steps);
      return { actions: playbook.actions, notes: [...playbook.notes, inspect] };
    });
  },
};
