// rtnetlink dump messages as the JSON iproute2 prints for them (`ip -json -details link/addr`,
// `ip -json neigh`, `bridge -json fdb`; routes: ./rtnetlink-route.ts), field for field where podnet
// reads it (model/kernel.ts), so one parser serves both ways of asking the kernel. The fields follow
// iproute2's ip/ipaddress.c, ip/ipneigh.c and bridge/fdb.c. Pure.
import { AF, BRPORT, IFA, IFLA, INFO, NDA, VXLAN, cstr, ipString, macString, parseAttrs, type AttrMap, type NlMessage } from './rtnetlink.js';

type Json = Record<string, unknown>;

const FLAG_NAMES: [number, string][] = [
  [0x8, 'LOOPBACK'], [0x2, 'BROADCAST'], [0x10, 'POINTOPOINT'], [0x1000, 'MULTICAST'], [0x80, 'NOARP'],
  [0x200, 'ALLMULTI'], [0x100, 'PROMISC'], [0x400, 'MASTER'], [0x800, 'SLAVE'], [0x4, 'DEBUG'],
  [0x8000, 'DYNAMIC'], [0x4000, 'AUTOMEDIA'], [0x2000, 'PORTSEL'], [0x20, 'NOTRAILERS'], [0x1, 'UP'],
  [0x10000, 'LOWER_UP'], [0x20000, 'DORMANT'], [0x40000, 'ECHO'],
];
const OPERSTATES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'];
const LINK_TYPES: Record<number, string> = { 1: 'ether', 772: 'loopback', 776: 'sit', 65534: 'none', 768: 'ipip', 778: 'gre' };
const PORT_STATES = ['disabled', 'listening', 'learning', 'forwarding', 'blocking'];
const SCOPES: Record<number, string> = { 0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' };
const NUD: [number, string][] = [[0x1, 'INCOMPLETE'], [0x2, 'REACHABLE'], [0x4, 'STALE'], [0x8, 'DELAY'], [0x10, 'PROBE'], [0x20, 'FAILED'], [0x40, 'NOARP'], [0x80, 'PERMANENT']];

const u32 = (b: Buffer | undefined) => (b && b.length >= 4 ? b.readUInt32LE(0) : undefined);
const u8 = (b: Buffer | undefined) => (b && b.length >= 1 ? b.readUInt8(0) : undefined);
const name = (names: ReadonlyMap<number, string>, index: number) => names.get(index) ?? `if${index}`;

/** The ifindex → name map of a link dump (what iproute2's ll_map holds). */
export function linkNames(links: readonly NlMessage[]): Map<number, string> {
  const m = new Map<number, string>();
  for (const l of links) {
    const ifname = parseAttrs(l.body, 16).get(IFLA.IFNAME);
    if (ifname) m.set(l.body.readInt32LE(4), cstr(ifname));
  }
  return m;
}

/** One RTM_NEWLINK as an element of `ip -json -details link show`. */
export function linkJson(m: NlMessage, names: ReadonlyMap<number, string>): Json {
  const b = m.body;
  const ifindex = b.readInt32LE(4);
  const flags = b.readUInt32LE(8);
  const a = parseAttrs(b, 16);
  const j: Json = { ifindex, ifname: cstr(a.get(IFLA.IFNAME) ?? Buffer.alloc(0)) };
  const link = u32(a.get(IFLA.LINK));
  const nsid = a.get(IFLA.LINK_NETNSID);
  if (link !== undefined && link !== 0 && link !== ifindex) {
    if (nsid) j.link_index = link;
    else j.link = names.get(link) ?? null;
  }
  j.flags = [...((flags & 0x1) && !(flags & 0x40) ? ['NO-CARRIER'] : []), ...FLAG_NAMES.filter(([bit]) => flags & bit).map(([, n]) => n)];
  const mtu = u32(a.get(IFLA.MTU));
  if (mtu !== undefined) j.mtu = mtu;
  const master = u32(a.get(IFLA.MASTER));
  if (master) j.master = name(names, master);
  j.operstate = OPERSTATES[u8(a.get(IFLA.OPERSTATE)) ?? 0] ?? 'UNKNOWN';
  j.link_type = LINK_TYPES[b.readUInt16LE(2)] ?? String(b.readUInt16LE(2));
  const mac = a.get(IFLA.ADDRESS);
  if (mac) j.address = macString(mac);
  if (nsid) j.link_netnsid = nsid.readInt32LE(0);
  j.promiscuity = u32(a.get(IFLA.PROMISCUITY)) ?? 0;
  const info = a.get(IFLA.LINKINFO);
  if (info) j.linkinfo = linkinfoJson(parseAttrs(info));
  return j;
}

function linkinfoJson(info: AttrMap): Json {
  const out: Json = {};
  const kind = info.get(INFO.KIND);
  if (kind) {
    out.info_kind = cstr(kind);
    const data = info.get(INFO.DATA);
    if (out.info_kind === 'vxlan' && data) {
      const d = parseAttrs(data);
      const local = d.get(VXLAN.LOCAL);
      const port = d.get(VXLAN.PORT);
      out.info_data = {
        id: u32(d.get(VXLAN.ID)),
        ...(local ? { local: ipString(local) } : {}),
        ...(port ? { port: port.readUInt16BE(0) } : {}),
        learning: u8(d.get(VXLAN.LEARNING)) === 1,
      };
    }
  }
  const slave = info.get(INFO.SLAVE_KIND);
  if (slave) {
    out.info_slave_kind = cstr(slave);
    const data = info.get(INFO.SLAVE_DATA);
    if (out.info_slave_kind === 'bridge' && data) {
      const d = parseAttrs(data);
      out.info_slave_data = {
        state: PORT_STATES[u8(d.get(BRPORT.STATE)) ?? 0] ?? 'unknown',
        hairpin: u8(d.get(BRPORT.MODE)) === 1,
        learning: u8(d.get(BRPORT.LEARNING)) === 1,
        flood: u8(d.get(BRPORT.UNICAST_FLOOD)) === 1,
      };
    }
  }
  return out;
}

/** One RTM_NEWADDR as an element of a link's `addr_info`, with the link's index. */
export function addrJson(m: NlMessage): { index: number; info: Json } {
  const b = m.body;
  const family = b.readUInt8(0);
  const a = parseAttrs(b, 8);
  const local = a.get(IFA.LOCAL) ?? a.get(IFA.ADDRESS);
  const label = a.get(IFA.LABEL);
  return {
    index: b.readUInt32LE(4),
    info: {
      family: family === AF.INET6 ? 'inet6' : 'inet',
      ...(local ? { local: ipString(local) } : {}),
      prefixlen: b.readUInt8(1),
      scope: SCOPES[b.readUInt8(3)] ?? String(b.readUInt8(3)),
      ...(label ? { label: cstr(label) } : {}),
    },
  };
}

/** `ip -json -details addr show`: the links with their addresses (of other links too: left out);
 * `names` resolves masters and peers (by default, from `links`). */
export function addrShowJson(links: readonly NlMessage[], addrs: readonly NlMessage[], names: ReadonlyMap<number, string> = linkNames(links)): Json[] {
  const byIndex = new Map<number, Json[]>();
  for (const m of addrs) {
    const { index, info } = addrJson(m);
    const list = byIndex.get(index) ?? [];
    list.push(info);
    byIndex.set(index, list);
  }
  return links.map((l) => {
    const j = linkJson(l, names);
    return { ...j, addr_info: byIndex.get(j.ifindex as number) ?? [] };
  });
}

/** True when `ip neigh show` lists the entry: without `nud all`, entries only NOARP or NONE are left out
 * (unless proxy or externally learned). */
export function neighShown(m: NlMessage): boolean {
  const state = m.body.readUInt16LE(8);
  const flags = m.body.readUInt8(10);
  return (state & (0xff & ~0x40)) !== 0 || (flags & (0x08 | 0x10)) !== 0;
}

/** The ndmsg header and attributes of a neighbour or FDB message. */
function ndmsg(m: NlMessage): { a: AttrMap; ifindex: number; state: number; flags: number; dst?: Buffer; ll?: Buffer } {
  const a = parseAttrs(m.body, 12);
  return { a, ifindex: m.body.readInt32LE(4), state: m.body.readUInt16LE(8), flags: m.body.readUInt8(10), dst: a.get(NDA.DST), ll: a.get(NDA.LLADDR) };
}

/** One RTM_NEWNEIGH (IPv4/IPv6) as an element of `ip -json neigh show`. */
export function neighJson(m: NlMessage, names: ReadonlyMap<number, string>): Json {
  const { ifindex, state, flags, dst, ll } = ndmsg(m);
  return {
    ...(dst ? { dst: ipString(dst) } : {}),
    dev: name(names, ifindex),
    ...(ll ? { lladdr: macString(ll) } : {}),
    ...(flags & 0x80 ? { router: null } : {}),
    state: state === 0 ? ['NONE'] : NUD.filter(([bit]) => state & bit).map(([, n]) => n),
  };
}

/** One AF_BRIDGE RTM_NEWNEIGH as an element of `bridge -json fdb show`. */
export function fdbJson(m: NlMessage, names: ReadonlyMap<number, string>): Json {
  const { a, ifindex, state, flags, dst, ll } = ndmsg(m);
  const master = u32(a.get(NDA.MASTER));
  const j: Json = { ...(ll ? { mac: macString(ll) } : {}), ifname: name(names, ifindex) };
  if (dst) j.dst = ipString(dst);
  if (master) j.master = name(names, master);
  j.flags = [...(flags & 0x2 ? ['self'] : []), ...(flags & 0x80 ? ['router'] : []), ...(flags & 0x10 ? ['extern_learn'] : []),
    ...(flags & 0x20 ? ['offload'] : []), ...(flags & 0x4 ? ['master'] : []), ...(flags & 0x40 ? ['sticky'] : [])];
  j.state = state & 0x80 ? 'permanent' : state & 0x40 ? 'static' : state & 0x4 ? 'stale' : '';
  return j;
}
