/**
 * The steps of ec2:isolate-instance that keep the node and its evidence once its network is cut: termination
 * protection, stop on shutdown, scale-in protection, Standby, EBS snapshots. Each is best effort: a step AWS refuses
 * is reported in the outcome and never undoes the isolation, since rolling the network back would let a compromised
 * node talk again because, say, EC2 does not protect Spot instances from termination.
 */
import { awsErrorCode, awsErrorMessage } from "../aws/errors.ts";
import type { CallLog } from "./calls.ts";
import { QUARANTINE_TAG } from "./isolate-instance.action.ts";
import type { Live } from "./isolate-instance.live.ts";
import type { ApplyContext } from "./types.ts";

/** What the protections changed, so rollback undoes exactly that (a field is absent when its step did nothing). */
export interface ProtectionUndo {
  instanceId: string;
  /** Termination protection before, present when apply turned it on. */
  disableApiTermination?: boolean | undefined;
  /** Shutdown behaviour before, present when apply set it to stop. */
  shutdownBehavior?: string | undefined;
  /** The group whose scale-in protection apply set. */
  autoScalingGroupName?: string | undefined;
  /** The group in which apply put the instance in Standby. */
  standbyGroupName?: string | undefined;
}

export interface ProtectionStep {
  step: "termination-protection" | "stop-on-shutdown" | "scale-in-protection" | "standby" | "snapshots";
  status: "done" | "refused" | "skipped";
  reason?: string;
}

export interface Protections {
  steps: ProtectionStep[];
  snapshotIds: string[];
}

/** Runs one step; AWS's refusal becomes a reported "refused" step with its error code and message. */
async function attempt(
  step: ProtectionStep["step"],
  steps: ProtectionStep[],
  run: () => Promise<void>,
): Promise<boolean> {
  try {
    await run();
    steps.push({ step, status: "done" });
    return true;
  } catch (error) {
    steps.push({ step, status: "refused", reason: `${awsErrorCode(error)}: ${awsErrorMessage(error)}` });
    return false;
  }
}

export async function protect(live: Live, undo: ProtectionUndo, ctx: ApplyContext, log: CallLog): Promise<Protections> {
  const sdk = await import("../aws/ec2.ts");
  const ec2 = await ctx.clients.ec2();
  const instanceId = undo.instanceId;
  const steps: ProtectionStep[] = [];
  // EC2 refuses termination protection for Spot instances (UnsupportedOperation, "Modifying 'disableApiTermination'
  // is not supported for spot instances."): reported, the isolation stands.
  // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_ChangingDisableAPITermination.html
  const termination = { InstanceId: instanceId, DisableApiTermination: { Value: true } };
  if (
    await attempt("termination-protection", steps, async () => {
      await log.send("ec2", "ModifyInstanceAttribute", termination, () =>
        ec2.send(new sdk.ModifyInstanceAttributeCommand(termination)),
      );
    })
  )
    undo.disableApiTermination = live.disableApiTermination;
  // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_ChangingInstanceInitiatedShutdownBehavior.html
  const shutdown = { InstanceId: instanceId, InstanceInitiatedShutdownBehavior: { Value: "stop" } };
  if (
    await attempt("stop-on-shutdown", steps, async () => {
      await log.send("ec2", "ModifyInstanceAttribute", shutdown, () =>
        ec2.send(new sdk.ModifyInstanceAttributeCommand(shutdown)),
      );
    })
  )
    undo.shutdownBehavior = live.shutdownBehavior;
  const group = live.autoScalingGroupName;
  if (group) await protectInGroup(group, live, undo, ctx, log, steps);
  const snapshotIds: string[] = [];
  const snap = {
    InstanceSpecification: { InstanceId: instanceId, ExcludeBootVolume: false },
    Description: `eks-responder forensic snapshot of ${instanceId} (${ctx.assessmentId})`,
    TagSpecifications: [
      { ResourceType: "snapshot" as const, Tags: [{ Key: QUARANTINE_TAG, Value: ctx.assessmentId }] },
    ],
    CopyTagsFromSource: "volume" as const,
  };
  await attempt("snapshots", steps, async () => {
    const out = await log.send("ec2", "CreateSnapshots", snap, () => ec2.send(new sdk.CreateSnapshotsCommand(snap)));
    if (out !== "dry-run-ok") snapshotIds.push(...(out.Snapshots ?? []).map((s) => s.SnapshotId ?? "").filter(Boolean));
  });
  return { steps, snapshotIds };
}

/**
 * Scale-in protection, then Standby. Standby is what keeps the instance: Auto Scaling neither health-checks nor
 * replaces nor scales in an instance in Standby; with ShouldDecrementDesiredCapacity the group does not launch a
 * replacement either, and it "can enter standby as long as the desired capacity … is equal to or greater than the
 * minimum capacity" (else a ValidationError, reported: the scale-in protection set just before still holds).
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_EnterStandby.html
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-enter-exit-standby.html
 */
async function protectInGroup(
  group: string,
  live: Live,
  undo: ProtectionUndo,
  ctx: ApplyContext,
  log: CallLog,
  steps: ProtectionStep[],
): Promise<void> {
  const asgSdk = await import("../aws/auto-scaling.ts");
  const asg = await ctx.clients.autoscaling();
  const InstanceIds = [undo.instanceId];
  if (live.protectedFromScaleIn) {
    steps.push({ step: "scale-in-protection", status: "skipped", reason: "already protected from scale-in" });
  } else {
    const request = { AutoScalingGroupName: group, InstanceIds, ProtectedFromScaleIn: true };
    if (
      await attempt("scale-in-protection", steps, async () => {
        await log.send("autoscaling", "SetInstanceProtection", request, () =>
          asg.send(new asgSdk.SetInstanceProtectionCommand(request)),
        );
      })
    )
      undo.autoScalingGroupName = group;
  }
  if (live.autoScalingState !== "InService") {
    const state = live.autoScalingState ?? "in an unknown state";
    const reason =
      state === "Standby" ? "already in Standby" : `${state}: only an InService instance can enter Standby`;
    steps.push({ step: "standby", status: "skipped", reason });
    return;
  }
  const standby = { AutoScalingGroupName: group, InstanceIds, ShouldDecrementDesiredCapacity: true };
  if (
    await attempt("standby", steps, async () => {
      await log.send("autoscaling", "EnterStandby", standby, () => asg.send(new asgSdk.EnterStandbyCommand(standby)));
    })
  )
    undo.standbyGroupName = group;
}

/**
 * Undoes the protections, in order: shutdown behaviour, termination protection, Standby (ExitStandby: the group's
 * desired capacity is incremented again), and last scale-in protection, so the instance cannot be scaled in while
 * it is put back in service.
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_ExitStandby.html
 */
export async function unprotect(u: ProtectionUndo, ctx: ApplyContext, log: CallLog): Promise<void> {
  const sdk = await import("../aws/ec2.ts");
  const ec2 = await ctx.clients.ec2();
  if (u.shutdownBehavior !== undefined) {
    const request = { InstanceId: u.instanceId, InstanceInitiatedShutdownBehavior: { Value: u.shutdownBehavior } };
    await log.send("ec2", "ModifyInstanceAttribute", request, () =>
      ec2.send(new sdk.ModifyInstanceAttributeCommand(request)),
    );
  }
  if (u.disableApiTermination !== undefined) {
    const request = { InstanceId: u.instanceId, DisableApiTermination: { Value: u.disableApiTermination } };
    await log.send("ec2", "ModifyInstanceAttribute", request, () =>
      ec2.send(new sdk.ModifyInstanceAttributeCommand(request)),
    );
  }
  if (u.standbyGroupName === undefined && u.autoScalingGroupName === undefined) return;
  const asgSdk = await import("../aws/auto-scaling.ts");
  const asg = await ctx.clients.autoscaling();
  if (u.standbyGroupName !== undefined) {
    const request = { AutoScalingGroupName: u.standbyGroupName, InstanceIds: [u.instanceId] };
    await log.send("autoscaling", "ExitStandby", request, () => asg.send(new asgSdk.ExitStandbyCommand(request)));
  }
  if (u.autoScalingGroupName !== undefined) {
    const request = {
      AutoScalingGroupName: u.autoScalingGroupName,
      InstanceIds: [u.instanceId],
      ProtectedFromScaleIn: false,
    };
    await log.send("autoscaling", "SetInstanceProtection", request, () =>
      asg.send(new asgSdk.SetInstanceProtectionCommand(request)),
    );
  }
}

/** One line for the outcome's reason: the steps that were not done, with AWS's answer. */
export function notDone(steps: readonly ProtectionStep[]): string {
  const open = steps.filter((s) => s.status !== "done");
  return open.map((s) => `${s.step} ${s.status === "refused" ? "refused" : "skipped"} (${s.reason ?? ""})`).join("; ");
}
