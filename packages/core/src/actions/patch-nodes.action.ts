import { z } from "zod";
import { clusterName, instanceId } from "./ids.ts";
import type { ActionDefinition, PlannedCall } from "./types.ts";

/** SendCommand takes at most 50 instance ids per call. */
export const MAX_INSTANCES_PER_COMMAND = 50;

const params = z
  .strictObject({
    instanceIds: z.array(instanceId).min(1).optional(),
    /** Or every node of a cluster (and node group), through the tags EKS puts on them. */
    clusterName: clusterName.optional(),
    nodegroupName: z.string().min(1).optional(),
    rebootOption: z.enum(["RebootIfNeeded", "NoReboot"]).default("RebootIfNeeded"),
    maxConcurrency: z
      .string()
      .regex(/^(\d+%?)$/, "expected a number or a percentage such as 10%")
      .default("10%"),
    maxErrors: z
      .string()
      .regex(/^(\d+%?)$/, "expected a number or a percentage such as 0")
      .default("0"),
  })
  .refine((p) => (p.instanceIds === undefined) !== (p.clusterName === undefined), {
    message: "exactly one of instanceIds or clusterName is required",
  });

export const patchNodes: ActionDefinition<typeof params> = {
  id: "ssm:patch-nodes",
  summary: "Install missing patches on EKS nodes with AWS-RunPatchBaseline through SSM Run Command.",
  params,
  permissions: [
    "ssm:SendCommand",
    "ssm:DescribeInstanceInformation",
    "ssm:ListCommandInvocations",
    "ec2:DescribeInstances",
  ],
  destructive: false,
  reversible: false,
  preconditions: ["only instances SSM manages are targeted; the others are reported by id"],
  rollback: "none: installed patches are not removed",
  plan(p) {
    const base = {
      DocumentName: "AWS-RunPatchBaseline",
      Parameters: { Operation: ["Install"], RebootOption: [p.rebootOption] },
      MaxConcurrency: p.maxConcurrency,
      MaxErrors: p.maxErrors,
      Comment: "eks-responder patch",
    };
    if (p.instanceIds) {
      const calls: PlannedCall[] = [];
      for (let i = 0; i < p.instanceIds.length; i += MAX_INSTANCES_PER_COMMAND) {
        calls.push({
          service: "ssm",
          operation: "SendCommand",
          params: { ...base, InstanceIds: p.instanceIds.slice(i, i + MAX_INSTANCES_PER_COMMAND) },
        });
      }
      return { calls };
    }
    const targets = [
      { Key: "tag:eks:cluster-name", Values: [p.clusterName] },
      ...(p.nodegroupName ? [{ Key: "tag:eks:nodegroup-name", Values: [p.nodegroupName] }] : []),
    ];
    return { calls: [{ service: "ssm", operation: "SendCommand", params: { ...base, Targets: targets } }] };
  },
  example: { clusterName: "prod-eks", nodegroupName: "general" },
};
