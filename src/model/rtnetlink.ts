// rtnetlink messages as bytes (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h): the builders of
// the requests podnet sends and the splitting of what the kernel answers. Pure: which bytes travel
// where is src/host's job (rtnl-helper.ts, rtnl.ts). Host byte order is little-endian on every
// architecture podnet runs on (x86-64, arm64).
import ipaddr from 'ipaddr.js';
import { remembered } from './ip.js';

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const F = { REQUEST: 0x1, MULTI: 0x2, ACK: 0x4, DUMP: 0x300, REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400 } as const;
export const RTM = {
  NEWLINK: 16, DELLINK: 17, GETLINK: 18, NEWADDR: 20, DELADDR: 21, GETADDR: 22,
  NEWROUTE: 24, DELROUTE: 25, GETROUTE: 26, NEWNEIGH: 28, GETNEIGH: 30, GETNSID: 90,
} as const;
export const IFLA = {
  ADDRESS: 1, IFNAME: 3, MTU: 4, LINK: 5, MASTER: 10, OPERSTATE: 16, LINKINFO: 18, NET_NS_PID: 19,
  NET_NS_FD: 28, EXT_MASK: 29, PROMISCUITY: 30, LINK_NETNSID: 37,
} as const;
export const INFO = { KIND: 1, DATA: 2, SLAVE_KIND: 4, SLAVE_DATA: 5 } as const;
export const BRPORT = { STATE: 1, MODE: 4, LEARNING: 8, UNICAST_FLOOD: 9 } as const;
export const VXLAN = { ID: 1, LINK: 3, LOCAL: 4, LEARNING: 7, PORT: 15 } as const;
export const IFA = { ADDRESS: 1, LOCAL: 2, LABEL: 3 } as const;
export const RTA = { DST: 1, OIF: 4, GATEWAY: 5, PRIORITY: 6, PREFSRC: 7, TABLE: 15 } as const;
export const NDA = { DST: 1, LLADDR: 2, MASTER: 9 } as const;
export const NETNSA = { NSID: 1, FD: 3 } as const;
export const AF = { UNSPEC: 0, INET: 2, BRIDGE: 7, INET6: 10 } as const;
export const IFF = { UP: 0x1, PROMISC: 0x100 } as const;
export const NLA_F_NESTED = 0x8000;
/** The file descriptor a namespace opened by the helper's `F SLOT PATH` gets. */
export const SLOT_FD_BASE = 100;

/** The bytes of an address, remembered: a lab's requests name the same few (a gateway, a pod
 * network) again and again, and ipaddr.js's parser is a string of regular expressions. */
const addressBytes = remembered((addr) => Uint8Array.from(ipaddr.parse(addr).toByteArray()));

/** Attributes of one message, appended in order. */
export class Attrs {
  private readonly parts: Buffer[] = [];

  bytes(type: number, value: Uint8Array): this {
    const len = 4 + value.length;
    const b = Buffer.alloc((len + 3) & ~3);
    b.writeUInt16LE(len, 0);
    b.writeUInt16LE(type, 2);
    b.set(value, 4);
    this.parts.push(b);
    return this;
  }
  u8(type: number, v: number): this {
    return this.bytes(type, Uint8Array.of(v));
  }
  u32(type: number, v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return this.bytes(type, b);
  }
  str(type: number, s: string): this {
    return this.bytes(type, Buffer.from(`${s}\0`, 'utf8'));
  }
  mac(type: number, mac: string): this {
    return this.bytes(type, Buffer.from(mac.split(':').map((h) => parseInt(h, 16))));
  }
  ip(type: number, addr: string): this {
    return this.bytes(type, addressBytes(addr));
  }
  /** A nested attribute whose contents `fill` appends (a header may precede them: veth's peer). */
  nest(type: number, fill: (a: Attrs) => void, header?: Buffer): this {
    const inner = new Attrs();
    fill(inner);
    return this.bytes(type | NLA_F_NESTED, Buffer.concat([...(header ? [header] : []), inner.build()]));
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** A whole message: nlmsghdr (length, type, flags, seq, port 0), the family header, the attributes. */
export function message(type: number, flags: number, seq: number, header: Buffer, attrs?: Attrs): Buffer {
  const body = Buffer.concat([header, attrs?.build() ?? Buffer.alloc(0)]);
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags | F.REQUEST, 6);
  h.writeUInt32LE(seq >>> 0, 8);
  return Buffer.concat([h, body]);
}

/** struct ifinfomsg: family, type, index, flags, change. */
export function ifinfomsg(o: { family?: number; index?: number; flags?: number; change?: number } = {}): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(o.family ?? AF.UNSPEC, 0);
  b.writeInt32LE(o.index ?? 0, 4);
  b.writeUInt32LE((o.flags ?? 0) >>> 0, 8);
  b.writeUInt32LE((o.change ?? 0) >>> 0, 12);
  return b;
}

/** struct ifaddrmsg: family, prefix length, flags, scope, index. */
export function ifaddrmsg(family: number, prefixlen: number, scope: number, index: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(family, 0);
  b.writeUInt8(prefixlen, 1);
  b.writeUInt8(scope, 3);
  b.writeUInt32LE(index, 4);
  return b;
}

/** struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags. */
export function rtmsg(o: { family: number; dstLen?: number; table?: number; protocol?: number; scope?: number; type?: number; flags?: number }): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(o.family, 0);
  b.writeUInt8(o.dstLen ?? 0, 1);
  b.writeUInt8(o.table ?? 0, 4);
  b.writeUInt8(o.protocol ?? 0, 5);
  b.writeUInt8(o.scope ?? 0, 6);
  b.writeUInt8(o.type ?? 0, 7);
  b.writeUInt32LE(o.flags ?? 0, 8);
  return b;
}

/** struct ndmsg (a dump request needs only the family). */
export function ndmsg(family: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(family, 0);
  return b;
}

/** struct rtgenmsg, padded as iproute2 sends it. */
export function rtgenmsg(family: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt8(family, 0);
  return b;
}

/** One message of an answer. */
export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  /** The payload after nlmsghdr. */
  body: Buffer;
}

/** Splits what the kernel sent (possibly many datagrams' worth, concatenated) into messages. */
export function splitMessages(buf: Buffer): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off + 16 <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < 16 || off + len > buf.length) break;
    out.push({ type: buf.readUInt16LE(off + 4), flags: buf.readUInt16LE(off + 6), seq: buf.readUInt32LE(off + 8), body: buf.subarray(off + 16, off + len) });
    off += (len + 3) & ~3;
  }
  return out;
}

/** The attributes of one message by type, read where they lie: an attribute's bytes become a Buffer
 * only when asked for (a link carries ~60 attributes and a reader wants a handful; a Buffer per
 * attribute was most of a 250-pod scan's garbage). */
export class AttrMap {
  /** type → offset * 65536 + length (an attribute's length is a u16), at index type; holes elsewhere. */
  private readonly at: number[] = [];
  constructor(private readonly buf: Buffer, off: number) {
    // Bytes read by index, not readUInt16LE: short verbs run on V8's baseline compiler (bin/podnet.js),
    // where a call per field made this loop the largest part of decoding a link (a lab's attach
    // reads ~300 links; 17 ms of readUInt16LE in its profile).
    const end = buf.length;
    while (off + 4 <= end) {
      const len = buf[off] | (buf[off + 1] << 8);
      if (len < 4 || off + len > end) break;
      this.at[(buf[off + 2] | (buf[off + 3] << 8)) & 0x3fff] = (off + 4) * 65536 + (len - 4);
      off += (len + 3) & ~3;
    }
  }
  /** The payload of attribute `type` (the last one of that type), if present. */
  get(type: number): Buffer | undefined {
    const v = this.at[type];
    if (v === undefined) return undefined;
    const start = Math.floor(v / 65536);
    return this.buf.subarray(start, start + (v % 65536));
  }
  has(type: number): boolean {
    return this.at[type] !== undefined;
  }
}

/** Attributes from `off` to the end of `buf`, by type (the nested flag cleared). */
export function parseAttrs(buf: Buffer, off = 0): AttrMap {
  return new AttrMap(buf, off);
}

/** The outcome an NLMSG_ERROR carries: errno 0 is an ACK; `extack` is the kernel's own message. */
export interface NlAck {
  errno: number;
  extack?: string;
}

/** The ACK (or error) among `messages`, or undefined (a dump ends in NLMSG_DONE instead). With
 * NETLINK_CAP_ACK the request is not echoed back, so the extended-ACK attributes follow the header. */
export function ackOf(messages: readonly NlMessage[]): NlAck | undefined {
  const e = messages.find((m) => m.type === NLMSG_ERROR);
  if (!e) return undefined;
  const errno = -e.body.readInt32LE(0);
  if (errno === 0) return { errno };
  const msg = parseAttrs(e.body, 20).get(1);
  return msg ? { errno, extack: cstr(msg) } : { errno };
}

/** A NUL-terminated string attribute. */
export function cstr(b: Buffer): string {
  const z = b.indexOf(0);
  return b.subarray(0, z < 0 ? b.length : z).toString('utf8');
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A hardware address as iproute2 prints it (lower-case, colon-separated). */
export function macString(b: Buffer): string {
  let s = b.length ? HEX[b[0]] : '';
  for (let i = 1; i < b.length; i++) s += `:${HEX[b[i]]}`;
  return s;
}

/** An IPv4 or IPv6 address attribute as text (IPv6 compressed as inet_ntop writes it). */
export function ipString(b: Buffer): string {
  // Four bytes print as dotted decimal (what ipaddr.js writes too), without building its object.
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  return ipaddr.fromByteArray(Array.from(b)).toString();
}
