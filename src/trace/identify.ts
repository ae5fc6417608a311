// What identifies a captured frame's packet across capture points (fields no bridge or veth changes:
// ICMP id/seq, TCP seq and flags, the IPv4 id, ARP's addresses), of the inner frame when it is seen
// inside VXLAN, and which way it goes on a trace's path. Pure.
import type { DecodedFrame } from '../model/packet.js';
import type { Direction, OuterHeader, TracedPacket, TracePath } from '../model/trace.js';

const TCP_FLAGS = ['SYN', 'FIN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];
const ICMP_NAMES: Record<number, string> = { 0: 'echo reply', 8: 'echo request', 11: 'time exceeded' };
const UNREACHABLE: Record<number, string> = { 0: 'net', 1: 'host', 2: 'protocol', 3: 'port', 4: 'fragmentation needed', 9: 'net prohibited', 10: 'host prohibited', 13: 'admin prohibited' };

/** What identifies a frame's packet, and what the packet is. */
export type Identity = Pick<TracedPacket, 'key' | 'kind' | 'label' | 'src' | 'dst' | 'icmpType' | 'icmpCode' | 'tcpFlags'> & {
  flowTail: string;
  proto: string;
  /** What stays the same when NAT rewrites the packet's addresses and ports (and an ICMP echo's id):
   * the IP id, the TCP sequence number and flags, the ICMP type and sequence number, the UDP length. */
  match: string;
};

/** The frame a VXLAN frame carries (the packet the trace follows), or the frame itself. */
export function innermost(f: DecodedFrame): DecodedFrame {
  let x = f;
  while (x.vxlan) x = x.vxlan.inner;
  return x;
}

/** The outer headers of a VXLAN frame, or undefined when `f` carries none. */
export function outerOf(f: DecodedFrame): OuterHeader | undefined {
  if (!f.vxlan || !f.eth || !f.ipv4 || !f.udp) return undefined;
  return { srcMac: f.eth.src, dstMac: f.eth.dst, src: f.ipv4.src, dst: f.ipv4.dst, ttl: f.ipv4.ttl, srcPort: f.udp.srcPort, dstPort: f.udp.dstPort, vni: f.vxlan.vni };
}

const icmpName = (type: number, code: number) =>
  ICMP_NAMES[type] ?? (type === 3 ? `${UNREACHABLE[code] ?? `code ${code}`} unreachable` : `type ${type} code ${code}`);

/** The identity of a decoded frame. */
export function identify(f: DecodedFrame): Identity {
  if (f.arp) {
    const a = f.arp;
    const base = { kind: 'arp' as const, src: a.senderIp, dst: a.targetIp, flowTail: '', proto: 'arp' };
    const arp = (key: string, label: string) => ({ ...base, key, match: key, label });
    if (a.op === 'request') return arp(`arp who-has ${a.targetIp} tell ${a.senderIp}`, `ARP who-has ${a.targetIp}`);
    if (a.op === 'reply') return arp(`arp ${a.senderIp} is-at ${a.senderMac} to ${a.targetIp}`, `ARP ${a.senderIp} is-at ${a.senderMac}`);
    return arp(`arp op ${a.op} ${a.senderIp}>${a.targetIp}`, `ARP op ${a.op}`);
  }
  if (f.ipv4) {
    const ip = f.ipv4;
    if (f.icmp) {
      const { type, code, id, seq } = f.icmp;
      const echo = (type === 0 || type === 8) && id !== undefined && seq !== undefined;
      const name = icmpName(type, code);
      return {
        kind: 'icmp', src: ip.src, dst: ip.dst, icmpType: type, icmpCode: code, proto: 'icmp',
        key: `icmp ${ip.src}>${ip.dst}${echo ? ` id ${id} seq ${seq}` : ''} ${name.replace(/ /g, '-')} ipid ${ip.id}`,
        match: `icmp${echo ? ` seq ${seq}` : ''} ${name.replace(/ /g, '-')} ipid ${ip.id}`,
        label: `ICMP ${name}`, flowTail: echo ? ` id ${id} seq ${seq}` : '',
      };
    }
    if (f.tcp) {
      const t = f.tcp;
      const flags = TCP_FLAGS.filter((x) => t.flags.includes(x));
      const names = flags.join(',') || 'none';
      return {
        kind: 'tcp', src: `${ip.src}:${t.srcPort}`, dst: `${ip.dst}:${t.dstPort}`, tcpFlags: flags, proto: 'tcp', flowTail: '',
        key: `tcp ${ip.src}:${t.srcPort}>${ip.dst}:${t.dstPort} seq ${t.seq} ${names} ipid ${ip.id}`, label: `TCP ${names}`,
        match: `tcp seq ${t.seq} ${names} ipid ${ip.id}`,
      };
    }
    if (f.udp) {
      const u = f.udp;
      return {
        kind: 'udp', src: `${ip.src}:${u.srcPort}`, dst: `${ip.dst}:${u.dstPort}`, proto: 'udp', flowTail: '',
        key: `udp ${ip.src}:${u.srcPort}>${ip.dst}:${u.dstPort} ipid ${ip.id}`, label: `UDP ${u.srcPort} > ${u.dstPort}`,
        match: `udp len ${u.length} ipid ${ip.id}`,
      };
    }
    const key = `ip ${ip.src}>${ip.dst} proto ${ip.proto} ipid ${ip.id}`;
    return { kind: 'other', src: ip.src, dst: ip.dst, proto: `ip proto ${ip.proto}`, flowTail: '', key, match: key, label: `IP proto ${ip.proto}` };
  }
  const key = `other ${f.eth?.src ?? '?'}>${f.eth?.dst ?? '?'} ${f.summary}`;
  return { kind: 'other', proto: 'other', flowTail: '', key, match: key, label: f.summary };
}

/** `src > dst` of a frame (addresses, with ports for TCP and UDP), or undefined without IPv4. */
export function addrsOf(f: DecodedFrame): string | undefined {
  if (!f.ipv4) return undefined;
  const l4 = f.tcp ?? f.udp;
  return l4 ? `${f.ipv4.src}:${l4.srcPort} > ${f.ipv4.dst}:${l4.dstPort}` : `${f.ipv4.src} > ${f.ipv4.dst}`;
}

/** The bare IPv4 address of `ip` or `ip:port`. */
export const hostOf = (addr: string | undefined) => addr?.split(':')[0];

/** Requests come from path.src (or go to path.dst); replies come from path.dst (or go to path.src);
 * failing that the MACs decide, then where the packet was first seen. */
export function directionOf(path: TracePath, id: Identity, srcMac: string | undefined, firstPosition: number): Direction {
  const src = hostOf(id.src);
  const dst = hostOf(id.dst);
  // A pod reaching itself through its Service (hairpin): both ends are one address, the Service's port tells.
  const a = path.addressed;
  if (a && path.src.ip === path.dst.ip && src === path.src.ip) return id.dst === `${a.ip}:${a.port}` || (a.targetPort !== undefined && id.dst?.endsWith(`:${a.targetPort}`) && dst !== a.ip) ? 'request' : 'reply';
  if (src === path.src.ip) return 'request';
  if (src === path.dst.ip) return 'reply';
  if (dst === path.dst.ip) return 'request';
  if (dst === path.src.ip) return 'reply';
  if (srcMac && srcMac === path.src.mac) return 'request';
  if (srcMac && path.dst.mac && srcMac === path.dst.mac) return 'reply';
  const last = Math.max(0, ...path.points.map((p) => p.position));
  return firstPosition * 2 <= last ? 'request' : 'reply';
}
