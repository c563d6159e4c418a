/** How eks-responder reads an AWS SDK error: its code, and what it means for an action. */
export function awsErrorCode(error: unknown): string {
  if (error !== null && typeof error === "object") {
    const e = error as { name?: unknown; Code?: unknown; code?: unknown };
    for (const value of [e.Code, e.code, e.name]) if (typeof value === "string" && value !== "Error") return value;
  }
  return "Unknown";
}

export function awsErrorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The resource (or the rule, the association) no longer exists: the fix is already in place. */
const NOT_FOUND = new Set([
  "InvalidGroup.NotFound",
  "InvalidPermission.NotFound",
  "InvalidSecurityGroupRuleId.NotFound",
  "InvalidInstanceID.NotFound",
  "InvalidNetworkInterfaceID.NotFound",
  "ResourceNotFoundException",
]);

const ACCESS_DENIED = new Set([
  "UnauthorizedOperation",
  "AccessDenied",
  "AccessDeniedException",
  "UnauthorizedException",
]);

export function isNotFound(error: unknown): boolean {
  return NOT_FOUND.has(awsErrorCode(error));
}

export function isAccessDenied(error: unknown): boolean {
  return ACCESS_DENIED.has(awsErrorCode(error));
}

/** EC2 answers a DryRun call that would have succeeded with this error. */
export function isDryRunSuccess(error: unknown): boolean {
  return awsErrorCode(error) === "DryRunOperation";
}
