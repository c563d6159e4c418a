import { hash } from "node:crypto";
import type { GuardDutySignal, Signal } from "../signals/types.ts";
import type { Assessment, Severity } from "./types.ts";

/**
 * The identity of the event a signal came from: its account and region, then the CloudTrail eventID, or the GuardDuty
 * finding id + updatedAt. The account and region are part of it: an event id is unique only where it was made, and the
 * same id seen in two accounts (or copied from one to another) is two events, never one event's duplicate.
 */
export function signalKey(signal: Signal): string {
  const where = `${signal.account}:${signal.region}`;
  return signal.family === "cloudtrail"
    ? `ct:${where}:${signal.eventId}`
    : `gd:${where}:${signal.findingId}@${signal.updatedAt}`;
}

/** Deterministic assessment id: the same event and detector always give the same id. */
export function assessmentId(detectorId: string, signal: Signal, index = 0): string {
  // crypto.hash: the one-shot form, faster than createHash for a short input (no Hash object per call).
  const digest = hash("sha256", `${detectorId}\n${signalKey(signal)}\n${index}`, "hex");
  return `asm-${digest.slice(0, 20)}`;
}

/** GuardDuty's bands: Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0. */
export function severityFromGuardDuty(score: number): Severity {
  if (score >= 9) return "critical";
  if (score >= 7) return "high";
  if (score >= 4) return "medium";
  return "low";
}

export function describeActor(signal: Signal): string {
  if (signal.family !== "cloudtrail") return "GuardDuty";
  return signal.actor.arn ?? signal.actor.principalId ?? "an unknown principal";
}

export function actorEvidence(signal: Signal): string[] {
  if (signal.family !== "cloudtrail") return [];
  const { actor } = signal;
  return [
    `by ${describeActor(signal)}${actor.type ? ` (${actor.type})` : ""}`,
    ...(actor.sourceIp ? [`from ${actor.sourceIp}`] : []),
    ...(actor.userAgent ? [`user agent ${actor.userAgent}`] : []),
    `CloudTrail event ${signal.eventId} at ${signal.time}`,
  ];
}

type AssessmentFields = Omit<Assessment, "id" | "account" | "region" | "notes" | "doubts" | "subject" | "actions"> &
  Partial<Pick<Assessment, "notes" | "doubts" | "subject" | "actions">>;

/** Builds an assessment with the fields every detector fills the same way. */
export function makeAssessment(signal: Signal, index: number, fields: AssessmentFields): Assessment {
  return {
    id: assessmentId(fields.detectorId, signal, index),
    account: signal.account,
    region: signal.region,
    actions: [],
    notes: [],
    doubts: [],
    subject: {},
    ...fields,
  };
}

export type { GuardDutySignal };
