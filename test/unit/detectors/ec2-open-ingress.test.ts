import { describe, expect, it } from "vitest";
import { ec2OpenIngress } from "../../../packages/core/src/detectors/ec2-open-ingress.detector.ts";
import {
  defaultPolicy,
  type EventResult,
  parseEventText,
  parsePolicy,
  processEvent,
} from "../../../packages/core/src/index.ts";
import { fixtureText, listFixtures, loadFixture, must, objectAt } from "../../helpers/fixtures.ts";

const ID = "ec2-open-ingress";
const SGI = "cloudtrail/authorize-security-group-ingress";
const MSR = "cloudtrail/modify-security-group-rules";
const SG = "sg-0a1b2c3d4e5f60718";

function run(relPath: string, policy = defaultPolicy()): EventResult {
  return processEvent(fixtureText(relPath), policy);
}

function calls(result: EventResult) {
  return result.plan.map((p) => ({ service: p.service, operation: p.operation, params: p.params }));
}

function mine(result: EventResult) {
  return result.assessments.filter((a) => a.detectorId === ID);
}

function settings(value: unknown) {
  return parsePolicy({ detectors: { [ID]: { settings: value } } });
}

const revokeRules = (groupId: string, ruleIds: string[]) => [
  {
    service: "ec2",
    operation: "RevokeSecurityGroupIngress",
    params: { GroupId: groupId, SecurityGroupRuleIds: ruleIds, DryRun: true },
  },
];

interface Flagged {
  severity: "high" | "critical";
  title: string;
  groupId: string;
  ruleIds?: string[];
  calls: unknown[];
}

const FLAGGED: Record<string, Flagged> = {
  [`${SGI}/all-ports-tcp-open.json`]: {
    severity: "critical",
    title: `Security group ${SG} opened tcp/0-65535 from 0.0.0.0/0`,
    groupId: SG,
    ruleIds: ["sgr-08091a2b3c4d5e6f7"],
    calls: revokeRules(SG, ["sgr-08091a2b3c4d5e6f7"]),
  },
  [`${SGI}/all-traffic-ipv4-open.json`]: {
    severity: "critical",
    title: `Security group ${SG} opened all traffic from 0.0.0.0/0`,
    groupId: SG,
    ruleIds: ["sgr-01f2e3d4c5b6a7980"],
    calls: revokeRules(SG, ["sgr-01f2e3d4c5b6a7980"]),
  },
  [`${SGI}/flat-cidrip-ssh-open.json`]: {
    severity: "high",
    title: `Security group ${SG} opened tcp/22 from 0.0.0.0/0`,
    groupId: SG,
    ruleIds: ["sgr-09a2b3c4d5e6f7081"],
    calls: revokeRules(SG, ["sgr-09a2b3c4d5e6f7081"]),
  },
  [`${SGI}/ipv4-ipv6-ssh-rdp-open.json`]: {
    severity: "high",
    title: "Security group sg-0b7e3c9a1d2f4e5a6 opened tcp/22 from 0.0.0.0/0, ::/0; tcp/3389 from ::/0",
    groupId: "sg-0b7e3c9a1d2f4e5a6",
    ruleIds: ["sgr-01a2b3c4d5e6f7a80", "sgr-02b3c4d5e6f7a8b91", "sgr-03c4d5e6f7a8b9ca2"],
    calls: revokeRules("sg-0b7e3c9a1d2f4e5a6", [
      "sgr-01a2b3c4d5e6f7a80",
      "sgr-02b3c4d5e6f7a8b91",
      "sgr-03c4d5e6f7a8b9ca2",
    ]),
  },
  [`${SGI}/legacy-2018-ipv6-ssh-open-verbatim.json`]: {
    severity: "high",
    title: "Security group sg-0fbaac03a0ed37aab opened tcp/22 from ::/0",
    groupId: "sg-0fbaac03a0ed37aab",
    calls: [
      {
        service: "ec2",
        operation: "RevokeSecurityGroupIngress",
        params: {
          GroupId: "sg-0fbaac03a0ed37aab",
          IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, Ipv6Ranges: [{ CidrIpv6: "::/0" }] }],
          DryRun: true,
        },
      },
    ],
  },
  [`${SGI}/legacy-no-rule-set-ssh-open.json`]: {
    severity: "high",
    title: `Security group ${SG} opened tcp/22 from 0.0.0.0/0`,
    groupId: SG,
    calls: [
      {
        service: "ec2",
        operation: "RevokeSecurityGroupIngress",
        params: {
          GroupId: SG,
          IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
          DryRun: true,
        },
      },
    ],
  },
  [`${SGI}/rdp-ipv6-only-open.json`]: {
    severity: "high",
    title: `Security group ${SG} opened tcp/3389 from ::/0`,
    groupId: SG,
    ruleIds: ["sgr-02a3b4c5d6e7f8091"],
    calls: revokeRules(SG, ["sgr-02a3b4c5d6e7f8091"]),
  },
  [`${SGI}/ssh-ipv4-open-real.json`]: {
    severity: "high",
    title: "Security group sg-0632fa4ee8a8468a4 opened tcp/22 from 0.0.0.0/0",
    groupId: "sg-0632fa4ee8a8468a4",
    ruleIds: ["sgr-09be5c962afdc06ed"],
    calls: revokeRules("sg-0632fa4ee8a8468a4", ["sgr-09be5c962afdc06ed"]),
  },
  [`${SGI}/two-permissions-https-ssh-open.json`]: {
    severity: "high",
    title: `Security group ${SG} opened tcp/22 from 0.0.0.0/0`,
    groupId: SG,
    ruleIds: ["sgr-07f8091a2b3c4d5e6"],
    calls: revokeRules(SG, ["sgr-07f8091a2b3c4d5e6"]),
  },
  [`${MSR}/cluster-sg-self-rule-widened.json`]: {
    severity: "critical",
    title: "Security group sg-0e1d2c3b4a5968778 rule changed to sgr-0aaaaaaaaaaaaaa01: all traffic from 0.0.0.0/0",
    groupId: "sg-0e1d2c3b4a5968778",
    ruleIds: ["sgr-0aaaaaaaaaaaaaa01"],
    calls: revokeRules("sg-0e1d2c3b4a5968778", ["sgr-0aaaaaaaaaaaaaa01"]),
  },
  [`${MSR}/ssh-ipv4-world.json`]: {
    severity: "high",
    title: `Security group ${SG} rule changed to sgr-0a1b2c3d4e5f60789: tcp/22 from 0.0.0.0/0`,
    groupId: SG,
    ruleIds: ["sgr-0a1b2c3d4e5f60789"],
    calls: revokeRules(SG, ["sgr-0a1b2c3d4e5f60789"]),
  },
  [`${MSR}/ssh-ipv6-world.json`]: {
    severity: "high",
    title: `Security group ${SG} rule changed to sgr-0b2c3d4e5f6071890: tcp/22 from ::/0`,
    groupId: SG,
    ruleIds: ["sgr-0b2c3d4e5f6071890"],
    calls: revokeRules(SG, ["sgr-0b2c3d4e5f6071890"]),
  },
  [`${MSR}/two-rules-list-form.json`]: {
    severity: "high",
    title: `Security group ${SG} rule changed to sgr-0e5f607189a0b1c23: tcp/3389 from 0.0.0.0/0`,
    groupId: SG,
    ruleIds: ["sgr-0e5f607189a0b1c23"],
    calls: revokeRules(SG, ["sgr-0e5f607189a0b1c23"]),
  },
};

const BENIGN = [
  `${SGI}/prefix-list-https.json`,
  `${SGI}/sg-reference-postgres.json`,
  `${SGI}/single-host-32-ssh.json`,
  `${MSR}/private-cidr-benign.json`,
];

const FAILED = [`${SGI}/failed-duplicate.json`, `${SGI}/failed-unauthorized-world.json`];

describe("ec2-open-ingress", () => {
  it("assesses exactly the world-open ingress fixtures, under the default policy", () => {
    // prepare
    const all = [...listFixtures("cloudtrail"), ...listFixtures("guardduty")];

    // act
    const assessed = all.filter((f) => mine(run(f)).length > 0);

    // assess
    expect(assessed).toEqual(Object.keys(FLAGGED).sort());
  });

  it.each(Object.entries(FLAGGED))("flags %s with the exact revoke plan", (relPath, expected) => {
    // prepare
    const policy = defaultPolicy();

    // act
    const result = run(relPath, policy);

    // assess
    const [assessment, ...rest] = mine(result);
    expect(rest).toEqual([]);
    const a = must(assessment, "assessment");
    expect(a.severity).toBe(expected.severity);
    expect(a.title).toBe(expected.title);
    expect(a.resources).toEqual({
      securityGroupId: expected.groupId,
      ...(expected.ruleIds ? { ruleIds: expected.ruleIds } : {}),
    });
    expect(calls(result)).toEqual(expected.calls);
    const decision = must(result.decisions[0], "decision");
    expect(decision.mode).toBe("auto");
    expect(decision.reasons[0]).toBe(
      "mode auto: default for ec2-open-ingress (revoking the exact rule that was just added is small, exact and reversible)",
    );
    expect(decision.reasons).toContain("would apply 1 call (dry-run: nothing is changed)");
    expect(result.outcome).toBe("dry-run");
  });

  it.each([
    [`${MSR}/cluster-sg-self-rule-widened.json`, true],
    [`${SGI}/all-traffic-ipv4-open.json`, true],
    [`${MSR}/ssh-ipv4-world.json`, false],
  ])("says in %s whether the rule may be a cluster security group's widened self rule", (relPath, allTraffic) => {
    // prepare
    const policy = defaultPolicy();

    // act
    const [assessment] = mine(run(relPath, policy));

    // assess
    const noted = must(assessment, "assessment").notes.some((n) => n.includes("cluster security group's self rule"));
    expect(noted).toBe(allTraffic);
  });

  it.each(BENIGN)("finds nothing in %s (prefix list, group reference, narrow or private CIDR)", (relPath) => {
    // prepare
    const policy = defaultPolicy();

    // act
    const result = run(relPath, policy);

    // assess
    expect(result.outcome).toBe("skipped");
    expect(result.skipped).toBe("no-finding");
    expect(result.assessments).toEqual([]);
    expect(result.plan).toEqual([]);
  });

  it.each(FAILED)("skips the failed call %s before any detector runs", (relPath) => {
    // prepare
    const policy = defaultPolicy();

    // act
    const result = run(relPath, policy);

    // assess
    expect(result.skipped).toBe("failed-call");
    expect(result.assessments).toEqual([]);
    expect(result.plan).toEqual([]);
  });

  it("matches the created rule when the request spells the range differently from EC2 (0::0/0 and ::/0)", () => {
    for (const spelling of ["0::0/0", "0:0:0:0:0:0:0:0/0", "::/00"]) {
      const event = loadFixture(`${SGI}/rdp-ipv6-only-open.json`);
      const range = objectAt(
        event,
        "detail",
        "requestParameters",
        "ipPermissions",
        "items",
        0,
        "ipv6Ranges",
        "items",
        0,
      );
      range.cidrIpv6 = spelling;
      const result = processEvent(event, defaultPolicy());
      expect(
        mine(result).map((a) => a.resources.ruleIds),
        spelling,
      ).toEqual([["sgr-02a3b4c5d6e7f8091"]]);
      expect(calls(result), spelling).toEqual(revokeRules(SG, ["sgr-02a3b4c5d6e7f8091"]));
    }
  });

  it("explains a revoke by permissions when the event lists no rule ids", () => {
    // prepare
    const signal = parseEventText(fixtureText(`${SGI}/legacy-no-rule-set-ssh-open.json`));
    if (signal.status !== "signal") throw new Error("expected a signal");

    // act
    const [assessment] = ec2OpenIngress.detect(signal.signal, ec2OpenIngress.settings.parse(undefined), {
      allowedCidrs: [],
      endpointAllowedPublicCidrs: [],
    });

    // assess
    const a = must(assessment, "assessment");
    expect(a.actions).toEqual([
      {
        action: "ec2:revoke-ingress",
        params: {
          groupId: SG,
          ipPermissions: [{ protocol: "tcp", fromPort: 22, toPort: 22, ipv4: ["0.0.0.0/0"], ipv6: [] }],
        },
      },
    ]);
    expect(a.evidence).toContain(
      "the event does not list the created rule ids: the plan revokes the exact permissions instead",
    );
  });

  it("lists the created rule ids and the actor in the evidence (detect called directly)", () => {
    // prepare
    const parsed = parseEventText(fixtureText(`${SGI}/all-traffic-ipv4-open.json`));
    if (parsed.status !== "signal") throw new Error("expected a signal");

    // act
    const found = ec2OpenIngress.detect(parsed.signal, ec2OpenIngress.settings.parse(undefined), {
      allowedCidrs: [],
      endpointAllowedPublicCidrs: [],
    });

    // assess
    expect(found).toHaveLength(1);
    const a = must(found[0]);
    expect(a.evidence).toContain("rules created: sgr-01f2e3d4c5b6a7980");
    expect(a.evidence).toContain("by arn:aws:sts::111122223333:assumed-role/DevOpsEngineer/alice (AssumedRole)");
    expect(a.doubts).toEqual([]);
  });

  it("flags 443 too when allowedPublicPorts is empty", () => {
    // prepare
    const policy = settings({ allowedPublicPorts: [] });

    // act
    const result = run(`${SGI}/two-permissions-https-ssh-open.json`, policy);

    // assess
    expect(must(mine(result)[0]).title).toBe(
      `Security group ${SG} opened tcp/443 from 0.0.0.0/0; tcp/22 from 0.0.0.0/0`,
    );
    expect(calls(result)).toEqual(revokeRules(SG, ["sgr-06e7f8091a2b3c4d5", "sgr-07f8091a2b3c4d5e6"]));
  });

  it("allows a port listed in allowedPublicPorts, and then flags 443", () => {
    // prepare
    const policy = settings({ allowedPublicPorts: [22] });

    // act
    const ssh = run(`${SGI}/ssh-ipv4-open-real.json`, policy);
    const both = run(`${SGI}/two-permissions-https-ssh-open.json`, policy);

    // assess
    expect(mine(ssh)).toEqual([]);
    expect(ssh.skipped).toBe("no-finding");
    expect(calls(both)).toEqual(revokeRules(SG, ["sgr-06e7f8091a2b3c4d5"]));
  });

  it("never allows all traffic or a port range, whatever allowedPublicPorts says", () => {
    // prepare
    const policy = settings({ allowedPublicPorts: [22, 80, 443, 3389] });

    // act
    const allTraffic = run(`${SGI}/all-traffic-ipv4-open.json`, policy);
    const allPorts = run(`${SGI}/all-ports-tcp-open.json`, policy);

    // assess
    expect(must(mine(allTraffic)[0]).severity).toBe("critical");
    expect(must(mine(allPorts)[0]).severity).toBe("critical");
  });

  it("treats a private /16 as open when minPrefixLength.ipv4 is longer than 16", () => {
    // prepare
    const policy = settings({ minPrefixLength: { ipv4: 17, ipv6: 32 } });

    // act
    const result = run(`${MSR}/private-cidr-benign.json`, policy);

    // assess
    expect(must(mine(result)[0]).title).toBe(
      `Security group ${SG} rule changed to sgr-0c3d4e5f607189a01: tcp/22 from 10.0.0.0/16`,
    );
    expect(calls(result)).toEqual(revokeRules(SG, ["sgr-0c3d4e5f607189a01"]));
  });

  it("never treats a /32 host as open, even with the strictest minPrefixLength", () => {
    // prepare
    const policy = settings({ minPrefixLength: { ipv4: 32, ipv6: 128 } });

    // act
    const result = run(`${SGI}/single-host-32-ssh.json`, policy);

    // assess
    expect(mine(result)).toEqual([]);
  });

  it("does not flag a CIDR inside exemptions.cidrs, however wide", () => {
    // prepare
    const exemptWorld = parsePolicy({ exemptions: { cidrs: ["0.0.0.0/0"] } });
    const exemptPrivate = parsePolicy({
      exemptions: { cidrs: ["10.0.0.0/8"] },
      detectors: { [ID]: { settings: { minPrefixLength: { ipv4: 17, ipv6: 32 } } } },
    });

    // act
    const world = run(`${SGI}/ssh-ipv4-open-real.json`, exemptWorld);
    const mixed = run(`${SGI}/ipv4-ipv6-ssh-rdp-open.json`, exemptWorld);
    const privateCidr = run(`${MSR}/private-cidr-benign.json`, exemptPrivate);

    // assess
    expect(mine(world)).toEqual([]);
    expect(mine(privateCidr)).toEqual([]);
    expect(calls(mixed)).toEqual(
      revokeRules("sg-0b7e3c9a1d2f4e5a6", ["sgr-02b3c4d5e6f7a8b91", "sgr-03c4d5e6f7a8b9ca2"]),
    );
  });

  it("fails closed to an alert when the group is named by name only", () => {
    // prepare
    const envelope = loadFixture(`${SGI}/legacy-no-rule-set-ssh-open.json`);
    const request = objectAt(envelope, "detail", "requestParameters");
    delete request.groupId;
    request.groupName = "default";

    // act
    const result = processEvent(envelope, defaultPolicy());

    // assess
    const a = must(mine(result)[0]);
    expect(a.resources.securityGroupId).toBe("default");
    expect(a.actions).toEqual([]);
    expect(a.doubts).toEqual([
      "the call named the group by name only (EC2-Classic or default VPC); its id is not in the event",
    ]);
    expect(result.outcome).toBe("alert");
    expect(must(result.decisions[0]).reasons[1]).toMatch(/^fail closed, alert only: the call named the group by name/);
    expect(result.plan).toEqual([]);
  });

  it("plans without DryRun and outcome apply when the policy and the caller turn dry-run off", () => {
    // prepare
    const policy = parsePolicy({ dryRun: false });

    // act
    const result = processEvent(fixtureText(`${SGI}/ssh-ipv4-open-real.json`), policy, { forceDryRun: false });

    // assess
    expect(result.outcome).toBe("apply");
    expect(calls(result)).toEqual([
      {
        service: "ec2",
        operation: "RevokeSecurityGroupIngress",
        params: { GroupId: "sg-0632fa4ee8a8468a4", SecurityGroupRuleIds: ["sgr-09be5c962afdc06ed"] },
      },
    ]);
  });

  it("only alerts in mode alert, and is skipped in mode off", () => {
    // prepare
    const alert = parsePolicy({ detectors: { [ID]: { mode: "alert" } } });
    const off = parsePolicy({ detectors: { [ID]: { mode: "off" } } });

    // act
    const alerted = run(`${SGI}/ssh-ipv4-open-real.json`, alert);
    const skipped = run(`${SGI}/ssh-ipv4-open-real.json`, off);

    // assess
    expect(alerted.outcome).toBe("alert");
    expect(alerted.plan).toEqual([]);
    expect(must(alerted.decisions[0]).reasons[0]).toBe("mode alert set in the policy for ec2-open-ingress");
    expect(skipped.outcome).toBe("skipped");
    expect(skipped.skipped).toBe("detector-off");
    expect(skipped.plan).toEqual([]);
  });

  it("does not act on a change made by an exempt principal (matched on the session issuer)", () => {
    // prepare
    const policy = parsePolicy({ exemptions: { principals: ["arn:aws:iam::*:role/DevOpsEngineer"] } });

    // act
    const result = run(`${SGI}/all-traffic-ipv4-open.json`, policy);

    // assess
    expect(result.skipped).toBe("exempt");
    expect(must(result.decisions[0]).reasons).toEqual([
      "the change was made by an exempt principal (arn:aws:iam::*:role/DevOpsEngineer)",
    ]);
    expect(result.plan).toEqual([]);
  });

  it("gives the same assessment id for the same event every time", () => {
    // prepare
    const relPath = `${SGI}/ssh-ipv4-open-real.json`;

    // act
    const first = must(mine(run(relPath))[0]).id;
    const second = must(mine(run(relPath))[0]).id;

    // assess
    expect(first).toMatch(/^asm-[0-9a-f]{20}$/);
    expect(second).toBe(first);
  });
});

/**
 * The all-ports fixture with its one permission (request and created rule alike) rewritten in memory. EC2's meaning
 * of the port fields: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpPermission.html (tcp/udp: start
 * and end of the range; icmp/icmpv6: type and code; -1 or another protocol number: every port, whatever the range).
 */
function withPermission(protocol: string, fromPort: number, toPort: number) {
  const envelope = loadFixture(`${SGI}/all-ports-tcp-open.json`);
  const permission = must(objectAt(envelope, "detail", "requestParameters", "ipPermissions").items as unknown[])[0];
  const rule = must(objectAt(envelope, "detail", "responseElements", "securityGroupRuleSet").items as unknown[])[0];
  for (const item of [permission, rule] as Record<string, unknown>[]) {
    item.ipProtocol = protocol;
    item.fromPort = fromPort;
    item.toPort = toPort;
  }
  return envelope;
}

function modifiedTo(protocol: string, fromPort: number, toPort: number) {
  const envelope = loadFixture(`${MSR}/ssh-ipv4-world.json`);
  const request = objectAt(envelope, "detail", "requestParameters", "ModifySecurityGroupRulesRequest");
  const rule = objectAt(request, "SecurityGroupRule", "SecurityGroupRule");
  rule.IpProtocol = protocol;
  rule.FromPort = fromPort;
  rule.ToPort = toPort;
  return envelope;
}

describe("ec2-open-ingress, port fields as EC2 reads them", () => {
  it.each([
    ["tcp", 30000, 22],
    ["udp", 53, 52],
  ])("flags a world-open %s rule written %i-%i (fromPort > toPort) and only alerts", (protocol, from, to) => {
    // prepare
    const event = withPermission(protocol, from, to);

    // act
    const result = processEvent(event, defaultPolicy());

    // assess
    const a = must(mine(result)[0]);
    expect(a.title).toBe(`Security group ${SG} opened ${protocol}/${from}-${to} (fromPort > toPort) from 0.0.0.0/0`);
    expect(a.doubts).toEqual([
      `${protocol} rule with fromPort ${from} greater than toPort ${to}: EC2 does not create a range written this way, so the event does not say which ports are open`,
    ]);
    expect(a.actions).toEqual([]);
    expect(result.outcome).toBe("alert");
    expect(result.plan).toEqual([]);
    expect(must(result.decisions[0]).reasons.at(-1)).toMatch(/^fail closed, alert only: .*fromPort/);
  });

  it("flags a reversed range even when both of its ends are allowed public ports", () => {
    // prepare
    const event = withPermission("tcp", 443, 80);

    // act
    const result = processEvent(event, defaultPolicy());

    // assess
    expect(mine(result)).toHaveLength(1);
    expect(result.outcome).toBe("alert");
  });

  it("flags a ModifySecurityGroupRules change to a reversed tcp range and only alerts", () => {
    // prepare
    const event = modifiedTo("tcp", 2222, 22);

    // act
    const result = processEvent(event, defaultPolicy());

    // assess
    const a = must(mine(result)[0]);
    expect(a.doubts).toEqual([
      "sgr-0a1b2c3d4e5f60789: tcp rule with fromPort 2222 greater than toPort 22: EC2 does not create a range written this way, so the event does not say which ports are open",
    ]);
    expect(result.outcome).toBe("alert");
    expect(result.plan).toEqual([]);
  });

  it.each([
    ["icmp", 8, 0],
    ["icmp", 3, 4],
    ["icmpv6", 128, 0],
  ])(
    "reads %s fromPort %i / toPort %i as an ICMP type and code, not a reversed range: not flagged",
    (protocol, type, code) => {
      // prepare
      const event = withPermission(protocol, type, code);

      // act
      const result = processEvent(event, defaultPolicy());

      // assess
      expect(mine(result)).toEqual([]);
      expect(result.skipped).toBe("no-finding");
    },
  );

  it("reads another protocol number as every port, whatever range the rule names, and revokes it", () => {
    // prepare
    const event = withPermission("132", 443, 443);

    // act
    const result = processEvent(event, defaultPolicy());

    // assess
    const a = must(mine(result)[0]);
    expect(a.severity).toBe("critical");
    expect(a.title).toBe(`Security group ${SG} opened protocol 132, all ports from 0.0.0.0/0`);
    expect(calls(result)).toEqual(revokeRules(SG, ["sgr-08091a2b3c4d5e6f7"]));
  });
});
