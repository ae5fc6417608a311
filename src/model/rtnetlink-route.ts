// RTM_NEWROUTE messages as the JSON `ip -json [-details] route show [table all]` prints for them,
// key for key and in iproute2's order (ip/iproute.c print_route, iproute2 6.1). A route carrying
// something rendered here by no rule (a nexthop object, multipath, an encapsulation, a mark, a TOS…)
// is answered with null: the caller then lets iproute2 print the whole listing, rather than print
// part of it differently. Names of tables, protocols and scopes come from `RtNames` (iproute2 reads
// them from /etc/iproute2; src/host/rt-names.ts does too). Pure.
import { AF, RTA, cstr, ipString, parseAttrs, type AttrMap, type NlMessage } from './rtnetlink.js';

type Json = Record<string, unknown>;

/** What iproute2 calls tables, protocols and scopes by number (a number it has no name for: itself). */
export interface RtNames {
  table(id: number): string;
  protocol(id: number): string;
  scope(id: number): string;
}

/** The names iproute2 has built in (lib/rt_names.c), before its files are read. */
export const BUILTIN_NAMES = {
  tables: new Map([[253, 'default'], [254, 'main'], [255, 'local']]),
  protocols: new Map([[0, 'unspec'], [1, 'redirect'], [2, 'kernel'], [3, 'boot'], [4, 'static'], [8, 'gated'], [9, 'ra'], [10, 'mrt'],
    [11, 'zebra'], [12, 'bird'], [13, 'dnrouted'], [14, 'xorp'], [15, 'ntk'], [16, 'dhcp'], [18, 'keepalived'], [42, 'babel'],
    [186, 'bgp'], [187, 'isis'], [188, 'ospf'], [189, 'rip'], [192, 'eigrp']]),
  scopes: new Map([[0, 'global'], [200, 'site'], [253, 'link'], [254, 'host'], [255, 'nowhere']]),
} as const;

/** The built-in names alone (no file read). */
export const builtinNames: RtNames = {
  table: (id) => BUILTIN_NAMES.tables.get(id) ?? String(id),
  protocol: (id) => BUILTIN_NAMES.protocols.get(id) ?? String(id),
  scope: (id) => BUILTIN_NAMES.scopes.get(id) ?? String(id),
};

const RT_TABLE_MAIN = 254;
const RTN_UNICAST = 1;
const RTM_F_CLONED = 0x200;
const TYPES = ['none', 'unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat', 'xresolve'];
/** print_rt_flags' words, in its order. */
const FLAGS: [number, string][] = [[0x1, 'dead'], [0x4, 'onlink'], [0x2, 'pervasive'], [0x8, 'offload'], [0x40, 'trap'], [0x100, 'notify'],
  [0x10, 'linkdown'], [0x20, 'unresolved'], [0x4000, 'rt_offload'], [0x8000, 'rt_trap'], [0x20000000, 'rt_offload_failed']];
/** Route metrics (RTAX_*) by number, as print_rta_metrics names them. */
const METRICS = [undefined, undefined, 'mtu', 'window', 'rtt', 'rttvar', 'ssthresh', 'cwnd', 'advmss', 'reordering', 'hoplimit', 'initcwnd',
  'features', 'rto_min', 'initrwnd', 'quickack', 'congctl', 'fastopen_no_cookie'];
/** Attributes print_route prints by rules not written here (RTA_IIF, MULTIPATH, FLOW, MARK, VIA, NEWDST,
 * ENCAP_TYPE, ENCAP, UID, TTL_PROPAGATE, NH_ID): a route with one is not rendered. */
const NOT_RENDERED = [3, 9, 11, 16, 18, 19, 21, 22, 25, 26, 30];
const RTA_SRC = 2;
const RTA_METRICS = 8;
const RTA_CACHEINFO = 12;
const RTA_PREF = 20;
/** USER_HZ, the unit of a route's expiry (iproute2 divides by sysconf(_SC_CLK_TCK): 100 on Linux). */
const USER_HZ = 100;

/** Which routes a listing shows: those of one table (`route show`: main), or every table's (`table all`). */
export interface RouteFilter {
  table?: number;
  details: boolean;
}

/** One RTM_NEWROUTE as an element of the listing `f` describes; undefined when the listing leaves it
 * out (another table, a cached clone), null when it holds something not rendered here. */
export function routeJson(m: NlMessage, names: ReadonlyMap<number, string>, rt: RtNames, f: RouteFilter): Json | undefined | null {
  const b = m.body;
  const family = b.readUInt8(0);
  const a = parseAttrs(b, 12);
  const table = a.get(RTA.TABLE)?.readUInt32LE(0) ?? b.readUInt8(4);
  const flags = b.readUInt32LE(8);
  if ((f.table !== undefined && table !== f.table) || flags & RTM_F_CLONED) return undefined;
  if ((family !== AF.INET && family !== AF.INET6) || b.readUInt8(3) !== 0 || NOT_RENDERED.some((t) => a.has(t))) return null;
  const hostLen = family === AF.INET ? 32 : 128;
  const type = b.readUInt8(7);
  const j: Json = {};
  if (type !== RTN_UNICAST || f.details) j.type = TYPES[type] ?? String(type);
  j.dst = prefix(a.get(RTA.DST), b.readUInt8(1), hostLen) ?? 'default';
  const src = a.get(RTA_SRC);
  if (src) j.from = prefix(src, b.readUInt8(2), hostLen);
  else if (b.readUInt8(2)) j.src = `0/${b.readUInt8(2)}`;
  const gw = a.get(RTA.GATEWAY);
  if (gw) j.gateway = ipString(gw);
  const oif = a.get(RTA.OIF)?.readUInt32LE(0);
  if (oif !== undefined) j.dev = names.get(oif) ?? `if${oif}`;
  // `route show` names one table (never printed); `table all` prints it but for main (unless -details).
  if (f.table === undefined && table && (table !== RT_TABLE_MAIN || f.details)) j.table = rt.table(table);
  const proto = b.readUInt8(5);
  if (proto !== 3 || f.details) j.protocol = rt.protocol(proto);
  const scope = b.readUInt8(6);
  if (scope !== 0 || f.details) j.scope = rt.scope(scope);
  const prefsrc = a.get(RTA.PREFSRC);
  if (prefsrc) j.prefsrc = ipString(prefsrc);
  const metric = a.get(RTA.PRIORITY);
  if (metric) j.metric = metric.readUInt32LE(0);
  j.flags = FLAGS.filter(([bit]) => flags & bit).map(([, n]) => n);
  return tail(j, a);
}

/** A destination or source: ADDR for a host, ADDR/LEN for a network; "0/LEN " (sic, iproute2's
 * words) for a length without an address; undefined for neither. */
function prefix(addr: Buffer | undefined, len: number, hostLen: number): string | undefined {
  if (addr) return len === hostLen ? ipString(addr) : `${ipString(addr)}/${len}`;
  return len ? `0/${len} ` : undefined;
}

/** What print_route prints after the flags: expiry and error, metrics, IPv6 preference. */
function tail(j: Json, a: AttrMap): Json | null {
  const ci = a.get(RTA_CACHEINFO);
  if (ci && ci.length >= 32) {
    // struct rta_cacheinfo: clntref, lastuse, expires (s32), error, used, id, ts, tsage. id, ts and
    // tsage (IPv4 route cache only) print as hexadecimal text: not rendered.
    const expires = ci.readInt32LE(8);
    if (expires !== 0) j.expires = Math.trunc(expires / USER_HZ);
    if (ci.readUInt32LE(12) !== 0) j.error = ci.readUInt32LE(12);
    if (ci.readUInt32LE(20) || ci.readUInt32LE(24) || ci.readUInt32LE(28)) return null;
  }
  const mx = a.get(RTA_METRICS);
  if (mx) {
    const m = metrics(parseAttrs(mx));
    if (!m) return null;
    j.metrics = [m];
  }
  const pref = a.get(RTA_PREF)?.readUInt8(0);
  if (pref !== undefined) j.pref = pref === 0 ? 'medium' : pref === 1 ? 'high' : pref === 3 ? 'low' : pref;
  return j;
}

/** RTA_METRICS as print_rta_metrics prints it (locks are not shown in JSON); null for feature bits other
 * than ECN (printed as hexadecimal text). */
function metrics(mx: AttrMap): Json | null {
  const lock = mx.get(1)?.readUInt32LE(0) ?? 0;
  const out: Json = {};
  for (let i = 2; i < METRICS.length; i++) {
    const v = mx.get(i);
    if (!v && !(lock & (1 << i))) continue;
    if (i === 16) {
      if (!v) return null;
      out.congestion = cstr(v);
      continue;
    }
    const val = v && v.length >= 4 ? v.readUInt32LE(0) : 0;
    if (i === 10 && val === 0xffffffff) continue;
    if (i === 12) {
      if (val & ~1) return null;
      if (val & 1) out.ecn = null;
      continue;
    }
    out[METRICS[i]!] = i === 4 ? Math.floor(val / 8) : i === 5 ? Math.floor(val / 4) : val;
  }
  return out;
}
