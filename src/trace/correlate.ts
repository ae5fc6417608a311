// Follows each captured frame across the capture points of a trace. Sightings of one packet are
// grouped by fields no bridge or veth changes (ICMP id/seq, TCP seq and flags, the IPv4 id, ARP's
// addresses), ordered by time with ties broken by position on the path (the bridge's copy carries its
// ingress port's timestamp to the nanosecond), and a second sighting at a point already passed is a
// hairpin reflection; a packet seen inside VXLAN (on a node's uplink) is followed by its inner frame
// and keeps the outer headers on that hop. Then: did the answer come back (`answered`), one line
// saying so (`verdict`), and the layer-2 reason of each hop, which needs no kernel (`explainL2`). Pure.
import type { DecodedFrame } from '../model/packet.js';
import {
  cmpBig, formatMs, timeline, type TraceProtocol, type CapturePoint, type Direction, type FdbSeen, type OuterHeader, type TraceEvent, type TraceHop, type TracedPacket, type TracePath,
} from '../model/trace.js';


const BROADCAST = 'ff:ff:ff:ff:ff:ff';
const TCP_FLAGS = ['SYN', 'FIN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];
const ICMP_NAMES: Record<number, string> = { 0: 'echo reply', 8: 'echo request', 11: 'time exceeded' };
const UNREACHABLE: Record<number, string> = { 0: 'net', 1: 'host', 2: 'protocol', 3: 'port', 4: 'fragmentation needed', 9: 'net prohibited', 10: 'host prohibited', 13: 'admin prohibited' };

/** What identifies a frame's packet, and what the packet is. */
type Identity = Pick<TracedPacket, 'key' | 'kind' | 'label' | 'src' | 'dst' | 'icmpType' | 'icmpCode' | 'tcpFlags'> & { flowTail: string; proto: string };

/** The frame a VXLAN frame carries (the packet the trace follows), or the frame itself. */
function innermost(f: DecodedFrame): DecodedFrame {
  let x = f;
  while (x.vxlan) x = x.vxlan.inner;
  return x;
}

/** The outer headers of a VXLAN frame, or undefined when `f` carries none. */
function outerOf(f: DecodedFrame): OuterHeader | undefined {
  if (!f.vxlan || !f.eth || !f.ipv4 || !f.udp) return undefined;
  return { srcMac: f.eth.src, dstMac: f.eth.dst, src: f.ipv4.src, dst: f.ipv4.dst, ttl: f.ipv4.ttl, srcPort: f.udp.srcPort, dstPort: f.udp.dstPort, vni: f.vxlan.vni };
}

const icmpName = (type: number, code: number) =>
  ICMP_NAMES[type] ?? (type === 3 ? `${UNREACHABLE[code] ?? `code ${code}`} unreachable` : `type ${type} code ${code}`);

/** The identity of a decoded frame. */
function identify(f: DecodedFrame): Identity {
  if (f.arp) {
    const a = f.arp;
    const base = { kind: 'arp' as const, src: a.senderIp, dst: a.targetIp, flowTail: '', proto: 'arp' };
    if (a.op === 'request') return { ...base, key: `arp who-has ${a.targetIp} tell ${a.senderIp}`, label: `ARP who-has ${a.targetIp}` };
    if (a.op === 'reply') return { ...base, key: `arp ${a.senderIp} is-at ${a.senderMac} to ${a.targetIp}`, label: `ARP ${a.senderIp} is-at ${a.senderMac}` };
    return { ...base, key: `arp op ${a.op} ${a.senderIp}>${a.targetIp}`, label: `ARP op ${a.op}` };
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
      };
    }
    if (f.udp) {
      const u = f.udp;
      return {
        kind: 'udp', src: `${ip.src}:${u.srcPort}`, dst: `${ip.dst}:${u.dstPort}`, proto: 'udp', flowTail: '',
        key: `udp ${ip.src}:${u.srcPort}>${ip.dst}:${u.dstPort} ipid ${ip.id}`, label: `UDP ${u.srcPort} > ${u.dstPort}`,
      };
    }
    return { kind: 'other', src: ip.src, dst: ip.dst, proto: `ip proto ${ip.proto}`, flowTail: '', key: `ip ${ip.src}>${ip.dst} proto ${ip.proto} ipid ${ip.id}`, label: `IP proto ${ip.proto}` };
  }
  return { kind: 'other', proto: 'other', flowTail: '', key: `other ${f.eth?.src ?? '?'}>${f.eth?.dst ?? '?'} ${f.summary}`, label: f.summary };
}

/** The bare IPv4 address of `ip` or `ip:port`. */
const hostOf = (addr: string | undefined) => addr?.split(':')[0];

/** Requests come from path.src (or go to path.dst); replies come from path.dst (or go to path.src);
 * failing that the MACs decide, then where the packet was first seen. */
function directionOf(path: TracePath, id: Identity, srcMac: string | undefined, firstPosition: number): Direction {
  const src = hostOf(id.src);
  const dst = hostOf(id.dst);
  if (src === path.src.ip) return 'request';
  if (src === path.dst.ip) return 'reply';
  if (dst === path.dst.ip) return 'request';
  if (dst === path.src.ip) return 'reply';
  if (srcMac && srcMac === path.src.mac) return 'request';
  if (srcMac && path.dst.mac && srcMac === path.dst.mac) return 'reply';
  const last = Math.max(0, ...path.points.map((p) => p.position));
  return firstPosition * 2 <= last ? 'request' : 'reply';
}


interface Sighting {
  ev: TraceEvent;
  point: CapturePoint;
  frame: DecodedFrame;
  /** How many earlier sightings of this packet the point had (by time, then capture index). */
  occurrence: number;
}

/** Follows every packet across the path's capture points; packets in order of their first sighting.
 * Events at points not on the path are ignored. */
export function correlate(path: TracePath, events: readonly TraceEvent[]): TracedPacket[] {
  if (events.length === 0) return [];
  const points = new Map(path.points.map((p) => [p.id, p]));
  const start = events.reduce((m, e) => (e.tsNs < m ? e.tsNs : m), events[0].tsNs);
  const groups = new Map<string, { id: Identity; sightings: Sighting[] }>();
  for (const ev of events) {
    const point = points.get(ev.point);
    if (!point) continue;
    const frame = innermost(ev.frame);
    const id = identify(frame);
    const g = groups.get(id.key) ?? { id, sightings: [] };
    g.sightings.push({ ev, point, frame, occurrence: 0 });
    groups.set(id.key, g);
  }

  const packets: TracedPacket[] = [];
  for (const { id, sightings } of groups.values()) {
    const byTime = [...sightings].sort((a, b) => cmpBig(a.ev.tsNs, b.ev.tsNs) || a.ev.index - b.ev.index);
    const counts = new Map<string, number>();
    for (const s of byTime) {
      s.occurrence = counts.get(s.point.id) ?? 0;
      counts.set(s.point.id, s.occurrence + 1);
    }
    const direction = directionOf(path, id, byTime[0].frame.eth?.src, byTime[0].point.position);
    const d = direction === 'request' ? 1 : -1;
    // Ties in time: first sightings in path order, then second sightings (reflections) in reverse order.
    const ordered = [...byTime].sort((a, b) => cmpBig(a.ev.tsNs, b.ev.tsNs) || a.occurrence - b.occurrence
      || (a.point.position - b.point.position) * d * (a.occurrence % 2 ? -1 : 1) || a.ev.index - b.ev.index);

    let cur: { origin: CapturePoint; seen: Map<string, number>; hops: TraceHop[] } | undefined;
    const flush = () => {
      if (!cur) return;
      const flowHosts = direction === 'request' ? `${id.src}<>${id.dst}` : `${id.dst}<>${id.src}`;
      packets.push({
        key: id.key, kind: id.kind, direction, summary: ordered[0].frame.summary,
        ...(id.label !== undefined ? { label: id.label } : {}),
        ...(id.src !== undefined ? { src: id.src, dst: id.dst } : {}),
        ...(id.src !== undefined ? { flow: `${id.proto} ${flowHosts}${id.flowTail}` } : {}),
        ...(id.icmpType !== undefined ? { icmpType: id.icmpType, icmpCode: id.icmpCode } : {}),
        ...(id.tcpFlags ? { tcpFlags: id.tcpFlags } : {}),
        hops: cur.hops,
      });
      cur = undefined;
    };
    for (const s of ordered) {
      const times = cur?.seen.get(s.point.id) ?? 0;
      if (cur && times > 0 && s.point.id === cur.origin.id) {
        // Back at its origin: a reflection has come back through a neighbour first; otherwise it is sent again.
        const neighbours = path.points.filter((p) => Math.abs(p.position - cur!.origin.position) === 1);
        if (!neighbours.some((p) => (cur!.seen.get(p.id) ?? 0) > times)) flush();
      }
      cur ??= { origin: s.point, seen: new Map(), hops: [] };
      const again = (cur.seen.get(s.point.id) ?? 0) > 0;
      cur.seen.set(s.point.id, (cur.seen.get(s.point.id) ?? 0) + 1);
      const outer = s.ev.frame === s.frame ? undefined : outerOf(s.ev.frame);
      cur.hops.push({
        point: s.point.id, role: s.point.role, position: s.point.position, tsNs: s.ev.tsNs, sinceStartNs: Number(s.ev.tsNs - start),
        srcMac: s.frame.eth?.src ?? '', dstMac: s.frame.eth?.dst ?? '',
        ...(s.frame.ipv4 ? { ttl: s.frame.ipv4.ttl } : {}),
        ...(outer ? { outer } : {}),
        ...(again ? { reflected: true } : {}),
      });
    }
    flush();
  }
  const sign = (p: TracedPacket) => (p.direction === 'request' ? 1 : -1);
  return packets.sort((a, b) => cmpBig(a.hops[0].tsNs, b.hops[0].tsNs)
    || a.hops[0].position * sign(a) - b.hops[0].position * sign(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The hop where a packet reached (or left) the source pod: position 0, not a reflection. */
const atSource = (p: TracedPacket) => p.hops.find((h) => h.position === 0 && !h.reflected);

/** Is `p` the answer a probe of `protocol` waits for: an echo reply, a SYN-ACK, a UDP datagram back? */
function isAnswer(p: TracedPacket, protocol: TraceProtocol): boolean {
  if (p.direction !== 'reply' || p.kind !== protocol) return false;
  if (protocol === 'icmp') return p.icmpType === 0;
  if (protocol === 'tcp') return !!p.tcpFlags?.includes('SYN') && p.tcpFlags.includes('ACK');
  return true;
}

/** A refusal that came back instead: a TCP RST, an ICMP error (unreachable, time exceeded). */
const isRefusal = (p: TracedPacket) => p.direction === 'reply'
  && ((p.kind === 'tcp' && !!p.tcpFlags?.includes('RST')) || (p.kind === 'icmp' && (p.icmpType === 3 || p.icmpType === 11)));

/** True when the answer (ICMP echo reply, TCP SYN-ACK, a UDP datagram back) reached the source pod. */
export function answered(packets: readonly TracedPacket[], protocol: TraceProtocol): boolean {
  return packets.some((p) => isAnswer(p, protocol) && atSource(p) !== undefined);
}

/** The round trip of `back` (a packet arriving at the source): from the latest request of the exchange that left before it. */
function roundTrip(packets: readonly TracedPacket[], back: TracedPacket, protocol: TraceProtocol): bigint | undefined {
  const arrival = atSource(back)!.tsNs;
  const left = (p: TracedPacket) => (atSource(p) ?? p.hops[0]).tsNs;
  const candidates = packets.filter((p) => p.direction === 'request' && p.kind === protocol && left(p) <= arrival);
  const same = candidates.filter((p) => back.kind === protocol && p.flow === back.flow);
  const req = (same.length ? same : candidates).at(-1);
  return req ? arrival - left(req) : undefined;
}

/** One line: `reply from 10.42.0.3 in 0.087 ms`, or `no reply, last seen at server/cni0 (+0.021 ms)`. */
export function verdict(path: TracePath, packets: readonly TracedPacket[], protocol: TraceProtocol): string {
  const reply = packets.find((p) => isAnswer(p, protocol) && atSource(p));
  if (reply) {
    const rtt = roundTrip(packets, reply, protocol);
    const from = hostOf(reply.src) ?? path.dst.ip;
    return rtt === undefined ? `reply from ${from} at +${formatMs(atSource(reply)!.sinceStartNs)} ms` : `reply from ${from} in ${formatMs(rtt)} ms`;
  }
  const refusal = packets.find((p) => isRefusal(p) && atSource(p));
  if (refusal) {
    const rtt = roundTrip(packets, refusal, protocol);
    const when = rtt === undefined ? `at +${formatMs(atSource(refusal)!.sinceStartNs)} ms` : `in ${formatMs(rtt)} ms`;
    return `no reply: ${refusal.label ?? refusal.summary} from ${hostOf(refusal.src) ?? '?'} ${when}`;
  }
  const furthest = (list: TracedPacket[]) => list.flatMap((p) => p.hops.filter((h) => !h.reflected))
    .reduce<TraceHop | undefined>((best, h) => (!best || h.position > best.position || (h.position === best.position && h.tsNs < best.tsNs) ? h : best), undefined);
  const req = furthest(packets.filter((p) => p.direction === 'request' && p.kind === protocol));
  if (req) return `no reply, last seen at ${req.point} (+${formatMs(req.sinceStartNs)} ms)`;
  const arp = furthest(packets.filter((p) => p.kind === 'arp' && p.direction === 'request' && p.dst === path.dst.ip));
  const arpAnswered = packets.some((p) => p.kind === 'arp' && p.direction === 'reply' && p.src === path.dst.ip && atSource(p));
  if (arp && !arpAnswered) return `no reply, ARP who-has ${path.dst.ip} unanswered, last seen at ${arp.point} (+${formatMs(arp.sinceStartNs)} ms)`;
  return `no reply, the ${protocol.toUpperCase()} request was never captured`;
}

const isGroup = (mac: string) => mac !== '' && (parseInt(mac.slice(0, 2), 16) & 1) === 1;
/** `server/veth1` or `veth1` → `veth1`. */
const portName = (port: string) => port.slice(port.lastIndexOf('/') + 1);

/** Adds the layer-2 reason of every hop on the pod–veth–bridge path: who sent it and to which MAC,
 * what the bridge learned at the ingress port, whether it forwarded (destination MAC in its FDB, as
 * it was before the trace plus what it learned during it), flooded, or took it itself (the bridge's
 * own MAC: the node routes it), where it left, and where it was delivered. Each bridge of the path
 * keeps its own FDB. Returns copies; an explanation already set is kept and the layer-2 one appended
 * after "; ". Hops on VXLAN devices, uplinks and the underlay get none (see explainOverlay). */
export function explainL2(path: TracePath, packets: readonly TracedPacket[], fdbBefore: readonly FdbSeen[]): TracedPacket[] {
  const out = packets.map((p) => ({ ...p, hops: p.hops.map((h) => ({ ...h })) }));
  const firstBridge = path.points.find((p) => p.role === 'bridge')?.id ?? '';
  const fdbs = new Map<string, Map<string, string>>();
  const fdbOf = (bridge: string | undefined) => {
    const key = bridge ?? firstBridge;
    if (!fdbs.has(key)) fdbs.set(key, new Map());
    return fdbs.get(key)!;
  };
  for (const e of fdbBefore) fdbOf(e.bridge).set(e.mac.toLowerCase(), portName(e.port));
  const byPosition = new Map(path.points.map((p) => [p.position, p]));
  const lastPosition = Math.max(...path.points.map((p) => p.position));
  const ipOf = (owner: string) => (owner === path.src.owner ? path.src.ip : owner === path.dst.owner ? path.dst.ip : undefined);
  const macOf = (owner: string) => (owner === path.src.owner ? path.src.mac : owner === path.dst.owner ? path.dst.mac : undefined);
  const neighbour = (pos: number, role: CapturePoint['role']) => [byPosition.get(pos - 1), byPosition.get(pos + 1)].find((p) => p?.role === role);
  const nearestBridge = (pos: number) => neighbour(pos, 'bridge')
    ?? path.points.filter((p) => p.role === 'bridge').sort((a, b) => Math.abs(a.position - pos) - Math.abs(b.position - pos))[0];
  /** `owner ip` → how `owner` learned the MAC of `ip` during the trace (ARP reply, or an ARP request
   * it answered); `owner mac` → the same for the IP that MAC answered for (a gateway's). */
  const arpLearned = new Map<string, string>();

  for (const { packet, hop } of timeline(out)) {
    const point = byPosition.get(hop.position);
    if (!point) continue;
    const travel = (packet.direction === 'request' ? 1 : -1) * (hop.reflected ? -1 : 1);
    const origin = packet.hops[0];
    const isOrigin = hop === origin;
    const ip = packet.kind !== 'arp' && packet.kind !== 'other' ? hostOf(packet.dst) : undefined;
    let text: string | undefined;

    if (point.role === 'pod-eth0') {
      const own = macOf(point.owner);
      if (hop.reflected) {
        text = `hairpin: ${point.owner} gets its own frame back and ignores it`;
      } else if (isOrigin) {
        if (packet.kind === 'arp') {
          text = hop.dstMac === BROADCAST ? `sent by ${point.owner}: ARP broadcast to ${BROADCAST}` : `sent by ${point.owner}: ARP ${packet.key.startsWith('arp who-has') ? 'request' : 'reply'}, unicast to ${hop.dstMac}`;
        } else {
          text = `sent by ${point.owner}: dst MAC ${hop.dstMac} (${arpLearned.get(`${point.owner} ${ip}`) ?? arpLearned.get(`${point.owner} ${hop.dstMac}`) ?? 'ARP-resolved'})`;
        }
      } else if (packet.kind === 'arp') {
        const target = packet.dst === ipOf(point.owner);
        const request = packet.key.startsWith('arp who-has');
        if (request) text = target ? `delivered to ${point.owner}: ${packet.dst} is its address, it answers` : `received by ${point.owner}: not its address, ignored`;
        else text = target ? `delivered to ${point.owner}: it caches ${packet.src} is-at ${origin.srcMac}` : `received by ${point.owner}`;
        // The target of a request also caches the asker (RFC 826's merge step).
        if (target && packet.src) {
          const how = `from the ARP ${request ? 'request' : 'reply'} at +${formatMs(hop.sinceStartNs)} ms`;
          arpLearned.set(`${point.owner} ${packet.src}`, how);
          arpLearned.set(`${point.owner} ${origin.srcMac}`, `${packet.src}'s, ${how}`);
        }
      } else if (own && hop.dstMac !== own && !isGroup(hop.dstMac)) {
        text = `received by ${point.owner}, dropped: dst MAC ${hop.dstMac} is not its own`;
      } else {
        text = ip !== undefined && ip === ipOf(point.owner) ? `delivered to ${point.owner} (${ip} is local)` : `delivered to ${point.owner}`;
      }
    } else if (point.role === 'host-veth') {
      const bridge = nearestBridge(point.position);
      const fdb = fdbOf(bridge?.id);
      const br = bridge?.iface ?? 'the bridge';
      const port = point.iface;
      const ingress = bridge ? Math.sign(bridge.position - point.position) === travel : isOrigin;
      if (ingress) {
        const was = fdb.get(hop.srcMac);
        const learn = was === port ? `refreshes ${hop.srcMac} on ${port}` : was ? `moves ${hop.srcMac} from ${was} to ${port}` : `learns ${hop.srcMac} on ${port}`;
        text = `enters bridge ${br} through port ${port}; the bridge ${learn}`;
        if (hop.srcMac && !isGroup(hop.srcMac)) fdb.set(hop.srcMac, port);
      } else if (hop.reflected) {
        text = `hairpin: ${br} sends it back out through ${port}, the port it came in on`;
      } else {
        const pod = neighbour(point.position, 'pod-eth0');
        text = `leaves ${br} through ${port}${pod ? ` towards ${pod.owner}` : ''}`;
        if (hop.ttl !== undefined && origin.ttl !== undefined) {
          const sameMacs = hop.srcMac === origin.srcMac && hop.dstMac === origin.dstMac;
          if (hop.ttl === origin.ttl && sameMacs) text += ` (TTL ${hop.ttl}, same MACs: bridged, not routed)`;
          else if (hop.ttl !== origin.ttl) text += ` (TTL ${origin.ttl} → ${hop.ttl}: routed)`;
          else text += ' (MACs rewritten)';
        }
      }
    } else if (point.role === 'bridge') {
      const sent = isOrigin ? `sent by ${point.owner} through ${point.iface}; ` : '';
      const known = fdbOf(point.id).get(hop.dstMac);
      const reflectedToo = packet.hops.some((h) => h.reflected) ? ', the ingress port too (hairpin)' : '';
      const endsHere = point.position === (travel > 0 ? lastPosition : 0);
      if (hop.dstMac === BROADCAST) text = `${sent}broadcast: flooded to every port${reflectedToo}`;
      else if (isGroup(hop.dstMac)) text = `${sent}multicast: flooded to every port${reflectedToo}`;
      else if (hop.dstMac === point.mac || known === point.iface || (!known && !isOrigin && endsHere)) text = `for ${point.iface} itself: passed up to ${point.owner}'s IP stack`;
      else if (known) text = `${sent}forwarded to port ${known}: ${hop.dstMac} is in the FDB`;
      else text = `${sent}flooded to every port: ${hop.dstMac} unknown`;
    }
    if (text) hop.explanation = hop.explanation ? `${hop.explanation}; ${text}` : text;
  }
  return out;
}
