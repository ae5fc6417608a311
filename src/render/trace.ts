// What `podnet trace` prints: a timeline (one aligned line per hop, in time order, with the reason
// for each; hops seen inside VXLAN marked so), a Mermaid sequence diagram shaped like the blog's
// request/reply figure, and the JSON document. Pure: drawn from the trace types in src/model/trace.ts.
import { formatMs, timeline, type FdbSeen, type TraceHop, type TracedPacket, type TraceResult } from '../model/trace.js';

const BROADCAST = 'ff:ff:ff:ff:ff:ff';
/** The ditto mark: same packet as the line above. */
const DITTO = '″';

const protocolText = (r: TraceResult) => `${r.protocol}${r.port !== undefined ? ` port ${r.port}` : ''}`;

/** `trace pod1 (10.42.0.2) -> pod2 (10.42.0.3), icmp, warm, 5 capture points`. */
export function traceHeader(r: TraceResult): string {
  const { src, dst } = r.path;
  const to = dst.owner === dst.ip ? dst.ip : `${dst.owner} (${dst.ip})`;
  const n = r.path.points.length;
  return `trace ${src.owner} (${src.ip}) -> ${to}, ${protocolText(r)}, ${r.cold ? 'cold' : 'warm'}, ${n} capture point${n === 1 ? '' : 's'}`;
}

const arrowOf = (p: TracedPacket, h: TraceHop) => `${p.direction === 'request' ? '→' : '←'}${h.reflected ? '↺' : ''}`;

/** ` in VXLAN` for a hop seen encapsulated (its outer headers are in the explanation and the JSON). */
const wrapped = (h: TraceHop) => (h.outer ? ' in VXLAN' : '');

/** The header, one line per hop of every packet in time order — `+0.006 ms  server/cni0  →  ″  forwarded to …`
 * (time since the first frame, capture point, → request / ← reply / ↺ hairpin reflection, the packet
 * or ″ for the same packet as the line above, `in VXLAN` when seen encapsulated, the explanation) —
 * then the verdict. */
export function renderTimeline(r: TraceResult): string {
  const rows: string[][] = [];
  let prev: TracedPacket | undefined;
  for (const { packet, hop } of timeline(r.packets)) {
    rows.push([`+${formatMs(hop.sinceStartNs)} ms`, hop.point, arrowOf(packet, hop), `${packet === prev ? DITTO : packet.label ?? packet.summary}${wrapped(hop)}`, hop.explanation ?? '']);
    prev = packet;
  }
  const widths = [0, 1, 2, 3].map((i) => Math.max(0, ...rows.map((row) => row[i].length)));
  const lines = rows.map((row) => [row[0].padStart(widths[0]), ...[1, 2, 3].map((i) => row[i].padEnd(widths[i])), row[4]].join('  ').trimEnd());
  return [traceHeader(r), ...(lines.length ? lines : ['(no packets captured)']), r.verdict].join('\n') + '\n';
}

/** Text safe inside a Mermaid message or note (Mermaid's entity codes for what would end or break it). */
const mermaidText = (s: string) => s.replace(/#/g, '#35;').replace(/;/g, '#59;').replace(/[\r\n]+/g, ' ');

/** The hop `hop` came from: an earlier hop of its packet behind it (ahead of it for a reflection), nearest on the path, latest in time. */
function cameFrom(p: TracedPacket, i: number): TraceHop | undefined {
  const hop = p.hops[i];
  const travel = (p.direction === 'request' ? 1 : -1) * (hop.reflected ? -1 : 1);
  let best: TraceHop | undefined;
  for (const h of p.hops.slice(0, i)) {
    const behind = (hop.position - h.position) * travel;
    if (behind <= 0) continue;
    if (!best || behind < (hop.position - best.position) * travel || (behind === (hop.position - best.position) * travel && h.tsNs >= best.tsNs)) best = h;
  }
  return best;
}

/** A Mermaid `sequenceDiagram` of the trace: the capture points as participants in path order, one
 * arrow per hop (`->>` requests, `-->>` replies) labelled with the packet and its time, notes where the
 * bridge floods, and the verdict. */
export function renderSequence(r: TraceResult): string {
  const points = [...r.path.points].sort((a, b) => a.position - b.position);
  const pid = new Map(points.map((p, i) => [p.id, `p${i}`]));
  const out = ['sequenceDiagram', `    %% ${mermaidText(traceHeader(r))}`];
  for (const p of points) out.push(`    participant ${pid.get(p.id)} as ${mermaidText(p.id)}`);
  const span = points.length > 1 ? `${pid.get(points[0].id)},${pid.get(points.at(-1)!.id)}` : `${pid.get(points[0]?.id ?? '') ?? 'p0'}`;
  for (const { packet, hop, hopIndex } of timeline(r.packets)) {
    const to = pid.get(hop.point);
    if (!to) continue;
    const label = mermaidText(`${packet.label ?? packet.summary}${wrapped(hop)}${hop.reflected ? ', hairpin' : ''} (+${formatMs(hop.sinceStartNs)} ms)`);
    const from = cameFrom(packet, hopIndex);
    const fromId = from && pid.get(from.point);
    if (fromId) out.push(`    ${fromId}${packet.direction === 'request' ? '->>' : '-->>'}${to}: ${label}`);
    else if (packet.hops.length === 1) out.push(`    Note over ${to}: ${label}`);
    const flood = hop.role === 'bridge' && (hop.dstMac === BROADCAST || /^(broadcast|multicast|flooded)\b/.test(hop.explanation?.split('; ').at(-1) ?? ''));
    if (flood) out.push(`    Note over ${to}: ${mermaidText(hop.explanation?.split('; ').at(-1) ?? 'broadcast: flooded to every port')}`);
  }
  out.push(`    Note over ${span}: ${mermaidText(r.verdict)}`);
  return `${out.join('\n')}\n`;
}

const fdbJson = (e: FdbSeen) => ({ mac: e.mac, port: e.port, ...(e.bridge !== undefined ? { bridge: e.bridge } : {}) });

/** The JSON of a trace (`podnet trace -o json`), version 1. Times: `startNs` and each hop's `tsNs` are
 * ns since the epoch as decimal strings (they exceed 2^53); `sinceStartNs` is a number of ns since the
 * first frame of the trace and `sinceStartMs` the same in ms. A cross-node trace adds `overlay` (the
 * request and reply legs) and, on hops seen inside VXLAN, `outer`. Optional fields are absent, not null. */
export function traceJson(r: TraceResult): object {
  const first = r.packets.flatMap((p) => p.hops).reduce<bigint | undefined>((m, h) => (m === undefined || h.tsNs - BigInt(h.sinceStartNs) < m ? h.tsNs - BigInt(h.sinceStartNs) : m), undefined);
  return {
    version: 1,
    src: { ...r.path.src },
    dst: { ...r.path.dst },
    protocol: r.protocol,
    ...(r.port !== undefined ? { port: r.port } : {}),
    cold: r.cold,
    startedAt: r.startedAt,
    ...(first !== undefined ? { startNs: first.toString() } : {}),
    points: r.path.points.map((p) => ({ id: p.id, owner: p.owner, iface: p.iface, role: p.role, position: p.position, netns: p.netns })),
    ...(r.path.overlay ? { overlay: structuredClone(r.path.overlay) } : {}),
    packets: r.packets.map((p) => ({
      key: p.key,
      kind: p.kind,
      direction: p.direction,
      ...(p.label !== undefined ? { label: p.label } : {}),
      summary: p.summary,
      ...(p.src !== undefined ? { src: p.src } : {}),
      ...(p.dst !== undefined ? { dst: p.dst } : {}),
      ...(p.flow !== undefined ? { flow: p.flow } : {}),
      ...(p.icmpType !== undefined ? { icmpType: p.icmpType, icmpCode: p.icmpCode } : {}),
      ...(p.tcpFlags ? { tcpFlags: [...p.tcpFlags] } : {}),
      hops: p.hops.map((h) => ({
        point: h.point,
        role: h.role,
        position: h.position,
        tsNs: h.tsNs.toString(),
        sinceStartNs: h.sinceStartNs,
        sinceStartMs: Number(formatMs(h.sinceStartNs)),
        srcMac: h.srcMac,
        dstMac: h.dstMac,
        ...(h.ttl !== undefined ? { ttl: h.ttl } : {}),
        ...(h.outer ? { outer: { ...h.outer } } : {}),
        reflected: h.reflected === true,
        ...(h.explanation !== undefined ? { explanation: h.explanation } : {}),
      })),
    })),
    answered: r.answered,
    verdict: r.verdict,
    fdbBefore: r.fdbBefore.map(fdbJson),
    fdbAfter: r.fdbAfter.map(fdbJson),
  };
}
