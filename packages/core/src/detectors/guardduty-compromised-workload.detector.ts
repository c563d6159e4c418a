import * as z from "../zod.ts";
import { assessFinding } from "./guardduty-common.ts";
import type { DetectorDefinition } from "./types.ts";

const settings = z._default(z.strictObject({}), {});

export const guardDutyCompromisedWorkload: DetectorDefinition<typeof settings> = {
  id: "guardduty-compromised-workload",
  title: "GuardDuty: suspicious workload",
  summary:
    "EKS audit-log findings about a workload: a privileged container, a sensitive host mount, an exec into a " +
    "kube-system pod (for example `PrivilegeEscalation:Kubernetes/PrivilegedContainer`, " +
    "`Execution:Kubernetes/ExecInKubeSystemPod`), and Malware Protection's scan results on a container workload " +
    "(`Execution:Kubernetes/MaliciousFile`, `Execution:Kubernetes/SuspiciousFile`). The team is alerted with the " +
    "pod, namespace and image.",
  triggers: [
    "aws.guardduty *:Kubernetes/PrivilegedContainer|ContainerWithSensitiveMount|ExecInKubeSystemPod|…",
    "aws.guardduty Execution:Kubernetes/MaliciousFile|SuspiciousFile",
  ],
  actions: [],
  defaultMode: "alert",
  defaultModeReason: "the workload may be legitimate (a CNI or a monitoring agent); a human judges",
  settings,
  detect(signal) {
    return assessFinding(signal, guardDutyCompromisedWorkload.id, "compromised-workload", (s) => ({
      notes: [
        `inspect ${s.workload?.namespace ?? "?"}/${s.workload?.name ?? "?"}; if it is not expected, delete it and the binding that allowed it`,
      ],
    }));
  },
};
