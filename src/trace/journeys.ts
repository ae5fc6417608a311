// A live watch's frames, cut into journeys. A journey is one exchange: a request and what answers it
// — an ICMP echo and its reply (by id and seq), an ARP request and its reply, a TCP connection or a
// UDP conversation (by its address and port pair; an ICMP error about it belongs to it) — and it is
// complete when no frame of it has arrived for `quietMs` (or it has gone on for `maxMs`, or holds
// `maxEvents` sightings: a long transfer is shown in slices). Each journey is correlated, ordered and
// explained like a one-shot trace, on the path as seen from whoever started it. Pure.
import type { DecodedFrame } from '../model/packet.js';
import { formatMs, type FdbSeen, type TraceEvent, type TracedPacket, type TracePath, type TraceProtocol, type TraceResult } from '../model/trace.js';
import { answered, correlate, explainL2, fdbLearned, verdict } from './correlate.js';
import { innermost } from './identify.js';
import { explainOverlay } from './overlay.js';

/** When an exchange is complete: quiet for `quietMs`, older than `maxMs`, or `maxEvents` sightings. */
export interface ExchangeBounds {
  quietMs: number;
  maxMs: number;
  maxEvents: number;
}

/** Defaults: a quarter second of quiet (a ping every 200 ms is one journey per echo anyway: each has its own seq). */
export const EXCHANGE_BOUNDS: ExchangeBounds = { quietMs: 250, maxMs: 2000, maxEvents: 5000 };

const pair = (a: string, b: string) => (a < b ? `${a}<>${b}` : `${b}<>${a}`);

/** The exchange a frame belongs to (the same for a request and its answers). */
export function exchangeKey(frame: DecodedFrame): string {
  const f = innermost(frame);
  if (f.arp) return `arp ${pair(f.arp.senderIp, f.arp.targetIp)}`;
  const ip = f.ipv4;
  if (!ip) return `other ${f.eth ? pair(f.eth.src, f.eth.dst) : ''}`;
  if (f.tcp) return `tcp ${pair(`${ip.src}:${f.tcp.srcPort}`, `${ip.dst}:${f.tcp.dstPort}`)}`;
  if (f.udp) return `udp ${pair(`${ip.src}:${f.udp.srcPort}`, `${ip.dst}:${f.udp.dstPort}`)}`;
  const icmp = f.icmp;
  if (icmp && (icmp.type === 0 || icmp.type === 8) && icmp.id !== undefined) return `icmp ${pair(ip.src, ip.dst)} id ${icmp.id} seq ${icmp.seq}`;
  const o = icmp?.original;
  if (o && (o.proto === 6 || o.proto === 17) && o.srcPort !== undefined) return `${o.proto === 6 ? 'tcp' : 'udp'} ${pair(`${o.src}:${o.srcPort}`, `${o.dst}:${o.dstPort}`)}`;
  return `ip ${ip.proto} ${pair(ip.src, ip.dst)}`;
}

interface Exchange {
  events: TraceEvent[];
  /** Arrival times (ms, the caller's clock) of its first and latest frame. */
  first: number;
  last: number;
}

/** The exchanges being seen: frames in as they arrive, complete exchanges out. */
export class Exchanges {
  private readonly open = new Map<string, Exchange>();

  constructor(private readonly bounds: ExchangeBounds = EXCHANGE_BOUNDS) {}

  /** Adds a frame that arrived at `now` (ms). */
  add(ev: TraceEvent, now: number): void {
    const key = exchangeKey(ev.frame);
    const x = this.open.get(key);
    if (x) {
      x.events.push(ev);
      x.last = now;
    } else {
      this.open.set(key, { events: [ev], first: now, last: now });
    }
  }

  /** How many exchanges are open. */
  get size(): number {
    return this.open.size;
  }

  /** Takes the exchanges complete at `now` (every open one with `all`), in the order they began. */
  due(now: number, all = false): TraceEvent[][] {
    const { quietMs, maxMs, maxEvents } = this.bounds;
    const done: Exchange[] = [];
    for (const [key, x] of this.open) {
      if (all || now - x.last >= quietMs || now - x.first >= maxMs || x.events.length >= maxEvents) {
        done.push(x);
        this.open.delete(key);
      }
    }
    const start = (x: Exchange) => x.events.reduce((m, e) => (e.tsNs < m ? e.tsNs : m), x.events[0].tsNs);
    return done.sort((a, b) => (start(a) < start(b) ? -1 : start(a) > start(b) ? 1 : 0)).map((x) => x.events);
  }
}

/** The path walked the other way: from its destination pod back to its source (for an exchange the
 * destination started); undefined when the destination is no pod of the path. */
export function reversePath(path: TracePath): TracePath | undefined {
  const last = path.points.at(-1);
  if (!path.dst.mac || last?.role !== 'pod-eth0') return undefined;
  const n = path.points.length;
  const { request, reply } = path.overlay ?? {};
  return {
    src: { owner: path.dst.owner, ip: path.dst.ip, mac: path.dst.mac },
    dst: { ...path.src },
    points: path.points.map((p) => ({ ...p, position: n - 1 - p.position })).reverse(),
    ...(path.overlay ? { overlay: { ...(reply ? { request: reply } : {}), ...(request ? { reply: request } : {}) } } : {}),
  };
}

/** Who started an exchange: the sender of its earliest frame. */
function initiator(events: readonly TraceEvent[]): string | undefined {
  const first = events.reduce((m, e) => (e.tsNs < m.tsNs ? e : m), events[0]);
  const f = innermost(first.frame);
  return f.arp?.senderIp ?? f.ipv4?.src;
}

/** One line for an ARP exchange: answered (and in how long), or where the request was last seen. */
function arpVerdict(packets: readonly TracedPacket[]): { answered: boolean; verdict: string } {
  const ask = packets.find((p) => p.kind === 'arp' && p.key.startsWith('arp who-has'));
  const reply = packets.find((p) => p.kind === 'arp' && p.key.includes(' is-at '));
  if (ask && reply) {
    const back = reply.hops.at(-1)!;
    return { answered: true, verdict: `ARP answered: ${reply.label?.replace(/^ARP /, '')} in ${formatMs(back.tsNs - ask.hops[0].tsNs)} ms` };
  }
  const seen = ask?.hops.filter((h) => !h.reflected).reduce((a, h) => (h.position > a.position ? h : a));
  return { answered: false, verdict: seen ? `${ask!.label ?? 'ARP'} unanswered, last seen at ${seen.point} (+${formatMs(seen.sinceStartNs)} ms)` : 'ARP' };
}

/** A journey: its number, the trace of its exchange, and the bridges' FDB after it (for the next one). */
export interface Journey {
  index: number;
  /** What the exchange is about: its first packet that is not ARP (or ARP, when there is none). */
  kind: TracedPacket['kind'];
  result: TraceResult;
  fdbAfter: FdbSeen[];
}

/** Correlates, orders and explains one exchange's sightings on `path` (walked the other way when the
 * destination started the exchange), the bridges starting from `fdb`. */
export function journeyOf(index: number, path: TracePath, events: readonly TraceEvent[], fdb: readonly FdbSeen[], ask: { protocol?: TraceProtocol; port?: number }): Journey {
  const p = initiator(events) === path.dst.ip ? reversePath(path) ?? path : path;
  const packets = explainL2(p, explainOverlay(p, correlate(p, events)), fdb);
  const main = packets.find((x) => x.kind !== 'arp') ?? packets[0];
  const kind = main?.kind ?? 'other';
  const protocol: TraceProtocol = kind === 'tcp' || kind === 'udp' || kind === 'icmp' ? kind : ask.protocol ?? 'icmp';
  const end = kind === 'arp' ? arpVerdict(packets) : { answered: answered(packets, protocol), verdict: verdict(p, packets, protocol) };
  const startNs = events.reduce((m, e) => (e.tsNs < m ? e.tsNs : m), events[0].tsNs);
  const result: TraceResult = {
    path: p, protocol, ...(ask.port !== undefined ? { port: ask.port } : {}), cold: false,
    startedAt: new Date(Number(startNs / 1_000_000n)).toISOString(), packets, ...end, fdbBefore: [...fdb], fdbAfter: fdbLearned(p, packets, fdb),
  };
  return { index, kind, result, fdbAfter: result.fdbAfter };
}
