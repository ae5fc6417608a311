// The one-line, tcpdump-like description of a decoded frame. Pure.
import type { DecodedFrame, IcmpInfo } from '../../model/packet.js';
import { ETH_ARP, ETH_IPV4, TCP_FLAG_BITS } from './bytes.js';

const TCP_LETTER = new Map(TCP_FLAG_BITS.map(([, name, letter]) => [name, letter]));
const ETHERTYPE_NAMES: Record<number, string> = { 0x86dd: 'IPv6', 0x8035: 'RARP', 0x88cc: 'LLDP', 0x8847: 'MPLS', 0x88a8: '802.1ad' };
const UNREACH: Record<number, string> = { 0: 'net', 1: 'host', 9: 'net', 10: 'host', 13: 'host' };
const UNREACH_SUFFIX: Record<number, string> = { 9: ' - admin prohibited', 10: ' - admin prohibited', 13: ' - admin prohibited filter' };

type Layers = Omit<DecodedFrame, 'summary'>;

/** The one-line, tcpdump-like description of a decoded frame (what `DecodedFrame.summary` holds). */
export function summarize(d: Layers): string {
  let s = describe(d);
  if (d.error !== undefined && d.vxlan === undefined) s += s === '' ? `[${d.error}]` : ` [${d.error}]`;
  return s;
}

function describe(d: Layers): string {
  if (d.arp !== undefined) {
    const a = d.arp;
    if (a.op === 'request') return `ARP, Request who-has ${a.targetIp} tell ${a.senderIp}`;
    if (a.op === 'reply') return `ARP, Reply ${a.senderIp} is-at ${a.senderMac}`;
    return `ARP, op ${a.op} ${a.senderIp} (${a.senderMac}) > ${a.targetIp} (${a.targetMac})`;
  }
  const v4 = d.ipv4;
  if (v4 === undefined) return linkOnly(d);
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

/** A frame with no network layer decoded: what its ethertype says. */
function linkOnly(d: Layers): string {
  const et = d.eth?.ethertype ?? d.sll?.protocol;
  if (et === undefined) return '';
  if (et === ETH_IPV4 || et === ETH_ARP) return et === ETH_IPV4 ? 'IP' : 'ARP';
  if (et < 0x0600) return d.eth !== undefined ? `802.3, length ${et}` : `Linux cooked protocol 0x${et.toString(16).padStart(4, '0')}`;
  const name = ETHERTYPE_NAMES[et];
  return `ethertype ${name === undefined ? '' : `${name} `}(0x${et.toString(16).padStart(4, '0')})`;
}

function icmpText(i: IcmpInfo): string {
  switch (i.type) {
    case 0: case 8: {
      const ids = i.id === undefined ? '' : `, id ${i.id}, seq ${i.seq}`;
      return `ICMP echo ${i.type === 8 ? 'request' : 'reply'}${ids}`;
    }
    case 3: return unreachableText(i);
    case 11:
      return i.code === 0 ? 'ICMP time exceeded in-transit' : 'ICMP ip reassembly time exceeded';
    case 5: return `ICMP redirect, code ${i.code}`;
    case 13: case 14: return `ICMP time stamp ${i.type === 13 ? 'query' : 'reply'}, id ${i.id}, seq ${i.seq}`;
    default: return `ICMP type ${i.type}, code ${i.code}`;
  }
}

function unreachableText(i: IcmpInfo): string {
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
