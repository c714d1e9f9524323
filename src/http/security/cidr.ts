import { BlockList, isIP } from 'node:net';

/** One parsed CIDR block, e.g. `10.0.0.0/8` or `fd00::/8`. */
export interface Cidr {
  /** Network address as written (IPv6 without brackets). */
  address: string;
  /** Prefix length: 0–32 for IPv4, 0–128 for IPv6. */
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/**
 * Parses one CIDR block; a bare address is a single-host block (`/32` or `/128`).
 * Throws an Error saying what is wrong.
 */
export function parseCidr(text: string): Cidr {
  const s = text.trim();
  const slash = s.indexOf('/');
  const address = (slash < 0 ? s : s.slice(0, slash)).replace(/^\[|\]$/g, '');
  const version = isIP(address);
  if (version === 0) throw new Error(`"${s}" is not an IP address or CIDR block`);
  const max = version === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) throw new Error(`"${s}" has an invalid prefix length (0-${max})`);
    prefix = Number(p);
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Parses a comma-separated list of CIDR blocks; empty items are ignored. */
export function parseCidrList(text: string | undefined): Cidr[] {
  if (!text) return [];
  return text.split(',').map((s) => s.trim()).filter(Boolean).map(parseCidr);
}

/**
 * A set of CIDR blocks an address is checked against. IPv4-mapped IPv6 addresses
 * (`::ffff:10.0.0.1`) match the IPv4 blocks, so the mapping cannot sneak past an IPv4 list.
 */
export class CidrAllowList {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(readonly blocks: readonly Cidr[]) {
    for (const b of blocks) this.list.addSubnet(b.address, b.prefix, b.family);
    this.size = blocks.length;
  }

  /** Parses `10.0.0.0/8,fd00::/8`-style text. */
  static parse(text: string | undefined): CidrAllowList {
    return new CidrAllowList(parseCidrList(text));
  }

  /** Whether `ip` (an IP literal, brackets allowed) lies in one of the blocks. Not an IP → false. */
  contains(ip: string): boolean {
    const a = ip.replace(/^\[|\]$/g, '');
    const v = isIP(a);
    if (v === 0) return false;
    return this.list.check(a, v === 4 ? 'ipv4' : 'ipv6');
  }

  toString(): string {
    return this.blocks.map((b) => `${b.address}/${b.prefix}`).join(',');
  }
}
