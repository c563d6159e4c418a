import type { Signal } from "../signals/types.ts";
import type * as z from "../zod.ts";

export type Severity = "low" | "medium" | "high" | "critical";
export const SEVERITIES: readonly Severity[] = ["low", "medium", "high", "critical"];

/** How a detector's assessments are handled: fix automatically, ask a human first, only alert, or ignore. */
export type Mode = "auto" | "approve" | "alert" | "off";
export const MODES: readonly Mode[] = ["auto", "approve", "alert", "off"];

/** An action an assessment calls for, with its parameters (validated by the action's schema when planned). */
export interface ActionRequest {
  action: string;
  params: Record<string, unknown>;
}

/** What is wrong, where, and what would fix it. Produced by a detector from one signal. */
export interface Assessment {
  /** Stable id: the same event always yields the same id (used for idempotency, approvals and tags). */
  id: string;
  detectorId: string;
  severity: Severity;
  title: string;
  account: string;
  region: string;
  cluster?: string;
  resources: {
    securityGroupId?: string;
    ruleIds?: string[];
    instanceId?: string;
    nodegroup?: string;
    pod?: { namespace?: string; name?: string };
    principalArn?: string;
  };
  /** Facts from the event that support the assessment, as short lines a human can read. */
  evidence: string[];
  /** The playbook: the actions this assessment calls for. Empty when no automated fix exists. */
  actions: ActionRequest[];
  /** Why there is no automated fix, or what it cannot cover: shown in alerts. */
  notes: string[];
  /**
   * Facts the detector could not establish from the event. Any doubt makes the decision fail closed: alert only.
   */
  doubts: string[];
  /** Facts used by policy exemptions. */
  subject: {
    /** The tags of each resource involved (a cluster, an instance), kept apart: an exempt tag on any one exempts. */
    tags?: Record<string, string>[];
    namespace?: string;
  };
}

export interface DetectorDefinition<S extends z.ZodMiniType = z.ZodMiniType> {
  /** kebab-case id, used as the key in the policy. */
  id: string;
  title: string;
  /** What the detector looks for, one paragraph: the start of its doc page. */
  summary: string;
  /** The events it reads, as `<source> <eventName or finding family>`. */
  triggers: string[];
  /** Every action the detector's playbook can call for (checked against what it plans, over every fixture). */
  actions: readonly string[];
  defaultMode: Mode;
  /** Why the default mode is what it is. */
  defaultModeReason: string;
  /** Detector-specific policy settings with their defaults. */
  settings: S;
  detect(signal: Signal, settings: z.output<S>, context: DetectContext): Assessment[];
}

export interface DetectContext {
  /** CIDRs the policy allows as sources of ingress and endpoint access whatever their width. */
  allowedCidrs: readonly string[];
  /** The CIDRs a public cluster endpoint may be open to (policy `endpoint.allowedPublicCidrs`). */
  endpointAllowedPublicCidrs: readonly string[];
}
