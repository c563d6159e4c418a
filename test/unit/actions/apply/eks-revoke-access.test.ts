import {
  AssociateAccessPolicyCommand,
  type AssociateAccessPolicyCommandInput,
  type AuthenticationMode,
  DeleteAccessEntryCommand,
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  DisassociateAccessPolicyCommand,
  EKSClient,
  ListAssociatedAccessPoliciesCommand,
  UpdateAccessEntryCommand,
} from "@aws-sdk/client-eks";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { revokeAccess } from "../../../../packages/core/src/actions/revoke-access.action.ts";
import { defaultPolicy } from "../../../../packages/core/src/index.ts";
import { must } from "../../../helpers/fixtures.ts";
import { applyContext, commandsSent, eksError, namesSent } from "./helpers.ts";

const eks = mockClient(EKSClient);
const stubs = { eks };

const CLUSTER = "prod-eks";
const PRINCIPAL = "arn:aws:iam::111122223333:role/external-ci-deployer";
const ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
const TARGET = { clusterName: CLUSTER, principalArn: PRINCIPAL };
const USERNAME = "arn:aws:sts::111122223333:assumed-role/external-ci-deployer/{{SessionName}}";

const byPolicy = revokeAccess.params.parse({ ...TARGET, policyArn: ADMIN });
const byGroups = revokeAccess.params.parse({ ...TARGET, remainingGroups: ["deployers"] });
const byEntry = revokeAccess.params.parse({ ...TARGET, deleteAccessEntry: true });

const MUTATIONS = new Set([
  "DisassociateAccessPolicy",
  "UpdateAccessEntry",
  "DeleteAccessEntry",
  "AssociateAccessPolicy",
  "CreateAccessEntry",
]);

function mutatingCalls(): number {
  return namesSent(stubs).filter((name) => MUTATIONS.has(name)).length;
}

/** Two pages of associations: the view policy on the cluster, then the admin policy on one namespace. */
function associationsInTwoPages(): void {
  eks.on(ListAssociatedAccessPoliciesCommand, { ...TARGET, nextToken: "page-2" }).resolves({
    associatedAccessPolicies: [{ policyArn: ADMIN, accessScope: { type: "namespace", namespaces: ["prod"] } }],
  });
  eks.on(ListAssociatedAccessPoliciesCommand, { ...TARGET }, true).resolves({
    associatedAccessPolicies: [{ policyArn: VIEW, accessScope: { type: "cluster" } }],
    nextToken: "page-2",
  });
}

function entryInMasters(): void {
  eks.on(DescribeAccessEntryCommand).resolves({
    accessEntry: {
      ...TARGET,
      kubernetesGroups: ["system:masters", "deployers"],
      type: "STANDARD",
      username: USERNAME,
    },
  });
}

/**
 * The cluster as DescribeCluster answers it, with accessConfig.authenticationMode (API, API_AND_CONFIG_MAP or
 * CONFIG_MAP): https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeCluster.html,
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_AccessConfigResponse.html
 */
function clusterInMode(authenticationMode: AuthenticationMode, tags?: Record<string, string>): void {
  eks.on(DescribeClusterCommand).resolves({
    cluster: { name: CLUSTER, accessConfig: { authenticationMode }, ...(tags ? { tags } : {}) },
  });
}

const DESCRIBE = ["DescribeCluster", { name: CLUSTER }] as const;

beforeEach(() => {
  eks.reset();
  clusterInMode("API");
});

afterAll(() => {
  eks.restore();
});

const EXEMPT = [{ key: "eks-responder:exempt", value: "true" }];

describe("eks:revoke-access under the policy's exemption tags", () => {
  it("policyArn: refuses, changing nothing, when the live cluster carries an exemption tag", async () => {
    // prepare
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves({ cluster: { name: CLUSTER, tags: { "eks-responder:exempt": "true" } } });
    associationsInTwoPages();

    // act
    const result = await revokeAccess.apply(byPolicy, { ...ctx, exemptTags: EXEMPT });

    // assess
    expect(result.status).toBe("refused");
    expect(result.reason).toBe(`cluster ${CLUSTER} carries the exemption tag eks-responder:exempt=true`);
    expect(commandsSent(stubs)).toEqual([["DescribeCluster", { name: CLUSTER }]]);
  });

  it("remainingGroups: takes the principal out of system:masters even when its access entry carries the tag (the grant sets it)", async () => {
    // prepare: CreateAccessEntry takes tags in the very request that grants the access
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves({ cluster: { name: CLUSTER, tags: { team: "platform" } } });
    eks.on(DescribeAccessEntryCommand).resolves({
      accessEntry: { ...TARGET, kubernetesGroups: ["system:masters"], tags: { "eks-responder:exempt": "true" } },
    });
    eks.on(UpdateAccessEntryCommand).resolves({});

    // act
    const result = await revokeAccess.apply(byGroups, { ...ctx, exemptTags: EXEMPT });

    // assess
    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ["DescribeCluster", { name: CLUSTER }],
      ["DescribeAccessEntry", TARGET],
      ["UpdateAccessEntry", { ...TARGET, kubernetesGroups: [] }],
    ]);
  });

  it("policyArn: reads the cluster's tags, then disassociates when none is an exemption tag", async () => {
    // prepare
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves({ cluster: { name: CLUSTER, tags: { "eks-responder:exempt": "no" } } });
    associationsInTwoPages();

    // act
    const result = await revokeAccess.apply(byPolicy, { ...ctx, exemptTags: EXEMPT });

    // assess
    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ["DescribeCluster", { name: CLUSTER }],
      ["ListAssociatedAccessPolicies", TARGET],
      ["ListAssociatedAccessPolicies", { ...TARGET, nextToken: "page-2" }],
      ["DisassociateAccessPolicy", { ...TARGET, policyArn: ADMIN }],
    ]);
  });

  it("deleteAccessEntry: keeps the entry's state for rollback as before, the tags only decide", async () => {
    // prepare
    const { ctx } = applyContext(false);
    entryInMasters();
    eks.on(DescribeClusterCommand).resolves({ cluster: { name: CLUSTER } });
    eks.on(ListAssociatedAccessPoliciesCommand).resolves({ associatedAccessPolicies: [] });

    // act
    const result = await revokeAccess.apply(byEntry, { ...ctx, exemptTags: EXEMPT });

    // assess
    expect(result.status).toBe("applied");
    expect(result.undo).toEqual({
      kind: "entry",
      ...TARGET,
      entry: { kubernetesGroups: ["system:masters", "deployers"], type: "STANDARD", username: USERNAME },
      associations: [],
    });
  });

  it("fails closed when the cluster cannot be read: no change is made", async () => {
    // prepare
    const { ctx } = applyContext(false);
    entryInMasters();
    eks.on(DescribeClusterCommand).rejects(eksError("AccessDeniedException", 403));

    // act
    const result = await revokeAccess.apply(byGroups, { ...ctx, exemptTags: EXEMPT });

    // assess
    expect(result.status).toBe("failed");
    expect(mutatingCalls()).toBe(0);
  });

  it("is already done when the cluster no longer exists, naming both possibilities", async () => {
    // prepare
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).rejects(eksError("ResourceNotFoundException", 404));

    // act
    const result = await revokeAccess.apply(byPolicy, { ...ctx, exemptTags: EXEMPT });

    // assess
    expect(result.status).toBe("already-done");
    expect(result.reason).toBe(`the cluster ${CLUSTER} or the access entry of ${PRINCIPAL} no longer exists`);
    expect(mutatingCalls()).toBe(0);
  });
});

describe("eks:revoke-access", () => {
  it("policyArn: reads every page of associations, then disassociates exactly that policy", async () => {
    const { ctx } = applyContext(false);
    associationsInTwoPages();

    const result = await revokeAccess.apply(byPolicy, ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      DESCRIBE,
      ["ListAssociatedAccessPolicies", TARGET],
      ["ListAssociatedAccessPolicies", { ...TARGET, nextToken: "page-2" }],
      ["DisassociateAccessPolicy", { ...TARGET, policyArn: ADMIN }],
    ]);
    expect(result.undo).toEqual({
      kind: "association",
      ...TARGET,
      association: { policyArn: ADMIN, accessScope: { type: "namespace", namespaces: ["prod"] } },
    });
  });

  it("policyArn: rolls back by re-associating the policy with the same scope", async () => {
    const { ctx } = applyContext(false);
    associationsInTwoPages();
    const applied = await revokeAccess.apply(byPolicy, ctx);
    eks.resetHistory();

    const rollback = must(revokeAccess.rollback, "rollback");
    const result = await rollback(must(applied.undo, "undo"), ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      [
        "AssociateAccessPolicy",
        { ...TARGET, policyArn: ADMIN, accessScope: { type: "namespace", namespaces: ["prod"] } },
      ],
    ]);
  });

  it("policyArn: is already done when the policy is no longer associated, and sends no mutating call", async () => {
    const { ctx } = applyContext(false);
    eks
      .on(ListAssociatedAccessPoliciesCommand)
      .resolves({ associatedAccessPolicies: [{ policyArn: VIEW, accessScope: { type: "cluster" } }] });

    const result = await revokeAccess.apply(byPolicy, ctx);

    expect(result.status).toBe("already-done");
    expect(mutatingCalls()).toBe(0);
  });

  it("remainingGroups: reads the entry, then takes the principal out of system:masters", async () => {
    const { ctx } = applyContext(false);
    entryInMasters();

    const result = await revokeAccess.apply(byGroups, ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      DESCRIBE,
      ["DescribeAccessEntry", TARGET],
      ["UpdateAccessEntry", { ...TARGET, kubernetesGroups: ["deployers"] }],
    ]);
    expect(result.undo).toEqual({ kind: "groups", ...TARGET, kubernetesGroups: ["system:masters", "deployers"] });
  });

  it("remainingGroups: rolls back by restoring the entry's former groups", async () => {
    const { ctx } = applyContext(false);
    entryInMasters();
    const applied = await revokeAccess.apply(byGroups, ctx);
    eks.resetHistory();

    const rollback = must(revokeAccess.rollback, "rollback");
    const result = await rollback(must(applied.undo, "undo"), ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      ["UpdateAccessEntry", { ...TARGET, kubernetesGroups: ["system:masters", "deployers"] }],
    ]);
  });

  it("remainingGroups: is already done when the principal is not in system:masters", async () => {
    const { ctx } = applyContext(false);
    eks.on(DescribeAccessEntryCommand).resolves({ accessEntry: { ...TARGET, kubernetesGroups: ["deployers"] } });

    const result = await revokeAccess.apply(byGroups, ctx);

    expect(result.status).toBe("already-done");
    expect(mutatingCalls()).toBe(0);
  });

  it("deleteAccessEntry: reads the entry and its associations, then deletes the entry", async () => {
    const { ctx } = applyContext(false);
    entryInMasters();
    associationsInTwoPages();

    const result = await revokeAccess.apply(byEntry, ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      DESCRIBE,
      ["DescribeAccessEntry", TARGET],
      ["ListAssociatedAccessPolicies", TARGET],
      ["ListAssociatedAccessPolicies", { ...TARGET, nextToken: "page-2" }],
      ["DeleteAccessEntry", TARGET],
    ]);
    expect(result.undo).toEqual({
      kind: "entry",
      ...TARGET,
      entry: { kubernetesGroups: ["system:masters", "deployers"], type: "STANDARD", username: USERNAME },
      associations: [
        { policyArn: VIEW, accessScope: { type: "cluster", namespaces: [] } },
        { policyArn: ADMIN, accessScope: { type: "namespace", namespaces: ["prod"] } },
      ],
    });
  });

  it("deleteAccessEntry: rolls back by recreating the entry, then re-associating each policy", async () => {
    const { ctx } = applyContext(false);
    entryInMasters();
    associationsInTwoPages();
    const applied = await revokeAccess.apply(byEntry, ctx);
    eks.resetHistory();

    const rollback = must(revokeAccess.rollback, "rollback");
    const result = await rollback(must(applied.undo, "undo"), ctx);

    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      [
        "CreateAccessEntry",
        { ...TARGET, kubernetesGroups: ["system:masters", "deployers"], type: "STANDARD", username: USERNAME },
      ],
      ["AssociateAccessPolicy", { ...TARGET, policyArn: VIEW, accessScope: { type: "cluster", namespaces: [] } }],
      [
        "AssociateAccessPolicy",
        { ...TARGET, policyArn: ADMIN, accessScope: { type: "namespace", namespaces: ["prod"] } },
      ],
    ]);
  });

  it.each([
    ["policyArn", byPolicy, ListAssociatedAccessPoliciesCommand],
    ["remainingGroups", byGroups, DescribeAccessEntryCommand],
    ["deleteAccessEntry", byEntry, DescribeAccessEntryCommand],
  ] as const)("%s: is already done when the access entry no longer exists", async (_mode, params, read) => {
    const { ctx } = applyContext(false);
    eks.on(read).rejects(eksError("ResourceNotFoundException", 404));

    const result = await revokeAccess.apply(params, ctx);

    expect(result.status).toBe("already-done");
    expect(mutatingCalls()).toBe(0);
  });

  it("policyArn: is already done when the association disappears between the read and the removal", async () => {
    const { ctx } = applyContext(false);
    associationsInTwoPages();
    eks.on(DisassociateAccessPolicyCommand).rejects(eksError("ResourceNotFoundException", 404));

    const result = await revokeAccess.apply(byPolicy, ctx);

    expect(result.status).toBe("already-done");
    expect(result.undo).toBeUndefined();
  });

  it.each([
    ["policyArn", byPolicy, "DisassociateAccessPolicy", () => eks.on(DisassociateAccessPolicyCommand)],
    ["remainingGroups", byGroups, "UpdateAccessEntry", () => eks.on(UpdateAccessEntryCommand)],
    ["deleteAccessEntry", byEntry, "DeleteAccessEntry", () => eks.on(DeleteAccessEntryCommand)],
  ] as const)(
    "%s: fails on AccessDeniedException after exactly one attempt",
    async (_mode, params, name, onMutation) => {
      const { ctx } = applyContext(false);
      entryInMasters();
      associationsInTwoPages();
      onMutation().rejects(eksError("AccessDeniedException", 403));

      const result = await revokeAccess.apply(params, ctx);

      expect(result.status).toBe("failed");
      expect(result.error?.code).toBe("AccessDeniedException");
      expect(namesSent(stubs).filter((n) => n === name)).toHaveLength(1);
      expect(mutatingCalls()).toBe(1);
      expect(result.undo).toBeUndefined();
    },
  );

  it.each([
    ["policyArn", byPolicy, ["DescribeCluster", "ListAssociatedAccessPolicies", "ListAssociatedAccessPolicies"]],
    ["remainingGroups", byGroups, ["DescribeCluster", "DescribeAccessEntry"]],
    [
      "deleteAccessEntry",
      byEntry,
      ["DescribeCluster", "DescribeAccessEntry", "ListAssociatedAccessPolicies", "ListAssociatedAccessPolicies"],
    ],
  ] as const)("%s: in dry-run, only reads and reports would-succeed", async (_mode, params, reads) => {
    const { ctx } = applyContext(true);
    entryInMasters();
    associationsInTwoPages();

    const result = await revokeAccess.apply(params, ctx);

    expect(result.status).toBe("would-succeed");
    expect(namesSent(stubs)).toEqual(reads);
    expect(result.undo).toBeUndefined();
  });

  it("policyArn: is idempotent, a second apply after the disassociation is already done", async () => {
    const { ctx } = applyContext(false);
    const live = new Set([VIEW, ADMIN]);
    eks.on(ListAssociatedAccessPoliciesCommand).callsFake(() => ({
      associatedAccessPolicies: [...live].map((policyArn) => ({ policyArn, accessScope: { type: "cluster" } })),
    }));
    eks.on(DisassociateAccessPolicyCommand).callsFake((input: { policyArn?: string }) => {
      live.delete(input.policyArn ?? "");
      return {};
    });

    const first = await revokeAccess.apply(byPolicy, ctx);
    const second = await revokeAccess.apply(byPolicy, ctx);

    expect(first.status).toBe("applied");
    expect(second.status).toBe("already-done");
    expect(eks.commandCalls(DisassociateAccessPolicyCommand)).toHaveLength(1);
    expect([...live]).toEqual([VIEW]);
  });

  it("remainingGroups: is idempotent, a second apply after the update is already done", async () => {
    const { ctx } = applyContext(false);
    let groups = ["system:masters", "deployers"];
    eks.on(DescribeAccessEntryCommand).callsFake(() => ({ accessEntry: { ...TARGET, kubernetesGroups: groups } }));
    eks.on(UpdateAccessEntryCommand).callsFake((input: { kubernetesGroups?: string[] }) => {
      groups = input.kubernetesGroups ?? [];
      return {};
    });

    const first = await revokeAccess.apply(byGroups, ctx);
    const second = await revokeAccess.apply(byGroups, ctx);

    expect(first.status).toBe("applied");
    expect(second.status).toBe("already-done");
    expect(eks.commandCalls(UpdateAccessEntryCommand)).toHaveLength(1);
  });
});

/** AssociateAccessPolicy answers with the association now in force (API reference, response syntax). */
function associateEchoes(): void {
  // https://docs.aws.amazon.com/eks/latest/APIReference/API_AssociateAccessPolicy.html
  eks.on(AssociateAccessPolicyCommand).callsFake((input: AssociateAccessPolicyCommandInput) => ({
    clusterName: input.clusterName,
    principalArn: input.principalArn,
    associatedAccessPolicy: {
      policyArn: input.policyArn,
      accessScope: input.accessScope,
      associatedAt: new Date("2025-06-01T09:00:00Z"),
      modifiedAt: new Date("2025-06-15T10:51:12Z"),
    },
  }));
}

function liveAssociation(accessScope: { type: "cluster" | "namespace"; namespaces?: string[] }): void {
  eks.on(ListAssociatedAccessPoliciesCommand).resolves({
    clusterName: CLUSTER,
    principalArn: PRINCIPAL,
    associatedAccessPolicies: [{ policyArn: ADMIN, accessScope }],
  });
}

/** The undo of a change to the admin association: put it back with exactly this scope. */
function undoTo(accessScope: { type: "cluster" | "namespace"; namespaces: string[] }) {
  return { kind: "association", ...TARGET, association: { policyArn: ADMIN, accessScope } };
}

const narrowToTeamA = revokeAccess.params.parse({ ...TARGET, policyArn: ADMIN, narrowTo: ["team-a"] });

describe("eks:revoke-access narrowing a namespace grant back", () => {
  it("narrows an association widened to the cluster back to the declared namespaces, not removing it", async () => {
    // prepare
    const { ctx } = applyContext(false);
    liveAssociation({ type: "cluster" });
    associateEchoes();

    // act
    const result = await revokeAccess.apply(narrowToTeamA, ctx);

    // assess
    expect(result.status).toBe("applied");
    expect(result.reason).toBe(
      `narrowed AmazonEKSClusterAdminPolicy of ${PRINCIPAL} from the whole cluster to namespaces team-a`,
    );
    expect(commandsSent(stubs)).toEqual([
      DESCRIBE,
      ["ListAssociatedAccessPolicies", TARGET],
      [
        "AssociateAccessPolicy",
        { ...TARGET, policyArn: ADMIN, accessScope: { type: "namespace", namespaces: ["team-a"] } },
      ],
    ]);
    expect(eks.commandCalls(DisassociateAccessPolicyCommand)).toHaveLength(0);
    expect(result.undo).toEqual(undoTo({ type: "cluster", namespaces: [] }));
  });

  it("rolls a narrowing back to the exact scope read before it (associating again replaces the scope)", async () => {
    // prepare
    const { ctx } = applyContext(false);
    liveAssociation({ type: "namespace", namespaces: ["team-a", "team-b"] });
    associateEchoes();
    const applied = await revokeAccess.apply(narrowToTeamA, ctx);
    eks.resetHistory();

    // act
    const result = await must(revokeAccess.rollback, "rollback")(must(applied.undo, "undo"), ctx);

    // assess
    expect(applied.reason).toBe(
      `narrowed AmazonEKSClusterAdminPolicy of ${PRINCIPAL} from namespaces team-a, team-b to namespaces team-a`,
    );
    expect(result.status).toBe("applied");
    expect(commandsSent(stubs)).toEqual([
      [
        "AssociateAccessPolicy",
        { ...TARGET, policyArn: ADMIN, accessScope: { type: "namespace", namespaces: ["team-a", "team-b"] } },
      ],
    ]);
  });

  it("never grants a namespace the association did not have: one with none of them is removed", async () => {
    // prepare
    const { ctx } = applyContext(false);
    liveAssociation({ type: "namespace", namespaces: ["payments"] });
    eks.on(DisassociateAccessPolicyCommand).resolves({});

    // act
    const result = await revokeAccess.apply(narrowToTeamA, ctx);

    // assess
    expect(result.status).toBe("applied");
    expect(commandsSent(stubs).slice(2)).toEqual([["DisassociateAccessPolicy", { ...TARGET, policyArn: ADMIN }]]);
    expect(eks.commandCalls(AssociateAccessPolicyCommand)).toHaveLength(0);
    expect(result.undo).toEqual(undoTo({ type: "namespace", namespaces: ["payments"] }));
  });

  it("is already done when the association covers only declared namespaces", async () => {
    // prepare
    const { ctx } = applyContext(false);
    liveAssociation({ type: "namespace", namespaces: ["team-a"] });

    // act
    const result = await revokeAccess.apply(narrowToTeamA, ctx);

    // assess
    expect(result.status).toBe("already-done");
    expect(result.reason).toBe(`${ADMIN} is already scoped to namespaces team-a for ${PRINCIPAL}`);
    expect(mutatingCalls()).toBe(0);
  });

  it("fails, with the earlier scope as its undo, when EKS answers with another scope than the one asked", async () => {
    // prepare
    const { ctx } = applyContext(false);
    liveAssociation({ type: "cluster" });
    eks.on(AssociateAccessPolicyCommand).resolves({
      associatedAccessPolicy: { policyArn: ADMIN, accessScope: { type: "cluster", namespaces: [] } },
    });

    // act
    const result = await revokeAccess.apply(narrowToTeamA, ctx);

    // assess
    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("ACTION.UNEXPECTED_ANSWER");
    expect(result.undo).toEqual(undoTo({ type: "cluster", namespaces: [] }));
  });

  it("plans the narrowing as one AssociateAccessPolicy at namespace scope, and refuses narrowTo without policyArn", () => {
    // act
    const plan = revokeAccess.plan(narrowToTeamA, {
      dryRun: true,
      assessmentId: "asm-1",
      account: "111122223333",
      region: "eu-west-1",
    });
    const bad = revokeAccess.params.safeParse({ ...TARGET, remainingGroups: [], narrowTo: ["team-a"] });

    // assess
    expect("calls" in plan && plan.calls.map((c) => [c.operation, c.params])).toEqual([
      [
        "AssociateAccessPolicy",
        { ...TARGET, policyArn: ADMIN, accessScope: { type: "namespace", namespaces: ["team-a"] } },
      ],
    ]);
    expect(bad.success).toBe(false);
  });
});

describe("eks:revoke-access and the cluster's authentication mode", () => {
  const CAVEAT = (mode: string) =>
    `cluster ${CLUSTER}'s authentication mode is ${mode}: grants made through the aws-auth ConfigMap (kube-system/aws-auth) are outside this action's reach; check it for ${PRINCIPAL}`;

  it("API: removes the grant and names no aws-auth caveat (there is no ConfigMap path)", async () => {
    // prepare
    const { ctx } = applyContext(false);
    clusterInMode("API");
    liveAssociation({ type: "cluster" });

    // act
    const result = await revokeAccess.apply(byPolicy, ctx);

    // assess
    expect(result.status).toBe("applied");
    expect(result.reason).toBe(`removed AmazonEKSClusterAdminPolicy (the whole cluster) from ${PRINCIPAL}`);
    expect(result.caveats).toBeUndefined();
  });

  it("API_AND_CONFIG_MAP: removes the grant and says aws-auth grants stay out of reach", async () => {
    // prepare
    const { ctx } = applyContext(false);
    clusterInMode("API_AND_CONFIG_MAP");
    entryInMasters();

    // act
    const result = await revokeAccess.apply(byGroups, ctx);

    // assess
    expect(result.status).toBe("applied");
    expect(result.reason).toBe(`took ${PRINCIPAL} out of system:masters; ${CAVEAT("API_AND_CONFIG_MAP")}`);
    expect(result.caveats).toEqual([CAVEAT("API_AND_CONFIG_MAP")]);
  });

  it("API_AND_CONFIG_MAP: an already-done outcome says it too (the ConfigMap may still grant)", async () => {
    // prepare
    const { ctx } = applyContext(false);
    clusterInMode("API_AND_CONFIG_MAP");
    eks.on(ListAssociatedAccessPoliciesCommand).resolves({ associatedAccessPolicies: [] });

    // act
    const result = await revokeAccess.apply(byPolicy, ctx);

    // assess
    expect(result.status).toBe("already-done");
    expect(result.caveats).toEqual([CAVEAT("API_AND_CONFIG_MAP")]);
  });

  it("CONFIG_MAP: refuses, reading nothing more and changing nothing: there are no access entries", async () => {
    // prepare
    const { ctx } = applyContext(false);
    clusterInMode("CONFIG_MAP");

    // act
    const results = [await revokeAccess.apply(byPolicy, ctx), await revokeAccess.apply(byEntry, ctx)];

    // assess
    for (const result of results) {
      expect(result.status).toBe("refused");
      expect(result.reason).toBe(
        `cluster ${CLUSTER}'s authentication mode is CONFIG_MAP: it has no access entries to revoke; its grants are made through the aws-auth ConfigMap (kube-system/aws-auth), outside this action's reach`,
      );
    }
    expect(namesSent(stubs)).toEqual(["DescribeCluster", "DescribeCluster"]);
  });

  it("a cluster that reports no authentication mode is treated as one where the ConfigMap may grant", async () => {
    // prepare
    const { ctx } = applyContext(false);
    eks.on(DescribeClusterCommand).resolves({ cluster: { name: CLUSTER } });
    liveAssociation({ type: "cluster" });

    // act
    const result = await revokeAccess.apply(byPolicy, ctx);

    // assess
    expect(result.status).toBe("applied");
    expect(result.caveats).toEqual([CAVEAT("not reported")]);
  });

  it("is not exempted by the default policy on a cluster CloudFormation made: those tags are for security groups", async () => {
    // prepare: eksctl clusters are CloudFormation stacks
    const { ctx } = applyContext(false);
    clusterInMode("API", { "aws:cloudformation:stack-name": "eksctl-prod-eks-cluster", "elbv2.k8s.aws/cluster": "x" });
    liveAssociation({ type: "cluster" });

    // act
    const result = await revokeAccess.apply(byPolicy, { ...ctx, exemptTags: defaultPolicy().exemptions.tags });

    // assess
    expect(result.status).toBe("applied");
  });
});
