import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Address, number];

/** The verdict on one IP address. `range` names the special-purpose range that blocked it. */
export type AddressVerdict = { allowed: true } | { allowed: false; range: string };

// Ranges that ipaddr.js classes as `unicast` but that must never be reached; cloud metadata and provider-internal services.
const EXTRA_DENIED: ReadonlyArray<[string, string]> = [
  ['168.63.129.16/32', 'azureWireServer'],
  ['::/96', 'ipv4Compatible'],
  ['64:ff9b:1::/48', 'nat64LocalUse'],
  ['3fff::/20', 'documentation'],
];
const extraDenied: ReadonlyArray<[Cidr, string]> = EXTRA_DENIED.map(([cidr, name]) => [ipaddr.parseCIDR(cidr), name]);
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');

/** Parses `['10.0.0.0/8', '::1/128', '127.0.0.1']`; a bare address means just that address. */
export function parseCidrList(list: readonly string[]): Cidr[] {
  return list.map((entry) => {
    if (typeof entry !== 'string') throw new Error(`${String(entry)} is not a CIDR`);
    try {
      if (entry.includes('/')) return ipaddr.parseCIDR(entry);
      const address = ipaddr.parse(entry);
      return [address, address.kind() === 'ipv4' ? 32 : 128];
    } catch {
      throw new Error(`"${entry}" is not an IP address or CIDR range`);
    }
  });
}

/** Parses an IP literal as it appears in a URL host (brackets and an IPv6 zone id allowed). */
export function parseIpLiteral(host: string): Address | null {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (!ipaddr.isValid(bare)) return null;
  try {
    return ipaddr.parse(bare);
  } catch {
    return null;
  }
}

function inAny(address: Address, cidrs: readonly Cidr[]): boolean {
  return cidrs.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
}

/** The IPv4 address embedded in a NAT64 well-known-prefix address (`64:ff9b::a9fe:a9fe` → 169.254.169.254). */
function nat64Embedded(address: ipaddr.IPv6): ipaddr.IPv4 {
  const bytes = address.toByteArray();
  return new ipaddr.IPv4(bytes.slice(12, 16));
}

/** The IPv4 address a 6to4 address (`2002:AABB:CCDD::/48`) carries. */
function sixToFourEmbedded(address: ipaddr.IPv6): ipaddr.IPv4 {
  return new ipaddr.IPv4(address.toByteArray().slice(2, 6));
}

/** Teredo carries the client's IPv4 XOR-obfuscated in the last 32 bits. */
function teredoEmbedded(address: ipaddr.IPv6): ipaddr.IPv4 {
  return new ipaddr.IPv4(address.toByteArray().slice(12, 16).map((b) => b ^ 0xff));
}

/**
 * The destination address policy: only globally routable unicast addresses, unless an operator allows more.
 * Classification comes from ipaddr.js plus the explicit denies it misses; IPv4 embedded in IPv6 (mapped,
 * NAT64) is decoded and judged as IPv4, and the embedding forms that are deprecated (IPv4-compatible,
 * IPv4-translated, 6to4, Teredo) are refused whatever they carry.
 */
export class AddressPolicy {
  private readonly allowed: Cidr[];

  constructor(private readonly allowPrivate: boolean | readonly string[]) {
    this.allowed = Array.isArray(allowPrivate) ? parseCidrList(allowPrivate) : [];
  }

  private readonly verdicts = new Map<string, AddressVerdict>();

  /** The verdict on an address; string inputs are remembered (the policy is fixed, addresses repeat). */
  check(input: string | Address): AddressVerdict {
    if (typeof input !== 'string') return this.decide(input);
    let verdict = this.verdicts.get(input);
    if (!verdict) {
      verdict = this.decide(input);
      if (this.verdicts.size >= 10_000) this.verdicts.clear();
      this.verdicts.set(input, verdict);
    }
    return verdict;
  }

  private decide(input: string | Address): AddressVerdict {
    let address: Address | null = typeof input === 'string' ? parseIpLiteral(input) : input;
    if (!address) return { allowed: false, range: 'invalid' };
    if (this.allowPrivate === true) return { allowed: true };
    if (inAny(address, this.allowed)) return { allowed: true };

    if (address.kind() === 'ipv6') {
      const v6 = address as ipaddr.IPv6;
      if (v6.isIPv4MappedAddress()) {
        address = v6.toIPv4Address();
        if (inAny(address, this.allowed)) return { allowed: true };
      } else if (v6.match(NAT64_WELL_KNOWN)) {
        const embedded = nat64Embedded(v6);
        const verdict = this.decide(embedded);
        return verdict.allowed ? verdict : { allowed: false, range: `nat64(${verdict.range})` };
      } else {
        const range = v6.range();
        if (range === '6to4') return { allowed: false, range: `6to4(${sixToFourEmbedded(v6).toString()})` };
        if (range === 'teredo') return { allowed: false, range: `teredo(${teredoEmbedded(v6).toString()})` };
      }
    }

    const range = address.range();
    if (range !== 'unicast') return { allowed: false, range };
    for (const [[denied, bits], name] of extraDenied) {
      if (denied.kind() === address.kind() && address.match(denied, bits)) return { allowed: false, range: name };
    }
    return { allowed: true };
  }
}
