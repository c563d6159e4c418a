import * as z from "../zod.ts";
import { assessFinding } from "./guardduty-common.ts";
import { playbookOf, revokeBindingStep } from "./guardduty-kubernetes.ts";
import type { DetectorDefinition } from "./types.ts";

/** Findings about an RBAC binding that lets anonymous callers or a default service account in. */
const BINDING_FINDINGS = /^Policy:Kubernetes\/(AnonymousAccessGranted|AdminAccessToDefaultServiceAccount)/;

const settings = z._default(z.strictObject({}), {});

export const guardDutyConfigurationIssue: DetectorDefinition<typeof settings> = {
  id: "guardduty-configuration-issue",
  title: "GuardDuty: risky cluster configuration",
  summary:
    "EKS audit-log findings of purpose `Policy` (for example `Policy:Kubernetes/AnonymousAccessGranted`, " +
    "`AdminAccessToDefaultServiceAccount`, `ExposedDashboard`): a Kubernetes RBAC or exposure setting that invites " +
    "attack. When the finding is about a binding (anonymous access granted, admin bound to a default service " +
    "account) the playbook deletes that binding (`k8s:revoke-binding`, after recording it whole); an exposed " +
    "dashboard or Service is alerted on with the evidence.",
  triggers: ["aws.guardduty Policy:Kubernetes/*"],
  actions: ["k8s:revoke-binding"],
  defaultMode: "approve",
  defaultModeReason:
    "removing a binding removes whatever access it grants; a human confirms the exact binding first (and the action never removes another subject's access without approval)",
  settings,
  detect(signal) {
    return assessFinding(signal, guardDutyConfigurationIssue.id, "configuration-issue", (s) => {
      if (!BINDING_FINDINGS.test(s.findingType)) {
        return {
          notes: [
            "fix the exposure inside the cluster (a Service or dashboard): the finding names the Kubernetes API call that made it",
          ],
        };
      }
      return playbookOf([revokeBindingStep(s)]);
    });
  },
};
