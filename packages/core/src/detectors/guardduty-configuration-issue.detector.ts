import * as z from "../zod.ts";
import { assessFinding } from "./guardduty-common.ts";
import type { DetectorDefinition } from "./types.ts";

const settings = z._default(z.strictObject({}), {});

export const guardDutyConfigurationIssue: DetectorDefinition<typeof settings> = {
  id: "guardduty-configuration-issue",
  title: "GuardDuty: risky cluster configuration",
  summary:
    "EKS audit-log findings of purpose `Policy` (for example `Policy:Kubernetes/AnonymousAccessGranted`, " +
    "`AdminAccessToDefaultServiceAccount`, `ExposedDashboard`): a Kubernetes RBAC or exposure setting that invites " +
    "attack. The fix lives inside the cluster (a RoleBinding, a Service), so the team is alerted with the evidence.",
  triggers: ["aws.guardduty Policy:Kubernetes/*"],
  actions: [],
  defaultMode: "alert",
  defaultModeReason: "the fix is a Kubernetes object, which eks-responder does not change",
  settings,
  detect(signal) {
    return assessFinding(signal, guardDutyConfigurationIssue.id, "configuration-issue", () => ({
      notes: ["fix the binding or exposure inside the cluster; the finding names the Kubernetes API call that made it"],
    }));
  },
};
