/**
 * The EventBridge rules eks-responder deploys, as plain data: infra/rules.ts creates them, and `replay` matches each
 * event against them (with pattern.ts) to say whether it would be delivered at all. Kept in core so both can use it.
 */
import { CLOUDTRAIL_EVENTS } from "../signals/cloudtrail.ts";
import { CLOUDTRAIL_DETAIL_TYPE } from "../signals/parse.ts";

/** An EventBridge event pattern, as plain data. */
export interface EventPattern {
  source: string[];
  "detail-type": string[];
  detail?: Record<string, unknown>;
}

export interface RuleSpec {
  /** Resource name, PascalCase. */
  name: string;
  description: string;
  pattern: EventPattern;
}

/**
 * The event rules, derived from what the parser reads (CLOUDTRAIL_EVENTS), so the rules and the code cannot drift:
 * one rule per CloudTrail source with exactly the event names eks-responder handles, and one for GuardDuty findings.
 */
export function ruleSpecs(): RuleSpec[] {
  const cloudTrail = Object.entries(CLOUDTRAIL_EVENTS).map(([source, names]) => ({
    name: `CloudTrail${source.replace("aws.", "").toUpperCase()}`,
    description: `eks-responder: ${source} API calls (${names.join(", ")})`,
    pattern: {
      source: [source],
      "detail-type": [CLOUDTRAIL_DETAIL_TYPE],
      detail: { eventSource: [`${source.replace("aws.", "")}.amazonaws.com`], eventName: [...names] },
    },
  }));
  return [
    ...cloudTrail,
    {
      name: "GuardDutyFindings",
      description: "eks-responder: GuardDuty findings",
      pattern: { source: ["aws.guardduty"], "detail-type": ["GuardDuty Finding"] },
    },
  ];
}
