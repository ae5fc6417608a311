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
import { strayAnswer } from './verdict.js';

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
  if (place === 'vxlan') return last.role === 'vxlan' ? last : next?.role === 'vxlan' ? next : undefined;
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

/** Reasons that are never the trace's packet: OTHERHOST is a flooded copy for another station (the
 * underlay switch floods to every node), the rest are housekeeping. */
const QUIET = new Set(['NOT_SPECIFIED', 'QUEUE_PURGE', 'OTHERHOST']);

/** Reasons whose place is the reason itself, whatever function dropped it: a bad UDP checksum on the
 * VXLAN port is dropped on arrival, before decapsulation. */
const REASON_PLACES: Record<string, Place> = { UDP_CSUM: 'arrive', VXLAN_VNI_NOT_FOUND: 'arrive', VXLAN_INVALID_HDR: 'arrive', NO_TX_TARGET: 'vxlan' };

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
    const place = REASON_PLACES[e.reason] ?? placeOf(e.location.symbol);
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

/** The drop that ended the probe: the first one placed on the path where it was last seen, else the
 * first. A drop tied only by the probe's PID can be another packet's: a softirq runs on whatever task
 * the CPU is on, so under load another lab's drop (a QDISC_DROP in __dev_queue_xmit, say) can carry
 * the probe's PID and come first. */
export function endingDrop(drops: readonly DropSeen[]): DropSeen | undefined {
  return drops.find((d) => d.point) ?? drops[0];
}

/** Facts read from the kernel for the sentence, when the reason calls for them. */
export interface CauseFacts {
  /** net.ipv4.ip_forward per node. */
  ipForward?: Record<string, string>;
  /** An ICMP "fragmentation needed" that came back: the MTU it names and who sent it. */
  fragNeeded?: { mtu: number; from: string };
  /** The NetworkPolicy verdict for the flow (when a policy chain dropped it). */
  policy?: string;
  /** The device a too-big packet was to leave through, its MTU and the packet's size (PKT_TOO_BIG). */
  tooBig?: { node: string; dev: string; mtu: number; size: number };
  /** net.bridge.bridge-nf-call-iptables per node (read when an answer came back un-NATed). */
  bridgeNf?: Record<string, string>;
}

/** A pod on another node the source node routes past the overlay. */
function misrouteCause(m: NonNullable<TracePath['misroute']>, d: DropSeen | undefined): string {
  const how = m.route ? `by its route "${m.route}"` : 'nowhere (no route)';
  const kernel = d ? ` → kernel: ${d.reason} (${d.location})` : '';
  const why = m.overlayRoute ? `a more specific route wins over "${m.overlayRoute}"` : `its route to ${m.dstNode}'s pod subnet through the overlay is missing`;
  const rp = d?.reason === 'IP_RPFILTER' ? ` — ${m.dstNode} drops it on arrival: strict reverse-path filtering (rp_filter=1), and it would answer the source through flannel.1, not the interface it came in on` : '';
  return `${m.node} sends ${m.dst} (a pod on ${m.dstNode}) ${how}, not through the overlay: ${why}${kernel}${rp}`;
}

/** Why an answer reached the source with the endpoint's address instead of the Service's. */
function strayCause(path: TracePath, from: string, f: CauseFacts): string {
  const off = Object.entries(f.bridgeNf ?? {}).filter(([, v]) => v === '0').map(([n]) => n);
  const why = off.length
    ? `net.bridge.bridge-nf-call-iptables is 0 on ${off.join(', ')}: the reply crossed the bridge without passing iptables, so conntrack never undid the DNAT`
    : 'conntrack never undid the DNAT: the reply took a way past the netfilter of the node that made it';
  return `the answer reached ${path.src.owner} from ${from}, not from ${path.addressed?.ip}:${path.addressed?.port} — ${why}; ${path.src.owner} knows no such connection and resets it`;
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
  if (d.reason === 'NO_TX_TARGET' && leg) {
    const dev = `${leg.from.node}'s ${leg.from.device ?? 'VXLAN device'}`;
    if (leg.neighbour && !leg.fdb) return `no FDB entry for ${leg.neighbour.mac} on ${dev}: it knows no node IP to send to`;
    const gw = /via (\S+)/.exec(leg.route ?? '')?.[1];
    if (!leg.neighbour) return `no neighbour entry for ${gw ?? `${leg.to.node}'s VTEP`} on ${dev}: the kernel asks by ARP, and ${leg.from.device ?? 'the VXLAN device'} (no learning, no FDB entry for broadcast) has nowhere to send the ARP`;
  }
  if (d.reason === 'IP_INADDRERRORS' && d.node && f.ipForward?.[d.node] !== undefined) return `net.ipv4.ip_forward is ${f.ipForward[d.node]} on ${d.node}`;
  if (d.reason === 'PKT_TOO_BIG' && f.tooBig) return `the packet (${f.tooBig.size} bytes, DF set) does not fit ${f.tooBig.dev} on ${f.tooBig.node}, whose MTU is ${f.tooBig.mtu}; the kernel sends ICMP "fragmentation needed" (mtu ${f.tooBig.mtu}) back`;
  if (d.reason === 'PKT_TOO_BIG' && f.fragNeeded) return `the packet does not fit the next hop's MTU ${f.fragNeeded.mtu} and has DF set; ${f.fragNeeded.from} sent back ICMP "fragmentation needed" (mtu ${f.fragNeeded.mtu})`;
  if (d.reason === 'UDP_CSUM' && leg) return `the VXLAN packet from ${leg.from.node} reached ${leg.to.node} with a wrong UDP checksum: corrupted on the way, or sent with checksum offload that nothing completed`;
  if (d.reason === 'NO_SOCKET') return `nothing listens on the destination port in ${d.node ?? 'the destination'}`;
  return undefined;
}

/** One sentence on why the probe failed, from the evidence; undefined when there is none. */
export function failureCause(path: TracePath, packets: readonly TracedPacket[], protocol: TraceProtocol, drops: readonly DropSeen[], hits: readonly RuleHit[], f: CauseFacts = {}): string | undefined {
  const stray = strayAnswer(path, packets, protocol);
  if (stray) return strayCause(path, stray.from, f);
  if (path.misroute) return misrouteCause(path.misroute, endingDrop(drops));
  const hp = path.hairpin;
  if (hp && !hp.on) return `${hp.node}'s ${hp.bridge} must send the DNATed packet back out ${hp.port}, the port it came in on, and hairpin mode is off on ${hp.port}: the bridge drops it (a pod reaching itself through its Service needs hairpin)`;
  const seen = lastSeen(packets, protocol);
  const rule = droppingRule(hits, seen?.packet);
  const d = drops.find((x) => x.reason === 'NETFILTER_DROP' && rule) ?? endingDrop(drops);
  const kernel = d ? `kernel: ${d.reason} (${d.location})` : undefined;
  if (rule && (!d || d.reason === 'NETFILTER_DROP')) {
    const a = path.addressed;
    const empty = a && a.endpoints.length === 0 ? ` — Service ${a.service} has no ready endpoints, so kube-proxy rejects ${a.ip}:${a.port}` : '';
    const policy = f.policy ? ` — ${f.policy}` : empty;
    return `dropped by ${ruleText(rule)}${kernel ? ` → ${kernel}` : ''}${policy}`;
  }
  if (!d) return undefined;
  const why = context(path, d, seen?.hop, f);
  return `dropped at ${d.point ?? seen?.hop.point ?? '?'} → ${kernel}${why ? ` — ${why}` : ''}`;
}
