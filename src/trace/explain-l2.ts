// The layer-2 reason of each hop on the pod–veth–bridge path, which needs no kernel: who sent a frame
// and to which MAC, what the bridge learned at its ingress port, whether it forwarded, flooded or
// took the frame itself, where it left and where it was delivered. One function per role of the
// capture point; the bridges' FDBs (as read before the trace, plus what they learn on the way) and
// what the pods learned by ARP are kept in one `L2State` while the hops are walked. Pure.
import { formatMs, timeline, type CapturePoint, type FdbSeen, type TraceHop, type TracedPacket, type TracePath } from '../model/trace.js';
import { hostOf } from './identify.js';

const BROADCAST = 'ff:ff:ff:ff:ff:ff';
const isGroup = (mac: string) => mac !== '' && (parseInt(mac.slice(0, 2), 16) & 1) === 1;
/** `server/veth1` or `veth1` → `veth1`. */
const portName = (port: string) => port.slice(port.lastIndexOf('/') + 1);

/** What the walk over the hops knows: the path's points, each bridge's FDB, what pods learned by ARP. */
class L2State {
  readonly byPosition: Map<number, CapturePoint>;
  readonly lastPosition: number;
  private readonly firstBridge: string;
  /** Bridge point id → (MAC → port). */
  readonly fdbs = new Map<string, Map<string, string>>();
  /** `owner ip` → how `owner` learned the MAC of `ip` during the trace (ARP reply, or an ARP request
   * it answered); `owner mac` → the same for the IP that MAC answered for (a gateway's). */
  readonly arpLearned = new Map<string, string>();

  constructor(readonly path: TracePath, fdbBefore: readonly FdbSeen[]) {
    this.byPosition = new Map(path.points.map((p) => [p.position, p]));
    this.lastPosition = Math.max(...path.points.map((p) => p.position));
    this.firstBridge = path.points.find((p) => p.role === 'bridge')?.id ?? '';
    for (const e of fdbBefore) this.fdbOf(e.bridge).set(e.mac.toLowerCase(), portName(e.port));
  }

  /** The FDB of a bridge point (an entry without a bridge belongs to the path's first bridge). */
  fdbOf(bridge: string | undefined): Map<string, string> {
    const key = bridge ?? this.firstBridge;
    if (!this.fdbs.has(key)) this.fdbs.set(key, new Map());
    return this.fdbs.get(key)!;
  }

  ipOf(owner: string): string | undefined {
    const { src, dst } = this.path;
    return owner === src.owner ? src.ip : owner === dst.owner ? dst.ip : undefined;
  }

  macOf(owner: string): string | undefined {
    const { src, dst } = this.path;
    return owner === src.owner ? src.mac : owner === dst.owner ? dst.mac : undefined;
  }

  /** The point of `role` next to position `pos`. */
  neighbour(pos: number, role: CapturePoint['role']): CapturePoint | undefined {
    return [this.byPosition.get(pos - 1), this.byPosition.get(pos + 1)].find((p) => p?.role === role);
  }

  /** The bridge a host veth hangs on: next to it, else the nearest on the path. */
  nearestBridge(pos: number): CapturePoint | undefined {
    return this.neighbour(pos, 'bridge')
      ?? this.path.points.filter((p) => p.role === 'bridge').sort((a, b) => Math.abs(a.position - pos) - Math.abs(b.position - pos))[0];
  }

  /** The FDBs as entries, each with its bridge. */
  entries(): FdbSeen[] {
    return [...this.fdbs].flatMap(([bridge, fdb]) => [...fdb].map(([mac, port]) => ({ mac, port, bridge })));
  }
}

/** One hop as the walk sees it. */
interface At {
  packet: TracedPacket;
  hop: TraceHop;
  point: CapturePoint;
  /** +1 when the frame moves up the path's positions here, -1 down. */
  travel: number;
  /** The packet's first hop, and whether this is it. */
  origin: TraceHop;
  isOrigin: boolean;
}

/** At a pod's eth0: sent (to which MAC, and how it knew it), delivered, ignored, or a reflection. */
function podHop(s: L2State, { packet, hop, point, origin, isOrigin }: At): string {
  const ip = packet.kind !== 'arp' && packet.kind !== 'other' ? hostOf(packet.dst) : undefined;
  if (hop.reflected) return `hairpin: ${point.owner} gets its own frame back and ignores it`;
  if (isOrigin) {
    if (packet.kind !== 'arp') {
      const how = s.arpLearned.get(`${point.owner} ${ip}`) ?? s.arpLearned.get(`${point.owner} ${hop.dstMac}`) ?? 'ARP-resolved';
      return `sent by ${point.owner}: dst MAC ${hop.dstMac} (${how})`;
    }
    return hop.dstMac === BROADCAST ? `sent by ${point.owner}: ARP broadcast to ${BROADCAST}` : `sent by ${point.owner}: ARP ${packet.key.startsWith('arp who-has') ? 'request' : 'reply'}, unicast to ${hop.dstMac}`;
  }
  if (packet.kind === 'arp') return arpReceived(s, packet, hop, point, origin);
  const own = s.macOf(point.owner);
  if (own && hop.dstMac !== own && !isGroup(hop.dstMac)) return `received by ${point.owner}, dropped: dst MAC ${hop.dstMac} is not its own`;
  return ip !== undefined && ip === s.ipOf(point.owner) ? `delivered to ${point.owner} (${ip} is local)` : `delivered to ${point.owner}`;
}

/** An ARP frame arriving at a pod: answered or cached when it is for the pod's address, else ignored.
 * The target of a request also caches the asker (RFC 826's merge step). */
function arpReceived(s: L2State, packet: TracedPacket, hop: TraceHop, point: CapturePoint, origin: TraceHop): string {
  const target = packet.dst === s.ipOf(point.owner);
  const request = packet.key.startsWith('arp who-has');
  if (target && packet.src) {
    const how = `from the ARP ${request ? 'request' : 'reply'} at +${formatMs(hop.sinceStartNs)} ms`;
    s.arpLearned.set(`${point.owner} ${packet.src}`, how);
    s.arpLearned.set(`${point.owner} ${origin.srcMac}`, `${packet.src}'s, ${how}`);
  }
  if (request) return target ? `delivered to ${point.owner}: ${packet.dst} is its address, it answers` : `received by ${point.owner}: not its address, ignored`;
  return target ? `delivered to ${point.owner}: it caches ${packet.src} is-at ${origin.srcMac}` : `received by ${point.owner}`;
}

/** True when the frame enters the bridge at this host veth (rather than leaving it). */
function ingress(s: L2State, at: At): boolean {
  const bridge = s.nearestBridge(at.point.position);
  return bridge ? Math.sign(bridge.position - at.point.position) === at.travel : at.isOrigin;
}

/** At a host veth: into the bridge (and what the bridge learns), a reflection, or out towards a pod. */
function vethHop(s: L2State, at: At): string {
  const { hop, point, origin } = at;
  const bridge = s.nearestBridge(point.position);
  const br = bridge?.iface ?? 'the bridge';
  const port = point.iface;
  if (ingress(s, at)) {
    const fdb = s.fdbOf(bridge?.id);
    const was = fdb.get(hop.srcMac);
    const learn = was === port ? `refreshes ${hop.srcMac} on ${port}` : was ? `moves ${hop.srcMac} from ${was} to ${port}` : `learns ${hop.srcMac} on ${port}`;
    if (hop.srcMac && !isGroup(hop.srcMac)) fdb.set(hop.srcMac, port);
    return `enters bridge ${br} through port ${port}; the bridge ${learn}`;
  }
  if (hop.reflected) return `hairpin: ${br} sends it back out through ${port}, the port it came in on`;
  const pod = s.neighbour(point.position, 'pod-eth0');
  const text = `leaves ${br} through ${port}${pod ? ` towards ${pod.owner}` : ''}`;
  if (hop.ttl === undefined || origin.ttl === undefined) return text;
  const sameMacs = hop.srcMac === origin.srcMac && hop.dstMac === origin.dstMac;
  if (hop.ttl === origin.ttl && sameMacs) return `${text} (TTL ${hop.ttl}, same MACs: bridged, not routed)`;
  return hop.ttl !== origin.ttl ? `${text} (TTL ${origin.ttl} → ${hop.ttl}: routed)` : `${text} (MACs rewritten)`;
}

/** At the bridge: flooded, forwarded by its FDB, or taken by the node itself. */
function bridgeHop(s: L2State, { packet, hop, point, travel, isOrigin }: At): string {
  const sent = isOrigin ? `sent by ${point.owner} through ${point.iface}; ` : '';
  const known = s.fdbOf(point.id).get(hop.dstMac);
  const reflectedToo = packet.hops.some((h) => h.reflected) ? ', the ingress port too (hairpin)' : '';
  const endsHere = point.position === (travel > 0 ? s.lastPosition : 0);
  if (hop.dstMac === BROADCAST) return `${sent}broadcast: flooded to every port${reflectedToo}`;
  if (isGroup(hop.dstMac)) return `${sent}multicast: flooded to every port${reflectedToo}`;
  if (hop.dstMac === point.mac || known === point.iface || (!known && !isOrigin && endsHere)) return `for ${point.iface} itself: passed up to ${point.owner}'s IP stack`;
  if (known) return `${sent}forwarded to port ${known}: ${hop.dstMac} is in the FDB`;
  return `${sent}flooded to every port: ${hop.dstMac} unknown`;
}

/** Walks every hop of `packets` in timeline order, calling `each` with what the walk knows there. */
function walk(s: L2State, packets: readonly TracedPacket[], each: (at: At) => void): void {
  for (const { packet, hop } of timeline(packets)) {
    const point = s.byPosition.get(hop.position);
    if (!point) continue;
    const travel = (packet.direction === 'request' ? 1 : -1) * (hop.reflected ? -1 : 1);
    const origin = packet.hops[0];
    each({ packet, hop, point, travel, origin, isOrigin: hop === origin });
  }
}

/** Adds the layer-2 reason of every hop on the pod–veth–bridge path: who sent it and to which MAC,
 * what the bridge learned at the ingress port, whether it forwarded (destination MAC in its FDB, as
 * it was before the trace plus what it learned during it), flooded, or took it itself (the bridge's
 * own MAC: the node routes it), where it left, and where it was delivered. Each bridge of the path
 * keeps its own FDB. Returns copies; an explanation already set is kept and the layer-2 one appended
 * after "; ". Hops on VXLAN devices, uplinks and the underlay get none (see explainOverlay). */
export function explainL2(path: TracePath, packets: readonly TracedPacket[], fdbBefore: readonly FdbSeen[]): TracedPacket[] {
  const out = packets.map((p) => ({ ...p, hops: p.hops.map((h) => ({ ...h })) }));
  const s = new L2State(path, fdbBefore);
  walk(s, out, (at) => {
    const role = at.point.role;
    const text = role === 'pod-eth0' || role === 'host' ? podHop(s, at) : role === 'host-veth' ? vethHop(s, at) : role === 'bridge' ? bridgeHop(s, at) : undefined;
    if (text) at.hop.explanation = at.hop.explanation ? `${at.hop.explanation}; ${text}` : text;
  });
  return out;
}

/** The bridges' learned entries after `packets` crossed them, starting from `fdbBefore`: each source
 * MAC learned on the port it entered through (what a live watch carries from one journey to the next). */
export function fdbLearned(path: TracePath, packets: readonly TracedPacket[], fdbBefore: readonly FdbSeen[]): FdbSeen[] {
  const s = new L2State(path, fdbBefore);
  walk(s, packets, (at) => {
    if (at.point.role !== 'host-veth' || !ingress(s, at) || !at.hop.srcMac || isGroup(at.hop.srcMac)) return;
    s.fdbOf(s.nearestBridge(at.point.position)?.id).set(at.hop.srcMac, at.point.iface);
  });
  return s.entries();
}
