// IPv4 addresses and CIDRs as pure values: parsing, containment, overlap, arithmetic.
import ipaddr from 'ipaddr.js';

/** An IPv4 prefix such as 10.42.0.0/24; `ip` keeps the address as written (host bits allowed). */
export interface Cidr {
  ip: string;
  prefix: number;
}

/** A pure function of a string, remembered (a few thousand answers at most): a lab's ADDs parse the
 * same addresses over and over (gateways, pod networks, each candidate of an allocation), and
 * ipaddr.js's parser tries a series of regular expressions (42 ms of a 100-pod attach's profile). */
export function remembered<T>(f: (s: string) => T): (s: string) => T {
  const seen = new Map<string, T>();
  return (s) => {
    if (seen.has(s)) return seen.get(s)!;
    const v = f(s);
    if (seen.size >= 4096) seen.clear();
    seen.set(s, v);
    return v;
  };
}

const fourPartDecimal = remembered((text) => ipaddr.IPv4.isValidFourPartDecimal(text));
const ipv4Value = remembered((ip) => ipaddr.IPv4.parse(ip).octets.reduce((n, o) => n * 256 + o, 0));

/** Why a string is not what was wanted; callers prepend the field path. */
export class AddressError extends Error {}

/** A CIDR written as text: an address with its prefix length, `10.42.0.1/24`. */
export type CidrText = `${string}/${number}`;

/** The address part of a CIDR written as text: `198.51.100.2/24` → `198.51.100.2`; an address without a prefix is itself. */
export function addressOf(cidr: CidrText | string): string {
  const slash = cidr.indexOf('/');
  return slash < 0 ? cidr : cidr.slice(0, slash);
}

/** Parses a dotted-quad IPv4 address, or throws AddressError. */
export function parseIPv4(text: string): string {
  if (!isDottedQuad(text)) throw new AddressError(`"${text}" is not an IPv4 address (like 10.42.0.1)`);
  return text;
}

/** True for a dotted-quad IPv4 address; no exception for anything else (a store's directory holds
 * `lock` and `last_reserved_ip.0` beside the addresses, read on every ADD and DEL). */
export function isDottedQuad(text: string): boolean {
  return fourPartDecimal(text);
}

/** Parses "a.b.c.d/n" (IPv4), or throws AddressError. */
export function parseCidr(text: string): Cidr {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!m) throw new AddressError(`"${text}" is not a CIDR (like 10.42.0.0/24)`);
  const prefix = Number(m[2]);
  if (prefix > 32) throw new AddressError(`"${text}" has a prefix length over 32`);
  return { ip: parseIPv4(m[1]), prefix };
}

/** The 32-bit unsigned value of an IPv4 address. */
export function ipToInt(ip: string): number {
  return ipv4Value(ip);
}

/** The dotted-quad form of a 32-bit unsigned value. */
export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function maskSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

/** The network address of a CIDR (host bits cleared). */
export function networkOf(c: Cidr): string {
  const size = maskSize(c.prefix);
  return intToIp(Math.floor(ipToInt(c.ip) / size) * size);
}

/** The broadcast (last) address of a CIDR. */
export function broadcastOf(c: Cidr): string {
  return intToIp(ipToInt(networkOf(c)) + maskSize(c.prefix) - 1);
}

/** True when the CIDR's address has host bits set (10.42.0.1/24). */
export function hasHostBits(c: Cidr): boolean {
  return networkOf(c) !== c.ip;
}

/** "a.b.c.d/n" */
export function formatCidr(c: Cidr): CidrText {
  return `${c.ip}/${c.prefix}`;
}

/** The CIDR with its host bits cleared: 10.42.0.7/24 → 10.42.0.0/24. */
export function canonical(c: Cidr): Cidr {
  return { ip: networkOf(c), prefix: c.prefix };
}

/** True when `ip` lies inside `c`. */
export function contains(c: Cidr, ip: string): boolean {
  const start = ipToInt(networkOf(c));
  const n = ipToInt(ip);
  return n >= start && n < start + maskSize(c.prefix);
}

/** True when `inner` lies entirely inside `outer`. */
export function containsCidr(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && contains(outer, networkOf(inner));
}

/** True when the two prefixes share any address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return containsCidr(a, b) || containsCidr(b, a);
}

/** The address `n` steps after `ip` (negative steps go back). */
export function addIp(ip: string, n: number): string {
  return intToIp(ipToInt(ip) + n);
}

/** The n-th subnet of length `len` inside `c`: subnetAt(10.42.0.0/16, 24, 1) = 10.42.1.0/24. */
export function subnetAt(c: Cidr, len: number, n: number): Cidr {
  if (len < c.prefix) throw new AddressError(`a /${len} does not fit inside ${formatCidr(c)}`);
  const count = 2 ** (len - c.prefix);
  if (n < 0 || n >= count) throw new AddressError(`${formatCidr(c)} holds ${count} /${len} subnets, not ${n + 1}`);
  return { ip: addIp(networkOf(c), n * maskSize(len)), prefix: len };
}
