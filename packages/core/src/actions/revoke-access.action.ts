import { isNotFound } from "../aws/errors.ts";
import { exemptTagIn } from "../policy/exempt-tags.ts";
import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import { describeCluster } from "./eks-calls.ts";
import { clusterName, principalArn } from "./ids.ts";
import type { ActionDefinition, ApplyContext, ApplyResult, CheckResult, PlannedCall } from "./types.ts";

const params = z
  .strictObject({
    clusterName,
    principalArn,
    /** The access policy association to remove. */
    policyArn: z.optional(z.string().check(z.startsWith("arn:"))),
    /** For an access entry that put the principal in system:masters: the groups it keeps. */
    remainingGroups: z.optional(z.array(z.string())),
    /** Delete the whole access entry instead. */
    deleteAccessEntry: z._default(z.boolean(), false),
  })
  .check(
    z.refine((p) => p.policyArn !== undefined || p.remainingGroups !== undefined || p.deleteAccessEntry, {
      message: "one of policyArn, remainingGroups or deleteAccessEntry is required",
    }),
  );
type Params = z.output<typeof params>;

const scopeSchema = z.strictObject({ type: z.enum(["cluster", "namespace"]), namespaces: z.array(z.string()) });
const associationSchema = z.strictObject({ policyArn: z.string(), accessScope: scopeSchema });
const undoSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("association"), clusterName, principalArn, association: associationSchema }),
  z.strictObject({ kind: z.literal("groups"), clusterName, principalArn, kubernetesGroups: z.array(z.string()) }),
  z.strictObject({
    kind: z.literal("entry"),
    clusterName,
    principalArn,
    entry: z.strictObject({
      type: z.optional(z.string()),
      username: z.optional(z.string()),
      kubernetesGroups: z.array(z.string()),
    }),
    associations: z.array(associationSchema),
  }),
]);
type Association = z.output<typeof associationSchema>;

function mode(p: Params): "entry" | "association" | "groups" {
  return p.deleteAccessEntry ? "entry" : p.policyArn !== undefined ? "association" : "groups";
}

async function readAssociations(p: Params, ctx: ApplyContext, log: CallLog): Promise<Association[]> {
  const { ListAssociatedAccessPoliciesCommand } = await import("@aws-sdk/client-eks");
  const eks = await ctx.clients.eks();
  const out: Association[] = [];
  let nextToken: string | undefined;
  do {
    const request = { clusterName: p.clusterName, principalArn: p.principalArn, ...(nextToken ? { nextToken } : {}) };
    const page = await log.send("eks", "ListAssociatedAccessPolicies", request, () =>
      eks.send(new ListAssociatedAccessPoliciesCommand(request)),
    );
    if (page === "dry-run-ok") break;
    for (const a of page.associatedAccessPolicies ?? []) {
      if (a.policyArn) {
        out.push({
          policyArn: a.policyArn,
          accessScope: {
            type: a.accessScope?.type === "namespace" ? "namespace" : "cluster",
            namespaces: a.accessScope?.namespaces ?? [],
          },
        });
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

async function readEntry(p: Params, ctx: ApplyContext, log: CallLog) {
  const { DescribeAccessEntryCommand } = await import("@aws-sdk/client-eks");
  const eks = await ctx.clients.eks();
  const request = { clusterName: p.clusterName, principalArn: p.principalArn };
  const output = await log.send("eks", "DescribeAccessEntry", request, () =>
    eks.send(new DescribeAccessEntryCommand(request)),
  );
  const entry = output === "dry-run-ok" ? undefined : output.accessEntry;
  return {
    kubernetesGroups: entry?.kubernetesGroups ?? [],
    ...(entry?.type ? { type: entry.type } : {}),
    ...(entry?.username ? { username: entry.username } : {}),
  };
}

/**
 * The policy's exemption tags on the live cluster (a CloudTrail event carries none), read only when the policy has
 * exemption tags. The access entry's own tags are not honoured: CreateAccessEntry takes tags in the very request that
 * grants the access, so whoever made the grant could exempt it; tagging the cluster takes eks:TagResource on it.
 */
async function exemptionOf(p: Params, ctx: ApplyContext, log: CallLog): Promise<string | undefined> {
  const exempt = ctx.exemptTags;
  if (exempt.length === 0) return undefined;
  const cluster = await describeCluster(ctx, log, p.clusterName);
  const tag = exemptTagIn(cluster.tags, exempt);
  return tag ? `cluster ${p.clusterName} carries the exemption tag ${tag}` : undefined;
}

async function check(p: Params, ctx: ApplyContext, log = new CallLog(ctx)): Promise<CheckResult> {
  try {
    const exempt = await exemptionOf(p, ctx, log);
    if (exempt) return { status: "refused", reason: exempt };
    switch (mode(p)) {
      case "association": {
        const found = (await readAssociations(p, ctx, log)).find((a) => a.policyArn === p.policyArn);
        if (!found)
          return { status: "already-done", reason: `${p.policyArn} is no longer associated with ${p.principalArn}` };
        return { status: "needed", before: { association: found } };
      }
      case "groups": {
        const entry = await readEntry(p, ctx, log);
        if (!entry.kubernetesGroups.includes("system:masters")) {
          return { status: "already-done", reason: `${p.principalArn} is not in system:masters`, before: entry };
        }
        return { status: "needed", before: entry };
      }
      default: {
        const entry = await readEntry(p, ctx, log);
        const associations = await readAssociations(p, ctx, log);
        return { status: "needed", before: { entry, associations } };
      }
    }
  } catch (error) {
    if (isNotFound(error))
      return {
        status: "already-done",
        reason: `the cluster ${p.clusterName} or the access entry of ${p.principalArn} no longer exists`,
      };
    throw error;
  }
}

async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
  const id = revokeAccess.id;
  const log = new CallLog(ctx);
  const target = { clusterName: p.clusterName, principalArn: p.principalArn };
  try {
    const checked = await check(p, ctx, log);
    if (checked.status !== "needed")
      return log.result(id, checked.status, checked.reason, checked.before ? { before: checked.before } : {});
    const before = checked.before;
    if (ctx.dryRun)
      return log.result(
        id,
        "would-succeed",
        "dry-run: the grant is still there (EKS has no DryRun; nothing was sent)",
        { before },
      );
    const eksSdk = await import("@aws-sdk/client-eks");
    const eks = await ctx.clients.eks();
    switch (mode(p)) {
      case "association": {
        const request = { ...target, policyArn: p.policyArn ?? "" };
        await log.send("eks", "DisassociateAccessPolicy", request, () =>
          eks.send(new eksSdk.DisassociateAccessPolicyCommand(request)),
        );
        return log.result(id, "applied", `removed ${request.policyArn.split("/").pop()} from ${p.principalArn}`, {
          before,
          undo: { kind: "association", ...target, association: before.association },
        });
      }
      case "groups": {
        const groups = (before.kubernetesGroups as string[]).filter((g) => g !== "system:masters");
        const request = { ...target, kubernetesGroups: groups };
        await log.send("eks", "UpdateAccessEntry", request, () =>
          eks.send(new eksSdk.UpdateAccessEntryCommand(request)),
        );
        return log.result(id, "applied", `took ${p.principalArn} out of system:masters`, {
          before,
          undo: { kind: "groups", ...target, kubernetesGroups: before.kubernetesGroups },
        });
      }
      default: {
        await log.send("eks", "DeleteAccessEntry", target, () => eks.send(new eksSdk.DeleteAccessEntryCommand(target)));
        return log.result(id, "applied", `deleted the access entry of ${p.principalArn}`, {
          before,
          undo: { kind: "entry", ...target, entry: before.entry, associations: before.associations },
        });
      }
    }
  } catch (error) {
    if (isNotFound(error)) return log.result(id, "already-done", `the grant to ${p.principalArn} no longer exists`);
    return log.failed(id, error);
  }
}

async function rollback(undo: Record<string, unknown>, ctx: ApplyContext): Promise<ApplyResult> {
  const u = undoSchema.parse(undo);
  const id = revokeAccess.id;
  const log = new CallLog(ctx);
  const eksSdk = await import("@aws-sdk/client-eks");
  const eks = await ctx.clients.eks();
  const target = { clusterName: u.clusterName, principalArn: u.principalArn };
  const associate = async (a: Association) => {
    const request = { ...target, policyArn: a.policyArn, accessScope: a.accessScope };
    await log.send("eks", "AssociateAccessPolicy", request, () =>
      eks.send(new eksSdk.AssociateAccessPolicyCommand(request)),
    );
  };
  try {
    if (u.kind === "association") await associate(u.association);
    else if (u.kind === "groups") {
      const request = { ...target, kubernetesGroups: u.kubernetesGroups };
      await log.send("eks", "UpdateAccessEntry", request, () => eks.send(new eksSdk.UpdateAccessEntryCommand(request)));
    } else {
      const request = {
        ...target,
        kubernetesGroups: u.entry.kubernetesGroups,
        ...(u.entry.type ? { type: u.entry.type } : {}),
        ...(u.entry.username ? { username: u.entry.username } : {}),
      };
      await log.send("eks", "CreateAccessEntry", request, () => eks.send(new eksSdk.CreateAccessEntryCommand(request)));
      for (const a of u.associations) await associate(a);
    }
    return log.result(id, "applied", `restored the access of ${u.principalArn}`);
  } catch (error) {
    return log.failed(id, error);
  }
}

export const revokeAccess: ActionDefinition<typeof params> = {
  id: "eks:revoke-access",
  summary: "Remove an unapproved cluster-admin grant: the access policy association, the group, or the access entry.",
  params,
  permissions: [
    "eks:DescribeCluster",
    "eks:ListAssociatedAccessPolicies",
    "eks:DescribeAccessEntry",
    "eks:DisassociateAccessPolicy",
    "eks:UpdateAccessEntry",
    "eks:DeleteAccessEntry",
  ],
  rollbackPermissions: ["eks:AssociateAccessPolicy", "eks:UpdateAccessEntry", "eks:CreateAccessEntry"],
  destructive: true,
  reversible: true,
  preconditions: [
    "the association or entry still exists (otherwise: already done)",
    "the principal is not on the policy's allowlist",
    "the live cluster carries no exemption tag of the policy (the access entry's own tags are not honoured: they are set with the grant)",
  ],
  notCovered: [
    "grants made through the aws-auth ConfigMap are outside its reach",
    "Kubernetes RBAC bindings of the principal's groups or username are not changed",
    "sessions already authenticated keep their token until it expires (up to 15 minutes)",
  ],
  rollbackSummary:
    "re-associate the same access policy with the same scope, restore the entry's groups, or recreate the entry",
  plan(p) {
    const target = { clusterName: p.clusterName, principalArn: p.principalArn };
    const calls: PlannedCall[] = [];
    switch (mode(p)) {
      case "association":
        calls.push({
          service: "eks",
          operation: "DisassociateAccessPolicy",
          params: { ...target, policyArn: p.policyArn },
          note: `remove ${p.policyArn?.split("/").pop()} from ${p.principalArn}`,
        });
        break;
      case "groups":
        calls.push({
          service: "eks",
          operation: "UpdateAccessEntry",
          params: { ...target, kubernetesGroups: p.remainingGroups ?? [] },
          note: `take ${p.principalArn} out of system:masters: the entry keeps its live groups but that one (at the event: ${JSON.stringify(p.remainingGroups ?? [])})`,
        });
        break;
      default:
        calls.push({
          service: "eks",
          operation: "DeleteAccessEntry",
          params: target,
          note: `delete the access entry of ${p.principalArn}`,
        });
    }
    return { calls };
  },
  check,
  apply,
  rollback,
  example: {
    clusterName: "prod-eks",
    principalArn: "arn:aws:iam::111122223333:role/external-ci-deployer",
    policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
  },
};
