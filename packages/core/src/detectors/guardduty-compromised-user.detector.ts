import * as z from "../zod.ts";
import { assessFinding } from "./guardduty-common.ts";
import { playbookOf, revokeAccessEntryStep } from "./guardduty-kubernetes.ts";
import type { DetectorDefinition } from "./types.ts";

const settings = z._default(z.strictObject({}), {});

export const guardDutyCompromisedUser: DetectorDefinition<typeof settings> = {
  id: "guardduty-compromised-user",
  title: "GuardDuty: compromised Kubernetes user",
  summary:
    "EKS audit-log findings about who calls the Kubernetes API (credential access, discovery, persistence, defence " +
    "evasion, impact; for example `Discovery:Kubernetes/SuccessfulAnonymousAccess`, " +
    "`CredentialAccess:Kubernetes/MaliciousIPCaller`). When the Kubernetes user maps to an IAM principal (a role " +
    "session or an IAM user), the playbook removes that principal's EKS access entry (`eks:revoke-access`); a " +
    "service account or an anonymous caller is alerted on with the user, groups and source.",
  triggers: [
    "aws.guardduty CredentialAccess|Discovery|Persistence|PrivilegeEscalation|DefenseEvasion|Impact:Kubernetes/*",
  ],
  actions: ["eks:revoke-access"],
  defaultMode: "approve",
  defaultModeReason:
    "an access entry often serves a whole team or pipeline, not only the compromised session; a human confirms first",
  settings,
  detect(signal) {
    return assessFinding(signal, guardDutyCompromisedUser.id, "compromised-user", (s) => {
      const playbook = playbookOf([revokeAccessEntryStep(s)]);
      return {
        actions: playbook.actions,
        notes: [
          ...playbook.notes,
          `revoke the credentials of ${s.kubernetesUser?.username ?? "the Kubernetes user named in the finding"} and review its RBAC bindings`,
        ],
      };
    });
  },
};
