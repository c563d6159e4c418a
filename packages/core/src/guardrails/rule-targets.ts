/**
 * Which security group rules an assessment would revoke, and which a rollback put back, as fingerprints that stay the
 * same across a revoke and a re-add (a re-added rule gets a new rule id; its protocol, ports and source do not change).
 * The restored marker and the flapping counter (restored.ts, flapping.ts) are keyed by these.
 */
import type { Assessment } from "../detectors/types.ts";
import type { Signal } from "../signals/types.ts";
import { keyPart } from "../store/table.ts";

/** One security group, where its rules' items are kept (one partition per family and group). */
export interface RuleGroup {
  account: string;
  region: string;
  groupId: string;
}

/** The rules of one group an action touches, as fingerprints. */
export interface RuleTarget extends RuleGroup {
  /** `<protocol>|<from>|<to>|<source>`, or `id|<rule id>` when only the rule id is known (ModifySecurityGroupRules). */
  fingerprints: string[];
}

/** IANA protocol numbers EC2 also accepts for the names it returns. */
const PROTOCOL_NAMES: Record<string, string> = { "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", all: "-1" };

function protocolOf(protocol: string): string {
  const p = protocol.toLowerCase();
  return PROTOCOL_NAMES[p] ?? p;
}

/** One rule's fingerprint: all-traffic rules carry no ports (EC2 reports -1 or nothing). */
export function ruleFingerprint(rule: {
  protocol: string;
  fromPort?: number;
  toPort?: number;
  source: string;
}): string {
  const protocol = protocolOf(rule.protocol);
  const ports = protocol === "-1" ? "|" : `${rule.fromPort ?? ""}|${rule.toPort ?? ""}`;
  return `${protocol}|${ports}|${rule.source}`;
}

interface RuleLike {
  ruleId?: unknown;
  protocol?: unknown;
  fromPort?: unknown;
  toPort?: unknown;
  cidrIpv4?: unknown;
  cidrIpv6?: unknown;
}

interface PermissionLike {
  protocol?: unknown;
  fromPort?: unknown;
  toPort?: unknown;
  ipv4?: unknown;
  ipv6?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isInteger(v) ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The fingerprint of a rule read from untyped data (ports that are not integers are left out). */
function printOf(protocol: string, fromPort: unknown, toPort: unknown, source: string): string {
  const from = num(fromPort);
  const to = num(toPort);
  return ruleFingerprint({
    protocol,
    source,
    ...(from === undefined ? {} : { fromPort: from }),
    ...(to === undefined ? {} : { toPort: to }),
  });
}

function rulePrints(rule: RuleLike): string[] {
  const protocol = str(rule.protocol);
  const source = str(rule.cidrIpv4) ?? str(rule.cidrIpv6);
  if (protocol === undefined || source === undefined) return [];
  return [printOf(protocol, rule.fromPort, rule.toPort, source)];
}

function permissionPrints(perm: PermissionLike): string[] {
  const protocol = str(perm.protocol);
  if (protocol === undefined) return [];
  return [...list(perm.ipv4), ...list(perm.ipv6)].flatMap((cidr) => {
    const source = str(cidr);
    return source === undefined ? [] : [printOf(protocol, perm.fromPort, perm.toPort, source)];
  });
}

/**
 * The fingerprints of ec2:revoke-ingress params (the assessment's) or of its undo (the rollback's): the rules' full
 * descriptions when there, else the exact permissions, else the rule ids.
 */
export function fingerprintsOf(params: Record<string, unknown>): string[] {
  const rules = list(params.rules) as RuleLike[];
  const fromRules = rules.flatMap(rulePrints);
  const fromPermissions = (list(params.ipPermissions) as PermissionLike[]).flatMap(permissionPrints);
  const prints =
    fromRules.length > 0
      ? fromRules
      : fromPermissions.length > 0
        ? fromPermissions
        : list(params.ruleIds).flatMap((id) => (str(id) ? [`id|${id}`] : []));
  return [...new Set(prints)].sort();
}

/** The action whose rules these guards follow. */
export const REVOKE_INGRESS = "ec2:revoke-ingress";

/** The rules an assessment's playbook would revoke, per group. */
export function revokeTargets(assessment: Assessment): RuleTarget[] {
  return assessment.actions.flatMap((request) => {
    if (request.action !== REVOKE_INGRESS) return [];
    const params = request.params as Record<string, unknown>;
    const groupId = str(params.groupId);
    const fingerprints = fingerprintsOf(params);
    if (groupId === undefined || fingerprints.length === 0) return [];
    return [{ account: assessment.account, region: assessment.region, groupId, fingerprints }];
  });
}

/**
 * The groups whose ingress rules a signal changed, read before the policy is known: the rule guards read their items
 * ahead (rule-guards.ts), so the groups are taken from the signal itself, not from the assessment (whose rules depend
 * on the detector's settings). A group named by name only is left out (the detector does not act on it).
 */
export function ruleGroupsOf(signal: Signal): RuleGroup[] {
  if (signal.family !== "cloudtrail") return [];
  if (signal.eventName !== "AuthorizeSecurityGroupIngress" && signal.eventName !== "ModifySecurityGroupRules")
    return [];
  if (signal.groupId === undefined) return [];
  return [{ account: signal.account, region: signal.region, groupId: signal.groupId }];
}

/** The partition of one group's items in a family: `RESTORED#…`, `FLAP#…`. */
export function rulePartition(family: "RESTORED" | "FLAP", group: RuleGroup): string {
  return `${family}#${keyPart(`${group.account}/${group.region}/${group.groupId}`)}`;
}

/** The key of one rule's item in a family: its group's partition, and the rule's fingerprint as the sort key. */
export function ruleKey(family: "RESTORED" | "FLAP", target: RuleGroup, fingerprint: string) {
  return { pk: rulePartition(family, target), sk: `RULE#${keyPart(fingerprint)}` };
}

/** A fingerprint as people read it: `tcp 22-22 from 0.0.0.0/0`. */
export function describeFingerprint(fingerprint: string): string {
  const [protocol, from, to, source] = fingerprint.split("|");
  if (protocol === "id") return `rule ${from}`;
  const ports = protocol === "-1" ? "all traffic" : `${protocol} ${from}-${to}`;
  return `${ports} from ${source}`;
}
