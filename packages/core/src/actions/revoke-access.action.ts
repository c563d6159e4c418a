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
import type { ActionDefinition, ApplyContext, ApplyResult, CheckResult, PlannedCall } from "./types.ts";

const params = z
  .strictObject({
    clusterName,
    principalArn,
    /** The access policy association to remove (or, with narrowTo, to narrow). */
    policyArn: z.optional(z.string().check(z.startsWith("arn:"))),
    /**
     * With policyArn: narrow the association to these namespaces (those of them it still covers) instead of removing
     * it; removed only when it covers none of them.
     */
    narrowTo: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
    /** For an access entry that put the principal in system:masters: the groups it keeps. */
    remainingGroups: z.optional(z.array(z.string())),
    /** Delete the whole access entry instead. */
    deleteAccessEntry: z._default(z.boolean(), false),
  })
  .check(
    z.refine((p) => p.policyArn !== undefined || p.remainingGroups !== undefined || p.deleteAccessEntry, {
      message: "one of policyArn, remainingGroups or deleteAccessEntry is required",
    }),
    z.refine((p) => p.narrowTo === undefined || (p.policyArn !== undefined && !p.deleteAccessEntry), {
      message: "narrowTo needs policyArn, and cannot go with deleteAccessEntry",
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

function mode(p: Params): "entry" | "association" | "narrow" | "groups" {
  if (p.deleteAccessEntry) return "entry";
  if (p.policyArn !== undefined) return p.narrowTo ? "narrow" : "association";
  return "groups";
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

async function check(p: Params, ctx: ApplyContext, log = new CallLog(ctx)): Promise<CheckResult> {
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

async function apply(p: Params, ctx: ApplyContext): Promise<ApplyResult> {
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
    const eksSdk = await import("@aws-sdk/client-eks");
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
  summary:
    "Remove an unapproved cluster-admin grant: the access policy association (or narrow it back to the namespaces the policy allows), the group, or the access entry.",
  params,
  permissions: [
    "eks:DescribeCluster",
    "eks:ListAssociatedAccessPolicies",
    "eks:DescribeAccessEntry",
    "eks:DisassociateAccessPolicy",
    "eks:AssociateAccessPolicy",
    "eks:UpdateAccessEntry",
    "eks:DeleteAccessEntry",
  ],
  rollbackPermissions: ["eks:AssociateAccessPolicy", "eks:UpdateAccessEntry", "eks:CreateAccessEntry"],
  destructive: true,
  reversible: true,
  preconditions: [
    "the association or entry still exists (otherwise: already done); a narrowing is already done when the association covers only allowed namespaces",
    "the cluster's authentication mode is API or API_AND_CONFIG_MAP (DescribeCluster): in CONFIG_MAP there is no access entry to revoke, and it refuses",
    "the principal is not on the policy's allowlist",
    "the live cluster carries no exemption tag of the policy (the access entry's own tags are not honoured: they are set with the grant)",
  ],
  notCovered: [
    "grants made through the aws-auth ConfigMap are outside its reach: in API_AND_CONFIG_MAP mode the outcome and the decision's reasons say so, and in CONFIG_MAP mode it refuses",
    "a narrowing keeps the namespaces the policy declares (settings.namespaceAdmins), not an earlier scope EKS no longer reports: neither the event nor ListAssociatedAccessPolicies says what a re-association replaced",
    "a namespace-scoped admin grant to a principal the policy declares nothing for is removed whole, not narrowed",
    "Kubernetes RBAC bindings of the principal's groups or username are not changed",
    "sessions already authenticated keep their token until it expires (up to 15 minutes)",
  ],
  rollbackSummary:
    "re-associate the same access policy with the exact scope read before the change (a narrowing is undone the same way: associating again replaces the scope), restore the entry's groups, or recreate the entry",
  plan(p) {
    const target = { clusterName: p.clusterName, principalArn: p.principalArn };
    const calls: PlannedCall[] = [];
    const configMap =
      "grants made through the aws-auth ConfigMap are outside its reach: the cluster's authentication mode is read first (DescribeCluster), and in CONFIG_MAP mode it refuses";
    switch (mode(p)) {
      case "narrow":
        calls.push({
          service: "eks",
          operation: "AssociateAccessPolicy",
          params: {
            ...target,
            policyArn: p.policyArn,
            accessScope: { type: "namespace", namespaces: [...new Set(p.narrowTo)].sort() },
          },
          note: `narrow ${p.policyArn?.split("/").pop()} of ${p.principalArn} back to namespaces ${[...new Set(p.narrowTo)].sort().join(", ")} (associating again replaces the scope; of a namespace-scoped association only the namespaces it has are kept, and it is removed with DisassociateAccessPolicy when it has none of them); ${configMap}`,
        });
        break;
      case "association":
        calls.push({
          service: "eks",
          operation: "DisassociateAccessPolicy",
          params: { ...target, policyArn: p.policyArn },
          note: `remove ${p.policyArn?.split("/").pop()} from ${p.principalArn}; ${configMap}`,
        });
        break;
      case "groups":
        calls.push({
          service: "eks",
          operation: "UpdateAccessEntry",
          params: { ...target, kubernetesGroups: p.remainingGroups ?? [] },
          note: `take ${p.principalArn} out of system:masters: the entry keeps its live groups but that one (at the event: ${JSON.stringify(p.remainingGroups ?? [])}); ${configMap}`,
        });
        break;
      default:
        calls.push({
          service: "eks",
          operation: "DeleteAccessEntry",
          params: target,
          note: `delete the access entry of ${p.principalArn}; ${configMap}`,
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
