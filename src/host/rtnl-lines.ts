// iproute2 lines (made by ./ip-lines.ts) carried out as rtnetlink messages in one helper session:
// the same change `ip -n NS -batch -` would make, and the same words on failure ("RTNETLINK answers:
// File exists", "Error: ipv4: Address not found.", `Cannot find device "X"`), so every caller reads
// the outcome as before. Only the lines podnet's hot paths write are known here (`rtnlKnows`); a
// batch with any other line goes to iproute2 whole.
import { AF, Attrs, BRPORT, F, IFA, IFF, IFLA, INFO, NETNSA, RTA, RTM, SLOT_FD_BASE, ackOf, cstr, ifaddrmsg, ifinfomsg, message, parseAttrs, rtgenmsg, rtmsg, splitMessages, type NlMessage } from '../model/rtnetlink.js';
import { linkJson } from '../model/rtnetlink-json.js';
import type { RtnlSession } from './rtnl-helper.js';
import { vxlanData, vxlanKnown } from './rtnl-vxlan.js';

type Json = Record<string, unknown>;

const STRERROR: Record<number, string> = {
  1: 'Operation not permitted', 2: 'No such file or directory', 3: 'No such process', 11: 'Resource temporarily unavailable',
  12: 'Cannot allocate memory', 13: 'Permission denied', 16: 'Device or resource busy', 17: 'File exists', 19: 'No such device',
  22: 'Invalid argument', 34: 'Numerical result out of range', 95: 'Operation not supported', 97: 'Address family not supported by protocol',
  98: 'Address already in use', 99: 'Cannot assign requested address', 101: 'Network is unreachable', 105: 'No buffer space available',
};

/** A request on its way: `done` settles with its outcome (a show's JSON), or a LineError. A wrapper, so
 * that "sent" and "answered" stay two moments (an async function's promise would merge them). */
export interface Sent {
  done: Promise<Json | Json[] | undefined>;
}

/** A line the kernel refused, in iproute2's words. */
export class LineError extends Error {}
/** A line iproute2 would not even parse: it ends the whole batch (exit 255), as `ip` does. */
export class BatchAbort extends Error {}

const RTEXT_FILTER_SKIP_STATS = 8;
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;
const RT_SCOPE = { UNIVERSE: 0, LINK: 253, HOST: 254, NOWHERE: 255 } as const;
const RTN_UNICAST = 1;
const RTNH_F_ONLINK = 4;
const VETH_INFO_PEER = 1;

const LINK_SET = /^link set (\S+) (up|down|master \S+|address \S+|mtu \d+|promisc (?:on|off)|type bridge_slave hairpin (?:on|off))$/;
const KNOWN = [
  /^link add \S+( mtu \d+)?( address \S+)? type bridge$/,
  /^link add \S+( mtu \d+)? type veth peer name \S+( mtu \d+)?( address \S+)?( netns \S+)?$/,
  LINK_SET, /^link del \S+$/, /^link show dev \S+$/, /^addr (add|del) \S+ dev \S+$/,
  /^route (add|replace) \S+( via \S+)?( dev \S+)?( onlink)?$/, /^route del \S+( dev \S+)?$/,
];

/** True when `line` can be carried out here (words as ip-lines.ts writes them, nothing quoted). */
export function rtnlKnows(line: string): boolean {
  return !/["']/.test(line) && (KNOWN.some((re) => re.test(line)) || vxlanKnown(line));
}

/** A session's view of one namespace: messages out, answers in, names resolved to indexes. */
export class RtnlConn {
  private seq = 1;
  private readonly index = new Map<string, number>();
  private readonly names = new Map<number, string>();

  constructor(private readonly s: RtnlSession) {}

  /** Sends one message now; resolves with every message of the answer. */
  talk(type: number, flags: number, header: Buffer, attrs?: Attrs): Promise<NlMessage[]> {
    return this.s.ask(`M ${message(type, flags, this.seq++, header, attrs).toString('hex')}`).then((a) => {
      if (!a.ok) throw new LineError(`RTNETLINK answers: ${a.message}`);
      return splitMessages(a.bytes ?? Buffer.alloc(0));
    });
  }

  /** Sends one change now; its outcome (iproute2's words on failure) is in `done`. */
  change(type: number, flags: number, header: Buffer, attrs?: Attrs): Sent {
    return { done: this.talk(type, flags | F.ACK, header, attrs).then((msgs) => {
      const ack = ackOf(msgs);
      if (ack && ack.errno !== 0) throw new LineError(errorText(ack.errno, ack.extack));
      return undefined;
    }) };
  }

  /** A dump: every message but the final DONE. */
  async dump(type: number, header: Buffer, attrs?: Attrs): Promise<NlMessage[]> {
    const msgs = await this.talk(type, F.DUMP, header, attrs);
    const ack = ackOf(msgs);
    if (ack && ack.errno !== 0) throw new LineError(errorText(ack.errno, ack.extack));
    return msgs.filter((m) => m.type === type - 2);
  }

  /** One link by name (RTM_GETLINK), or undefined when there is none. */
  async link(name: string): Promise<NlMessage | undefined> {
    const msgs = await this.talk(RTM.GETLINK, F.ACK, ifinfomsg(), new Attrs().str(IFLA.IFNAME, name).u32(IFLA.EXT_MASK, RTEXT_FILTER_SKIP_STATS));
    const ack = ackOf(msgs);
    if (ack && ack.errno === 19) return undefined;
    if (ack && ack.errno !== 0) throw new LineError(errorText(ack.errno, ack.extack));
    const m = msgs.find((x) => x.type === RTM.NEWLINK);
    if (m) this.remember(m);
    return m;
  }

  private remember(m: NlMessage): void {
    const name = parseAttrs(m.body, 16).get(IFLA.IFNAME);
    if (!name) return;
    const index = m.body.readInt32LE(4);
    this.index.set(cstr(name), index);
    this.names.set(index, cstr(name));
  }

  /** The index of device `name`; `Cannot find device "NAME"` (as ip says) when there is none. */
  async ifindex(name: string): Promise<number> {
    const known = this.index.get(name);
    if (known !== undefined) return known;
    const m = await this.link(name);
    if (!m) throw new LineError(`Cannot find device "${name}"`);
    return m.body.readInt32LE(4);
  }

  /** The name of device `index` (for a link's master), looked up when not seen yet. */
  async nameOf(index: number): Promise<string | undefined> {
    if (!this.names.has(index)) {
      const msgs = await this.talk(RTM.GETLINK, F.ACK, ifinfomsg({ index }), new Attrs().u32(IFLA.EXT_MASK, RTEXT_FILTER_SKIP_STATS));
      const m = msgs.find((x) => x.type === RTM.NEWLINK);
      if (m) this.remember(m);
    }
    return this.names.get(index);
  }

  forget(name: string): void {
    const i = this.index.get(name);
    this.index.delete(name);
    if (i !== undefined) this.names.delete(i);
  }

  /** The attribute naming a namespace as `ip … netns X` does: a PID, a path, or a name under
   * /run/netns — opened in the helper for IFLA_NET_NS_FD, the opening sent now and its answer in
   * `opened`, so the message naming it can travel with it. */
  nsAttr(ns: string): { attr: [type: number, value: number]; opened: Promise<boolean> } {
    if (/^\d+$/.test(ns)) return { attr: [IFLA.NET_NS_PID, Number(ns)], opened: Promise.resolve(true) };
    const path = ns.includes('/') ? ns : `/run/netns/${ns}`;
    const slot = this.s.slot();
    return { attr: [IFLA.NET_NS_FD, SLOT_FD_BASE + slot], opened: this.s.ask(`F ${slot} ${path}`).then((a) => a.ok, () => false) };
  }

  /** The id this namespace has for the namespace at `path` (-1: none), asked with the file open in
   * the helper; undefined when it cannot be opened. Both requests are sent at once. */
  async nsidOf(path: string): Promise<number | undefined> {
    const slot = this.s.slot();
    const opened = this.s.ask(`F ${slot} ${path}`);
    const answer = this.talk(RTM.GETNSID, F.ACK, rtgenmsg(AF.UNSPEC), new Attrs().u32(NETNSA.FD, SLOT_FD_BASE + slot));
    answer.catch(() => undefined);
    if (!(await opened).ok) return undefined;
    const m = (await answer).find((x) => x.type === RTM.GETNSID - 2);
    return m ? parseAttrs(m.body, 4).get(NETNSA.NSID)?.readInt32LE(0) : undefined;
  }

  /** One link by name (RTM_GETLINK) with the names its JSON shows — its master's, and its peer's when
   * that is in this namespace — looked up by index; undefined when there is no such link. */
  async linkNamed(name: string): Promise<{ m: NlMessage; names: ReadonlyMap<number, string> } | undefined> {
    const m = await this.link(name);
    if (!m) return undefined;
    const a = parseAttrs(m.body, 16);
    const master = a.get(IFLA.MASTER);
    if (master) await this.nameOf(master.readUInt32LE(0));
    const peer = a.get(IFLA.LINK);
    if (peer && !a.get(IFLA.LINK_NETNSID) && peer.readUInt32LE(0) !== m.body.readInt32LE(4)) await this.nameOf(peer.readUInt32LE(0));
    return { m, names: this.names };
  }

  /** The JSON `ip -json -details link show dev NAME` prints for one link. */
  async linkShow(name: string): Promise<Json> {
    const l = await this.linkNamed(name);
    if (!l) throw new LineError(`Device "${name}" does not exist.`);
    return linkJson(l.m, l.names);
  }
}

/** iproute2's words for a refused request: the kernel's own message when it gave one. */
export function errorText(errno: number, extack?: string): string {
  if (extack) return `Error: ${extack}${extack.endsWith('.') ? '' : '.'}`;
  return `RTNETLINK answers: ${STRERROR[errno] ?? `errno ${errno}`}`;
}

const family = (addr: string) => (addr.includes(':') ? AF.INET6 : AF.INET);

/** Sends one known line (after looking up what it needs, e.g. a device's index); resolves once it is
 * sent, with its outcome still on its way — so a batch's lines travel together. */
export async function sendLine(c: RtnlConn, line: string): Promise<Sent> {
  const w = line.split(' ');
  const opt = (k: string) => (w.includes(k) ? w[w.indexOf(k) + 1] : undefined);
  if (w[0] === 'link' && w[1] === 'add') {
    const sent = await linkAdd(c, w, line);
    c.forget(w[2]);
    return sent;
  }
  if (w[0] === 'link' && w[1] === 'set') return linkSet(c, line);
  if (w[0] === 'link' && w[1] === 'del') {
    const sent = c.change(RTM.DELLINK, 0, ifinfomsg(), new Attrs().str(IFLA.IFNAME, w[2]));
    c.forget(w[2]);
    return sent;
  }
  if (w[0] === 'link' && w[1] === 'show') return { done: c.linkShow(w[3]) };
  if (w[0] === 'addr') {
    const [addr, len] = w[2].split('/');
    const fam = family(addr);
    const prefix = len === undefined ? (fam === AF.INET ? 32 : 128) : Number(len);
    const index = await c.ifindex(w[4]);
    const scope = fam === AF.INET && addr.startsWith('127.') ? RT_SCOPE.HOST : RT_SCOPE.UNIVERSE;
    const attrs = new Attrs().ip(IFA.LOCAL, addr).ip(IFA.ADDRESS, addr);
    if (w[1] === 'add') return c.change(RTM.NEWADDR, F.CREATE | F.EXCL, ifaddrmsg(fam, prefix, scope, index), attrs);
    return c.change(RTM.DELADDR, 0, ifaddrmsg(fam, prefix, 0, index), attrs);
  }
  return route(c, w[1], w[2], { via: opt('via'), dev: opt('dev'), onlink: w.includes('onlink') });
}

async function linkAdd(c: RtnlConn, w: string[], line: string): Promise<Sent> {
  const head = w.slice(0, w.indexOf('type'));
  const opt = (words: string[], k: string) => (words.includes(k) ? words[words.indexOf(k) + 1] : undefined);
  const attrs = new Attrs().str(IFLA.IFNAME, w[2]);
  if (opt(head, 'mtu') !== undefined) attrs.u32(IFLA.MTU, Number(opt(head, 'mtu')));
  if (opt(head, 'address')) attrs.mac(IFLA.ADDRESS, opt(head, 'address')!);
  const kind = w[w.indexOf('type') + 1];
  if (kind === 'bridge') {
    attrs.nest(IFLA.LINKINFO, (i) => i.str(INFO.KIND, 'bridge'));
  } else if (kind === 'vxlan') {
    // ip looks the underlay device up while reading the line, and a name it cannot find ends the
    // whole batch (iplink_vxlan.c: exit(nodev(...))).
    const tail = w.slice(w.indexOf('type') + 2);
    const dev = opt(tail, 'dev')!;
    const link = await c.ifindex(dev).catch((e: unknown) => {
      throw e instanceof LineError ? new BatchAbort(`Cannot find device "${dev}"`) : e;
    });
    attrs.nest(IFLA.LINKINFO, (i) => i.str(INFO.KIND, 'vxlan').nest(INFO.DATA, vxlanData(tail, link)));
  } else {
    // veth: the peer is an ifinfomsg with its own attributes, its namespace among them. The
    // namespace's opening and the message travel together; if it could not be opened (the message
    // then fails on a closed descriptor), the batch stops there, as ip does.
    const peer = line.slice(line.indexOf(' peer name ') + 11).split(' ');
    const ns = opt(peer, 'netns') === undefined ? undefined : c.nsAttr(opt(peer, 'netns')!);
    const peerAttrs = (p: Attrs) => {
      p.str(IFLA.IFNAME, peer[0]);
      if (opt(peer, 'mtu') !== undefined) p.u32(IFLA.MTU, Number(opt(peer, 'mtu')));
      if (opt(peer, 'address')) p.mac(IFLA.ADDRESS, opt(peer, 'address')!);
      if (ns) p.u32(...ns.attr);
    };
    attrs.nest(IFLA.LINKINFO, (i) => i.str(INFO.KIND, 'veth').nest(INFO.DATA, (d) => d.nest(VETH_INFO_PEER, peerAttrs, ifinfomsg())));
    const sent = c.change(RTM.NEWLINK, F.CREATE | F.EXCL, ifinfomsg(), attrs);
    if (ns && !(await ns.opened)) {
      sent.done.catch(() => undefined);
      throw new BatchAbort(`Error: argument "${opt(peer, 'netns')}" is wrong: Invalid "netns" value`);
    }
    return sent;
  }
  return c.change(RTM.NEWLINK, F.CREATE | F.EXCL, ifinfomsg(), attrs);
}

async function linkSet(c: RtnlConn, line: string): Promise<Sent> {
  const m = LINK_SET.exec(line)!;
  const name = m[1];
  const what = m[2].split(' ');
  const attrs = new Attrs().str(IFLA.IFNAME, name);
  let info = ifinfomsg();
  if (what[0] === 'up' || what[0] === 'down') info = ifinfomsg({ flags: what[0] === 'up' ? IFF.UP : 0, change: IFF.UP });
  else if (what[0] === 'promisc') info = ifinfomsg({ flags: what[1] === 'on' ? IFF.PROMISC : 0, change: IFF.PROMISC });
  else if (what[0] === 'master') attrs.u32(IFLA.MASTER, await c.ifindex(what[1]));
  else if (what[0] === 'address') attrs.mac(IFLA.ADDRESS, what[1]);
  else if (what[0] === 'mtu') attrs.u32(IFLA.MTU, Number(what[1]));
  else attrs.nest(IFLA.LINKINFO, (i) => i.str(INFO.SLAVE_KIND, 'bridge').nest(INFO.SLAVE_DATA, (d) => d.u8(BRPORT.MODE, what[3] === 'on' ? 1 : 0)));
  return c.change(RTM.NEWLINK, 0, info, attrs);
}

async function route(c: RtnlConn, op: string, dst: string, r: { via?: string; dev?: string; onlink: boolean }): Promise<Sent> {
  const isDefault = dst === 'default';
  const fam = isDefault ? family(r.via ?? '0.0.0.0') : family(dst);
  const [net, len] = isDefault ? ['', '0'] : dst.split('/');
  const dstLen = isDefault ? 0 : len === undefined ? (fam === AF.INET ? 32 : 128) : Number(len);
  const attrs = new Attrs();
  if (!isDefault) attrs.ip(RTA.DST, net);
  if (r.via) attrs.ip(RTA.GATEWAY, r.via);
  if (r.dev) attrs.u32(RTA.OIF, await c.ifindex(r.dev));
  if (op === 'del') return c.change(RTM.DELROUTE, 0, rtmsg({ family: fam, dstLen, table: RT_TABLE_MAIN, scope: RT_SCOPE.NOWHERE }), attrs);
  const scope = r.via ? RT_SCOPE.UNIVERSE : RT_SCOPE.LINK;
  const flags = op === 'add' ? F.CREATE | F.EXCL : F.CREATE | F.REPLACE;
  return c.change(RTM.NEWROUTE, flags, rtmsg({ family: fam, dstLen, table: RT_TABLE_MAIN, protocol: RTPROT_BOOT, scope, type: RTN_UNICAST, flags: r.onlink ? RTNH_F_ONLINK : 0 }), attrs);
}
