import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthorizeSecurityGroupIngressCommand, EC2Client } from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { type JournalResult, readEntry, writeEntry } from "../../../packages/cli/src/journal.ts";
import { main } from "../../../packages/cli/src/main.ts";
import type { Io } from "../../../packages/cli/src/terminal.ts";
import { ec2Error } from "../actions/apply/helpers.ts";

const ec2 = mockClient(EC2Client);
const ID = "asm-0123456789abcdef0123";
const RULE = { ruleId: "sgr-09be5c962afdc06ed", protocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" };
const PERMISSION = { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] };

function revoked(groupId: string, extra: Partial<JournalResult> = {}): JournalResult {
  return {
    action: "ec2:revoke-ingress",
    status: "applied",
    reason: `revoked 1 rule(s) of ${groupId}`,
    calls: [],
    params: { groupId, ruleIds: [RULE.ruleId] },
    undo: { groupId, rules: [RULE] },
    ...extra,
  };
}

async function recorded(results: JournalResult[]) {
  let out = "";
  let err = "";
  const stateDir = mkdtempSync(join(tmpdir(), "eks-state-"));
  await writeEntry(stateDir, {
    assessmentId: ID,
    detectorId: "ec2-open-ingress",
    title: "a plan of three revokes",
    account: "111122223333",
    region: "eu-west-1",
    source: "test",
    recordedAt: "2025-06-15T10:51:20.000Z",
    results,
    rollbacks: [],
  });
  const io: Io = {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env: { EKS_RESPONDER_STATE_DIR: stateDir },
    cwd: stateDir,
    sleep: async () => {},
  };
  return { io, stateDir, out: () => out, err: () => err };
}

/** EC2's answers (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html). */
beforeEach(() => {
  ec2.reset();
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
});

afterAll(() => {
  ec2.restore();
});

const groupsAuthorized = () =>
  ec2.commandCalls(AuthorizeSecurityGroupIngressCommand).map((c) => c.args[0].input.GroupId);

describe("eks-responder rollback of a whole plan", () => {
  it("undoes every action still applied, last first", async () => {
    const c = await recorded([revoked("sg-0000000a"), revoked("sg-0000000b"), revoked("sg-0000000c")]);

    expect(await main(["rollback", "--yes", ID], c.io)).toBe(0);

    expect(groupsAuthorized()).toEqual(["sg-0000000c", "sg-0000000b", "sg-0000000a"]);
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)[0]?.args[0].input).toEqual({
      GroupId: "sg-0000000c",
      IpPermissions: [PERMISSION],
    });
    expect(c.out()).toBe(
      "APPLIED rollback ec2:revoke-ingress: re-authorized 1 rule(s) in sg-0000000c\n" +
        "APPLIED rollback ec2:revoke-ingress: re-authorized 1 rule(s) in sg-0000000b\n" +
        "APPLIED rollback ec2:revoke-ingress: re-authorized 1 rule(s) in sg-0000000a\n",
    );
  });

  it("stops at the first failure and says what was undone and what stays applied", async () => {
    // EC2's UnauthorizedOperation (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html)
    ec2
      .on(AuthorizeSecurityGroupIngressCommand, { GroupId: "sg-0000000b" })
      .rejects(ec2Error("UnauthorizedOperation", 403));
    const c = await recorded([revoked("sg-0000000a"), revoked("sg-0000000b"), revoked("sg-0000000c")]);

    expect(await main(["rollback", "--yes", "--json", ID], c.io)).toBe(1);

    expect(groupsAuthorized()).toEqual(["sg-0000000c", "sg-0000000b"]);
    const report = JSON.parse(c.out()) as { results: { status: string }[]; notUndone: string[] };
    expect(report.results.map((r) => r.status)).toEqual(["applied", "failed"]);
    expect(report.notUndone).toEqual(["ec2:revoke-ingress", "ec2:revoke-ingress"]);
    const read = await readEntry(c.stateDir, ID);
    expect("entry" in read && read.entry.rollbacks[0]?.results.map((r) => r.status)).toEqual(["applied", "failed"]);
  });

  it("prints the stop in words without --json", async () => {
    ec2
      .on(AuthorizeSecurityGroupIngressCommand, { GroupId: "sg-0000000b" })
      .rejects(ec2Error("UnauthorizedOperation", 403));
    const c = await recorded([revoked("sg-0000000a"), revoked("sg-0000000b"), revoked("sg-0000000c")]);

    expect(await main(["rollback", "--yes", ID], c.io)).toBe(1);

    expect(c.out()).toContain(
      "STOPPED at the first failure: undone 1 of 3; still applied, last first: ec2:revoke-ingress, ec2:revoke-ingress\n",
    );
  });

  it("skips an action a later failure already undid", async () => {
    const c = await recorded([
      revoked("sg-0000000a", {
        undone: { status: "applied", reason: "re-authorized 1 rule(s) in sg-0000000a", calls: [] },
      }),
      revoked("sg-0000000b"),
    ]);

    expect(await main(["rollback", "--yes", ID], c.io)).toBe(0);

    expect(groupsAuthorized()).toEqual(["sg-0000000b"]);
  });

  it("--dry-run shows each undo, in order, with its calls and recorded state, and sends nothing", async () => {
    const c = await recorded([revoked("sg-0000000a"), revoked("sg-0000000b")]);

    expect(await main(["rollback", "--dry-run", ID], c.io)).toBe(0);

    expect(ec2.calls()).toHaveLength(0);
    const rule = JSON.stringify(RULE);
    expect(c.out()).toBe(
      `DRY-RUN: nothing is changed. Rolling back ${ID} would undo, in this order:\n` +
        "  1. ec2:revoke-ingress: re-authorize the revoked rules from their recorded description, and modify a rule turned back into the cluster security group's self reference back to what it was\n" +
        "     sends ec2:AuthorizeSecurityGroupIngress, ec2:ModifySecurityGroupRules\n" +
        `     from {"groupId":"sg-0000000b","rules":[${rule}]}\n` +
        "  2. ec2:revoke-ingress: re-authorize the revoked rules from their recorded description, and modify a rule turned back into the cluster security group's self reference back to what it was\n" +
        "     sends ec2:AuthorizeSecurityGroupIngress, ec2:ModifySecurityGroupRules\n" +
        `     from {"groupId":"sg-0000000a","rules":[${rule}]}\n`,
    );
    const read = await readEntry(c.stateDir, ID);
    expect("entry" in read && read.entry.rollbacks).toEqual([]);
  });
});
