import { cidrWithin, isOpenCidr, type OpenThreshold, sameCidr } from "../net/cidr.ts";
import type { IpPermission, SecurityGroupRule, Signal } from "../signals/types.ts";
import * as z from "../zod.ts";
import { actorEvidence, makeAssessment } from "./common.ts";
import type { Assessment, DetectContext, DetectorDefinition } from "./types.ts";

const settings = z._default(
  z.strictObject({
    /** TCP ports that may be open to the world (a public load balancer's 80/443). */
    allowedPublicPorts: z._default(z.array(z.number().check(z.int(), z.gte(0), z.lte(65535))), [80, 443]),
    /** UDP ports that may be open to the world. */
    allowedPublicUdpPorts: z._default(z.array(z.number().check(z.int(), z.gte(0), z.lte(65535))), []),
    /** A source CIDR with a shorter prefix than this is treated as open to the world. */
    minPrefixLength: z._default(
      z.strictObject({
        ipv4: z._default(z.number().check(z.int(), z.gte(0), z.lte(32)), 8),
        ipv6: z._default(z.number().check(z.int(), z.gte(0), z.lte(128)), 32),
      }),
      { ipv4: 8, ipv6: 32 },
    ),
  }),
  { allowedPublicPorts: [80, 443], allowedPublicUdpPorts: [], minPrefixLength: { ipv4: 8, ipv6: 32 } },
);

type Settings = z.output<typeof settings>;

/**
 * Protocols without ports that are not flagged: ICMP echo from the world is not an exposure of a service. For them
 * EC2 reads fromPort as the ICMP type and toPort as the code, so `fromPort > toPort` (type 8, code 0) is an ordinary
 * rule, not a reversed range.
 * @see https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpPermission.html
 */
const PORTLESS_PROTOCOLS = new Set(["icmp", "icmpv6", "1", "58"]);
const PORTED_PROTOCOLS = new Set(["tcp", "udp", "6", "17"]);
const ALL_PORTS = { from: 0, to: 65535 };

/**
 * The ports a rule opens, as EC2 applies it: `-1`, or a protocol number other than tcp, udp, icmp and icmpv6, opens
 * every port "regardless of any port range you specify" (API_IpPermission, linked above).
 */
function portRange(protocol: string, fromPort?: number, toPort?: number): { from: number; to: number } {
  if (!PORTED_PROTOCOLS.has(protocol) || fromPort === undefined || fromPort === -1) return ALL_PORTS;
  return { from: fromPort, to: toPort === undefined || toPort === -1 ? fromPort : toPort };
}

/**
 * A tcp/udp range written with fromPort greater than toPort. EC2 documents fromPort as the start of the range and
 * toPort as its end (API_IpPermission) and does not create such a rule as written, so a successful event that
 * carries one does not say which ports are open: it is flagged and alerted on, never allowed and never acted on.
 */
function reversedRange(protocol: string, fromPort?: number, toPort?: number): boolean {
  return (
    PORTED_PROTOCOLS.has(protocol) &&
    fromPort !== undefined &&
    toPort !== undefined &&
    fromPort !== -1 &&
    toPort !== -1 &&
    fromPort > toPort
  );
}

function describePorts(protocol: string, fromPort?: number, toPort?: number): string {
  if (protocol === "-1") return "all traffic";
  if (reversedRange(protocol, fromPort, toPort)) return `${protocol}/${fromPort}-${toPort} (fromPort > toPort)`;
  if (!PORTED_PROTOCOLS.has(protocol) && !PORTLESS_PROTOCOLS.has(protocol)) return `protocol ${protocol}, all ports`;
  const { from, to } = portRange(protocol, fromPort, toPort);
  return from === to ? `${protocol}/${from}` : `${protocol}/${from}-${to}`;
}

function reversedDoubt(protocol: string, fromPort?: number, toPort?: number): string {
  return `${protocol} rule with fromPort ${fromPort} greater than toPort ${toPort}: EC2 does not create a range written this way, so the event does not say which ports are open`;
}

/** True when every port of the range is allowed to be public, for its protocol (all traffic never is). */
function portsAllowed(protocol: string, s: Settings, fromPort?: number, toPort?: number): boolean {
  if (PORTLESS_PROTOCOLS.has(protocol)) return true;
  if (reversedRange(protocol, fromPort, toPort)) return false;
  const allowed =
    protocol === "tcp" || protocol === "6"
      ? s.allowedPublicPorts
      : protocol === "udp" || protocol === "17"
        ? s.allowedPublicUdpPorts
        : [];
  const { from, to } = portRange(protocol, fromPort, toPort);
  if (to - from + 1 > allowed.length) return false;
  const set = new Set(allowed);
  for (let port = from; port <= to; port++) if (!set.has(port)) return false;
  return true;
}

/**
 * An all-traffic rule may be the EKS cluster security group's own rule (all traffic from the group itself, which joins
 * the control plane and the nodes: https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html) widened by
 * ModifySecurityGroupRules, or an open rule added after it was removed. The event cannot say which group it is (it
 * carries no name, description or tag): the action reads the group and acts on a cluster security group only with
 * approval, restoring the self reference when it is gone.
 */
const CLUSTER_SG_NOTE =
  "an all-traffic rule may be the EKS cluster security group's self rule widened: the action reads the group, and on a cluster security group changes nothing without a human's approval, and turns the rule back into the self reference when that is gone";

function isOpen(cidr: string, threshold: OpenThreshold, context: DetectContext): boolean {
  return isOpenCidr(cidr, threshold) && !cidrWithin(cidr, context.allowedCidrs);
}

function severityOf(protocol: string, fromPort?: number, toPort?: number): Assessment["severity"] {
  const { from, to } = portRange(protocol, fromPort, toPort);
  return protocol === "-1" || to - from >= 1000 ? "critical" : "high";
}

interface Offence {
  permission: IpPermission;
  ipv4: string[];
  ipv6: string[];
}

function offencesOf(permissions: IpPermission[], s: Settings, context: DetectContext): Offence[] {
  const offences: Offence[] = [];
  for (const permission of permissions) {
    if (portsAllowed(permission.protocol, s, permission.fromPort, permission.toPort)) continue;
    const ipv4 = permission.ipv4.map((r) => r.cidr).filter((c) => isOpen(c, s.minPrefixLength, context));
    const ipv6 = permission.ipv6.map((r) => r.cidr).filter((c) => isOpen(c, s.minPrefixLength, context));
    if (ipv4.length + ipv6.length > 0) offences.push({ permission, ipv4, ipv6 });
  }
  return offences;
}

/** The rule the call created for one offending range, matched on protocol, ports and CIDR. */
function ruleFor(
  rules: SecurityGroupRule[],
  p: IpPermission,
  cidr: string,
  v6: boolean,
): SecurityGroupRule | undefined {
  const want = portRange(p.protocol, p.fromPort, p.toPort);
  return rules.find((r) => {
    if (r.isEgress || r.protocol !== p.protocol) return false;
    const got = portRange(r.protocol, r.fromPort, r.toPort);
    const created = v6 ? r.cidrIpv6 : r.cidrIpv4;
    return got.from === want.from && got.to === want.to && created !== undefined && sameCidr(created, cidr);
  });
}

function detectAuthorize(
  signal: Extract<Signal, { eventName: "AuthorizeSecurityGroupIngress" }>,
  s: Settings,
  context: DetectContext,
): Assessment[] {
  const offences = offencesOf(signal.permissions, s, context);
  if (offences.length === 0) return [];
  const groupId = signal.groupId ?? signal.groupName ?? "unknown";
  const ruleIds: string[] = [];
  const rules: SecurityGroupRule[] = [];
  let allMatched = true;
  for (const o of offences) {
    for (const [cidrs, v6] of [
      [o.ipv4, false],
      [o.ipv6, true],
    ] as const) {
      for (const cidr of cidrs) {
        const rule = ruleFor(signal.createdRules, o.permission, cidr, v6);
        if (rule) {
          ruleIds.push(rule.ruleId);
          rules.push(rule);
        } else allMatched = false;
      }
    }
  }
  const opened = offences.map(
    (o) =>
      `${describePorts(o.permission.protocol, o.permission.fromPort, o.permission.toPort)} from ${[...o.ipv4, ...o.ipv6].join(", ")}`,
  );
  const params: Record<string, unknown> = { groupId };
  if (allMatched) {
    params.ruleIds = ruleIds;
    params.rules = rules.map((r) => ({
      ruleId: r.ruleId,
      protocol: r.protocol,
      ...(r.fromPort !== undefined ? { fromPort: r.fromPort } : {}),
      ...(r.toPort !== undefined ? { toPort: r.toPort } : {}),
      ...(r.cidrIpv4 ? { cidrIpv4: r.cidrIpv4 } : {}),
      ...(r.cidrIpv6 ? { cidrIpv6: r.cidrIpv6 } : {}),
      ...(r.description ? { description: r.description } : {}),
    }));
  } else
    params.ipPermissions = offences.map((o) => ({
      protocol: o.permission.protocol,
      ...(o.permission.fromPort !== undefined ? { fromPort: o.permission.fromPort } : {}),
      ...(o.permission.toPort !== undefined ? { toPort: o.permission.toPort } : {}),
      ipv4: o.ipv4,
      ipv6: o.ipv6,
    }));
  const worst = offences.some(
    (o) => severityOf(o.permission.protocol, o.permission.fromPort, o.permission.toPort) === "critical",
  );
  const doubts = [
    ...(signal.groupId === undefined
      ? ["the call named the group by name only (EC2-Classic or default VPC); its id is not in the event"]
      : []),
    ...offences
      .filter((o) => reversedRange(o.permission.protocol, o.permission.fromPort, o.permission.toPort))
      .map((o) => reversedDoubt(o.permission.protocol, o.permission.fromPort, o.permission.toPort)),
  ];
  return [
    makeAssessment(signal, 0, {
      detectorId: ec2OpenIngress.id,
      severity: worst ? "critical" : "high",
      title: `Security group ${groupId} opened ${opened.join("; ")}`,
      resources: { securityGroupId: groupId, ...(allMatched ? { ruleIds } : {}) },
      evidence: [
        `AuthorizeSecurityGroupIngress on ${groupId}: ${opened.join("; ")}`,
        ...(allMatched
          ? [`rules created: ${ruleIds.join(", ")}`]
          : ["the event does not list the created rule ids: the plan revokes the exact permissions instead"]),
        ...actorEvidence(signal),
      ],
      actions: doubts.length === 0 ? [{ action: "ec2:revoke-ingress", params }] : [],
      doubts,
      ...(offences.some((o) => o.permission.protocol === "-1") ? { notes: [CLUSTER_SG_NOTE] } : {}),
    }),
  ];
}

function detectModify(
  signal: Extract<Signal, { eventName: "ModifySecurityGroupRules" }>,
  s: Settings,
  context: DetectContext,
): Assessment[] {
  const open = signal.rules.filter((r) => {
    const cidr = r.cidrIpv4 ?? r.cidrIpv6;
    return (
      cidr !== undefined &&
      isOpen(cidr, s.minPrefixLength, context) &&
      !portsAllowed(r.protocol, s, r.fromPort, r.toPort)
    );
  });
  if (open.length === 0) return [];
  const opened = open.map(
    (r) => `${r.ruleId}: ${describePorts(r.protocol, r.fromPort, r.toPort)} from ${r.cidrIpv4 ?? r.cidrIpv6}`,
  );
  const worst = open.some((r) => severityOf(r.protocol, r.fromPort, r.toPort) === "critical");
  const doubts = open
    .filter((r) => reversedRange(r.protocol, r.fromPort, r.toPort))
    .map((r) => `${r.ruleId}: ${reversedDoubt(r.protocol, r.fromPort, r.toPort)}`);
  return [
    makeAssessment(signal, 0, {
      detectorId: ec2OpenIngress.id,
      severity: worst ? "critical" : "high",
      title: `Security group ${signal.groupId} rule changed to ${opened.join("; ")}`,
      resources: { securityGroupId: signal.groupId, ruleIds: open.map((r) => r.ruleId) },
      evidence: [`ModifySecurityGroupRules on ${signal.groupId}: ${opened.join("; ")}`, ...actorEvidence(signal)],
      actions:
        doubts.length === 0
          ? [
              {
                action: "ec2:revoke-ingress",
                params: {
                  groupId: signal.groupId,
                  ruleIds: open.map((r) => r.ruleId),
                  openBelowPrefix: s.minPrefixLength,
                },
              },
            ]
          : [],
      doubts,
      notes: [
        "the rule's definition before the change is not in the event: the plan revokes the modified rule",
        "ModifySecurityGroupRules does not say whether the rule is ingress or egress: the rule is read live first and an egress rule is never revoked",
        ...(open.some((r) => r.protocol === "-1") ? [CLUSTER_SG_NOTE] : []),
      ],
    }),
  ];
}

export const ec2OpenIngress: DetectorDefinition<typeof settings> = {
  id: "ec2-open-ingress",
  title: "Security group ingress opened to the world",
  summary:
    "A security group rule was added or changed so that a port outside the allowed public TCP/UDP ports can be reached from " +
    "0.0.0.0/0, ::/0, or any source wider than the policy allows. Security groups reached only through another group, " +
    "a prefix list, or a narrow CIDR are not flagged; ICMP is not flagged.",
  triggers: ["aws.ec2 AuthorizeSecurityGroupIngress", "aws.ec2 ModifySecurityGroupRules"],
  actions: ["ec2:revoke-ingress"],
  defaultMode: "auto",
  defaultModeReason: "revoking the exact rule that was just added is small, exact and reversible",
  settings,
  detect(signal, s, context) {
    if (signal.family !== "cloudtrail") return [];
    if (signal.eventName === "AuthorizeSecurityGroupIngress") return detectAuthorize(signal, s, context);
    if (signal.eventName === "ModifySecurityGroupRules") return detectModify(signal, s, context);
    return [];
  },
};
