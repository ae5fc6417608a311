// The packet decoder: one captured frame → its layers (Ethernet/802.1Q or Linux cooked, ARP, IPv4,
// ICMP, UDP, TCP, VXLAN with its inner frame) and a tcpdump-like summary line. Pure and built for bulk:
// it reads the frame's bytes in place (no copies, no DataView), shares its lookup tables, and builds
// the summary string only when someone reads it. It never throws: a layer cut short or malformed sets
// `error` (what and at which byte offset of the frame) and keeps every layer decoded before it.
import type { ArpInfo, CapturedFrame, DecodedFrame, IcmpInfo, IcmpOriginal, Ipv4Info, SllInfo, TcpInfo, UdpInfo, VxlanInfo } from '../model/packet.js';

const ETH_IPV4 = 0x0800;
const ETH_ARP = 0x0806;
const ETH_VLAN = 0x8100;
/** How deep VXLAN may nest before the decoder stops (a guard against crafted input). */
const MAX_DEPTH = 4;

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const DEC: string[] = Array.from({ length: 256 }, (_, i) => String(i));

const TCP_FLAG_BITS: readonly (readonly [number, string, string])[] = [
  // bit, name, tcpdump's letter — in tcpdump's order (F S R P . U E W).
  [0x01, 'FIN', 'F'], [0x02, 'SYN', 'S'], [0x04, 'RST', 'R'], [0x08, 'PSH', 'P'],
  [0x10, 'ACK', '.'], [0x20, 'URG', 'U'], [0x40, 'ECE', 'E'], [0x80, 'CWR', 'W'],
];
/** The flag names for each value of the flags byte, shared (frozen) so decoding allocates none. */
const TCP_FLAGS: string[][] = Array.from({ length: 256 }, (_, v) =>
  Object.freeze(TCP_FLAG_BITS.filter(([bit]) => v & bit).map(([, name]) => name)) as string[]);
const TCP_LETTER = new Map(TCP_FLAG_BITS.map(([, name, letter]) => [name, letter]));

const ETHERTYPE_NAMES: Record<number, string> = { 0x86dd: 'IPv6', 0x8035: 'RARP', 0x88cc: 'LLDP', 0x8847: 'MPLS', 0x88a8: '802.1ad' };
const LINK_TYPES = '1 (Ethernet), 101 (raw IP), 113 (Linux SLL), 276 (Linux SLL2)';

/** A decoded frame: own properties for the layers, `summary` computed on first read (then cached).
 * `toJSON` includes the summary, so JSON output carries it. */
class Decoded implements DecodedFrame {
  declare eth?: DecodedFrame['eth'];
  declare sll?: SllInfo;
  declare arp?: ArpInfo;
  declare ipv4?: Ipv4Info;
  declare icmp?: IcmpInfo;
  declare udp?: UdpInfo;
  declare tcp?: TcpInfo;
  declare vxlan?: VxlanInfo;
  declare error?: string;
  #summary: string | undefined = undefined;

  get summary(): string {
    if (this.#summary === undefined) this.#summary = summarize(this);
    return this.#summary;
  }

  toJSON(): Omit<DecodedFrame, 'summary'> & { summary: string } {
    return { ...this, summary: this.summary };
  }
}

/** Decodes one captured frame by its link type. Never throws; an unknown link type gives a frame
 * with only `error` set. */
export function decodeFrame(frame: CapturedFrame): DecodedFrame {
  const d = new Decoded();
  const b = frame.data;
  switch (frame.linkType) {
    case 1: ethernet(d, b, 0, b.length, 0); break;
    case 113: sll(d, b, false); break;
    case 276: sll(d, b, true); break;
    case 101: raw(d, b); break;
    default: d.error = `link type ${frame.linkType} is not decoded (podnet decodes ${LINK_TYPES})`;
  }
  return d;
}

/** Decodes an Ethernet II frame (the bytes from the destination MAC on). */
export function decodeEthernet(bytes: Uint8Array): DecodedFrame {
  const d = new Decoded();
  ethernet(d, bytes, 0, bytes.length, 0);
  return d;
}

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u32 = (b: Uint8Array, o: number) => ((b[o] << 24) >>> 0) + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
// A capture holds few distinct addresses: their strings are made once and shared (the caches are
// bounded: they start over past CACHE_MAX entries). Halves the decode time of a lab capture.
const CACHE_MAX = 1 << 16;
const macCache = new Map<number, string>();
const ipCache = new Map<number, string>();
const mac = (b: Uint8Array, o: number): string => {
  // The 48-bit address as a number (exact: below 2^53).
  const key = ((b[o] << 8) | b[o + 1]) * 4294967296 + (((b[o + 2] << 24) | (b[o + 3] << 16) | (b[o + 4] << 8) | b[o + 5]) >>> 0);
  let s = macCache.get(key);
  if (s === undefined) {
    s = HEX[b[o]] + ':' + HEX[b[o + 1]] + ':' + HEX[b[o + 2]] + ':' + HEX[b[o + 3]] + ':' + HEX[b[o + 4]] + ':' + HEX[b[o + 5]];
    if (macCache.size >= CACHE_MAX) macCache.clear();
    macCache.set(key, s);
  }
  return s;
};
const ip = (b: Uint8Array, o: number): string => {
  const key = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
  let s = ipCache.get(key);
  if (s === undefined) {
    s = DEC[b[o]] + '.' + DEC[b[o + 1]] + '.' + DEC[b[o + 2]] + '.' + DEC[b[o + 3]];
    if (ipCache.size >= CACHE_MAX) ipCache.clear();
    ipCache.set(key, s);
  }
  return s;
};
const short = (what: string, at: number, have: number, need: number) =>
  `${what} truncated at offset ${at}: ${have < 0 ? 0 : have} of ${need} bytes`;

/** Ethernet II with at most one 802.1Q tag, then the payload by ethertype. */
function ethernet(d: Decoded, b: Uint8Array, o: number, end: number, depth: number): void {
  if (end - o < 14) {
    d.error = short('Ethernet header', o, end - o, 14);
    return;
  }
  let et = u16(b, o + 12);
  let p = o + 14;
  const eth: NonNullable<DecodedFrame['eth']> = { src: mac(b, o + 6), dst: mac(b, o), ethertype: et };
  d.eth = eth;
  if (et === ETH_VLAN) {
    if (end - p < 4) {
      d.error = short('802.1Q tag', p, end - p, 4);
      return;
    }
    eth.vlan = u16(b, p) & 0x0fff;
    et = u16(b, p + 2);
    eth.ethertype = et;
    p += 4;
  }
  network(d, b, p, end, et, depth);
}

/** Linux cooked capture: SLL (16-byte header) or SLL2 (20 bytes, with the interface index). */
function sll(d: Decoded, b: Uint8Array, v2: boolean): void {
  const need = v2 ? 20 : 16;
  if (b.length < need) {
    d.error = short(v2 ? 'Linux SLL2 header' : 'Linux SLL header', 0, b.length, need);
    return;
  }
  const info: SllInfo = v2
    ? { packetType: b[10], hatype: u16(b, 8), protocol: u16(b, 0), ifIndex: u32(b, 4) }
    : { packetType: u16(b, 0), hatype: u16(b, 2), protocol: u16(b, 14) };
  const addrLen = v2 ? b[11] : u16(b, 4);
  if (addrLen === 6) info.src = mac(b, v2 ? 12 : 6);
  d.sll = info;
  network(d, b, need, b.length, info.protocol, 0);
}

/** Raw IP: the version nibble says which. */
function raw(d: Decoded, b: Uint8Array): void {
  if (b.length === 0) d.error = short('raw IP packet', 0, 0, 1);
  else if (b[0] >> 4 === 4) ipv4(d, b, 0, b.length, 0);
  else d.error = `raw IP version ${b[0] >> 4} is not decoded (podnet decodes IPv4)`;
}

function network(d: Decoded, b: Uint8Array, p: number, end: number, et: number, depth: number): void {
  if (et === ETH_IPV4) ipv4(d, b, p, end, depth);
  else if (et === ETH_ARP) arp(d, b, p, end);
}

/** ARP for IPv4 over Ethernet (RFC 826). */
function arp(d: Decoded, b: Uint8Array, p: number, end: number): void {
  if (end - p < 8) {
    d.error = short('ARP header', p, end - p, 8);
    return;
  }
  const htype = u16(b, p);
  const ptype = u16(b, p + 2);
  if (htype !== 1 || ptype !== ETH_IPV4 || b[p + 4] !== 6 || b[p + 5] !== 4) {
    d.error = `ARP at offset ${p}: hardware type ${htype}, protocol 0x${ptype.toString(16)} is not decoded (podnet decodes Ethernet/IPv4)`;
    return;
  }
  if (end - p < 28) {
    d.error = short('ARP', p, end - p, 28);
    return;
  }
  const op = u16(b, p + 6);
  d.arp = {
    op: op === 1 ? 'request' : op === 2 ? 'reply' : op,
    senderMac: mac(b, p + 8), senderIp: ip(b, p + 14), targetMac: mac(b, p + 18), targetIp: ip(b, p + 24),
  };
}

function ipv4(d: Decoded, b: Uint8Array, p: number, end: number, depth: number): void {
  if (end - p < 20) {
    d.error = short('IPv4 header', p, end - p, 20);
    return;
  }
  const version = b[p] >> 4;
  if (version !== 4) {
    d.error = `IPv4 header at offset ${p}: version ${version}, not 4`;
    return;
  }
  const ihl = (b[p] & 0x0f) * 4;
  if (ihl < 20) {
    d.error = `IPv4 header at offset ${p}: header length ${ihl} is below 20`;
    return;
  }
  if (end - p < ihl) {
    d.error = short('IPv4 options', p, end - p, ihl);
    return;
  }
  let sum = 0;
  for (let i = p; i < p + ihl; i += 2) sum += (b[i] << 8) | b[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const totalLength = u16(b, p + 2);
  const frag = u16(b, p + 6);
  const proto = b[p + 9];
  const info: Ipv4Info = {
    src: ip(b, p + 12), dst: ip(b, p + 16), id: u16(b, p + 4), ttl: b[p + 8], proto, totalLength,
    dontFragment: (frag & 0x4000) !== 0, badChecksum: sum !== 0xffff,
    headerLength: ihl, fragmentOffset: (frag & 0x1fff) * 8, moreFragments: (frag & 0x2000) !== 0,
  };
  d.ipv4 = info;
  // The datagram ends at its total length (Ethernet pads short frames). A total length of 0 is what
  // segmentation offload leaves in captures of large sends: the datagram is the rest of the frame.
  let ipEnd = end;
  if (totalLength !== 0) {
    if (totalLength < ihl) {
      d.error = `IPv4 header at offset ${p}: total length ${totalLength} is below the header length ${ihl}`;
      return;
    }
    if (p + totalLength < end) ipEnd = p + totalLength;
  }
  if (info.fragmentOffset !== 0) return; // a later fragment: no transport header here
  const l4 = p + ihl;
  const l4Len = (totalLength !== 0 ? p + totalLength : end) - l4;
  if (proto === 6) tcp(d, b, l4, ipEnd, l4Len);
  else if (proto === 17) udp(d, b, l4, ipEnd, depth);
  else if (proto === 1) icmp(d, b, l4, ipEnd);
}

function udp(d: Decoded, b: Uint8Array, p: number, end: number, depth: number): void {
  if (end - p < 8) {
    d.error = short('UDP header', p, end - p, 8);
    return;
  }
  const info: UdpInfo = { srcPort: u16(b, p), dstPort: u16(b, p + 2), length: u16(b, p + 4) };
  d.udp = info;
  // VXLAN by destination port: 4789 (IANA) or 8472 (the Linux default, flannel's).
  if (info.dstPort !== 4789 && info.dstPort !== 8472) return;
  const v = p + 8;
  const vEnd = info.length >= 8 && p + info.length < end ? p + info.length : end;
  if (vEnd - v < 8) {
    d.error = short('VXLAN header', v, vEnd - v, 8);
    return;
  }
  const inner = new Decoded();
  d.vxlan = { vni: (b[v + 4] << 16) | (b[v + 5] << 8) | b[v + 6], inner };
  if (depth >= MAX_DEPTH) inner.error = `VXLAN at offset ${v}: nested more than ${MAX_DEPTH} deep, not decoded`;
  else ethernet(inner, b, v + 8, vEnd, depth + 1);
  if (inner.error !== undefined) d.error = `VXLAN inner frame: ${inner.error}`;
}

function tcp(d: Decoded, b: Uint8Array, p: number, end: number, segLen: number): void {
  if (end - p < 20) {
    d.error = short('TCP header', p, end - p, 20);
    return;
  }
  const hlen = (b[p + 12] >> 4) * 4;
  const payload = segLen - hlen;
  d.tcp = {
    srcPort: u16(b, p), dstPort: u16(b, p + 2), seq: u32(b, p + 4), ack: u32(b, p + 8),
    flags: TCP_FLAGS[b[p + 13]], payloadLength: payload > 0 ? payload : 0,
  };
  if (hlen < 20) d.error = `TCP header at offset ${p}: header length ${hlen} is below 20`;
  else if (end - p < hlen) d.error = short('TCP options', p, end - p, hlen);
}

function icmp(d: Decoded, b: Uint8Array, p: number, end: number): void {
  if (end - p < 4) {
    d.error = short('ICMP header', p, end - p, 4);
    return;
  }
  const type = b[p];
  const info: IcmpInfo = { type, code: b[p + 1] };
  d.icmp = info;
  if (type === 0 || type === 8 || type === 13 || type === 14) {
    if (end - p < 8) {
      d.error = short('ICMP echo header', p, end - p, 8);
      return;
    }
    info.id = u16(b, p + 4);
    info.seq = u16(b, p + 6);
  } else if (type === 3 || type === 11 || type === 12) {
    if (end - p < 8) {
      d.error = short('ICMP error header', p, end - p, 8);
      return;
    }
    if (type === 3 && info.code === 4) info.mtu = u16(b, p + 6);
    const q = p + 8;
    if (end - q < 20 || b[q] >> 4 !== 4) return; // the quote is optional in practice: keep what we have
    const ihl = (b[q] & 0x0f) * 4;
    const original: IcmpOriginal = { src: ip(b, q + 12), dst: ip(b, q + 16), id: u16(b, q + 4), proto: b[q + 9] };
    const l4 = q + ihl;
    if (ihl >= 20 && end - l4 >= 4 && (original.proto === 6 || original.proto === 17)) {
      original.srcPort = u16(b, l4);
      original.dstPort = u16(b, l4 + 2);
    }
    info.original = original;
  }
}

// ---- summary ---------------------------------------------------------------------------------

const UNREACH: Record<number, string> = { 0: 'net', 1: 'host', 9: 'net', 10: 'host', 13: 'host' };
const UNREACH_SUFFIX: Record<number, string> = { 9: ' - admin prohibited', 10: ' - admin prohibited', 13: ' - admin prohibited filter' };

/** The one-line, tcpdump-like description of a decoded frame (what `DecodedFrame.summary` holds). */
export function summarize(d: Omit<DecodedFrame, 'summary'>): string {
  let s = describe(d);
  if (d.error !== undefined && d.vxlan === undefined) s += s === '' ? `[${d.error}]` : ` [${d.error}]`;
  return s;
}

function describe(d: Omit<DecodedFrame, 'summary'>): string {
  if (d.arp !== undefined) {
    const a = d.arp;
    if (a.op === 'request') return `ARP, Request who-has ${a.targetIp} tell ${a.senderIp}`;
    if (a.op === 'reply') return `ARP, Reply ${a.senderIp} is-at ${a.senderMac}`;
    return `ARP, op ${a.op} ${a.senderIp} (${a.senderMac}) > ${a.targetIp} (${a.targetMac})`;
  }
  const v4 = d.ipv4;
  if (v4 === undefined) {
    const et = d.eth?.ethertype ?? d.sll?.protocol;
    if (et === undefined) return '';
    if (et === ETH_IPV4 || et === ETH_ARP) return et === ETH_IPV4 ? 'IP' : 'ARP';
    if (et < 0x0600) return d.eth !== undefined ? `802.3, length ${et}` : `Linux cooked protocol 0x${et.toString(16).padStart(4, '0')}`;
    const name = ETHERTYPE_NAMES[et];
    return `ethertype ${name === undefined ? '' : `${name} `}(0x${et.toString(16).padStart(4, '0')})`;
  }
  if (d.tcp !== undefined) {
    const t = d.tcp;
    let s = `${v4.src}.${t.srcPort} > ${v4.dst}.${t.dstPort}: Flags [${t.flags.length === 0 ? 'none' : t.flags.map((f) => TCP_LETTER.get(f) ?? '?').join('')}], seq ${t.seq}`;
    if (t.payloadLength > 0) s += `:${(t.seq + t.payloadLength) % 4294967296}`;
    if (t.flags.includes('ACK')) s += `, ack ${t.ack}`;
    if (t.payloadLength > 0) s += `, length ${t.payloadLength}`;
    return s;
  }
  if (d.udp !== undefined) {
    const u = d.udp;
    const head = `${v4.src}.${u.srcPort} > ${v4.dst}.${u.dstPort}: `;
    if (d.vxlan !== undefined) return `${head}VXLAN vni ${d.vxlan.vni}: ${d.vxlan.inner.summary}`;
    return `${head}UDP, length ${u.length >= 8 ? u.length - 8 : u.length}`;
  }
  const head = `${v4.src} > ${v4.dst}: `;
  if (d.icmp !== undefined) return head + icmpText(d.icmp);
  const ipLen = v4.totalLength - (v4.headerLength ?? 20);
  if (v4.fragmentOffset) return `${head}ip-proto-${v4.proto} fragment, id ${v4.id}, offset ${v4.fragmentOffset}${v4.moreFragments ? ', more' : ''}, length ${ipLen}`;
  if (v4.proto === 1 || v4.proto === 6 || v4.proto === 17) return head.slice(0, -1); // its header failed: the error says why
  return `${head}ip-proto-${v4.proto}, length ${ipLen}`;
}

function icmpText(i: IcmpInfo): string {
  switch (i.type) {
    case 0: case 8: {
      const ids = i.id === undefined ? '' : `, id ${i.id}, seq ${i.seq}`;
      return `ICMP echo ${i.type === 8 ? 'request' : 'reply'}${ids}`;
    }
    case 3: {
      const o = i.original;
      const dst = o?.dst ?? '?';
      if (i.code === 3) {
        const proto = o?.proto === 6 ? 'tcp' : o?.proto === 17 ? 'udp' : `proto ${o?.proto ?? '?'}`;
        return `ICMP ${dst} ${proto} port ${o?.dstPort ?? '?'} unreachable`;
      }
      if (i.code === 2) return `ICMP ${dst} protocol ${o?.proto ?? '?'} unreachable`;
      if (i.code === 4) return `ICMP ${dst} unreachable - need to frag (mtu ${i.mtu})`;
      const kind = UNREACH[i.code];
      if (kind !== undefined) return `ICMP ${kind} ${dst} unreachable${UNREACH_SUFFIX[i.code] ?? ''}`;
      return `ICMP ${dst} unreachable, code ${i.code}`;
    }
    case 11:
      return i.code === 0 ? 'ICMP time exceeded in-transit' : 'ICMP ip reassembly time exceeded';
    case 5: return `ICMP redirect, code ${i.code}`;
    case 13: case 14: return `ICMP time stamp ${i.type === 13 ? 'query' : 'reply'}, id ${i.id}, seq ${i.seq}`;
    default: return `ICMP type ${i.type}, code ${i.code}`;
  }
}
