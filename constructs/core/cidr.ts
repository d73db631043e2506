/** A parsed CIDR block. IPv4 blocks keep their numeric range for containment checks. */
export type Cidr =
  | { readonly family: 4; readonly network: number; readonly prefix: number; readonly text: string }
  | { readonly family: 6; readonly network: bigint; readonly prefix: number; readonly text: string };

const IPV4_OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function parseIpv4(address: string): number | undefined {
  const octets = address.split('.');
  if (octets.length !== 4 || !octets.every((o) => IPV4_OCTET.test(o))) return undefined;
  return octets.reduce((acc, o) => acc * 256 + Number(o), 0);
}

function isIpv6(address: string): boolean {
  if (!/^[0-9a-fA-F:]+$/.test(address) || address.includes(':::')) return false;
  const halves = address.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((h) => (h === '' ? [] : h.split(':')));
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? groups.length < 8 : groups.length === 8;
}

/** The 128-bit value of a valid IPv6 address (`isIpv6`). */
function ipv6Value(address: string): bigint {
  const [head, tail] = address.split('::') as [string, string | undefined];
  const groups = (part: string | undefined) => (part === undefined || part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return all.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/**
 * Parses `a.b.c.d/n` or an IPv6 block. Host bits must be zero: `10.0.0.1/16`
 * is almost always a typo for `10.0.0.0/16` or `10.0.0.1/32`.
 */
export function parseCidr(text: string): Cidr | undefined {
  const [address, prefixText, ...rest] = text.split('/');
  if (rest.length > 0 || address === undefined || prefixText === undefined || !/^\d{1,3}$/.test(prefixText)) {
    return undefined;
  }
  const prefix = Number(prefixText);
  const ipv4 = parseIpv4(address);
  if (ipv4 !== undefined) {
    if (prefix > 32) return undefined;
    const size = 2 ** (32 - prefix);
    if (ipv4 % size !== 0) return undefined;
    return { family: 4, network: ipv4, prefix, text };
  }
  if (isIpv6(address) && prefix <= 128) {
    const network = ipv6Value(address);
    if (network % (1n << BigInt(128 - prefix)) !== 0n) return undefined;
    return { family: 6, network, prefix, text };
  }
  return undefined;
}

/** True when `inner` lies entirely inside `outer` (IPv4 only). */
export function ipv4Contains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== 4 || inner.family !== 4 || inner.prefix < outer.prefix) return false;
  const size = 2 ** (32 - outer.prefix);
  return inner.network >= outer.network && inner.network < outer.network + size;
}

/** RFC 1918 ranges, the only ones a Hetzner private network accepts. */
export const PRIVATE_IPV4_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] as const;

export function isPrivateIpv4(cidr: Cidr): boolean {
  return PRIVATE_IPV4_RANGES.some((range) => ipv4Contains(parseCidr(range)!, cidr));
}

/** `0.0.0.0/0` or `::/0`: the whole internet. */
export function isWholeInternet(cidr: Cidr): boolean {
  return cidr.prefix === 0;
}

/**
 * True when the blocks together cover a whole address family (`0.0.0.0/1`
 * and `128.0.0.0/1` are the internet as surely as `0.0.0.0/0`).
 */
export function coversWholeInternet(cidrs: readonly Cidr[]): boolean {
  for (const family of [4, 6] as const) {
    const bits = family === 4 ? 32 : 128;
    const ranges = cidrs
      .filter((cidr) => cidr.family === family)
      .map((cidr) => {
        const start = BigInt(cidr.network);
        return [start, start + (1n << BigInt(bits - cidr.prefix))] as const;
      })
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let covered = 0n;
    for (const [start, end] of ranges) {
      if (start > covered) break;
      if (end > covered) covered = end;
    }
    if (covered === 1n << BigInt(bits)) return true;
  }
  return false;
}

/** The address `offset` places after the network address of an IPv4 block (`10.0.1.0/24`, 10 -> `10.0.1.10`). */
export function ipv4At(block: string, offset: number): string {
  const cidr = parseCidr(block);
  if (cidr === undefined || cidr.family !== 4) throw new Error(`ipv4At: "${block}" is not an IPv4 CIDR block`);
  const size = 2 ** (32 - cidr.prefix);
  if (!Number.isInteger(offset) || offset < 1 || offset >= size - 1) {
    throw new Error(`ipv4At: offset ${offset} is outside ${block} (usable 1 to ${size - 2})`);
  }
  const value = cidr.network + offset;
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}
