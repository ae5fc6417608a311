// Follows each captured frame across the capture points of a trace. Sightings of one packet are
// grouped by fields no bridge or veth changes (identify.ts), split into sends by time (a packet sent
// again is a new packet; a second sighting at a point already passed is a hairpin reflection), and
// each packet's hops are put in causal order along the path (causal.ts: capture times are per
// interface, so the bridge's copy can be stamped after the egress port's; the times are kept). A
// packet seen inside VXLAN (on a node's uplink) is followed by its inner frame and keeps the outer
// headers on that hop. Then: did the answer come back (`answered`), one line saying so (`verdict`,
// verdict.ts), and the layer-2 reason of each hop, which needs no kernel (`explainL2`, explain-l2.ts). Pure.
import type { DecodedFrame } from '../model/packet.js';
import { cmpBig, type CapturePoint, type Direction, type TraceEvent, type TraceHop, type TracedPacket, type TracePath } from '../model/trace.js';
import { causalOrder } from './causal.js';
import { directionOf, identify, innermost, outerOf, type Identity } from './identify.js';

export { answered, verdict } from './verdict.js';
export { explainL2, fdbLearned } from './explain-l2.js';

interface Sighting {
  ev: TraceEvent;
  point: CapturePoint;
  frame: DecodedFrame;
  /** How many earlier sightings of this packet the point had (by time, then capture index). */
  occurrence: number;
}

/** The sightings of each packet identity, events at points not on the path left out. */
function group(path: TracePath, events: readonly TraceEvent[]): Map<string, { id: Identity; sightings: Sighting[] }> {
  const points = new Map(path.points.map((p) => [p.id, p]));
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
  return groups;
}

/** One identity's sightings in time order (ties: first sightings in path order, then second sightings
 * — reflections — in reverse order), and the direction its packets go. */
function inTimeOrder(path: TracePath, id: Identity, sightings: readonly Sighting[]): { ordered: Sighting[]; direction: Direction } {
  const byTime = [...sightings].sort((a, b) => cmpBig(a.ev.tsNs, b.ev.tsNs) || a.ev.index - b.ev.index);
  const counts = new Map<string, number>();
  for (const s of byTime) {
    s.occurrence = counts.get(s.point.id) ?? 0;
    counts.set(s.point.id, s.occurrence + 1);
  }
  const direction = directionOf(path, id, byTime[0].frame.eth?.src, byTime[0].point.position);
  const d = direction === 'request' ? 1 : -1;
  const ordered = [...byTime].sort((a, b) => cmpBig(a.ev.tsNs, b.ev.tsNs) || a.occurrence - b.occurrence
    || (a.point.position - b.point.position) * d * (a.occurrence % 2 ? -1 : 1) || a.ev.index - b.ev.index);
  return { ordered, direction };
}

/** Splits time-ordered sightings into sends: back at its origin, a packet is sent again (unless a
 * reflection has come back through a neighbour first). Returns each send's hops in time order. */
function sends(path: TracePath, ordered: readonly Sighting[], start: bigint): TraceHop[][] {
  const out: TraceHop[][] = [];
  let cur: { origin: CapturePoint; seen: Map<string, number>; hops: TraceHop[] } | undefined;
  for (const s of ordered) {
    const times = cur?.seen.get(s.point.id) ?? 0;
    if (cur && times > 0 && s.point.id === cur.origin.id) {
      const origin = cur.origin;
      const neighbours = path.points.filter((p) => Math.abs(p.position - origin.position) === 1);
      if (!neighbours.some((p) => (cur!.seen.get(p.id) ?? 0) > times)) cur = undefined;
    }
    if (!cur) {
      cur = { origin: s.point, seen: new Map(), hops: [] };
      out.push(cur.hops);
    }
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
  return out;
}

/** The packet one send of identity `id` makes, its hops in causal order. */
function packetOf(id: Identity, direction: Direction, summary: string, hops: TraceHop[]): TracedPacket {
  const flowHosts = direction === 'request' ? `${id.src}<>${id.dst}` : `${id.dst}<>${id.src}`;
  return {
    key: id.key, kind: id.kind, direction, summary,
    ...(id.label !== undefined ? { label: id.label } : {}),
    ...(id.src !== undefined ? { src: id.src, dst: id.dst } : {}),
    ...(id.src !== undefined ? { flow: `${id.proto} ${flowHosts}${id.flowTail}` } : {}),
    ...(id.icmpType !== undefined ? { icmpType: id.icmpType, icmpCode: id.icmpCode } : {}),
    ...(id.tcpFlags ? { tcpFlags: id.tcpFlags } : {}),
    hops: causalOrder(hops, direction),
  };
}

/** Follows every packet across the path's capture points; packets in order of their first sighting,
 * each packet's hops in causal order along the path (its capture times kept). Events at points not
 * on the path are ignored. */
export function correlate(path: TracePath, events: readonly TraceEvent[]): TracedPacket[] {
  if (events.length === 0) return [];
  const start = events.reduce((m, e) => (e.tsNs < m ? e.tsNs : m), events[0].tsNs);
  const packets: TracedPacket[] = [];
  for (const { id, sightings } of group(path, events).values()) {
    const { ordered, direction } = inTimeOrder(path, id, sightings);
    for (const hops of sends(path, ordered, start)) packets.push(packetOf(id, direction, ordered[0].frame.summary, hops));
  }
  const sign = (p: TracedPacket) => (p.direction === 'request' ? 1 : -1);
  return packets.sort((a, b) => cmpBig(a.hops[0].tsNs, b.hops[0].tsNs)
    || a.hops[0].position * sign(a) - b.hops[0].position * sign(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
