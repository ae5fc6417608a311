// The kernel's reason for each hop of a packet that crosses nodes through flannel's VXLAN overlay,
// from the path's overlay legs (the state read before the probe) and the headers seen at each hop:
// the sending node's route into flannel.1 and its neighbour VTEP IP → VTEP MAC, the FDB entry VTEP
// MAC → remote node IP and the outer UDP/IP headers it produces, the underlay switch, the remote
// node's decapsulation by port and VNI, and its route to the destination. Pure.
import type { CapturePoint, OverlayLeg, TraceHop, TracedPacket, TracePath } from '../model/trace.js';

const OVERLAY_ROLES = new Set<CapturePoint['role']>(['vxlan', 'node-uplink', 'underlay']);

/** ` (TTL 64 → 63)` when the hop's TTL differs from the one seen before it. */
function ttlChange(before: TraceHop | undefined, hop: TraceHop): string {
  return before?.ttl !== undefined && hop.ttl !== undefined && hop.ttl !== before.ttl ? ` (TTL ${before.ttl} → ${hop.ttl})` : '';
}

/** `agent1 (198.51.100.3)`, or the IP alone when no name is known. */
const nodeText = (node: string, ip: string) => (node === ip || !ip ? node : `${node} (${ip})`);

/** The VXLAN device of the sending node: the route picked it, the neighbour entry gave the VTEP MAC
 * (and without an FDB entry for that MAC, the device drops the frame here). */
function encapsulating(leg: OverlayLeg, before: TraceHop | undefined, hop: TraceHop): string {
  const n = leg.neighbour;
  const neighbour = n
    ? `neighbour ${n.ip} is ${n.mac} (${n.state}), ${leg.to.node}'s VTEP: the inner frame goes to ${hop.dstMac}`
    : 'no neighbour entry for the route\'s gateway: the kernel has to ARP over the overlay, and nobody answers (nolearning)';
  const dropped = n && !leg.fdb ? `; no FDB entry for ${n.mac}: ${leg.from.device ?? 'the device'} knows no node IP to send it to, and drops it` : '';
  return `routed by ${leg.from.node}: ${leg.route ?? `into ${leg.from.device ?? 'the VXLAN device'}`}${ttlChange(before, hop)}; ${neighbour}${dropped}`;
}

/** The sending node's uplink: the FDB entry chose the remote node IP, the outer headers show it. */
function leaving(leg: OverlayLeg, point: CapturePoint, hop: TraceHop): string {
  const f = leg.fdb;
  const fdb = f ? `FDB ${f.mac} dst ${f.dst}${leg.to.node !== f.dst ? ` = ${leg.to.node}` : ''}` : 'no FDB entry for the VTEP MAC';
  const o = hop.outer;
  const outer = o ? `; outer ${o.src}:${o.srcPort} → ${o.dst}:${o.dstPort} UDP, VNI ${o.vni}, TTL ${o.ttl}` : '';
  return `encapsulated by ${leg.from.device ?? 'the VXLAN device'} (${fdb})${outer}; leaves ${leg.from.node} through ${point.iface}`;
}

function switched(leg: OverlayLeg, point: CapturePoint, hop: TraceHop): string {
  return `switched by the underlay bridge ${point.iface} towards ${nodeText(leg.to.node, leg.to.ip)}${hop.outer ? `, outer dst MAC ${hop.outer.dstMac}` : ''}`;
}

/** The receiving node's uplink: UDP to the VXLAN port with the device's VNI is decapsulated. */
function arriving(leg: OverlayLeg, hop: TraceHop): string {
  const o = hop.outer;
  const dev = leg.to.device ?? 'the VXLAN device';
  if (o && leg.to.vni !== undefined && o.vni !== leg.to.vni) {
    return `arrives at ${nodeText(leg.to.node, o.dst)}: UDP ${o.dstPort} is ${dev}'s port, but it carries VNI ${o.vni} and ${dev} has VNI ${leg.to.vni}: no VXLAN device takes it, the kernel drops it`;
  }
  const matches = o ? `: UDP ${o.dstPort} is ${dev}'s port and VNI ${o.vni} its id` : '';
  return `arrives at ${nodeText(leg.to.node, o?.dst ?? leg.to.ip)}${matches}: the kernel decapsulates it`;
}

function decapsulated(leg: OverlayLeg, hop: TraceHop): string {
  const dev = leg.to.device ?? 'the VXLAN device';
  const own = leg.to.deviceMac === undefined || hop.dstMac === leg.to.deviceMac;
  const vni = leg.to.vni !== undefined ? ` (VNI ${leg.to.vni})` : '';
  return own
    ? `decapsulated by ${leg.to.node}'s ${dev}${vni}: inner dst MAC ${hop.dstMac} is its own, so ${leg.to.node} routes the packet`
    : `decapsulated by ${leg.to.node}'s ${dev}${vni}: inner dst MAC ${hop.dstMac} is not its own (${leg.to.deviceMac}), dropped`;
}

/** The receiving node's bridge: its route to the destination sent the packet there. */
function routedIn(leg: OverlayLeg, point: CapturePoint, before: TraceHop | undefined, hop: TraceHop): string {
  return `routed by ${leg.to.node}: ${leg.deliver ?? `out through ${point.iface}`}${ttlChange(before, hop)}`;
}

/** The overlay reason of one hop of a packet that crossed (`before`: the hop seen just before it), or
 * undefined when the hop is no overlay hop. */
function explainHop(leg: OverlayLeg, point: CapturePoint, before: TraceHop | undefined, hop: TraceHop): string | undefined {
  const at = point.owner === leg.from.node ? 'from' : point.owner === leg.to.node ? 'to' : undefined;
  if (point.role === 'underlay') return switched(leg, point, hop);
  if (point.role === 'vxlan') return at === 'from' ? encapsulating(leg, before, hop) : at === 'to' ? decapsulated(leg, hop) : undefined;
  if (point.role === 'node-uplink') return at === 'from' ? leaving(leg, point, hop) : at === 'to' ? arriving(leg, hop) : undefined;
  if (point.role === 'bridge' && at === 'to') return routedIn(leg, point, before, hop);
  return undefined;
}

/** Adds the overlay reason to every hop of the packets that crossed nodes (seen on a VXLAN device, an
 * uplink or the underlay): requests by the path's request leg, replies by its reply leg. Returns
 * copies; an explanation already set is kept and this one appended after "; ". */
export function explainOverlay(path: TracePath, packets: readonly TracedPacket[]): TracedPacket[] {
  const byPosition = new Map(path.points.map((p) => [p.position, p]));
  return packets.map((packet) => {
    const leg = packet.direction === 'request' ? path.overlay?.request : path.overlay?.reply;
    if (!leg || !packet.hops.some((h) => OVERLAY_ROLES.has(h.role))) return packet;
    return {
      ...packet,
      hops: packet.hops.map((hop, i) => {
        const point = byPosition.get(hop.position);
        const text = point ? explainHop(leg, point, packet.hops[i - 1], hop) : undefined;
        return text ? { ...hop, explanation: hop.explanation ? `${hop.explanation}; ${text}` : text } : hop;
      }),
    };
  });
}
