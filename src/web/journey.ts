// A trace as the journey view plays it: every hop of every packet in time order (the order
// `podnet trace` prints), each with the drawn element it happened at, the kernel's reason, and the
// frame captured there decoded layer by layer (read back from the trace's own pcapng). Pure.
import { timeline, type TraceResult } from '../model/trace.js';
import type { CapturedFrame, DecodedFrame } from '../model/packet.js';
import { traceHeader, traceJson } from '../render/trace.js';
import { readCapture } from '../trace/capture-file.js';
import { decodeFrame } from '../trace/decode.js';
import { endingDrop } from '../trace/attribute.js';
import type { Journey, JourneyEvent } from './api.js';

/** The frames of a pcapng by `<interface name>|<timestamp ns>`: a hop is one of them. */
function framesByHop(pcapng: Uint8Array): Map<string, CapturedFrame[]> {
  const file = readCapture(pcapng);
  const out = new Map<string, CapturedFrame[]>();
  for (const f of file.frames) {
    const key = `${file.interfaces[f.ifIndex]?.name ?? ''}|${f.tsNs}`;
    const list = out.get(key);
    if (list) list.push(f);
    else out.set(key, [f]);
  }
  return out;
}

/** The journey of a finished trace; `elementOf` maps a capture point id to the drawn element ('' when none). */
export function buildJourney(id: string, result: TraceResult, pcapng: Uint8Array, warnings: string[], elementOf: (point: string) => string): Journey {
  const frames = framesByHop(pcapng);
  const layersOf = (point: string, tsNs: bigint, srcMac: string, dstMac: string): DecodedFrame | undefined => {
    const decoded = (frames.get(`${point}|${tsNs}`) ?? []).map(decodeFrame);
    // A hop seen inside VXLAN names the inner frame's MACs.
    const macs = (d: DecodedFrame) => (d.vxlan?.inner.eth ?? d.eth);
    return decoded.find((d) => macs(d)?.src === srcMac && macs(d)?.dst === dstMac) ?? decoded[0];
  };
  // The addresses each packet was last seen with: a hop whose addresses differ was rewritten (NAT) before it.
  const lastAddrs = new Map<number, string>();
  const events: JourneyEvent[] = timeline(result.packets).map(({ packet, packetIndex, hop }, index) => {
    const layers = layersOf(hop.point, hop.tsNs, hop.srcMac, hop.dstMac);
    const before = lastAddrs.get(packetIndex);
    if (hop.addrs) lastAddrs.set(packetIndex, hop.addrs);
    const nat = hop.addrs && before && before !== hop.addrs ? { nat: { before, after: hop.addrs } } : {};
    return {
      index,
      packet: packetIndex,
      sinceStartMs: Number((hop.sinceStartNs / 1e6).toFixed(3)),
      sinceStartNs: hop.sinceStartNs,
      point: hop.point,
      role: hop.role,
      element: elementOf(hop.point),
      direction: packet.direction,
      reflected: hop.reflected === true,
      label: packet.label ?? packet.summary,
      summary: packet.summary,
      explanation: hop.explanation ?? '',
      srcMac: hop.srcMac,
      dstMac: hop.dstMac,
      ...(hop.ttl !== undefined ? { ttl: hop.ttl } : {}),
      ...(hop.addrs ? { addrs: hop.addrs } : {}),
      ...nat,
      ...(layers ? { layers } : {}),
    };
  });
  return {
    id,
    header: traceHeader(result),
    answered: result.answered,
    verdict: result.verdict,
    ...(result.cause ? { cause: result.cause } : {}),
    ...dropOf(result, elementOf),
    points: result.path.points.map((p) => ({ id: p.id, owner: p.owner, iface: p.iface, role: p.role, position: p.position, element: elementOf(p.id) })),
    packets: result.packets.map((p) => ({ key: p.key, kind: p.kind, direction: p.direction, label: p.label ?? p.summary, summary: p.summary, ...(p.flow ? { flow: p.flow } : {}) })),
    events,
    pcapng: `/api/trace/${id}/pcapng`,
    trace: traceJson(result),
    warnings,
  };
}

/** The drop the trace caught (the first one tied to a point on the path), with its drawn element. */
function dropOf(result: TraceResult, elementOf: (point: string) => string): Pick<Journey, 'drop'> {
  // An answered trace was not dropped: a drop seen beside it (a retransmission's twin, a neighbour's) is not its end.
  const d = result.answered ? undefined : endingDrop(result.evidence?.drops ?? []);
  if (!d) return {};
  const point = d.point ?? '';
  return { drop: { point, element: point ? elementOf(point) : '', reason: d.reason, location: d.location, meaning: d.meaning } };
}
