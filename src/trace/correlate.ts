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
import { addrsOf, directionOf, identify, innermost, outerOf, type Identity } from './identify.js';

export { answered, verdict } from './verdict.js';
export { explainL2, fdbLearned } from './explain-l2.js';

interface Sighting {
  ev: TraceEvent;
  /** The point's first station; sends() picks the station a sighting is at. */
  point: CapturePoint;
  frame: DecodedFrame;
  /** How many earlier sightings of this packet the point had (by time, then capture index). */
  occurrence: number;
}

/** Each capture point's stations, in path order (a point a path crosses twice has two). */
function stationsOf(path: TracePath): Map<string, CapturePoint[]> {
  const out = new Map<string, CapturePoint[]>();
  for (const p of [...path.points].sort((a, b) => a.position - b.position)) out.set(p.id, [...(out.get(p.id) ?? []), p]);
  return out;
}

/** The sightings of each packet (by what NAT leaves unchanged), events at points not on the path left out. */
function group(stations: Map<string, CapturePoint[]>, events: readonly TraceEvent[]): Map<string, { id: Identity; sightings: Sighting[] }> {
  const groups = new Map<string, { id: Identity; sightings: Sighting[] }>();
  for (const ev of events) {
    const point = stations.get(ev.point)?.[0];
    if (!point) continue;
    const frame = innermost(ev.frame);
    const id = identify(frame);
    const g = groups.get(id.match) ?? { id, sightings: [] };
    g.sightings.push({ ev, point, frame, occurrence: 0 });
    groups.set(id.match, g);
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
 * reflection has come back through a neighbour first, or the path crosses the origin's interface
 * again). Within a send, the n-th sighting at a point a path crosses twice is at its n-th station in
 * the direction of travel; a sighting beyond its point's stations is a reflection. Returns each
 * send's hops in time order. */
function sends(path: TracePath, stations: Map<string, CapturePoint[]>, ordered: readonly Sighting[], direction: Direction, start: bigint): TraceHop[][] {
  const out: TraceHop[][] = [];
  let cur: { origin: CapturePoint; seen: Map<string, number>; hops: TraceHop[] } | undefined;
  const along = (id: string) => (direction === 'request' ? stations.get(id)! : [...stations.get(id)!].reverse());
  for (const s of ordered) {
    const times = cur?.seen.get(s.point.id) ?? 0;
    if (cur && times >= along(s.point.id).length && s.point.id === cur.origin.id) {
      const origin = cur.origin;
      const neighbours = path.points.filter((p) => Math.abs(p.position - origin.position) === 1);
      if (!neighbours.some((p) => (cur!.seen.get(p.id) ?? 0) > times)) cur = undefined;
    }
    if (!cur) {
      cur = { origin: along(s.point.id)[0], seen: new Map(), hops: [] };
      out.push(cur.hops);
    }
    const n = cur.seen.get(s.point.id) ?? 0;
    const here = along(s.point.id);
    const station = here[Math.min(n, here.length - 1)];
    const again = n >= here.length;
    cur.seen.set(s.point.id, n + 1);
    const outer = s.ev.frame === s.frame ? undefined : outerOf(s.ev.frame);
    const addrs = addrsOf(s.frame);
    cur.hops.push({
      point: station.id, role: station.role, position: station.position, tsNs: s.ev.tsNs, sinceStartNs: Number(s.ev.tsNs - start),
      srcMac: s.frame.eth?.src ?? '', dstMac: s.frame.eth?.dst ?? '',
      ...(s.frame.ipv4 ? { ttl: s.frame.ipv4.ttl } : {}),
      ...(outer ? { outer } : {}),
      ...(again ? { reflected: true } : {}),
      ...(addrs ? { addrs } : {}),
    });
  }
  return out;
}

/** Keeps `addrs` on the hops of a packet NAT rewrote (its addresses differ between hops), drops them elsewhere. */
function keepRewritten(hops: TraceHop[]): TraceHop[] {
  const rewritten = new Set(hops.map((h) => h.addrs)).size > 1;
  return rewritten ? hops : hops.map(({ addrs: _, ...h }) => h);
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
    hops: causalOrder(keepRewritten(hops), direction),
  };
}

/** Follows every packet across the path's capture points; packets in order of their first sighting,
 * each packet's hops in causal order along the path (its capture times kept). Events at points not
 * on the path are ignored. */
export function correlate(path: TracePath, events: readonly TraceEvent[]): TracedPacket[] {
  if (events.length === 0) return [];
  const start = events.reduce((m, e) => (e.tsNs < m ? e.tsNs : m), events[0].tsNs);
  const packets: TracedPacket[] = [];
  const stations = stationsOf(path);
  for (const { sightings } of group(stations, events).values()) {
    const first = [...sightings].sort((a, b) => cmpBig(a.ev.tsNs, b.ev.tsNs) || a.ev.index - b.ev.index)[0];
    const id = identify(first.frame);
    const { ordered, direction } = inTimeOrder(path, id, sightings);
    for (const hops of sends(path, stations, ordered, direction, start)) packets.push(packetOf(id, direction, ordered[0].frame.summary, hops));
  }
  const sign = (p: TracedPacket) => (p.direction === 'request' ? 1 : -1);
  return packets.sort((a, b) => cmpBig(a.hops[0].tsNs, b.hops[0].tsNs)
    || a.hops[0].position * sign(a) - b.hops[0].position * sign(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
