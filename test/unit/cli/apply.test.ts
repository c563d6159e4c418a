import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { EKSClient } from "@aws-sdk/client-eks";
import {
  DescribeInstanceInformationCommand,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/nested-clients/sts";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { main } from "../../../packages/cli/src/main.ts";
import type { Io } from "../../../packages/cli/src/terminal.ts";
import { liveGroups } from "../../helpers/ec2-groups.ts";
import { assumeRoleAnswer } from "../../helpers/sts.ts";

const ROOT = join(import.meta.dirname, "../../..");
const SSH_OPEN = "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json";
const ROLE = "arn:aws:iam::776520358045:role/eks-responder-execution";

const ec2 = mockClient(EC2Client);
const sts = mockClient(STSClient);
const eks = mockClient(EKSClient);
const ssm = mockClient(SSMClient);

function capture(answers: string[] | undefined = undefined) {
  let out = "";
  let err = "";
  const questions: string[] = [];
  const io: Io = {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env: { EKS_RESPONDER_STATE_DIR: mkdtempSync(join(tmpdir(), "eks-state-")) },
    cwd: ROOT,
    sleep: async () => {},
    ...(answers
      ? {
          prompt: async (q: string) => {
            questions.push(q);
            return answers.shift() ?? "";
          },
        }
      : {}),
  };
  return { io, out: () => out, err: () => err, questions };
}

function mockRevokeSucceeds() {
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({
    Return: true,
    RevokedSecurityGroupRules: [
      {
        SecurityGroupRuleId: "sgr-09be5c962afdc06ed",
        GroupId: "sg-0632fa4ee8a8468a4",
        IsEgress: false,
        IpProtocol: "tcp",
        FromPort: 22,
        ToPort: 22,
        CidrIpv4: "0.0.0.0/0",
      },
    ],
  });
}

beforeEach(() => {
  ec2.reset();
  eks.reset();
  ssm.reset();
  // The group of the SSH event, with no exemption tag: read for the default policy's exemption tag before any revoke.
  ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups({ team: "edge" }));
});

describe("eks-responder replay --apply", () => {
  it("reads the group's tags, revokes the open SSH rule with one EC2 change, records it, and rollback restores it exactly", async () => {
    mockRevokeSucceeds();
    const c = capture();
    expect(await main(["replay", "--apply", "--yes", SSH_OPEN], c.io)).toBe(0);
    const revokes = ec2.commandCalls(RevokeSecurityGroupIngressCommand);
    expect(ec2.calls().map((call) => call.args[0].constructor.name)).toEqual([
      "DescribeSecurityGroupsCommand",
      "RevokeSecurityGroupIngressCommand",
    ]);
    expect(revokes[0]?.args[0].input).toEqual({
      GroupId: "sg-0632fa4ee8a8468a4",
      SecurityGroupRuleIds: ["sgr-09be5c962afdc06ed"],
    });
    expect(c.out()).toContain("APPLIED ec2:revoke-ingress: revoked sgr-09be5c962afdc06ed of sg-0632fa4ee8a8468a4");
    const id = /eks-responder rollback (asm-[0-9a-f]{20})/.exec(c.out())?.[1] ?? "";
    expect(id).not.toBe("");
    const journal = JSON.parse(
      readFileSync(join(c.io.env.EKS_RESPONDER_STATE_DIR ?? "", "outcomes", `${id}.json`), "utf8"),
    );
    expect(journal.results[0].undo.rules[0]).toMatchObject({ ruleId: "sgr-09be5c962afdc06ed", cidrIpv4: "0.0.0.0/0" });

    ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    expect(await main(["rollback", "--yes", id], c.io)).toBe(0);
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)[0]?.args[0].input).toEqual({
      GroupId: "sg-0632fa4ee8a8468a4",
      IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
    });
    expect(c.out()).toContain("APPLIED rollback ec2:revoke-ingress");
    // A second rollback changes nothing.
    expect(await main(["rollback", "--yes", id], c.io)).toBe(2);
    expect(c.err()).toContain("was already rolled back");
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(1);
  });

  it("refuses --apply without --yes when no terminal can confirm, before touching anything", async () => {
    const c = capture();
    expect(await main(["replay", "--apply", SSH_OPEN], c.io)).toBe(2);
    expect(c.err()).toContain("add --yes");
    expect(ec2.calls()).toHaveLength(0);
  });

  it("asks on the terminal and does nothing when the answer is no", async () => {
    const c = capture(["n"]);
    expect(await main(["replay", "--apply", SSH_OPEN], c.io)).toBe(0);
    expect(c.questions[0]).toContain("Security group sg-0632fa4ee8a8468a4 opened tcp/22 from 0.0.0.0/0");
    expect(c.questions[0]).toContain("ec2:RevokeSecurityGroupIngress");
    expect(c.out()).toContain("DECLINED");
    expect(ec2.calls()).toHaveLength(0);
  });

  it("applies when the person at the terminal says yes", async () => {
    mockRevokeSucceeds();
    const c = capture(["y"]);
    expect(await main(["replay", "--apply", SSH_OPEN], c.io)).toBe(0);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
  });

  it("never acts on alert-mode, sample, exempt or benign events", async () => {
    const c = capture();
    const events = [
      "examples/events/gd-01-persistence-k8s-successful-anonymous-access.json",
      "examples/events/gd-03-sample-trojan-ec2-blackhole-dns.json",
      "examples/events/gd-15-ec2-ssh-bruteforce-eks-worker.json",
      "test/fixtures/cloudtrail/authorize-security-group-ingress/single-host-32-ssh.json",
    ];
    expect(await main(["replay", "--apply", "--yes", ...events], c.io)).toBe(0);
    const policy = join(mkdtempSync(join(tmpdir(), "eks-policy-")), "p.json");
    writeFileSync(policy, JSON.stringify({ exemptions: { principals: ["arn:aws:iam::776520358045:role/voclabs"] } }));
    expect(await main(["replay", "--apply", "--yes", "--config", policy, SSH_OPEN], c.io)).toBe(0);
    expect(ec2.calls()).toHaveLength(0);
    expect(eks.calls()).toHaveLength(0);
    expect(ssm.calls()).toHaveLength(0);
  });

  it("keeps a detector marked dryRun in dry-run even with --apply", async () => {
    const policy = join(mkdtempSync(join(tmpdir(), "eks-policy-")), "p.json");
    writeFileSync(policy, JSON.stringify({ detectors: { "ec2-open-ingress": { dryRun: true } } }));
    const c = capture();
    expect(await main(["replay", "--apply", "--yes", "--config", policy, SSH_OPEN], c.io)).toBe(0);
    expect(ec2.calls()).toHaveLength(0);
  });

  it("exits 1 and reports the reason when AWS refuses the change", async () => {
    ec2
      .on(RevokeSecurityGroupIngressCommand)
      .rejects(Object.assign(new Error("You are not authorized"), { name: "UnauthorizedOperation" }));
    const c = capture();
    expect(await main(["replay", "--apply", "--yes", "--json", SSH_OPEN], c.io)).toBe(1);
    const report = JSON.parse(c.out()) as {
      results: { applied: { results: { status: string; error?: { code: string } }[] }[] }[];
      summary: { applied: Record<string, number> };
    };
    expect(report.results[0]?.applied[0]?.results[0]).toMatchObject({
      status: "failed",
      error: { code: "UnauthorizedOperation" },
    });
    expect(report.summary.applied).toEqual({ failed: 1 });
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
  });
});

describe("eks-responder rollback", () => {
  it("refuses an id that is not an outcome id, and names the recorded ones for an unknown id", async () => {
    const c = capture();
    expect(await main(["rollback", "--yes", "../../etc/passwd"], c.io)).toBe(2);
    expect(c.err()).toContain("is not an outcome id");
    expect(await main(["rollback", "--yes", "asm-00000000000000000000"], c.io)).toBe(2);
    expect(c.err()).toContain("no recorded outcome asm-00000000000000000000");
    expect(ec2.calls()).toHaveLength(0);
  });
});

describe("eks-responder patch", () => {
  it("patches the SSM-managed nodes of a cluster, reports the others, and follows the command to the end", async () => {
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [{ InstanceId: "i-0aaaaaaaaaaaaaaaa" }, { InstanceId: "i-0bbbbbbbbbbbbbbbb" }] }],
    });
    ssm.on(DescribeInstanceInformationCommand).resolves({
      InstanceInformationList: [
        {
          InstanceId: "i-0aaaaaaaaaaaaaaaa",
          PingStatus: "Online",
          PlatformType: "Linux",
          PlatformName: "Amazon Linux",
        },
      ],
    });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: "cmd-1" } });
    ssm
      .on(ListCommandInvocationsCommand)
      .resolvesOnce({ CommandInvocations: [{ InstanceId: "i-0aaaaaaaaaaaaaaaa", Status: "InProgress" }] })
      .resolves({ CommandInvocations: [{ InstanceId: "i-0aaaaaaaaaaaaaaaa", Status: "Success" }] });
    const c = capture();
    expect(
      await main(["patch", "--cluster", "prod-eks", "--nodegroup", "general", "--region", "eu-west-1", "--yes"], c.io),
    ).toBe(0);
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(3);
    expect(ec2.commandCalls(DescribeInstancesCommand)[0]?.args[0].input).toEqual({
      Filters: [
        { Name: "tag:eks:cluster-name", Values: ["prod-eks"] },
        { Name: "tag:eks:nodegroup-name", Values: ["general"] },
        { Name: "instance-state-name", Values: ["running"] },
      ],
    });
    expect(ssm.commandCalls(SendCommandCommand)[0]?.args[0].input).toMatchObject({
      DocumentName: "AWS-RunPatchBaseline",
      InstanceIds: ["i-0aaaaaaaaaaaaaaaa"],
      Parameters: { Operation: ["Install"], RebootOption: ["RebootIfNeeded"] },
      MaxConcurrency: "10%",
      MaxErrors: "0",
    });
    expect(ssm.commandCalls(ListCommandInvocationsCommand)).toHaveLength(2);
    expect(c.out()).toContain("i-0aaaaaaaaaaaaaaaa  Success");
    expect(c.out()).toContain("i-0bbbbbbbbbbbbbbbb  skipped: not managed by SSM");
  });

  it("needs a cluster and a region", async () => {
    const c = capture();
    expect(await main(["patch", "--region", "eu-west-1"], c.io)).toBe(2);
    expect(c.err()).toContain("patch needs --cluster NAME");
    expect(await main(["patch", "--cluster", "prod-eks"], c.io)).toBe(2);
    expect(c.err()).toContain("patch needs --region REGION");
  });
});

/** The credentials of the EC2 client that sent the first call of this command. */
async function credentialsOf(command: typeof RevokeSecurityGroupIngressCommand | typeof DescribeInstancesCommand) {
  const call = ec2.send.getCalls().find((c) => c.args[0] instanceof command);
  if (!call) throw new Error(`no ${command.name} was sent`);
  return (call.thisValue as EC2Client).config.credentials();
}

/** The CLI's io with an operator's own (static) keys, which a role's session must replace. */
function operator() {
  const c = capture();
  Object.assign(c.io.env, { AWS_ACCESS_KEY_ID: "AKIDOPERATOR", AWS_SECRET_ACCESS_KEY: "operator-secret" });
  return c;
}

/**
 * `--role-arn ARN --external-id ID`: the CLI acts in a member account the way the hub does, through the role's session
 * named after the assessment. AssumeRole answers as its API reference shows (test/helpers/sts.ts).
 */
describe("eks-responder --role-arn", () => {
  beforeEach(() => {
    sts.reset();
    sts.on(AssumeRoleCommand).callsFake(assumeRoleAnswer);
  });

  it("replay --apply and rollback act through the role, with the ExternalId and the assessment's session name", async () => {
    mockRevokeSucceeds();
    const c = operator();

    expect(
      await main(["replay", "--apply", "--yes", "--role-arn", ROLE, "--external-id", "ext-1234", SSH_OPEN], c.io),
    ).toBe(0);
    const id = /eks-responder rollback (asm-[0-9a-f]{20})/.exec(c.out())?.[1] ?? "";
    ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    expect(await main(["rollback", "--yes", "--role-arn", ROLE, "--external-id", "ext-1234", id], c.io)).toBe(0);

    expect(id).not.toBe("");
    const expected = {
      RoleArn: ROLE,
      ExternalId: "ext-1234",
      RoleSessionName: `eks-responder-${id}`,
      DurationSeconds: 900,
    };
    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input)).toEqual([expected, expected]);
    expect(await credentialsOf(RevokeSecurityGroupIngressCommand)).toMatchObject({
      accessKeyId: "ASIAIOSFODNN7EXAMPLE",
    });
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(1);
  });

  it("does not act on an event of another account than the role's", async () => {
    const c = operator();

    const code = await main(
      ["replay", "--apply", "--yes", "--role-arn", "arn:aws:iam::444455556666:role/eks-responder-execution", SSH_OPEN],
      c.io,
    );

    expect(code).toBe(0);
    expect(c.err()).toContain("the event is of account 776520358045, and --role-arn");
    expect(ec2.calls()).toHaveLength(0);
    expect(sts.calls()).toHaveLength(0);
  });

  it("fails the action, naming the account and role, when the role cannot be assumed: nothing with the operator's own keys", async () => {
    sts.on(AssumeRoleCommand).rejects(
      Object.assign(
        new Error("User: arn:aws:iam::999988887777:user/ops is not authorized to perform: sts:AssumeRole"),
        {
          name: "AccessDenied",
          $metadata: { httpStatusCode: 403 },
        },
      ),
    );
    const c = operator();

    const code = await main(["replay", "--apply", "--yes", "--role-arn", ROLE, SSH_OPEN], c.io);

    expect(code).toBe(1);
    expect(c.out()).toContain(`cannot act in account 776520358045: sts:AssumeRole of ${ROLE} failed (AccessDenied`);
    expect(ec2.calls()).toHaveLength(0);
  });

  it("patch assumes the role for its session", async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const c = operator();

    await main(["patch", "--cluster", "prod-eks", "--region", "eu-west-1", "--yes", "--role-arn", ROLE], c.io);

    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toMatchObject({
      RoleArn: ROLE,
      RoleSessionName: expect.stringMatching(/^eks-responder-asm-[0-9a-f]{20}$/),
    });
    expect(await credentialsOf(DescribeInstancesCommand)).toMatchObject({ accessKeyId: "ASIAIOSFODNN7EXAMPLE" });
  });

  it("refuses a bad role ARN, --external-id without --role-arn, and --role-arn on a dry-run replay", async () => {
    const c = operator();
    expect(await main(["replay", "--apply", "--yes", "--role-arn", "eks-responder-execution", SSH_OPEN], c.io)).toBe(2);
    expect(await main(["rollback", "--yes", "--external-id", "x1", "asm-00000000000000000000"], c.io)).toBe(2);
    expect(await main(["replay", "--role-arn", ROLE, SSH_OPEN], c.io)).toBe(2);
    expect(c.err()).toContain("--role-arn: expected an IAM role ARN");
    expect(c.err()).toContain("--external-id only goes with --role-arn");
    expect(c.err()).toContain("--role-arn only goes with --apply");
    expect(ec2.calls()).toHaveLength(0);
  });
});
