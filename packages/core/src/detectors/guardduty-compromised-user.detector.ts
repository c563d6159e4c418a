import * as z from "../zod.ts";
import { assessFinding } from "./guardduty-common.ts";
import type { DetectorDefinition } from "./types.ts";

const settings = z._default(z.strictObject({}), {});

export const guardDutyCompromisedUser: DetectorDefinition<typeof settings> = {
  id: "guardduty-compromised-user",
  title: "GuardDuty: compromised Kubernetes user",
  summary:
    "EKS audit-log findings about who calls the Kubernetes API (credential access, discovery, persistence, defence " +
    "evasion, impact; for example `Discovery:Kubernetes/SuccessfulAnonymousAccess`, " +
    "`CredentialAccess:Kubernetes/MaliciousIPCaller`). The finding names the Kubernetes user; the team is alerted " +
    "with the user, groups and source so the credentials can be revoked.",
  triggers: [
    "aws.guardduty CredentialAccess|Discovery|Persistence|PrivilegeEscalation|DefenseEvasion|Impact:Kubernetes/*",
  ],
  actions: [],
  defaultMode: "alert",
  defaultModeReason: "a Kubernetes user is not an AWS resource eks-responder can revoke from the finding alone",
  settings,
  detect(signal) {
    return assessFinding(signal, guardDutyCompromisedUser.id, "compromised-user", (s) => ({
      notes: [
        `revoke the credentials of ${s.kubernetesUser?.username ?? "the Kubernetes user named in the finding"} and review its RBAC bindings`,
      ],
    }));
  },
};
