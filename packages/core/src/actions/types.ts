import type { AwsClients } from "../aws/clients.ts";
import type { KubernetesAccess } from "../kubernetes/api.ts";
import type { ExemptTag } from "../policy/exempt-tags.ts";
import type * as z from "../zod.ts";

/**
 * How long an action waits, in total, for an EKS update when the caller says nothing (ApplyContext.updateWaitMs): the
 * respond function has 60 s, and needs the rest for reading, recording and notifying. Past it the outcome is a
 * transient failure (UPDATE_STILL_IN_PROGRESS) and the event goes back to its retry policy, whose redelivery re-reads
 * the cluster and finds the change made (already done) or still to make. Here rather than in eks-calls.ts, which
 * waits: the approval task and the CLI name these without importing the actions' live code.
 */
export const RESPOND_UPDATE_WAIT_MS = 30_000;
/** What the approval's Apply task (900 s) and the CLI may wait: EKS says updates "should finish within a few minutes". */
export const LONG_UPDATE_WAIT_MS = 600_000;

export type AwsService = "ec2" | "eks" | "ssm" | "autoscaling";

/** The planes a call goes to: an AWS API, or the Kubernetes API of the cluster (`kubernetes`). */
export type CallService = AwsService | "kubernetes";

/**
 * One exact call. AWS: the operation name of the AWS API and its request parameters. Kubernetes (`service:
 * "kubernetes"`): `operation` is the HTTP method and the API path (`PATCH /api/v1/nodes/ip-10-0-1-5`), `params` the
 * JSON body sent (`{}` for none).
 */
export interface PlannedCall {
  service: CallService;
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
  /**
   * Who approved this decision, when a human did: set by the CLI after its confirmation (and by the approval workflow
   * once it passes its approver on). Absent on the automatic path. Actions that disrupt workloads without the
   * Kubernetes side draining first (ssm:patch-nodes' reboots) do so only when it is set.
   */
  approvedBy?: string;
}

/** A plan, or the reason the action refuses to plan (then the decision falls back to an alert). */
export type PlanResult = { calls: PlannedCall[] } | { refused: string };

export interface ApplyContext extends PlanContext {
  clients: AwsClients;
  /**
   * The policy's exemption tags (`exemptions.tags`), checked again on the live resource by the actions that act on a
   * CloudTrail event, which carries no tags: the cluster (EKS actions) and the security group (ingress revoke).
   * Required, so that no caller can skip the check by forgetting it; `[]` when the policy has none.
   */
  exemptTags: readonly ExemptTag[];
  /** Waits between polls (EKS updates in progress, SSM commands); replaced by tests. */
  sleep(ms: number): Promise<void>;
  /**
   * How long an action may wait, in total, for an asynchronous change to end (an EKS update in progress, eks-calls.ts).
   * Absent: RESPOND_UPDATE_WAIT_MS, which fits the respond function's 60 s; past it the outcome is a transient failure
   * and the event is retried. The approval's Apply task (900 s) and the CLI may pass LONG_UPDATE_WAIT_MS.
   */
  updateWaitMs?: number;
  /**
   * Awaited before each call that changes something (CallLog sends reads at once): the respond path passes its
   * blast-radius slot here, so an action's live reads run while the slot is taken and its first change waits for it.
   * Rejecting stops the action before any change (it reports a failure, which the caller then discards).
   */
  beforeChange?: () => Promise<void>;
  /**
   * The Kubernetes API of a cluster, for the `k8s:*` actions: an EKS token made with the function's credentials, or the
   * CLI's kubeconfig. Absent where no Kubernetes access is set up: a Kubernetes action then refuses, with the reason.
   */
  kubernetes?: KubernetesAccess;
}

/** One RBAC rule: verbs on resources of API groups (`""` is the core group), as in a ClusterRole. */
export interface KubernetesRule {
  apiGroups: readonly string[];
  resources: readonly string[];
  verbs: readonly string[];
}

/** One AWS call an action made, as recorded in its outcome. */
export interface CallRecord {
  service: CallService;
  operation: string;
  params: Record<string, unknown>;
  /** ok; dry-run-ok: EC2 answered DryRunOperation; not-found: the resource was gone; error: any other failure. */
  result: "ok" | "dry-run-ok" | "not-found" | "error";
  error?: string;
}

/**
 * applied: the change was made; already-done: live state already had it (nothing changed); would-succeed: dry-run,
 * AWS confirmed the calls would be allowed; refused: a precondition failed, nothing changed; failed: an error, with every
 * step made before it rolled back.
 */
export type ApplyStatus = "applied" | "already-done" | "would-succeed" | "refused" | "failed";

export interface ApplyResult {
  action: string;
  status: ApplyStatus;
  reason: string;
  calls: CallRecord[];
  /** The live state before the change, as read by `check`. */
  before?: Record<string, unknown>;
  /** What `rollback` needs to undo this change exactly (absent when nothing changed or the action is irreversible). */
  undo?: Record<string, unknown>;
  error?: { code: string; message: string };
  /** For a failure partway: whether the steps made before it were undone. */
  rolledBack?: boolean;
  /** Per-target detail (SSM: each instance's status). */
  details?: Record<string, unknown>;
  /**
   * What stays out of the action's reach on this resource, as read live (the respond path adds each to the decision's
   * reasons); also said in `reason`.
   */
  caveats?: string[];
}

/**
 * A registered remediation unit. `plan` is pure: the same params and context always give the same calls. `apply`
 * re-reads live state first (`check`), is idempotent, and on a failure partway undoes the steps it made. `rollback`
 * reverses a recorded `undo`.
 */
export interface ActionDefinition<S extends z.ZodMiniType = z.ZodMiniType> {
  /** `<service>:<verb>-<object>` */
  id: string;
  summary: string;
  params: S;
  /**
   * Every IAM action `check` and `apply` send, including apply's own undo of its earlier steps after a failure partway:
   * what the respond and approval-apply roles are granted.
   */
  permissions: readonly string[];
  /**
   * Every IAM action `rollback` sends (empty for an irreversible action): granted only to the operator rollback role
   * (infra/iam.ts), never to the functions, since undoing a fix re-opens what the fix closed.
   */
  rollbackPermissions: readonly string[];
  /**
   * Kubernetes actions: every RBAC rule `check` and `apply` need (what the shipped ClusterRole grants, the union over
   * ACTIONS: kubernetes/rbac.ts). Absent for AWS-only actions.
   */
  kubernetesPermissions?: readonly KubernetesRule[];
  /**
   * Kubernetes actions: the RBAC rules `rollback` needs beyond `kubernetesPermissions`, held by the operator who rolls
   * back (their kubeconfig), never granted to the responder (recreating a binding needs `bind`, for one).
   */
  kubernetesRollbackPermissions?: readonly KubernetesRule[];
  /** Takes something out of service or removes access someone relies on. */
  destructive: boolean;
  /**
   * Never run without a human's approval, whatever the policy's mode: an automatic decision whose plan holds this
   * action asks for approval instead (pipeline/decide.ts). For changes whose blast radius the responder cannot judge
   * from the event (scaling a workload to zero).
   */
  approvalOnly?: boolean;
  reversible: boolean;
  preconditions: readonly string[];
  /**
   * What the action does not cover: what stays open or possible after it ran, and what can undo it, each in one
   * sentence (docs/actions/*, "What it does not cover"). Never empty: every remediation leaves something.
   */
  notCovered: readonly string[];
  /** How the action is undone, in one sentence (for docs and messages). */
  rollbackSummary: string;
  plan(params: z.output<S>, context: PlanContext): PlanResult;
  /**
   * Imports the module with `check`, `apply` and `rollback` (actions/deferred.ts), which they otherwise import on their
   * first call: the respond path starts it as soon as an assessment names the action (warmPlaybook), so that it loads
   * while the safety reads are in flight. A load that fails is tried again by the next call.
   */
  load(): Promise<unknown>;
  /** Reads live state: whether the change is still needed, and the state before it. */
  check(params: z.output<S>, context: ApplyContext): Promise<CheckResult>;
  apply(params: z.output<S>, context: ApplyContext): Promise<ApplyResult>;
  /** Undoes a recorded change; absent for irreversible actions. */
  rollback?(undo: Record<string, unknown>, context: ApplyContext): Promise<ApplyResult>;
  /** A worked example: parameters that parse. */
  example: z.input<S>;
}

export type CheckResult =
  | { status: "needed"; before: Record<string, unknown> }
  | { status: "already-done"; reason: string; before?: Record<string, unknown> }
  | { status: "refused"; reason: string; before?: Record<string, unknown> };
