// host-local's address logic as pure functions: range sets parsed from the `ipam` config with their
// defaults, and round-robin allocation over them (docs/facts.md#host-local). No I/O: the store
// lives behind `Store`; this file only decides which address comes next.
import { CniError, ErrorCode } from '../spec.js';
import { AddressError, broadcastOf, formatCidr, hasHostBits, intToIp, ipToInt, networkOf, overlaps, parseCidr, parseIPv4, isDottedQuad, type Cidr } from '../../model/ip.js';

/** One range with every default filled in: addresses rangeStart..rangeEnd (inclusive) of `subnet`. */
export interface IpRange {
  subnet: Cidr;
  rangeStart: string;
  rangeEnd: string;
  gateway: string;
}

/** Ranges host-local hands out one address from per ADD (the inner array of `ranges`). */
export type RangeSet = readonly IpRange[];

/** One range as written in the config. */
export interface RangeInput {
  subnet: string;
  rangeStart?: string;
  rangeEnd?: string;
  gateway?: string;
}

/** The `ipam` fields that describe ranges: `ranges` and/or the old single-range fields. */
export interface RangesInput {
  ranges?: readonly (readonly RangeInput[])[];
  subnet?: string;
  rangeStart?: string;
  rangeEnd?: string;
  gateway?: string;
}

/** A reservation's owner as the store records it; ifname '' marks a file from before ifnames were kept. */
export interface Owner {
  id: string;
  ifname: string;
}

const invalid = (path: string, msg: string) => new CniError(ErrorCode.InvalidConfig, `${path}: ${msg}`);

const ipv4Only = (path: string, text: string) =>
  invalid(path, `"${text}" is IPv6; podnet's host-local is IPv4-only for now (use an IPv4 subnet such as 10.42.0.0/24)`);

/** Ranges no pod network may use: the "this network" block, loopback, multicast and the reserved/broadcast block. */
const RESERVED: { what: string; cidr: Cidr }[] = [
  { what: '"this network"', cidr: { ip: '0.0.0.0', prefix: 8 } },
  { what: 'loopback', cidr: { ip: '127.0.0.0', prefix: 8 } },
  { what: 'multicast', cidr: { ip: '224.0.0.0', prefix: 4 } },
  { what: 'the reserved block', cidr: { ip: '240.0.0.0', prefix: 4 } },
];

function parseSubnet(text: string, path: string): Cidr {
  if (text.includes(':')) throw ipv4Only(path, text);
  let c: Cidr;
  try {
    c = parseCidr(text);
  } catch (e) {
    if (e instanceof AddressError) throw invalid(path, `"${text}" is not a CIDR (like 10.42.0.0/24)`);
    throw e;
  }
  if (c.prefix > 30) throw invalid(path, `invalid CIDR ${text}: network too small to allocate from (use a /30 or shorter prefix)`);
  if (hasHostBits(c)) throw invalid(path, `"${text}" has host bits set; for a /${c.prefix} the network address is ${networkOf(c)} (use ${networkOf(c)}/${c.prefix})`);
  const reserved = RESERVED.find((r) => overlaps(r.cidr, c));
  if (c.prefix < 8 || reserved) throw invalid(path, `${text} is not a pod network: ${reserved ? `it overlaps ${reserved.what} ${formatCidr(reserved.cidr)}` : 'a prefix shorter than /8 covers other networks'} (use a private range such as 10.42.0.0/24)`);
  return c;
}

function parseAddressIn(subnet: Cidr, text: string, path: string): string {
  if (text.includes(':')) throw ipv4Only(path, text);
  try {
    parseIPv4(text);
  } catch (e) {
    if (e instanceof AddressError) throw invalid(path, e.message);
    throw e;
  }
  const n = ipToInt(text);
  if (n < ipToInt(networkOf(subnet)) || n > ipToInt(broadcastOf(subnet))) throw invalid(path, `${text} is not in network ${formatCidr(subnet)}`);
  return text;
}

/** Validates one range and fills its defaults (gateway and rangeStart = network+1, rangeEnd = broadcast−1). */
export function parseRange(input: RangeInput, path: string): IpRange {
  const subnet = parseSubnet(input.subnet, `${path}.subnet`);
  const first = intToIp(ipToInt(networkOf(subnet)) + 1);
  const last = intToIp(ipToInt(broadcastOf(subnet)) - 1);
  const field = (name: 'rangeStart' | 'rangeEnd' | 'gateway', dflt: string) => {
    const v = input[name];
    return v === undefined ? dflt : parseAddressIn(subnet, v, `${path}.${name}`);
  };
  const range = { subnet, rangeStart: field('rangeStart', first), rangeEnd: field('rangeEnd', last), gateway: field('gateway', first) };
  if (ipToInt(range.rangeStart) > ipToInt(range.rangeEnd)) {
    throw invalid(path, `rangeStart ${range.rangeStart} is after rangeEnd ${range.rangeEnd} (rangeStart must come first)`);
  }
  return range;
}

/** "start-end", the reference's way of naming a range. */
export function formatRange(r: IpRange): string {
  return `${r.rangeStart}-${r.rangeEnd}`;
}

/** The ranges of a set as the reference prints them: `start-end` joined by ",". */
export function formatRangeSet(set: RangeSet): string {
  return set.map(formatRange).join(',');
}

const rangesOverlap = (a: IpRange, b: IpRange) =>
  Math.max(ipToInt(a.rangeStart), ipToInt(b.rangeStart)) <= Math.min(ipToInt(a.rangeEnd), ipToInt(b.rangeEnd));

function parseSet(inputs: readonly RangeInput[], path: string): RangeSet {
  if (inputs.length === 0) throw invalid(path, 'empty range set (give it at least one {"subnet": "10.42.0.0/24"})');
  const set = inputs.map((r, j) => parseRange(r, `${path}[${j}]`));
  for (let i = 0; i < set.length; i++) {
    for (let j = i + 1; j < set.length; j++) {
      if (rangesOverlap(set[i], set[j])) throw invalid(path, `ranges ${formatRange(set[i])} and ${formatRange(set[j])} overlap (ranges in a set must be disjoint)`);
    }
  }
  return set;
}

/** Parses the `ipam` range fields into range sets: the old single range (if any) first, then `ranges`. */
export function parseRangeSets(ipam: RangesInput, path = 'ipam'): RangeSet[] {
  const sets: { set: RangeSet; name: string }[] = [];
  if (ipam.subnet !== undefined) {
    const { subnet, rangeStart, rangeEnd, gateway } = ipam;
    sets.push({ set: [parseRange({ subnet, rangeStart, rangeEnd, gateway }, path)], name: path });
  } else {
    for (const k of ['rangeStart', 'rangeEnd', 'gateway'] as const) {
      if (ipam[k] !== undefined) throw invalid(`${path}.${k}`, `given without "subnet" (put it in "ranges": [[{"subnet": …, "${k}": …}]])`);
    }
  }
  (ipam.ranges ?? []).forEach((r, i) => sets.push({ set: parseSet(r, `${path}.ranges[${i}]`), name: `${path}.ranges[${i}]` }));
  if (sets.length === 0) throw invalid(path, 'no IP ranges specified (add "ranges": [[{"subnet": "10.42.0.0/24"}]])');
  for (let i = 0; i < sets.length; i++) {
    for (let j = i + 1; j < sets.length; j++) {
      if (sets[i].set.some((a) => sets[j].set.some((b) => rangesOverlap(a, b)))) {
        throw invalid(sets[j].name, `range set ${formatRangeSet(sets[j].set)} overlaps ${sets[i].name} (${formatRangeSet(sets[i].set)}); range sets must not share addresses`);
      }
    }
  }
  return sets.map((s) => s.set);
}

/** The range of `set` that holds `ip` (between its rangeStart and rangeEnd), if any. */
export function rangeFor(set: RangeSet, ip: string): IpRange | undefined {
  if (!isDottedQuad(ip)) return undefined;
  const n = ipToInt(ip);
  return set.find((r) => n >= ipToInt(r.rangeStart) && n <= ipToInt(r.rangeEnd));
}

/** The number of addresses in a set (gateway included). */
export function rangeSetSize(set: RangeSet): number {
  return set.reduce((sum, r) => sum + ipToInt(r.rangeEnd) - ipToInt(r.rangeStart) + 1, 0);
}

/** The next free address of `set`, round robin: starting after `lastReserved` when it is in the set
 * (else at the first rangeStart), skipping each range's gateway and taken addresses, wrapping once. */
export function nextIP(set: RangeSet, lastReserved: string | undefined, isTaken: (ip: string) => boolean): string | undefined {
  let ri = 0;
  let cur: number | undefined;
  const from = lastReserved === undefined ? undefined : rangeFor(set, lastReserved);
  if (from && lastReserved !== undefined) {
    ri = set.indexOf(from);
    cur = ipToInt(lastReserved);
  }
  const total = rangeSetSize(set);
  for (let tried = 0; tried < total; tried++) {
    if (cur === undefined) {
      cur = ipToInt(set[ri].rangeStart);
    } else if (cur >= ipToInt(set[ri].rangeEnd)) {
      ri = (ri + 1) % set.length;
      cur = ipToInt(set[ri].rangeStart);
    } else {
      cur++;
    }
    const ip = intToIp(cur);
    if (ip !== set[ri].gateway && !isTaken(ip)) return ip;
  }
  return undefined;
}

/** The reference's exhaustion error: `no IP addresses available in range set: <start-end,…>`. */
export function exhaustedError(set: RangeSet): CniError {
  return new CniError(ErrorCode.Internal, `no IP addresses available in range set: ${formatRangeSet(set)}`);
}

/** What a store holds, as far as allocation cares: last reserved IP per range set index, taken IPs. */
export interface AllocationState {
  lastReserved: readonly (string | undefined)[];
  taken: Iterable<string>;
}

/** Predicts the next `count` ADDs without touching anything: one entry per ADD, holding one IP per
 * range set (K3s: one). Throws the exhaustion CniError as the plugin would. */
export function planAllocations(rangeSets: readonly RangeSet[], state: AllocationState, count: number): string[][] {
  const taken = new Set(state.taken);
  const last = rangeSets.map((_, i) => state.lastReserved[i]);
  const out: string[][] = [];
  for (let k = 0; k < count; k++) {
    out.push(rangeSets.map((set, i) => {
      const ip = nextIP(set, last[i], (a) => taken.has(a));
      if (ip === undefined) throw exhaustedError(set);
      taken.add(ip);
      last[i] = ip;
      return ip;
    }));
  }
  return out;
}

/** The reservations of (id, ifname), as the reference matches them: exact owner first; failing that,
 * files from before ifnames were recorded (ifname '') that carry the same id. */
export function ownedBy<T extends Owner>(entries: readonly T[], id: string, ifname: string): T[] {
  const exact = entries.filter((e) => e.id === id && e.ifname === ifname);
  return exact.length > 0 ? exact : entries.filter((e) => e.id === id && e.ifname === '');
}
