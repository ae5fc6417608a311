// What `podnet trace` prints: a timeline (one aligned line per hop, each packet's hops in causal
// order along the path, packets by time, with the reason for each; hops seen inside VXLAN marked so;
// reasons wrapped under their hops on a narrow terminal), a Mermaid sequence diagram shaped like the
// blog's request/reply figure, the JSON document, and what `--watch` prints per journey. Pure: drawn from the trace types in src/model/trace.ts.
import { formatMs, timeline, timesOutOfOrder, type FdbSeen, type TraceHop, type TracedPacket, type TraceResult } from '../model/trace.js';

const BROADCAST = 'ff:ff:ff:ff:ff:ff';
/** The ditto mark: same packet as the line above. */
const DITTO = '″';

const protocolText = (r: TraceResult) => `${r.protocol}${r.port !== undefined ? ` port ${r.port}` : ''}`;

/** `trace pod1 (10.42.0.2) -> pod2 (10.42.0.3), icmp, warm, 5 capture points`. */
export function traceHeader(r: TraceResult): string {
  const { src, dst, addressed: a } = r.path;
  let to = dst.owner === dst.ip ? dst.ip : `${dst.owner} (${dst.ip})`;
  if (a) {
    const via = `${a.service} ${a.via === 'node-port' ? `NodePort ${a.ip}:${a.port} (${a.node})` : `${a.ip}:${a.port}`}`;
    to = a.chosen ? `${via} → ${dst.owner} (${dst.ip}:${a.targetPort ?? '?'})` : `${via} → no endpoint reached`;
  }
  const n = new Set(r.path.points.map((p) => p.id)).size;
  return `trace ${src.owner} (${src.ip}) -> ${to}, ${protocolText(r)}, ${r.cold ? 'cold' : 'warm'}, ${n} capture point${n === 1 ? '' : 's'}`;
}

/** The lines after the verdict: why a failed probe failed, and the connection tracking entries that
 * show a NAT (original and reply tuple). */
export function evidenceLines(r: TraceResult): string[] {
  const lines = r.cause ? [`cause: ${r.cause}`] : [];
  for (const c of r.evidence?.conntrack ?? []) {
    if (c.nat) lines.push(`conntrack on ${c.node}: ${c.proto} ${c.original}, reply ${c.reply} (${c.nat})${c.state ? ` ${c.state}` : ''}`);
  }
  for (const n of r.evidence?.notes ?? []) if (!n.startsWith('drop reasons: skb:kfree_skb has no namespace')) lines.push(`note: ${n}`);
  return lines;
}

const arrowOf = (p: TracedPacket, h: TraceHop) => `${p.direction === 'request' ? '→' : '←'}${h.reflected ? '↺' : ''}`;

/** ` in VXLAN` for a hop seen encapsulated (its outer headers are in the explanation and the JSON). */
const wrapped = (h: TraceHop) => (h.outer ? ' in VXLAN' : '');

/** The line under a timeline whose times run backwards somewhere (docs/trace.md, "Causal order"). */
export const OUT_OF_ORDER_NOTE = 'note: hops are in causal (path) order; times are per-interface capture stamps and may run backwards';

/** Options of the text renderers: the width lines must fit (undefined: no limit, nothing wrapped). */
export interface TextOptions {
  width?: number;
}

/** `text` cut into lines of at most `width` characters at spaces (a word longer than a line is split),
 * the first line after `first` characters already used, the others starting with `indent`. */
export function wrapText(text: string, width: number, indent = '', first = 0): string[] {
  const lines: string[] = [];
  let line = '';
  let room = Math.max(1, width - first);
  const next = () => {
    lines.push(line);
    line = '';
    room = Math.max(1, width - indent.length);
  };
  for (let word of text.split(' ').filter((w) => w !== '')) {
    if (line && line.length + 1 + word.length > room) next();
    while (word.length > room) {
      if (line) next();
      line = word.slice(0, room);
      word = word.slice(room);
      next();
    }
    if (word) line = line ? `${line} ${word}` : word;
  }
  if (line || lines.length === 0) lines.push(line);
  return lines.map((l, i) => (i === 0 ? l : indent + l));
}

/** A line that fits `width` (wrapped, the rest indented by two), or the line itself without a width. */
const fit = (line: string, width: number | undefined) => (width === undefined || line.length <= width ? [line] : wrapText(line, width, '  '));

/** One aligned line per hop of every packet in timeline order (time since the first frame, capture
 * point, → request / ← reply / ↺ hairpin reflection, the packet or ″ for the same packet as the line
 * above, `in VXLAN` when seen encapsulated, the explanation). When a line would be wider than
 * `width`, every explanation goes under its hop, wrapped. */
function hopLines(r: TraceResult, width: number | undefined): string[] {
  const rows: string[][] = [];
  let prev: TracedPacket | undefined;
  for (const { packet, hop } of timeline(r.packets)) {
    rows.push([`+${formatMs(hop.sinceStartNs)} ms`, hop.point, arrowOf(packet, hop), `${packet === prev ? DITTO : packet.label ?? packet.summary}${wrapped(hop)}`, hop.explanation ?? '']);
    prev = packet;
  }
  const widths = [0, 1, 2, 3].map((i) => Math.max(0, ...rows.map((row) => row[i].length)));
  const head = (row: string[]) => [row[0].padStart(widths[0]), ...[1, 2, 3].map((i) => row[i].padEnd(widths[i]))].join('  ');
  const lines = rows.map((row) => `${head(row)}  ${row[4]}`.trimEnd());
  if (width === undefined || lines.every((l) => l.length <= width)) return lines;
  const indent = ' '.repeat(Math.min(widths[0] + 2, Math.floor(width / 3)));
  const under = (text: string) => (text ? wrapText(text, width, indent, indent.length).map((l, i) => (i === 0 ? indent + l : l)) : []);
  return rows.flatMap((row) => [...fit(head(row).trimEnd(), width), ...under(row[4])]);
}

/** The hops, the note when their times run backwards, the verdict: a timeline without its header. */
export function timelineBody(r: TraceResult, o: TextOptions = {}): string[] {
  const lines = hopLines(r, o.width);
  const note = timesOutOfOrder(timeline(r.packets)) ? fit(OUT_OF_ORDER_NOTE, o.width) : [];
  return [...(lines.length ? lines : ['(no packets captured)']), ...note, ...fit(r.verdict, o.width), ...evidenceLines(r).flatMap((l) => fit(l, o.width))];
}

/** The header, one line per hop of every packet — each packet's hops in causal order along the path,
 * packets by time (see `timeline`) — a note when capture times run backwards, then the verdict. With
 * `width`, no line is wider: explanations go under their hops, wrapped. */
export function renderTimeline(r: TraceResult, o: TextOptions = {}): string {
  return [...fit(traceHeader(r), o.width), ...timelineBody(r, o)].join('\n') + '\n';
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
  if (r.cause) out.push(`    Note over ${span}: ${mermaidText(`cause: ${r.cause}`)}`);
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
    ...(r.path.addressed ? { addressed: structuredClone(r.path.addressed) } : {}),
    ...(r.path.hairpin ? { hairpin: { ...r.path.hairpin } } : {}),
    ...(r.path.misroute ? { misroute: { ...r.path.misroute } } : {}),
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
        ...(h.addrs !== undefined ? { addrs: h.addrs } : {}),
      })),
    })),
    answered: r.answered,
    verdict: r.verdict,
    fdbBefore: r.fdbBefore.map(fdbJson),
    fdbAfter: r.fdbAfter.map(fdbJson),
    ...(r.cause ? { cause: r.cause } : {}),
    ...(r.evidence ? { evidence: structuredClone(r.evidence) } : {}),
  };
}

/** What a watch captures, for its first line: `watching pod1 (10.42.0.2) <-> pod2 (10.42.0.3): …`. */
export interface WatchView {
  path: TraceResult['path'];
  protocol?: TraceResult['protocol'];
  port?: number;
  count?: number;
}

/** The first line of a watch: the two ends, what is captured, on how many points, and when it stops. */
export function watchHeader(w: WatchView): string {
  const { src, dst } = w.path;
  const to = dst.owner === dst.ip ? dst.ip : `${dst.owner} (${dst.ip})`;
  const what = w.protocol ? `${w.protocol}${w.port !== undefined ? ` port ${w.port}` : ''} and ARP` : 'all traffic and ARP';
  const until = w.count !== undefined ? `stops after ${w.count} journey${w.count === 1 ? '' : 's'} (Ctrl-C before)` : 'Ctrl-C stops';
  return `watching ${src.owner} (${src.ip}) <-> ${to}: ${what} on ${w.path.points.length} capture points; ${until}`;
}

/** `14:03:07.118` (local time) of an epoch in ns. */
const clock = (ns: bigint) => {
  const d = new Date(Number(ns / 1_000_000n));
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
};

/** One journey of a watch: `journey 2 at 14:03:07.118: pod1 -> pod2, ICMP echo request`, its hops
 * (times since its first frame) and its verdict. */
export function renderJourney(index: number, r: TraceResult, o: TextOptions = {}): string {
  const first = r.packets.find((p) => p.kind !== 'arp') ?? r.packets[0];
  const start = r.packets.flatMap((p) => p.hops).reduce<bigint | undefined>((m, h) => (m === undefined || h.tsNs < m ? h.tsNs : m), undefined);
  const head = `journey ${index}${start !== undefined ? ` at ${clock(start)}` : ''}: ${r.path.src.owner} -> ${r.path.dst.owner}, ${first?.label ?? first?.summary ?? 'nothing captured'}`;
  return [...fit(head, o.width), ...timelineBody(r, o)].join('\n') + '\n';
}
