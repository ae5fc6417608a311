// Kernel network objects in iproute2's vocabulary, and their parsing from `ip -json` / `bridge -json`.
// Pure: the JSON comes in as values; reading it from the machine is src/host's job.
import { contains } from './ip.js';
import type { Mac } from './mac.js';

/** Attributes every link has (`ip -d link show`). */
export interface LinkBase {
  name: string;
  index: number;
  mtu: number;
  mac: Mac;
  /** The bridge (or other master) this link is enslaved to. */
  master?: string;
  /** Administrative state: the UP flag. */
  up: boolean;
  /** Operational state as the kernel reports it (UP, DOWN, UNKNOWN, LOWERLAYERDOWN). */
  operstate: string;
  flags: string[];
  /** For links whose other end lives elsewhere: the peer's netns id as seen from this namespace. */
  linkNetnsid?: number;
  /** Bridge-port attributes when this link is a bridge port. */
  port?: BridgePort;
  promiscuity: number;
}

/** A bridge port's flags (`bridge -d link show`, `ip -d link` info_slave_data). */
export interface BridgePort {
  state: string;
  hairpin: boolean;
  learning: boolean;
  flood: boolean;
}

/** `ip link add NAME type veth peer name PEER`: `peerIndex` is the peer's ifindex (the N of `@ifN`). */
export interface VethLink extends LinkBase {
  kind: 'veth';
  peerIndex?: number;
}
/** `ip link add NAME type bridge`. */
export interface BridgeLink extends LinkBase {
  kind: 'bridge';
}
/** `ip link add NAME type vxlan id VNI …`. */
export interface VxlanLink extends LinkBase {
  kind: 'vxlan';
  vni?: number;
  local?: string;
  dstport?: number;
  learning?: boolean;
}
/** Any other link (loopback, physical, dummy, …); `kind` is the kernel's info_kind or 'device'. */
export interface GenericLink extends LinkBase {
  kind: 'generic';
  infoKind: string;
}
export type Link = VethLink | BridgeLink | VxlanLink | GenericLink;

/** An address on a link (`ip addr`). */
export interface Addr {
  link: string;
  family: 'inet' | 'inet6';
  local: string;
  prefix: number;
  scope: string;
}

/** A route (`ip route`). */
export interface Route {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  flags: string[];
}

/** A neighbour (ARP) entry (`ip neigh`). */
export interface Neigh {
  dst: string;
  dev: string;
  lladdr?: Mac;
  state: string[];
}

/** A forwarding-database entry (`bridge fdb`). */
export interface FdbEntry {
  mac: Mac;
  dev: string;
  master?: string;
  dst?: string;
  flags: string[];
  state: string;
}

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function portOf(data: unknown): BridgePort | undefined {
  if (!data || typeof data !== 'object') return undefined;
  const d = data as Json;
  return {
    state: str(d.state) ?? 'unknown',
    hairpin: d.hairpin === true,
    learning: d.learning === true,
    flood: d.flood === true,
  };
}

/** One element of `ip -json -details link show` as a Link. */
export function linkFromJson(j: Json): Link {
  const info = (j.linkinfo ?? {}) as Json;
  const flags = strs(j.flags);
  const base: LinkBase = {
    name: str(j.ifname) ?? '',
    index: num(j.ifindex) ?? 0,
    mtu: num(j.mtu) ?? 0,
    mac: str(j.address) ?? '',
    up: flags.includes('UP'),
    operstate: str(j.operstate) ?? 'UNKNOWN',
    flags,
    promiscuity: num(j.promiscuity) ?? 0,
  };
  const master = str(j.master);
  if (master !== undefined) base.master = master;
  const nsid = num(j.link_netnsid);
  if (nsid !== undefined) base.linkNetnsid = nsid;
  if (info.info_slave_kind === 'bridge') base.port = portOf(info.info_slave_data);
  const kind = str(info.info_kind);
  if (kind === 'veth') return { ...base, kind: 'veth', peerIndex: num(j.link_index) };
  if (kind === 'bridge') return { ...base, kind: 'bridge' };
  if (kind === 'vxlan') {
    const d = (info.info_data ?? {}) as Json;
    return { ...base, kind: 'vxlan', vni: num(d.id), local: str(d.local), dstport: num(d.port), learning: d.learning === true };
  }
  return { ...base, kind: 'generic', infoKind: kind ?? (str(j.link_type) === 'loopback' ? 'loopback' : 'device') };
}

/** `ip -json addr show` → one Addr per address. */
export function addrsFromJson(list: Json[]): Addr[] {
  return list.flatMap((l) =>
    ((l.addr_info ?? []) as Json[]).map((a) => ({
      link: str(l.ifname) ?? '',
      family: a.family === 'inet6' ? 'inet6' : 'inet',
      local: str(a.local) ?? '',
      prefix: num(a.prefixlen) ?? 0,
      scope: str(a.scope) ?? '',
    })),
  );
}

/** One element of `ip -json route show`. */
export function routeFromJson(j: Json): Route {
  const r: Route = { dst: str(j.dst) ?? '', flags: strs(j.flags) };
  for (const [k, from] of [['gateway', 'gateway'], ['dev', 'dev'], ['protocol', 'protocol'], ['scope', 'scope'], ['prefsrc', 'prefsrc']] as const) {
    const v = str(j[from]);
    if (v !== undefined) r[k] = v;
  }
  return r;
}

/** One element of `ip -json neigh show`. */
export function neighFromJson(j: Json): Neigh {
  const n: Neigh = { dst: str(j.dst) ?? '', dev: str(j.dev) ?? '', state: strs(j.state) };
  const ll = str(j.lladdr);
  if (ll !== undefined) n.lladdr = ll;
  return n;
}

/** One element of `bridge -json fdb show`. */
export function fdbFromJson(j: Json): FdbEntry {
  const e: FdbEntry = { mac: str(j.mac) ?? '', dev: str(j.ifname) ?? '', flags: strs(j.flags), state: str(j.state) ?? '' };
  const master = str(j.master);
  if (master !== undefined) e.master = master;
  const dst = str(j.dst);
  if (dst !== undefined) e.dst = dst;
  return e;
}

/** The kind of an FDB entry as the blog explains it: learned, permanent (static) or self (the bridge's own). */
export function fdbKind(e: FdbEntry): 'learned' | 'permanent' | 'self' {
  if (e.flags.includes('self')) return 'self';
  if (e.state === 'permanent' || e.state === 'static') return 'permanent';
  return 'learned';
}

/** The main-table route the kernel picks for `ip`: the longest prefix that covers it (the first
 * listed among equals), or undefined. Policy rules and other tables are not considered: the snapshot
 * holds what `ip route show` lists. */
export function lookupRoute(routes: readonly Route[], ip: string): Route | undefined {
  let best: Route | undefined;
  let bestLen = -1;
  for (const r of routes) {
    const len = routePrefix(r, ip);
    if (len > bestLen) [best, bestLen] = [r, len];
  }
  return best;
}

/** The prefix length by which route `r` covers `ip`, or -1 when it does not. */
function routePrefix(r: Route, ip: string): number {
  if (r.dst === 'default') return 0;
  const [net, len] = r.dst.includes('/') ? r.dst.split('/') : [r.dst, '32'];
  try {
    return contains({ ip: net, prefix: Number(len) }, ip) ? Number(len) : -1;
  } catch {
    return -1; // not IPv4 (an IPv6 route, say)
  }
}

/** A route as `ip route` prints it: `10.42.1.0/24 via 10.42.1.0 dev flannel.1 onlink` (`proto boot`,
 * the default, left out as `ip route` does). */
export function formatRoute(r: Route): string {
  return [r.dst, r.gateway ? `via ${r.gateway}` : '', r.dev ? `dev ${r.dev}` : '', r.protocol && r.protocol !== 'boot' ? `proto ${r.protocol}` : '',
    r.scope && r.scope !== 'global' ? `scope ${r.scope}` : '', r.prefsrc ? `src ${r.prefsrc}` : '', ...r.flags].filter(Boolean).join(' ');
}
