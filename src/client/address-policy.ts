/**
 * Which network addresses a URL taken from a msg may reach: public unicast ones only, unless a
 * setting allows the rest. A flow that fetches whatever URL arrives must not become a way into
 * the machine itself (loopback), the local network (RFC 1918, ULA, link-local) or a cloud's
 * metadata service (169.254.169.254, fd00:ec2::254), whatever spelling of the address is used:
 * IPv4 inside IPv6 (mapped, compatible, NAT64, 6to4) is judged as the IPv4 address it carries.
 *
 * It judges ADDRESSES, not host names: the fetcher asks it about the address a name resolved to,
 * at the moment of connecting (remote-file.ts), so a name that resolves elsewhere later (DNS
 * rebinding) is judged by where the connection actually goes.
 */
import { isIP } from 'node:net';

/** [first address as a number, prefix length, why it is not public]. */
type V4Range = readonly [number, number, string];

const V4_RANGES: readonly V4Range[] = [
  [v4(0, 0, 0, 0), 8, 'in "this network" (0.0.0.0/8)'],
  [v4(10, 0, 0, 0), 8, 'private (10.0.0.0/8, RFC 1918)'],
  [v4(100, 64, 0, 0), 10, 'shared carrier-grade NAT space (100.64.0.0/10)'],
  [v4(127, 0, 0, 0), 8, 'loopback (127.0.0.0/8)'],
  [v4(169, 254, 0, 0), 16, 'link-local (169.254.0.0/16, where cloud metadata services answer)'],
  [v4(172, 16, 0, 0), 12, 'private (172.16.0.0/12, RFC 1918)'],
  [v4(192, 0, 0, 0), 24, 'reserved for protocol assignments (192.0.0.0/24)'],
  [v4(192, 0, 2, 0), 24, 'reserved for documentation (192.0.2.0/24)'],
  [v4(192, 88, 99, 0), 24, 'a 6to4 relay address (192.88.99.0/24)'],
  [v4(192, 168, 0, 0), 16, 'private (192.168.0.0/16, RFC 1918)'],
  [v4(198, 18, 0, 0), 15, 'reserved for benchmarking (198.18.0.0/15)'],
  [v4(198, 51, 100, 0), 24, 'reserved for documentation (198.51.100.0/24)'],
  [v4(203, 0, 113, 0), 24, 'reserved for documentation (203.0.113.0/24)'],
  [v4(224, 0, 0, 0), 4, 'multicast (224.0.0.0/4)'],
  [v4(240, 0, 0, 0), 4, 'reserved (240.0.0.0/4, with the broadcast address)'],
];

/**
 * Why `address` is no public unicast address, or undefined when it is one. Anything that is not
 * an IP address at all is refused too, so a caller can never mistake a failed parse for "public".
 */
export function addressRefusal(address: string): string | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const kind = isIP(bare);
  if (kind === 4) return v4Refusal(v4Number(bare));
  if (kind === 6) return v6Refusal(v6Groups(bare));
  return 'not an IP address';
}

function v4Refusal(value: number): string | undefined {
  for (const [base, prefix, reason] of V4_RANGES) {
    if (prefix === 0 || value >>> (32 - prefix) === base >>> (32 - prefix)) return reason;
  }
  return undefined;
}

function v6Refusal(g: readonly number[]): string | undefined {
  const zeroUpTo = (n: number): boolean => g.slice(0, n).every((x) => x === 0);
  const embedded = (hi: number, lo: number, form: string): string | undefined => {
    const value = ((hi << 16) | lo) >>> 0;
    const reason = v4Refusal(value);
    return reason === undefined ? undefined : `${reason}, as ${form} ${v4Text(value)}`;
  };
  if (zeroUpTo(8)) return 'the unspecified address (::)';
  if (zeroUpTo(7) && g[7] === 1) return 'loopback (::1)';
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (SIIT) reach the IPv4 address itself.
  if (zeroUpTo(5) && g[5] === 0xffff) return embedded(g[6], g[7], 'the IPv4-mapped form of');
  if (zeroUpTo(4) && g[4] === 0xffff && g[5] === 0) return embedded(g[6], g[7], 'the IPv4-translated form of');
  // ::a.b.c.d: deprecated "IPv4-compatible", which some stacks still route to the IPv4 address.
  if (zeroUpTo(6)) return embedded(g[6], g[7], 'the IPv4-compatible form of') ?? 'a deprecated IPv4-compatible address (::/96)';
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return embedded(g[6], g[7], 'the NAT64 form of');
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return 'local-use NAT64 (64:ff9b:1::/48)';
  if (g[0] === 0x2002) return embedded(g[1], g[2], 'the 6to4 form of');
  if (g[0] === 0x2001 && g[1] === 0) return 'a Teredo tunnel address (2001::/32), whose IPv4 end cannot be judged';
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'reserved for documentation (2001:db8::/32)';
  if (g[0] === 0x2001 && g[1] === 2 && g[2] === 0) return 'reserved for benchmarking (2001:2::/48)';
  if (g[0] === 0x3fff && g[1] < 0x1000) return 'reserved for documentation (3fff::/20)';
  if (g[0] >> 9 === 0x7e) return 'a unique local address (fc00::/7, the IPv6 private range)';
  if (g[0] >> 6 === 0x3fa) return 'link-local (fe80::/10)';
  if (g[0] >> 6 === 0x3fb) return 'site-local (fec0::/10)';
  if (g[0] >> 8 === 0xff) return 'multicast (ff00::/8)';
  // Everything else outside global unicast (2000::/3) is reserved or unassigned (100::/64 discard, …).
  if (g[0] >> 13 !== 1) return 'not a global unicast address (outside 2000::/3)';
  return undefined;
}

function v4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** A dotted quad that net.isIP accepted. */
function v4Number(text: string): number {
  const [a = 0, b = 0, c = 0, d = 0] = text.split('.').map(Number);
  return v4(a, b, c, d);
}

function v4Text(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** The eight 16-bit groups of an address net.isIP accepted as IPv6 (zone id, `::` and a dotted tail allowed). */
function v6Groups(text: string): number[] {
  const zoneless = text.split('%')[0] ?? '';
  let head = zoneless;
  const tail: number[] = [];
  const dotted = /(^|:)(\d+\.\d+\.\d+\.\d+)$/.exec(zoneless);
  if (dotted) {
    const value = v4Number(dotted[2] ?? '');
    tail.push(value >>> 16, value & 0xffff);
    head = zoneless.slice(0, zoneless.length - (dotted[2] ?? '').length);
    // "::1.2.3.4" leaves "::", "64:ff9b::1.2.3.4" leaves "64:ff9b::", "::ffff:1.2.3.4" leaves "::ffff:".
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((x) => parseInt(x, 16)));
  const gap = head.indexOf('::');
  let groups: number[];
  if (gap === -1) {
    groups = [...parse(head), ...tail];
  } else {
    const left = parse(head.slice(0, gap));
    const right = [...parse(head.slice(gap + 2)), ...tail];
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  }
  return groups;
}
