/**
 * How an email approver's signed link reaches that approver and nobody else: one SNS message per approver on the
 * dedicated approvals topic (never the alerts topic), carrying the message attribute `approver`; each approver's email
 * subscription has the filter policy `{"approver": ["<their address>"]}`, so SNS delivers it only there. The deploy
 * creates those subscriptions from EKS_RESPONDER_APPROVER_EMAILS, and the topic policy refuses any other subscription
 * (infra/approvals-topic.ts).
 *
 * Why one topic with filter policies rather than a topic per approver: the same isolation (a subscription without
 * the approver's filter cannot be made: the topic policy denies sns:Subscribe for any other endpoint or protocol) with
 * one topic, one policy and one IAM grant however many approvers there are.
 *
 * SNS matches a String attribute against a filter policy's values exactly
 * (https://docs.aws.amazon.com/sns/latest/dg/string-value-matching.html) and case-sensitively
 * (https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html), so both sides spell the
 * address with approverChannelKey.
 */

/** The message attribute that names the approver a message is for. */
export const APPROVER_ATTRIBUTE = "approver";

/** The one spelling of an approver's address on both sides of the filter: trimmed, lower case. */
export function approverChannelKey(email: string): string {
  return email.trim().toLowerCase();
}

/** The filter policy of an approver's subscription: only messages whose `approver` attribute is exactly theirs. */
export function approverFilterPolicy(email: string): Record<string, string[]> {
  return { [APPROVER_ATTRIBUTE]: [approverChannelKey(email)] };
}
