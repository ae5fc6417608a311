// Did the answer come back, and one line saying so: the round trip, the refusal that came back
// instead, or where the request (or the ARP before it) was last seen. Pure.
import { formatMs, type TraceHop, type TracedPacket, type TracePath, type TraceProtocol } from '../model/trace.js';
import { hostOf } from './identify.js';

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

/** The source address a packet carried where it reached the source (NAT may have rewritten it on the way). */
const sourceAtSource = (p: TracedPacket) => atSource(p)?.addrs?.split(' > ')[0] ?? p.src;

/** Through a Service the answer counts only when it comes back from the address the probe was sent to:
 * one that arrives from the endpoint itself (its DNAT never undone) is a stranger to the source. */
const fromAddressed = (path: TracePath | undefined, p: TracedPacket) => !path?.addressed || hostOf(sourceAtSource(p)) === path.addressed.ip;

/** True when the answer (ICMP echo reply, TCP SYN-ACK, a UDP datagram back) reached the source pod
 * (through a Service: from the Service's address). */
export function answered(packets: readonly TracedPacket[], protocol: TraceProtocol, path?: TracePath): boolean {
  return packets.some((p) => isAnswer(p, protocol) && atSource(p) !== undefined && fromAddressed(path, p));
}

/** An answer that reached the source from the endpoint's own address instead of the Service's: the
 * reply bypassed the conntrack entry that would have undone the DNAT. */
export function strayAnswer(path: TracePath, packets: readonly TracedPacket[], protocol: TraceProtocol): { packet: TracedPacket; from: string } | undefined {
  const p = packets.find((x) => isAnswer(x, protocol) && atSource(x) && !fromAddressed(path, x));
  return p ? { packet: p, from: sourceAtSource(p) ?? '?' } : undefined;
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
  const reply = packets.find((p) => isAnswer(p, protocol) && atSource(p) && fromAddressed(path, p));
  const stray = strayAnswer(path, packets, protocol);
  if (!reply && stray && path.addressed) {
    return `no reply from ${path.addressed.ip}:${path.addressed.port}: the answer reached ${path.src.owner} from ${stray.from}, its DNAT not undone, and ${path.src.owner} knows no such connection`;
  }
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
