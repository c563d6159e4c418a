import type { IamContext } from "./iam.ts";
import { rollbackTrustPolicy } from "./iam.ts";
import type { Settings } from "./naming.ts";
import { operatorRollbackPolicy } from "./organization-iam.ts";

/**
 * The operator rollback role: what `eks-responder rollback` needs (docs/iam.md), and nothing the functions have is
 * widened for it. Assumed by the operators of settings.operatorPrincipalArns, or by principals tagged
 * `eks-responder:operator = <app>-<stage>` when none are set (rollbackTrustPolicy). Sessions last an hour.
 */
export function createRollbackRole(settings: Settings, iam: $util.Output<IamContext>) {
  return new aws.iam.Role("RollbackRole", {
    name: settings.rollbackRoleName,
    description: "eks-responder rollback: undo a recorded remediation (operators only)",
    maxSessionDuration: 3600,
    assumeRolePolicy: iam.apply((c) =>
      JSON.stringify(
        rollbackTrustPolicy(c, { principalArns: settings.operatorPrincipalArns, tagValue: settings.prefix }),
      ),
    ),
    inlinePolicies: [
      { name: "rollback", policy: iam.apply((c) => JSON.stringify(operatorRollbackPolicy(settings, c))) },
    ],
  });
}
