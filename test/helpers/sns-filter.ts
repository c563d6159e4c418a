/**
 * SNS delivery to a topic's subscriptions, modelled for the one filter-policy form the deployment uses: a policy of
 * attribute names, each with a list of exact string values, on the MessageAttributes scope. Hand-written because no
 * local SNS implementation of filter policies runs here.
 *
 * Semantics, from the SNS developer guide:
 * - a subscription without a filter policy receives every message of its topic
 *   (https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering.html);
 * - with one, a message is accepted when every property name of the policy matches a message attribute name, and for
 *   each at least one of the policy's values matches the attribute's value; a message without the attribute is not
 *   accepted (https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html);
 * - a policy value matches a String attribute exactly (https://docs.aws.amazon.com/sns/latest/dg/string-value-matching.html),
 *   case-sensitively, and on the MessageAttributes scope only String and String.Array attributes are compared
 *   (https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html); String.Array is not
 *   used here, so any other data type does not match.
 * Any other operator (prefix, anything-but, numeric, exists, nesting) makes the model throw rather than guess.
 */

export interface ModelSubscription {
  name: string;
  topicArn: string;
  /** The subscription's FilterPolicy attribute (JSON), if any. */
  filterPolicy?: string;
}

export interface ModelMessage {
  TopicArn?: string | undefined;
  Message?: string | undefined;
  MessageAttributes?: Record<string, { DataType?: string | undefined; StringValue?: string | undefined }> | undefined;
}

function exactValues(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === "string")) {
    throw new Error(`filter policy property ${name}: only lists of exact strings are modelled`);
  }
  return value;
}

/** Whether SNS delivers `message` to `subscription`. */
export function accepts(subscription: ModelSubscription, message: ModelMessage): boolean {
  if (message.TopicArn !== subscription.topicArn) return false;
  if (subscription.filterPolicy === undefined) return true;
  const policy: unknown = JSON.parse(subscription.filterPolicy);
  if (policy === null || typeof policy !== "object" || Array.isArray(policy)) throw new Error("not a filter policy");
  return Object.entries(policy).every(([name, value]) => {
    const wanted = exactValues(name, value);
    const attribute = message.MessageAttributes?.[name];
    if (attribute?.DataType !== "String" || attribute.StringValue === undefined) return false;
    return wanted.includes(attribute.StringValue);
  });
}

/** The messages each subscription receives, by subscription name. */
export function deliveries(
  subscriptions: readonly ModelSubscription[],
  messages: readonly ModelMessage[],
): Map<string, ModelMessage[]> {
  return new Map(subscriptions.map((s) => [s.name, messages.filter((m) => accepts(s, m))]));
}
