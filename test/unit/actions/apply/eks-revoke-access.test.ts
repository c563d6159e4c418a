import {
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

beforeEach(() => {
  eks.reset();
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
    ["policyArn", byPolicy, ["ListAssociatedAccessPolicies", "ListAssociatedAccessPolicies"]],
    ["remainingGroups", byGroups, ["DescribeAccessEntry"]],
    [
      "deleteAccessEntry",
      byEntry,
      ["DescribeAccessEntry", "ListAssociatedAccessPolicies", "ListAssociatedAccessPolicies"],
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
