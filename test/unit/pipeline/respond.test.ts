import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DescribeSecurityGroupsCommand, EC2Client, RevokeSecurityGroupIngressCommand } from "@aws-sdk/client-ec2";
import {
  DescribeClusterCommand,
  DisassociateAccessPolicyCommand,
  EKSClient,
  ListAssociatedAccessPoliciesCommand,
  UpdateClusterConfigCommand,
} from "@aws-sdk/client-eks";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ApprovalInputTooLargeError } from "../../../packages/core/src/approval/execution-input.ts";
import {
  type ApprovalStart,
  ClaimHeldError,
  createAwsClients,
  type PolicyInput,
  parseCheckpoint,
  parsePolicy,
  type RespondCheckpoint,
  type RespondDeps,
  type RespondResult,
  respond,
} from "../../../packages/core/src/index.ts";
import type { ClaimAnswer } from "../../../packages/core/src/pipeline/respond.ts";
import type { Policy } from "../../../packages/core/src/policy/schema.ts";
import { liveGroups } from "../../helpers/ec2-groups.ts";
import { must } from "../../helpers/fixtures.ts";

const ROOT = join(import.meta.dirname, "../../..");
const SSH_OPEN = JSON.parse(
  readFileSync(join(ROOT, "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"), "utf8"),
) as unknown;
const ADMIN_GRANT = JSON.parse(
  readFileSync(join(ROOT, "examples/events/ct-10-eks-associate-access-policy-cluster-admin.json"), "utf8"),
) as unknown;
const ec2 = mockClient(EC2Client);

interface Fakes {
  deps: RespondDeps;
  records: RespondResult[];
  notified: RespondResult[];
  claims: string[];
  completed: string[];
  released: string[];
  approvals: ApprovalStart[];
}

function fakes(policy: PolicyInput, overrides: Partial<RespondDeps> = {}): Fakes {
  const f: Omit<Fakes, "deps"> = { records: [], notified: [], claims: [], completed: [], released: [], approvals: [] };
  const claimed = new Set<string>();
  const finished = new Set<string>();
  const deps: RespondDeps = {
    policy: parsePolicy(policy),
    clients: (region) => createAwsClients(region),
    sleep: async () => {},
    claim: async (key) => {
      f.claims.push(key);
      if (finished.has(key)) return { claimed: false, status: "COMPLETED" };
      if (claimed.has(key)) return { claimed: false, status: "IN_PROGRESS" };
      claimed.add(key);
      return { claimed: true };
    },
    complete: async (key) => {
      f.completed.push(key);
      finished.add(key);
    },
    release: async (key) => {
      f.released.push(key);
      claimed.delete(key);
    },
    startApproval: async (request) => {
      f.approvals.push(request);
      return { executionArn: "arn:aws:states:eu-west-1:111122223333:execution:approval:1" };
    },
    record: async (result) => {
      f.records.push(structuredClone(result));
    },
    notify: async (result) => {
      f.notified.push(result);
    },
    ...overrides,
  };
  return { ...f, deps };
}

const GROUP = "sg-0632fa4ee8a8468a4";

/** A promise the test settles. */
function deferred<T>() {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Lets every pending callback run (promises and timers already due). */
const ticks = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};

/** The live group of the SSH_OPEN event, with its tags: read for the policy's exemption tags before a revoke. */
function liveGroup(tags: Record<string, string> = {}): void {
  ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups(tags));
}

beforeEach(() => {
  ec2.reset();
  liveGroup();
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
});

describe("respond", () => {
  it("revokes in auto mode when dry-run is off, then records and notifies once", async () => {
    const f = fakes({ dryRun: false });
    const result = await respond(SSH_OPEN, f.deps);
    expect(result.outcome).toBe("applied");
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)[0]?.args[0].input).toEqual({
      GroupId: "sg-0632fa4ee8a8468a4",
      SecurityGroupRuleIds: ["sgr-09be5c962afdc06ed"],
    });
    expect(result.applied[0]?.outcomes[0]?.status).toBe("applied");
    expect(f.records).toHaveLength(1);
    expect(f.notified).toHaveLength(1);
    expect(f.completed).toEqual(["ct:776520358045:us-east-1:2aae5c69-4eaf-490d-b022-fd622c12a717"]);
  });

  it("handles a duplicate delivery once: deliveries while it is in hand fail (to be retried), later ones are duplicates", async () => {
    const f = fakes({ dryRun: false });
    const results = await Promise.allSettled([
      respond(SSH_OPEN, f.deps),
      respond(SSH_OPEN, f.deps),
      respond(SSH_OPEN, f.deps),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected"]);
    for (const r of results.slice(1)) {
      expect(r.status === "rejected" && r.reason).toBeInstanceOf(ClaimHeldError);
    }
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
    expect(f.notified).toHaveLength(1);
    // Lambda's retry of a failed delivery comes after the first one completed: a duplicate, answered as such.
    const retry = await respond(SSH_OPEN, f.deps);
    expect(retry.duplicate).toBe(true);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
  });

  it("changes nothing while the policy is in dry-run, and still records and notifies", async () => {
    const f = fakes({});
    const result = await respond(SSH_OPEN, f.deps);
    expect(result.outcome).toBe("dry-run");
    expect(ec2.calls()).toHaveLength(0);
    expect(f.records).toHaveLength(1);
    expect(f.notified).toHaveLength(1);
  });

  it("drops every mode to alert when the kill switch is on", async () => {
    const f = fakes({ dryRun: false }, { killSwitch: async () => true });
    const result = await respond(SSH_OPEN, f.deps);
    expect(result.outcome).toBe("alert");
    expect(result.decisions[0]?.reasons.at(-1)).toBe("fail closed, alert only: the kill switch is on");
    expect(ec2.calls()).toHaveLength(0);
  });

  it("reads the kill switch only when an action is at stake (not for an alert or a skipped event)", async () => {
    const reads: string[] = [];
    const killSwitch = async () => {
      reads.push("read");
      return false;
    };
    const alertOnly = fakes({ dryRun: false, detectors: { "ec2-open-ingress": { mode: "alert" } } }, { killSwitch });
    expect((await respond(SSH_OPEN, alertOnly.deps)).outcome).toBe("alert");
    const sample = JSON.parse(
      readFileSync(join(ROOT, "examples/events/gd-01-persistence-k8s-successful-anonymous-access.json"), "utf8"),
    ) as unknown;
    expect((await respond(sample, fakes({ dryRun: false }, { killSwitch }).deps)).outcome).toBe("skipped");
    expect(reads).toEqual([]);
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
    expect((await respond(SSH_OPEN, fakes({ dryRun: false }, { killSwitch }).deps)).outcome).toBe("applied");
    expect(reads).toEqual(["read"]);
  });

  it("leaves a security group alone whose live tags carry the policy's exemption tag, and records why", async () => {
    ec2.reset();
    liveGroup({ team: "edge", "eks-responder:exempt": "true" });
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
    const f = fakes({ dryRun: false });
    const result = await respond(SSH_OPEN, f.deps);
    // Nothing changed: the event is an alert, never reported as fixed.
    expect(result.outcome).toBe("alert");
    expect(result.reason).toBe(
      `ec2:revoke-ingress refused: security group ${GROUP} carries the exemption tag eks-responder:exempt=true`,
    );
    // The decision says so too: no plan shown as made, no rollback offered.
    expect(result.decisions[0]?.mode).toBe("alert");
    expect(result.decisions[0]?.plan).toEqual([]);
    expect(result.decisions[0]?.reasons.at(-1)).toBe(
      `fail closed, alert only: ec2:revoke-ingress refused: security group ${GROUP} carries the exemption tag eks-responder:exempt=true`,
    );
    expect(result.plan).toEqual([]);
    const outcome = result.applied[0]?.outcomes[0];
    expect(outcome?.status).toBe("refused");
    expect(outcome?.reason).toBe(`security group ${GROUP} carries the exemption tag eks-responder:exempt=true`);
    expect(ec2.commandCalls(DescribeSecurityGroupsCommand)).toHaveLength(1);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
    expect(f.records).toHaveLength(1);
    // A policy without exemption tags reads no tags: the revoke is the only EC2 call.
    ec2.resetHistory();
    const g = fakes({ dryRun: false, exemptions: { tags: [] } });
    expect((await respond(SSH_OPEN, g.deps)).outcome).toBe("applied");
    expect(ec2.calls().map((c) => c.args[0].constructor.name)).toEqual(["RevokeSecurityGroupIngressCommand"]);
  });

  it("leaves a cluster alone whose live tags carry the policy's exemption tag (a CloudTrail event has no tags)", async () => {
    const eks = mockClient(EKSClient);
    try {
      eks.on(DescribeClusterCommand).resolves({
        cluster: {
          name: "prod-eks",
          resourcesVpcConfig: {
            endpointPublicAccess: true,
            endpointPrivateAccess: true,
            publicAccessCidrs: ["0.0.0.0/0"],
          },
          tags: { "eks-responder:exempt": "true" },
        },
      });
      const endpoint = JSON.parse(
        readFileSync(join(ROOT, "examples/events/ct-07-eks-update-cluster-config-public-endpoint-open.json"), "utf8"),
      ) as unknown;
      const f = fakes({
        dryRun: false,
        detectors: { "eks-public-endpoint": { mode: "auto" } },
        endpoint: { allowedPublicCidrs: ["203.0.113.0/24"] },
      });
      const result = await respond(endpoint, f.deps);
      const outcome = result.applied[0]?.outcomes[0];
      expect(outcome?.status).toBe("refused");
      expect(outcome?.reason).toBe("cluster prod-eks carries the exemption tag eks-responder:exempt=true");
      expect(eks.commandCalls(UpdateClusterConfigCommand)).toHaveLength(0);
    } finally {
      eks.restore();
    }
  });

  it("adds to the decision's reasons that aws-auth grants are out of reach on an API_AND_CONFIG_MAP cluster", async () => {
    const eks = mockClient(EKSClient);
    try {
      // DescribeCluster's accessConfig.authenticationMode:
      // https://docs.aws.amazon.com/eks/latest/APIReference/API_AccessConfigResponse.html
      eks.on(DescribeClusterCommand).resolves({
        cluster: { name: "prod-eks", accessConfig: { authenticationMode: "API_AND_CONFIG_MAP" } },
      });
      eks.on(ListAssociatedAccessPoliciesCommand).resolves({
        associatedAccessPolicies: [
          {
            policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            accessScope: { type: "cluster" },
          },
        ],
      });
      eks.on(DisassociateAccessPolicyCommand).resolves({});
      const f = fakes({ dryRun: false, detectors: { "eks-cluster-admin-granted": { mode: "auto" } } });

      const result = await respond(ADMIN_GRANT, f.deps);

      expect(result.outcome).toBe("applied");
      const caveat = must(result.decisions[0], "decision").reasons.at(-1);
      expect(caveat).toMatch(
        /^eks:revoke-access: cluster prod-eks's authentication mode is API_AND_CONFIG_MAP: grants made through the aws-auth ConfigMap \(kube-system\/aws-auth\) are outside this action's reach; check it for arn:aws:iam::/,
      );
      expect(result.reason).toContain("outside this action's reach");
    } finally {
      eks.restore();
    }
  });

  it("starts an approval with the exact plan in approve mode, and applies nothing yet", async () => {
    const f = fakes({ dryRun: false });
    const result = await respond(ADMIN_GRANT, f.deps);
    expect(result.outcome).toBe("pending-approval");
    expect(f.approvals).toHaveLength(1);
    expect(f.approvals[0]?.decision.plan).toEqual([
      expect.objectContaining({
        service: "eks",
        operation: "DisassociateAccessPolicy",
        params: {
          clusterName: "prod-eks",
          principalArn: "arn:aws:iam::111122223333:role/external-ci-deployer",
          policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        },
      }),
    ]);
    expect(result.approvals[0]?.executionArn).toContain(":execution:approval:");
  });

  it("fails closed to an alert in approve mode when no approval workflow is configured", async () => {
    const f = fakes({ dryRun: false }, { startApproval: undefined });
    const result = await respond(ADMIN_GRANT, f.deps);
    expect(result.outcome).toBe("alert");
    expect(result.decisions[0]?.reasons.at(-1)).toBe("fail closed, alert only: no approval workflow is configured");
  });

  it("records a notification failure and never undoes the remediation", async () => {
    const f = fakes(
      { dryRun: false },
      {
        notify: async () => {
          throw new Error("slack: 503");
        },
      },
    );
    const result = await respond(SSH_OPEN, f.deps);
    expect(result.outcome).toBe("applied");
    expect(result.notifyError).toBe("slack: 503");
    expect(f.records.at(-1)?.notifyError).toBe("slack: 503");
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
  });

  it("releases the claim when recording fails, so a retry can run", async () => {
    const f = fakes(
      {},
      {
        record: async () => {
          throw new Error("dynamodb down");
        },
      },
    );
    await expect(respond(SSH_OPEN, f.deps)).rejects.toThrow("dynamodb down");
    expect(f.released).toEqual(["ct:776520358045:us-east-1:2aae5c69-4eaf-490d-b022-fd622c12a717"]);
  });

  it("asks for approval instead of acting when the blast-radius limit refuses a slot, and alerts without approvals", async () => {
    const refused = async () => ({
      allowed: false as const,
      reason: "blast-radius limit: 20 automatic actions per 600 s reached for account 776520358045",
    });
    const f = fakes({ dryRun: false }, { takeAutomaticSlot: refused });
    const result = await respond(SSH_OPEN, f.deps);
    expect(result.outcome).toBe("pending-approval");
    expect(f.approvals[0]?.decision.reasons.at(-1)).toContain("blast-radius limit: 20 automatic actions per 600 s");
    // Nothing changed: the group's tags were read while the slot was being taken, and the revoke never sent.
    expect(ec2.calls().map((c) => c.args[0].constructor.name)).toEqual(["DescribeSecurityGroupsCommand"]);
    expect(f.approvals[0]?.decision.mode).toBe("approve");
    expect(result.applied).toEqual([]);
    const g = fakes({ dryRun: false }, { takeAutomaticSlot: refused, startApproval: undefined });
    expect((await respond(SSH_OPEN, g.deps)).outcome).toBe("alert");
  });

  it("claims while the policy is read, reads the kill switch with the claim, and changes nothing before the claim, the switch and the slot answered", async () => {
    // prepare: every guardrail answers only when the test says so
    const policy = deferred<Policy>();
    const claim = deferred<ClaimAnswer>();
    const kill = deferred<boolean>();
    const slot = deferred<{ allowed: true }>();
    const order: string[] = [];
    const f = fakes(
      { dryRun: false },
      {
        policy: policy.promise,
        claim: () => {
          order.push("claim");
          return claim.promise;
        },
        killSwitch: () => {
          order.push("kill switch");
          return kill.promise;
        },
        prepareSlot: (account) => order.push(`read counter ${account}`),
        prepareHoldBack: (signal) =>
          order.push(`read guards ${signal.family === "cloudtrail" ? signal.eventName : signal.family}`),
        takeAutomaticSlot: () => {
          order.push("slot");
          return slot.promise;
        },
        holdBack: async () => {
          order.push("guards");
          return undefined;
        },
      },
    );
    const revokes = () => ec2.commandCalls(RevokeSecurityGroupIngressCommand).length;
    const ahead = ["claim", "read counter 776520358045", "read guards AuthorizeSecurityGroupIngress"];

    // act + assess: the claim, the counter read and the guards' reads go out before the policy is known
    const running = respond(SSH_OPEN, f.deps);
    await ticks();
    expect(order).toEqual(ahead);
    policy.resolve(parsePolicy({ dryRun: false }));
    await ticks();
    expect(order).toEqual([...ahead, "kill switch"]);
    // the claim held, the kill switch not answered yet: no slot, no call
    claim.resolve({ claimed: true });
    await ticks();
    expect(order).not.toContain("slot");
    expect(ec2.calls()).toHaveLength(0);
    // the switch off: the guards count and the slot is asked for, and the group's tags are read meanwhile; the revoke
    // waits for the slot
    kill.resolve(false);
    await vi.waitFor(() => expect(ec2.commandCalls(DescribeSecurityGroupsCommand)).toHaveLength(1));
    expect(order.slice(-2)).toEqual(["guards", "slot"]);
    await ticks();
    expect(revokes()).toBe(0);
    slot.resolve({ allowed: true });
    const result = await running;
    expect(result.outcome).toBe("applied");
    expect(revokes()).toBe(1);
  });

  it("acts on nothing and takes no slot when the kill switch read with the policy is on", async () => {
    const slots: string[] = [];
    const f = fakes(
      { dryRun: false },
      {
        policy: Promise.resolve(parsePolicy({ dryRun: false })),
        killSwitch: async () => true,
        takeAutomaticSlot: async (account) => {
          slots.push(account);
          return { allowed: true };
        },
      },
    );
    const result = await respond(SSH_OPEN, f.deps);
    expect(result.outcome).toBe("alert");
    expect(slots).toEqual([]);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
  });

  it("gives the claim back when the policy cannot be read, and acts on nothing", async () => {
    const f = fakes({ dryRun: false }, { policy: Promise.reject(new Error("SSM parameter /p is missing or empty")) });
    await expect(respond(SSH_OPEN, f.deps)).rejects.toThrow("is missing or empty");
    expect(f.claims).toEqual(["ct:776520358045:us-east-1:2aae5c69-4eaf-490d-b022-fd622c12a717"]);
    expect(f.released).toEqual(f.claims);
    expect(ec2.calls()).toHaveLength(0);
    expect(f.records).toEqual([]);
  });

  it("sends the event back to its retry policy on a throttled call, releasing the claim, and records nothing yet", async () => {
    ec2.reset();
    liveGroup();
    ec2
      .on(RevokeSecurityGroupIngressCommand)
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "RequestLimitExceeded" }));
    const f = fakes({ dryRun: false });
    await expect(respond(SSH_OPEN, f.deps)).rejects.toThrow(/failed transiently \(RequestLimitExceeded/);
    expect(f.released).toEqual(["ct:776520358045:us-east-1:2aae5c69-4eaf-490d-b022-fd622c12a717"]);
    expect(f.records).toHaveLength(0);
    // The redelivery claims the event again and, with EC2 answering, completes it.
    ec2.reset();
    liveGroup();
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
    expect((await respond(SSH_OPEN, f.deps)).outcome).toBe("applied");
  });

  it("resumes from a dead invocation's checkpoint: what it did is not done again, and is recorded and notified", async () => {
    // prepare: a first invocation revoked the rule, saved its checkpoint, and died before recording
    let saved: RespondCheckpoint | undefined;
    const first = fakes(
      { dryRun: false },
      {
        checkpoint: async (_key, c) => {
          saved = structuredClone(c);
        },
      },
    );
    first.deps.record = () => new Promise<never>(() => {});
    void respond(SSH_OPEN, first.deps);
    await vi.waitFor(() => expect(saved?.done).toHaveLength(1));
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);

    // act: the invocation that takes the claim over gets the checkpoint
    const taker = fakes(
      { dryRun: false },
      {
        claim: async () => ({
          claimed: true,
          attempt: 2,
          firstClaimedAt: "2025-06-15T10:51:20.000Z",
          ...(saved ? { resume: saved } : {}),
        }),
      },
    );
    const result = await respond(SSH_OPEN, taker.deps);

    // assess
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
    expect(result.outcome).toBe("applied");
    expect(result.applied[0]?.outcomes[0]?.status).toBe("applied");
    expect(result.recordedAt).toBe("2025-06-15T10:51:20.000Z");
    expect(taker.records).toHaveLength(1);
    expect(taker.notified).toHaveLength(1);
  });

  it("keeps an earlier attempt's applied outcome (and its undo) when the retry finds the change already made", async () => {
    // prepare: the earlier attempt's playbook stopped on a throttled call after revoking (its partial outcomes)
    const done = await respond(SSH_OPEN, fakes({ dryRun: false }).deps);
    const applied = done.applied[0];
    if (!applied) throw new Error("the first response must apply");
    ec2.reset();
    liveGroup();
    // EC2's answer for a rule id that no longer exists (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html)
    ec2.on(RevokeSecurityGroupIngressCommand).rejects(
      Object.assign(new Error("The security group rule ID 'sgr-09be5c962afdc06ed' does not exist"), {
        name: "InvalidSecurityGroupRuleId.NotFound",
      }),
    );
    const f = fakes(
      { dryRun: false },
      {
        claim: async () => ({
          claimed: true,
          attempt: 2,
          resume: {
            version: 1,
            done: [],
            partial: [{ assessmentId: applied.assessmentId, outcomes: applied.outcomes }],
          },
        }),
      },
    );

    // act
    const result = await respond(SSH_OPEN, f.deps);

    // assess
    const outcome = result.applied[0]?.outcomes[0];
    expect(outcome?.status).toBe("applied");
    expect(outcome?.reason).toMatch(/by an earlier attempt of this event/);
    expect(outcome?.undo).toEqual(applied.outcomes[0]?.undo);
    expect(result.decisions[0]?.reasons.at(-1)).toMatch(/^claim 2 of this event: an earlier invocation did not finish/);
  });

  it("saves a checkpoint after acting on an assessment, and none for a dry-run", async () => {
    // prepare
    const saved: RespondCheckpoint[] = [];
    const f = fakes({ dryRun: false }, { checkpoint: async (_key, c) => void saved.push(structuredClone(c)) });
    const dryRun = fakes({}, { checkpoint: async (_key, c) => void saved.push(structuredClone(c)) });

    // act
    await respond(SSH_OPEN, f.deps);
    await respond(SSH_OPEN, dryRun.deps);

    // assess
    expect(saved).toHaveLength(1);
    expect(saved[0]?.done[0]?.outcomes?.[0]?.status).toBe("applied");
    expect(parseCheckpoint(JSON.stringify(saved[0]))).toEqual(saved[0]);
    expect(parseCheckpoint("{not json")).toBeUndefined();
    expect(parseCheckpoint(JSON.stringify({ version: 2, done: [], partial: [] }))).toBeUndefined();
  });

  it("alerts instead when the approval request cannot fit Step Functions, and never loses the event", async () => {
    // prepare
    const f = fakes(
      { dryRun: false, detectors: { "ec2-open-ingress": { mode: "approve" } } },
      {
        startApproval: async () => {
          throw new ApprovalInputTooLargeError(300_000, 131_072);
        },
      },
    );

    // act
    const result = await respond(SSH_OPEN, f.deps);

    // assess
    expect(result.outcome).toBe("alert");
    expect(result.decisions[0]?.reasons.at(-1)).toMatch(
      /fail closed, alert only: the approval request is 300000 bytes/,
    );
    expect(f.notified).toHaveLength(1);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
  });

  it("records an invalid event instead of dropping it, and acts on nothing", async () => {
    const f = fakes({ dryRun: false });
    const result = await respond({ "detail-type": "GuardDuty Finding", source: "aws.guardduty" }, f.deps);
    expect(result.outcome).toBe("invalid");
    expect(f.records).toHaveLength(1);
    expect(ec2.calls()).toHaveLength(0);
  });
});
