/**
 * Matches an ARN against a policy pattern where `*` stands for any run of characters and `?` for one, as IAM does
 * in ARN conditions. Case-sensitive, like ARNs.
 */
export function arnMatches(arn: string, pattern: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${source}$`).test(arn);
}

export function anyArnMatches(arn: string | undefined, patterns: readonly string[]): string | undefined {
  if (arn === undefined) return undefined;
  return patterns.find((p) => arnMatches(arn, p));
}
