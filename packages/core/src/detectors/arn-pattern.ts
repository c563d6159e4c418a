/** Compiled patterns: they come from the policy, so there are few, and each is matched against many events. */
const compiled = new Map<string, RegExp>();
const MAX_COMPILED = 1000;

function patternRegExp(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    const source = pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".");
    re = new RegExp(`^${source}$`);
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

/**
 * Matches an ARN against a policy pattern where `*` stands for any run of characters and `?` for one, as IAM does
 * in ARN conditions. Case-sensitive, like ARNs.
 */
export function arnMatches(arn: string, pattern: string): boolean {
  return patternRegExp(pattern).test(arn);
}

export function anyArnMatches(arn: string | undefined, patterns: readonly string[]): string | undefined {
  if (arn === undefined) return undefined;
  return patterns.find((p) => arnMatches(arn, p));
}
