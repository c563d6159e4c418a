/**
 * How many calls a plan makes, and on which plane, as one phrase for every message (terminal, Slack, SNS, the approval
 * page): "1 AWS call", "3 Kubernetes calls", "11 calls (4 AWS, 7 Kubernetes)".
 */
export function callsPhrase(plan: readonly { service: string }[]): string {
  const kubernetes = plan.filter((s) => s.service === "kubernetes").length;
  return countsPhrase(plan.length - kubernetes, kubernetes);
}

/** The same phrase from the counts, with an optional word before "calls" ("planned "). */
export function countsPhrase(aws: number, kubernetes: number, word = ""): string {
  const n = (count: number, what: string) => `${count} ${word}${what}call${count === 1 ? "" : "s"}`;
  if (kubernetes === 0) return n(aws, "AWS ");
  if (aws === 0) return n(kubernetes, "Kubernetes ");
  return `${n(aws + kubernetes, "")} (${aws} AWS, ${kubernetes} Kubernetes)`;
}
