/**
 * Checks of caller-supplied URLs that some server will call later (SSRF): 8x8 posts receipts to `dlrCallbackUrl`,
 * and the bridge itself posts to `cognigy.endpointBaseUrl`. Only absolute https URLs whose host is a name or a
 * public address pass. Hosts are read after WHATWG URL parsing, so every spelling of an address (decimal
 * `2130706433`, hex `0x7f.1`, octal `0177.0.0.1`, short `127.1`, trailing dot, IPv4-mapped or NAT64 IPv6) is
 * judged as the address it names. A DNS name that resolves to a private address is not caught here (the caller
 * of the URL resolves it, possibly long after this check); README "Security model" says so.
 */
import { BlockList, isIPv4 } from 'node:net';

export type OutboundUrlProblem = 'not-absolute' | 'not-https' | 'private-address' | 'local-name';

export interface OutboundUrlPolicy {
  /** Local mode (ALLOW_LOOPBACK_URLS=true): http and https to 127.0.0.0/8, ::1 and `localhost` are allowed. */
  allowLoopback: boolean;
}

export const CLOUD_URL_POLICY: OutboundUrlPolicy = { allowLoopback: false };

/** Loopback: allowed only in local mode. */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * Never a destination: private, shared, link-local (169.254.169.254 is the EC2/ECS metadata service), reserved,
 * documentation, multicast and broadcast ranges (IANA special-purpose registries), in both families.
 */
const NON_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC.addSubnet(net, bits, 'ipv4');
}
// IPv6: only global unicast (2000::/3) is public; inside it, the special-purpose blocks below are not.
const GLOBAL_UNICAST = new BlockList();
GLOBAL_UNICAST.addSubnet('2000::', 3, 'ipv6');
for (const [net, bits] of [
  ['2001::', 23], // IETF protocol assignments (Teredo, ORCHID, …)
  ['2001:db8::', 32], // documentation
] as const) {
  NON_PUBLIC.addSubnet(net, bits, 'ipv6');
}

/** Names that always mean this host (RFC 6761). */
const LOCALHOST_NAMES = /(^|\.)localhost$/;
/** Names of cloud metadata services. */
const METADATA_NAMES = /^metadata\.google\.internal$|^instance-data(\.ec2\.internal)?$/;

function expandIPv6(address: string): number[] | undefined {
  const [head = '', tail] = address.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups =
    tail === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : undefined;
}

const v4 = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;

/** An IPv4 address carried inside an IPv6 one (mapped, compatible, NAT64, 6to4): judged as that IPv4 address. */
function embeddedIPv4(groups: number[]): string | undefined {
  const [g0, g1 = 0, g2 = 0, , , g5, g6 = 0, g7 = 0] = groups;
  const zeroUpTo = (n: number) => groups.slice(0, n).every((g) => g === 0);
  if (zeroUpTo(5) && g5 === 0xffff) return v4(g6, g7); // ::ffff:a.b.c.d (IPv4-mapped)
  if (zeroUpTo(6) && g6 !== 0) return v4(g6, g7); // ::a.b.c.d (IPv4-compatible; ::1 stays IPv6 loopback)
  if (g0 === 0x64 && g1 === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) return v4(g6, g7); // NAT64
  if (g0 === 0x2002) return v4(g1, g2); // 6to4
  return undefined;
}

type AddressClass = 'public' | 'loopback' | 'non-public';

function classifyIPv4(address: string): AddressClass {
  if (LOOPBACK.check(address, 'ipv4')) return 'loopback';
  return NON_PUBLIC.check(address, 'ipv4') ? 'non-public' : 'public';
}

/** 'public', 'loopback' or 'non-public' for a literal address; undefined for a DNS name. */
export function classifyHost(hostname: string): AddressClass | undefined {
  if (isIPv4(hostname)) return classifyIPv4(hostname);
  if (!hostname.startsWith('[')) return undefined;
  const groups = expandIPv6(hostname.slice(1, -1).toLowerCase());
  if (!groups) return 'non-public'; // WHATWG would not produce this; refuse rather than guess
  const inner = embeddedIPv4(groups);
  if (inner !== undefined) return classifyIPv4(inner);
  const address = groups.map((g) => g.toString(16)).join(':');
  if (LOOPBACK.check(address, 'ipv6')) return 'loopback';
  // Unique-local fc00::/7 (e.g. fd00:ec2::254, the EC2 metadata service), link-local, multicast, :: and the rest.
  if (!GLOBAL_UNICAST.check(address, 'ipv6')) return 'non-public';
  return NON_PUBLIC.check(address, 'ipv6') ? 'non-public' : 'public';
}

/** Why a URL may not be called, or undefined when it may. */
export function outboundUrlProblem(value: string, policy: OutboundUrlPolicy): OutboundUrlProblem | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not-absolute';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'not-absolute';
  const hostname = url.hostname.toLowerCase().replace(/\.$/, '');
  if (METADATA_NAMES.test(hostname)) return 'local-name';
  const kind = classifyHost(hostname) ?? (LOCALHOST_NAMES.test(hostname) ? 'loopback' : 'public');
  if (kind === 'non-public') return 'private-address';
  if (kind === 'loopback') {
    if (!policy.allowLoopback) return LOCALHOST_NAMES.test(hostname) ? 'local-name' : 'private-address';
    return undefined; // local mode: the local receivers and simulators listen on 127.0.0.1 over http
  }
  return url.protocol === 'https:' ? undefined : 'not-https';
}

/** A message naming the rule a URL broke (never echoing the URL). */
export function outboundUrlMessage(field: string, problem: OutboundUrlProblem): string {
  switch (problem) {
    case 'not-absolute':
      return `${field} must be an absolute https URL`;
    case 'not-https':
      return `${field} must use https`;
    case 'private-address':
      return `${field} must not name a private, loopback, link-local or metadata address`;
    case 'local-name':
      return `${field} must not name this host (localhost) or a cloud metadata host`;
  }
}
