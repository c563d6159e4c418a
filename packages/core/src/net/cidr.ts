import { BlockList, isIPv4, isIPv6 } from "node:net";

export interface Cidr {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

/** Parses `a.b.c.d/n` or `x:y::/n` (a bare address is a host route). undefined when it is not a CIDR. */
export function parseCidr(text: string): Cidr | undefined {
  const [address = "", prefixText, ...rest] = text.trim().split("/");
  if (rest.length > 0) return undefined;
  const family = isIPv4(address) ? "ipv4" : isIPv6(address) ? "ipv6" : undefined;
  if (family === undefined) return undefined;
  const max = family === "ipv4" ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  return prefix <= max ? { address, prefix, family } : undefined;
}

/**
 * The address in one spelling: IPv6 compressed and lower-case (the URL parser's form), IPv4 as it is. undefined for
 * an IPv6 address the URL parser refuses (a zone id such as `fe80::1%eth0`, which net.isIPv6 accepts).
 */
function canonicalAddress(cidr: Cidr): string | undefined {
  if (cidr.family === "ipv4") return cidr.address;
  try {
    return new URL(`http://[${cidr.address}]`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/**
 * True when two CIDR texts name the same range: `0::0/0` and `::/0`, `2001:DB8::/32` and `2001:db8:0::/32`. EC2
 * answers in the canonical form whatever the caller wrote, so texts are compared as ranges, not as strings.
 */
export function sameCidr(a: string, b: string): boolean {
  if (a === b) return true;
  const x = parseCidr(a);
  const y = parseCidr(b);
  return (
    x !== undefined &&
    y !== undefined &&
    x.family === y.family &&
    x.prefix === y.prefix &&
    canonicalAddress(x) !== undefined &&
    canonicalAddress(x) === canonicalAddress(y)
  );
}

/** The widest prefix lengths still considered "not open to the world", per family. */
export interface OpenThreshold {
  ipv4: number;
  ipv6: number;
}

/**
 * A CIDR is open when its prefix is shorter than the threshold for its family (0.0.0.0/0 and ::/0 always are).
 * Text that is not a CIDR counts as open: an address eks-responder cannot read is never assumed to be safe.
 */
export function isOpenCidr(text: string, threshold: OpenThreshold): boolean {
  const cidr = parseCidr(text);
  if (cidr === undefined) return true;
  return cidr.prefix === 0 || cidr.prefix < threshold[cidr.family];
}

/** True when `inner` lies within one of `outer` (same family, prefix at least as long, network inside). */
export function cidrWithin(inner: string, outer: readonly string[]): boolean {
  const cidr = parseCidr(inner);
  if (cidr === undefined) return false;
  return outer.some((candidate) => {
    const container = parseCidr(candidate);
    if (container === undefined || container.family !== cidr.family || container.prefix > cidr.prefix) return false;
    // BlockList does the address arithmetic; the network address of `inner` decides containment.
    const list = new BlockList();
    list.addSubnet(container.address, container.prefix, container.family);
    return list.check(cidr.address, cidr.family);
  });
}
