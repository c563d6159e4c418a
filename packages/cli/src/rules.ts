import { assertValidPattern, matchesPattern } from "@eks-responder/core/eventbridge/pattern.ts";
import { ruleSpecs } from "@eks-responder/core/eventbridge/rules.ts";

/**
 * The EventBridge rules the infra deploys, by name, with the very pattern objects it sends to PutRule. A pattern
 * EventBridge would refuse is a bug in the infra: replay stops with its EventPatternError rather than guess.
 */
const RULES = ruleSpecs();
for (const rule of RULES) assertValidPattern(rule.pattern);

/**
 * Which deployed rules would deliver `text` to the respond function, by the same EventBridge matcher the infra tests
 * use: an empty list means EventBridge would never deliver this event at all. Undefined when the text is not a JSON
 * event (then parsing reports it).
 */
export function deliveringRules(text: string): string[] | undefined {
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof event !== "object" || event === null || Array.isArray(event)) return undefined;
  return RULES.filter((rule) => matchesPattern(rule.pattern, event)).map((rule) => rule.name);
}
