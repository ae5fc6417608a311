// The lines podnet writes into `ip -batch` and `bridge -batch`, built from typed arguments — never
// from strings pasted together at the call site. Each builder names the command it equals, so a
// line read in `-v` or `--dry-run` output can be typed by hand after `ip -n NS`.
//
// iproute2's batch syntax (lib/utils.c getcmdline/makeargs) splits words on blanks, cuts every
// line at its first `#` (a comment, even inside quotes), and takes a word that *starts* with ' or "
// up to the same quote, with no escapes. So every argument is checked: a value with `#`, a line
// break or a NUL cannot be carried and is refused; a value with blanks, or starting with a quote,
// is wrapped in a quote it does not contain.
import { HostError } from './errors.js';

/** One line of `ip -batch` input, made by a builder here. */
export type IpLine = string & { readonly __ipLine: true };
/** One line of `bridge -batch` input, made by a builder here. */
export type BridgeLine = string & { readonly __bridgeLine: true };

/** Why `value` cannot be one word of a batch line, or undefined when it can. */
export function batchArgProblem(value: string): string | undefined {
  if (/[#\r\n\0]/.test(value)) return `contains ${value.includes('#') ? '"#" (iproute2 batch input ends a line at #)' : 'a line break or NUL'}`;
  if (value.endsWith('\\')) return 'ends with a backslash (iproute2 batch input joins the next line to it)';
  if (/[ \t]/.test(value) && value.includes('"') && value.includes("'")) return 'contains blanks and both kinds of quotes';
  if (/^["']/.test(value) && value.includes('"') && value.includes("'")) return 'starts with a quote and contains both kinds of quotes';
  return undefined;
}

/** `value` as one word of a batch line: as is, or quoted. Throws a HostError ("invalid") naming the value. */
export function batchArg(value: string): string {
  const problem = batchArgProblem(value);
  if (problem) throw new HostError({ kind: 'invalid', argv: ['ip', '-batch'], exitCode: null, stderr: problem, message: `"${value}" cannot be passed to ip -batch: it ${problem}` });
  if (value === '') return '""';
  if (!/[ \t]/.test(value) && !/^["']/.test(value)) return value;
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}

/** Joins words into a line; each word is checked and quoted when needed. */
function words(...parts: (string | number | undefined | false)[]): string {
  return parts.filter((p): p is string | number => p !== undefined && p !== false).map((p) => batchArg(String(p))).join(' ');
}
const ip = (...parts: (string | number | undefined | false)[]) => words(...parts) as IpLine;
const br = (...parts: (string | number | undefined | false)[]) => words(...parts) as BridgeLine;
const opt = (flag: string, v: string | number | undefined): (string | number)[] => (v === undefined ? [] : [flag, v]);

/** Equivalent to: `ip link add NAME [mtu N] [address MAC] type bridge`. */
export function linkAddBridge(name: string, o: { mtu?: number; mac?: string } = {}): IpLine {
  return ip('link', 'add', name, ...opt('mtu', o.mtu), ...opt('address', o.mac), 'type', 'bridge');
}

/** Equivalent to: `ip link add NAME [mtu N] type veth peer name PEER [mtu N] [address MAC] [netns NS]`
 * — with `peerNetns` the peer is born in that namespace (a pinned name). */
export function linkAddVeth(name: string, peer: string, o: { mtu?: number; peerMac?: string; peerNetns?: string } = {}): IpLine {
  return ip('link', 'add', name, ...opt('mtu', o.mtu), 'type', 'veth', 'peer', 'name', peer, ...opt('mtu', o.mtu), ...opt('address', o.peerMac), ...opt('netns', o.peerNetns));
}

/** A VXLAN device's parameters (flannel: vni 1, port 8472, nolearning). */
export interface VxlanParams {
  vni: number;
  local: string;
  dev: string;
  dstport: number;
  learning: boolean;
  mtu?: number;
  mac?: string;
}

/** Equivalent to: `ip link add NAME [address MAC] [mtu N] type vxlan id VNI local IP dev DEV dstport PORT [no]learning`. */
export function linkAddVxlan(name: string, v: VxlanParams): IpLine {
  return ip('link', 'add', name, ...opt('address', v.mac), ...opt('mtu', v.mtu), 'type', 'vxlan', 'id', v.vni, 'local', v.local, 'dev', v.dev, 'dstport', v.dstport, v.learning ? 'learning' : 'nolearning');
}

/** Equivalent to: `ip link set NAME up`. */
export const linkSetUp = (name: string): IpLine => ip('link', 'set', name, 'up');
/** Equivalent to: `ip link set NAME down`. */
export const linkSetDown = (name: string): IpLine => ip('link', 'set', name, 'down');
/** Equivalent to: `ip link set NAME master BRIDGE`. */
export const linkSetMaster = (name: string, master: string): IpLine => ip('link', 'set', name, 'master', master);
/** Equivalent to: `ip link set NAME address MAC`. */
export const linkSetAddress = (name: string, mac: string): IpLine => ip('link', 'set', name, 'address', mac);
/** Equivalent to: `ip link set NAME mtu N`. */
export const linkSetMtu = (name: string, mtu: number): IpLine => ip('link', 'set', name, 'mtu', mtu);
/** Equivalent to: `ip link set NAME promisc on|off`. */
export const linkSetPromisc = (name: string, on: boolean): IpLine => ip('link', 'set', name, 'promisc', on ? 'on' : 'off');
/** A bridge port's hairpin flag. Equivalent to: `ip link set NAME type bridge_slave hairpin on|off`. */
export const linkSetHairpin = (name: string, on: boolean): IpLine => ip('link', 'set', name, 'type', 'bridge_slave', 'hairpin', on ? 'on' : 'off');
/** Equivalent to: `ip link del NAME`. */
export const linkDel = (name: string): IpLine => ip('link', 'del', name);
/** A read inside a batch: its JSON comes back in BatchResult.shows. Equivalent to: `ip -json -details link show dev NAME`. */
export const linkShow = (name: string): IpLine => ip('link', 'show', 'dev', name);

/** Equivalent to: `ip addr add CIDR dev DEV`. */
export const addrAdd = (cidr: string, dev: string): IpLine => ip('addr', 'add', cidr, 'dev', dev);
/** Equivalent to: `ip addr del CIDR dev DEV`. */
export const addrDel = (cidr: string, dev: string): IpLine => ip('addr', 'del', cidr, 'dev', dev);

/** Where a route goes. */
export interface RouteVia {
  via?: string;
  dev?: string;
  onlink?: boolean;
}
const routeArgs = (dst: string, r: RouteVia) => [dst, ...opt('via', r.via), ...opt('dev', r.dev), ...(r.onlink ? ['onlink'] : [])];
/** Equivalent to: `ip route add DST [via GW] [dev DEV] [onlink]`. */
export const routeAdd = (dst: string, r: RouteVia): IpLine => ip('route', 'add', ...routeArgs(dst, r));
/** Equivalent to: `ip route replace DST [via GW] [dev DEV] [onlink]`. */
export const routeReplace = (dst: string, r: RouteVia): IpLine => ip('route', 'replace', ...routeArgs(dst, r));
/** Equivalent to: `ip route del DST [dev DEV]`. */
export const routeDel = (dst: string, dev?: string): IpLine => ip('route', 'del', dst, ...opt('dev', dev));

/** Forgets cached routes, path-MTU exceptions included (what an ICMP "fragmentation needed" taught the
 * kernel). Equivalent to: `ip route flush cache`. */
export const routeFlushCache = (): IpLine => ip('route', 'flush', 'cache');

/** Equivalent to: `ip neigh replace IP lladdr MAC dev DEV nud STATE`. */
export const neighReplace = (addr: string, mac: string, dev: string, nud = 'permanent'): IpLine => ip('neigh', 'replace', addr, 'lladdr', mac, 'dev', dev, 'nud', nud);
/** Equivalent to: `ip neigh del IP dev DEV`. */
export const neighDel = (addr: string, dev: string): IpLine => ip('neigh', 'del', addr, 'dev', dev);
/** Forgets learned neighbours: of one device, or all. Equivalent to: `ip neigh flush dev DEV` / `ip neigh flush all`. */
export const neighFlush = (dev?: string): IpLine => (dev === undefined ? ip('neigh', 'flush', 'all') : ip('neigh', 'flush', 'dev', dev));

/** Equivalent to: `ip netns add NAME` (a line of `ip -batch` in podnet's own namespace). */
export const netnsAddLine = (name: string): IpLine => ip('netns', 'add', name);
/** Equivalent to: `ip netns del NAME`. */
export const netnsDelLine = (name: string): IpLine => ip('netns', 'del', name);

/** An FDB entry of a VXLAN device (flannel: VTEP MAC → remote node IP). */
export interface FdbTarget {
  dst: string;
  /** `self`: the entry is the device's own (a VXLAN destination), not its master bridge's. */
  self?: boolean;
  permanent?: boolean;
}
/** Equivalent to: `bridge fdb replace MAC dev DEV dst IP [self] [permanent]`. */
export const fdbReplace = (mac: string, dev: string, t: FdbTarget): BridgeLine => br('fdb', 'replace', mac, 'dev', dev, 'dst', t.dst, t.self ? 'self' : false, t.permanent ? 'permanent' : false);
/** Equivalent to: `bridge fdb del MAC dev DEV [dst IP] [self]`. */
export const fdbDel = (mac: string, dev: string, t: Partial<FdbTarget> = {}): BridgeLine => br('fdb', 'del', mac, 'dev', dev, ...opt('dst', t.dst), t.self ? 'self' : false);
/** Forgets what a bridge port (or a bridge, for all its ports) learned. Equivalent to: `bridge fdb flush dev DEV dynamic`. */
export const fdbFlushDynamic = (dev: string): BridgeLine => br('fdb', 'flush', 'dev', dev, 'dynamic');
