import { isNotFound } from "../aws/errors.ts";
import { exemptTagIn } from "../policy/exempt-tags.ts";
import * as z from "../zod.ts";
import { CallLog } from "./calls.ts";
import {
  type AuthenticationMode,
  authenticationModeOf,
  configMapCaveat,
  narrowedNamespaces,
  scopeText,
} from "./eks-access.ts";
import { describeCluster } from "./eks-calls.ts";
import { clusterName, principalArn } from "./ids.ts";
import { mode, type Params, revokeAccess } from "./revoke-access.action.ts";
import type { ApplyContext, ApplyResult, CheckResult } from "./types.ts";

/** eks:revoke-access's live reads and changes: imported with every action's, on first use (actions/runtimes.ts). */

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

async function readAssociations(p: Params, ctx: ApplyContext, log: CallLog): Promise<Association[]> {
  const { ListAssociatedAccessPoliciesCommand } = await import("../aws/eks.ts");
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
  const { DescribeAccessEntryCommand } = await import("../aws/eks.ts");
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
 * One read of the live cluster: the policy's exemption tags on it (a CloudTrail event carries none) and its
 * authentication mode. The access entry's own tags are not honoured: CreateAccessEntry takes tags in the very request
 * that grants the access, so whoever made the grant could exempt it; tagging the cluster takes eks:TagResource on it.
 */
async function readCluster(
  p: Params,
  ctx: ApplyContext,
  log: CallLog,
): Promise<{ refused: string } | { authenticationMode: AuthenticationMode }> {
  const cluster = await describeCluster(ctx, log, p.clusterName);
  const tag = exemptTagIn(cluster.tags, ctx.exemptTags);
  if (tag) return { refused: `cluster ${p.clusterName} carries the exemption tag ${tag}` };
  const authenticationMode = authenticationModeOf(cluster);
  if (authenticationMode === "CONFIG_MAP") {
    return {
      refused:
        `cluster ${p.clusterName}'s authentication mode is CONFIG_MAP: it has no access entries to revoke; its grants ` +
        "are made through the aws-auth ConfigMap (kube-system/aws-auth), outside this action's reach",
    };
  }
  return { authenticationMode };
}

export async function check(p: Params, ctx: ApplyContext, log = new CallLog(ctx)): Promise<CheckResult> {
  try {
    const cluster = await readCluster(p, ctx, log);
    if ("refused" in cluster) return { status: "refused", reason: cluster.refused };
    const { authenticationMode } = cluster;
    switch (mode(p)) {
      case "association":
      case "narrow": {
        const found = (await readAssociations(p, ctx, log)).find((a) => a.policyArn === p.policyArn);
        if (!found)
          return {
            status: "already-done",
            reason: `${p.policyArn} is no longer associated with ${p.principalArn}`,
            before: { authenticationMode },
          };
        const keep = narrowedNamespaces(found.accessScope, p.narrowTo ?? []);
        const narrowed = found.accessScope.type === "namespace" && keep.length === found.accessScope.namespaces.length;
        if (p.narrowTo && narrowed) {
          return {
            status: "already-done",
            reason: `${p.policyArn} is already scoped to namespaces ${keep.join(", ")} for ${p.principalArn}`,
            before: { association: found, authenticationMode },
          };
        }
        return { status: "needed", before: { association: found, authenticationMode } };
      }
      case "groups": {
        const entry = await readEntry(p, ctx, log);
        if (!entry.kubernetesGroups.includes("system:masters")) {
          return {
            status: "already-done",
            reason: `${p.principalArn} is not in system:masters`,
            before: { ...entry, authenticationMode },
          };
        }
        return { status: "needed", before: { ...entry, authenticationMode } };
      }
      default: {
        const entry = await readEntry(p, ctx, log);
        const associations = await readAssociations(p, ctx, log);
        return { status: "needed", before: { entry, associations, authenticationMode } };
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

export async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
  const id = revokeAccess.id;
  const log = new CallLog(ctx);
  const target = { clusterName: p.clusterName, principalArn: p.principalArn };
  try {
    const checked = await check(p, ctx, log);
    const caveats = checked.before
      ? configMapCaveat(p.clusterName, p.principalArn, checked.before.authenticationMode)
      : [];
    const said = (reason: string) => [reason, ...caveats].join("; ");
    if (checked.status !== "needed")
      return log.result(id, checked.status, said(checked.reason), {
        ...(checked.before ? { before: checked.before } : {}),
        ...(caveats.length ? { caveats } : {}),
      });
    const before = checked.before;
    const extra = caveats.length ? { caveats } : {};
    if (ctx.dryRun)
      return log.result(
        id,
        "would-succeed",
        said("dry-run: the grant is still there (EKS has no DryRun; nothing was sent)"),
        { before, ...extra },
      );
    const eksSdk = await import("../aws/eks.ts");
    const eks = await ctx.clients.eks();
    const association = before.association as Association | undefined;
    const keep = association && p.narrowTo ? narrowedNamespaces(association.accessScope, p.narrowTo) : [];
    switch (keep.length > 0 ? "narrow" : mode(p) === "narrow" ? "association" : mode(p)) {
      case "narrow": {
        // Associating a policy that is already associated replaces its scope: the user guide changes an
        // association's scope by associating it again. The answer carries the scope now in force, checked here.
        // https://docs.aws.amazon.com/eks/latest/APIReference/API_AssociateAccessPolicy.html
        // https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html
        const accessScope = { type: "namespace" as const, namespaces: keep };
        const request = { ...target, policyArn: p.policyArn ?? "", accessScope };
        const output = await log.send("eks", "AssociateAccessPolicy", request, () =>
          eks.send(new eksSdk.AssociateAccessPolicyCommand(request)),
        );
        const undo = { kind: "association", ...target, association };
        const now = output === "dry-run-ok" ? undefined : output.associatedAccessPolicy?.accessScope;
        if (now?.type !== "namespace" || [...(now.namespaces ?? [])].sort().join() !== keep.join()) {
          return log.result(
            id,
            "failed",
            `AssociateAccessPolicy answered with the scope ${JSON.stringify(now ?? null)}, not namespaces ${keep.join(", ")}: check the association`,
            { before, undo, error: { code: "ACTION.UNEXPECTED_ANSWER", message: "scope not narrowed" }, ...extra },
          );
        }
        return log.result(
          id,
          "applied",
          said(
            `narrowed ${request.policyArn.split("/").pop()} of ${p.principalArn} from ${scopeText(association?.accessScope)} to namespaces ${keep.join(", ")}`,
          ),
          { before, undo, ...extra },
        );
      }
      case "association": {
        const request = { ...target, policyArn: p.policyArn ?? "" };
        await log.send("eks", "DisassociateAccessPolicy", request, () =>
          eks.send(new eksSdk.DisassociateAccessPolicyCommand(request)),
        );
        return log.result(
          id,
          "applied",
          said(
            `removed ${request.policyArn.split("/").pop()} (${scopeText(association?.accessScope)}) from ${p.principalArn}`,
          ),
          { before, undo: { kind: "association", ...target, association: before.association }, ...extra },
        );
      }
      case "groups": {
        const groups = (before.kubernetesGroups as string[]).filter((g) => g !== "system:masters");
        const request = { ...target, kubernetesGroups: groups };
        await log.send("eks", "UpdateAccessEntry", request, () =>
          eks.send(new eksSdk.UpdateAccessEntryCommand(request)),
        );
        return log.result(id, "applied", said(`took ${p.principalArn} out of system:masters`), {
          before,
          undo: { kind: "groups", ...target, kubernetesGroups: before.kubernetesGroups },
          ...extra,
        });
      }
      default: {
        await log.send("eks", "DeleteAccessEntry", target, () => eks.send(new eksSdk.DeleteAccessEntryCommand(target)));
        return log.result(id, "applied", said(`deleted the access entry of ${p.principalArn}`), {
          before,
          undo: { kind: "entry", ...target, entry: before.entry, associations: before.associations },
          ...extra,
        });
      }
    }
  } catch (error) {
    if (isNotFound(error)) return log.result(id, "already-done", `the grant to ${p.principalArn} no longer exists`);
    return log.failed(id, error);
  }
}

export async function rollback(undo: Record<string, unknown>, ctx: ApplyContext): Promise<ApplyResult> {
  const u = undoSchema.parse(undo);
  const id = revokeAccess.id;
  const log = new CallLog(ctx);
  const eksSdk = await import("../aws/eks.ts");
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
