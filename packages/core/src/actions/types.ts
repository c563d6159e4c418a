import type { z } from "zod";

export type AwsService = "ec2" | "eks" | "ssm" | "autoscaling";

/** One exact AWS API call: the operation name of the AWS API and its request parameters. */
export interface PlannedCall {
  service: AwsService;
  operation: string;
  params: Record<string, unknown>;
  /** What the call does and, when a parameter is only known at apply time, how it is found. */
  note?: string;
}

export interface PlanContext {
  /** EC2 calls that support it are sent with `DryRun: true`. */
  dryRun: boolean;
  assessmentId: string;
  account: string;
  region: string;
}

/** A plan, or the reason the action refuses to plan (then the decision falls back to an alert). */
export type PlanResult = { calls: PlannedCall[] } | { refused: string };

/**
 * A registered remediation unit. `plan` is pure: the same params and context always give the same calls.
 * (`check`, `apply` and `rollback` join this contract with the live actions.)
 */
export interface ActionDefinition<S extends z.ZodType = z.ZodType> {
  /** `<service>:<verb>-<object>` */
  id: string;
  summary: string;
  params: S;
  /** Every IAM action the action needs to check, apply and roll back. */
  permissions: readonly string[];
  /** Takes something out of service or removes access someone relies on. */
  destructive: boolean;
  reversible: boolean;
  preconditions: readonly string[];
  /** How the action is undone, in one sentence. */
  rollback: string;
  plan(params: z.output<S>, context: PlanContext): PlanResult;
  /** A worked example: parameters that parse. */
  example: z.input<S>;
}
