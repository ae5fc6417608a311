// Evidence at the point of death. skb:kfree_skb names a reason and a kernel function but no network
// namespace and no headers, and this machine drops packets of other labs all the time. So a drop is
// the trace's when the task that freed it is the trace's probe (the packet's whole path runs in the
// softirq the probe's send raised, so its PID is on the event), or — for drops in another context —
// when it happened just after the packet was last seen and where the last hop leads: a VXLAN receive
// after the underlay, a VXLAN send at flannel.1, forwarding or netfilter at a node, a socket lookup at
// an end host. Then one sentence on why the probe failed, from the drop, the rule that dropped it and
// the state the path was built from (VNIs, FDB, ip_forward, MTU). Pure.
import { DROP_REASONS, explainDrop, type DropEvent } from '../model/drops.js';
import type { CapturePoint, DropSeen, RuleHit, TraceHop, TracedPacket, TracePath, TraceProtocol } from '../model/trace.js';
import { ipIdOf } from './nat-explain.js';

/** Where in the kernel a drop function runs, as a place on the path. */
type Place = 'arrive' | 'vxlan' | 'node' | 'host' | 'bridge';

const PLACES: [RegExp, Place][] = [
  [/^vxlan_rcv|^vxlan_.*rcv|^udp_.*encap/, 'arrive'],
  [/^vxlan_xmit|^vxlan_.*xmit/, 'vxlan'],
  [/^(ip_forward|ip_error|ip_route_input|ip_rcv_finish|ip_finish_output|ip_fragment|ip_do_fragment|nf_hook_slow|nft_do_chain|ipt_do_table|neigh|__neigh|ip_output|ip_local_out|ip_rcv_core)/, 'node'],
  [/^(__udp4_lib_rcv|udp_queue_rcv|tcp_v4_rcv|tcp_|ping_rcv|icmp_rcv|raw_|sk_)/, 'host'],
  [/^(br_|__br_)/, 'bridge'],
];

const placeOf = (symbol: string): Place | undefined => PLACES.find(([re]) => re.test(symbol))?.[1];

/** What a place needs of the last hop seen: the point there (or next) whose node dropped it. */
function placeFits(place: Place, last: CapturePoint, next: CapturePoint | undefined): CapturePoint | undefined {
  if (place === 'arrive') return last.role === 'node-uplink' || last.role === 'underlay' ? (next?.role === 'node-uplink' ? next : last) : last.role === 'vxlan' ? last : undefined;
  if (place === 'vxlan') return last.role === 'vxlan' ? last : undefined;
  if (place === 'node') return ['host-veth', 'bridge', 'vxlan', 'node-uplink'].includes(last.role) ? last : next && ['bridge', 'node-uplink'].includes(next.role) ? next : undefined;
  if (place === 'host') return last.role === 'pod-eth0' || last.role === 'host' ? last : undefined;
  return last.role === 'host-veth' || last.role === 'bridge' ? last : undefined;
}

/** The furthest hop the probe's request reached (not a reflection), and the packet it is of. */
export function lastSeen(packets: readonly TracedPacket[], protocol: TraceProtocol): { packet: TracedPacket; hop: TraceHop } | undefined {
  let best: { packet: TracedPacket; hop: TraceHop } | undefined;
  for (const packet of packets.filter((p) => p.direction === 'request' && p.kind === protocol)) {
    for (const hop of packet.hops.filter((h) => !h.reflected)) {
      if (!best || hop.position > best.hop.position || (hop.position === best.hop.position && hop.tsNs < best.hop.tsNs)) best = { packet, hop };
    }
  }
  return best;
}

/** What the attribution needs besides the drops: the trace's first frame (epoch ns), the probe's
 * window (epoch ns) and the PIDs of the processes that sent its packets. */
export interface DropContext {
  startNs: bigint;
  fromNs: bigint;
  toNs: bigint;
  pids: ReadonlySet<number>;
  monoOffsetNs: bigint;
}

const QUIET = new Set(['NOT_SPECIFIED', 'QUEUE_PURGE']);

/** The drops that were the trace's packets: by the probe's PID, else by time and place after the last
 * hop seen. Each with where it died and the node whose kernel dropped it. */
export function attributeDrops(path: TracePath, packets: readonly TracedPacket[], protocol: TraceProtocol, drops: readonly DropEvent[], c: DropContext): DropSeen[] {
  const seen = lastSeen(packets, protocol);
  const last = seen && path.points.find((p) => p.position === seen.hop.position);
  const next = last && path.points.find((p) => p.position === last.position + 1);
  const wall = (e: DropEvent) => e.tsNs + c.monoOffsetNs;
  const out: DropSeen[] = [];
  for (const e of drops) {
    const t = wall(e);
    if (QUIET.has(e.reason) || t < c.fromNs - 2_000_000n || t > c.toNs) continue;
    const place = placeOf(e.location.symbol);
    const at = last && place ? placeFits(place, last, next) : undefined;
    const byPid = c.pids.has(e.pid);
    const near = seen !== undefined && t >= seen.hop.tsNs - 2_000_000n && t <= seen.hop.tsNs + 100_000_000n;
    if (!byPid && !(at && near)) continue;
    out.push({
      reason: e.reason, location: e.location.symbol, sinceStartNs: Number(t - c.startNs), by: byPid ? 'pid' : 'place',
      ...(at ? { point: at.id, node: at.owner } : {}), meaning: DROP_REASONS[e.reason] ?? explainDrop(e.reason),
    });
  }
  const key = (d: DropSeen) => `${d.reason} ${d.location}`;
  return out.filter((d, i) => out.findIndex((x) => key(x) === key(d)) === i);
}

/** Facts read from the kernel for the sentence, when the reason calls for them. */
export interface CauseFacts {
  /** net.ipv4.ip_forward per node. */
  ipForward?: Record<string, string>;
  /** An ICMP "fragmentation needed" that came back: the MTU it names and who sent it. */
  fragNeeded?: { mtu: number; from: string };
  /** The NetworkPolicy verdict for the flow (when a policy chain dropped it). */
  policy?: string;
}

/** `filter FORWARD rule 1 (-j REJECT …) in server`: a rule hit as iptables would list it. */
export function ruleText(h: RuleHit): string {
  const spec = (h.rule ?? '').replace(/^-4 -t \S+ -A \S+ /, '').trim();
  const where = h.index !== undefined ? `rule ${h.index}` : h.handle !== undefined ? `rule handle ${h.handle}` : h.type;
  return `${h.table} ${h.chain} ${where}${spec ? ` (${spec})` : ''} in ${h.node}`;
}

/** The rule that dropped the failed packet (its IP id), else any drop verdict on the path. */
export function droppingRule(hits: readonly RuleHit[], failed: TracedPacket | undefined): RuleHit | undefined {
  const drops = hits.filter((h) => h.verdict === 'drop' || (h.verdict === undefined && /-j (REJECT|DROP)|\b(reject|drop)\b/.test(h.rule ?? '')));
  const id = failed && ipIdOf(failed);
  return drops.find((h) => h.ipId !== undefined && h.ipId === id) ?? drops[0];
}

/** What the state says about a reason: the VNI each side uses, the FDB entry missing, ip_forward, the MTU. */
function context(path: TracePath, d: DropSeen, hop: TraceHop | undefined, f: CauseFacts): string | undefined {
  const leg = path.overlay?.request;
  if (d.reason === 'VXLAN_VNI_NOT_FOUND' && leg) {
    const sent = hop?.outer?.vni ?? leg.from.vni;
    return `${leg.to.device ?? 'the VXLAN device'} on ${leg.to.node} has VNI ${leg.to.vni ?? '?'}, ${leg.from.node} sends VNI ${sent ?? '?'}`;
  }
  if (d.reason === 'NO_TX_TARGET' && leg) return leg.neighbour && !leg.fdb ? `no FDB entry for ${leg.neighbour.mac} on ${leg.from.node}'s ${leg.from.device ?? 'VXLAN device'}: it knows no node IP to send to` : undefined;
  if (d.reason === 'IP_INADDRERRORS' && d.node && f.ipForward?.[d.node] !== undefined) return `net.ipv4.ip_forward is ${f.ipForward[d.node]} on ${d.node}`;
  if (d.reason === 'PKT_TOO_BIG' && f.fragNeeded) return `the packet does not fit the next hop's MTU ${f.fragNeeded.mtu} and has DF set; ${f.fragNeeded.from} sent back ICMP "fragmentation needed" (mtu ${f.fragNeeded.mtu})`;
  if (d.reason === 'NO_SOCKET') return `nothing listens on the destination port in ${d.node ?? 'the destination'}`;
  return undefined;
}

/** One sentence on why the probe failed, from the evidence; undefined when there is none. */
export function failureCause(path: TracePath, packets: readonly TracedPacket[], protocol: TraceProtocol, drops: readonly DropSeen[], hits: readonly RuleHit[], f: CauseFacts = {}): string | undefined {
  const seen = lastSeen(packets, protocol);
  const rule = droppingRule(hits, seen?.packet);
  const d = drops.find((x) => x.reason === 'NETFILTER_DROP' && rule) ?? drops[0];
  const kernel = d ? `kernel: ${d.reason} (${d.location})` : undefined;
  if (rule && (!d || d.reason === 'NETFILTER_DROP')) {
    const policy = f.policy ? ` — ${f.policy}` : '';
    return `dropped by ${ruleText(rule)}${kernel ? ` → ${kernel}` : ''}${policy}`;
  }
  if (!d) return undefined;
  const why = context(path, d, seen?.hop, f);
  return `dropped at ${d.point ?? seen?.hop.point ?? '?'} → ${kernel}${why ? ` — ${why}` : ''}`;
}
