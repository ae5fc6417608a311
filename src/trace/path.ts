// The capture points a packet crosses between two pods, found in snapshots of their nodes. On one
// node: the source pod's eth0, its host veth, the bridge, the destination's host veth, its eth0. When
// the source node routes the destination into a VXLAN device (flannel.1), the path follows the
// kernel's state across the overlay: the VXLAN device, the node's uplink, the underlay switch (when
// a veth joins both uplinks to one bridge), the remote node's uplink and VXLAN device — the remote
// node being the one holding the FDB entry's IP — then its bridge, host veth and pod. A remote node
// that is not in the snapshots (a real K3s node's peer) ends the path at the local uplink.
import { parseIPv4 } from '../model/ip.js';
import { formatRoute, lookupRoute } from '../model/kernel.js';
import type { Snapshot } from '../model/snapshot.js';
import { UserError } from '../model/errors.js';
import type { OverlayLeg, TracePath } from '../model/trace.js';
import { attachment, crossing, farBridge, findNs, inbound, nodeView, Stations, type Attachment, type NodeView } from './path-parts.js';
import { natural } from '../model/order.js';


/** A trace from a pod to its own address (or to loopback): the packet never leaves the pod, the kernel
 * delivers it on `lo`, so no capture point sees it. Not a mistake of the user's: `podnet trace` prints
 * the message and exits 0 (a UserError of kind 'usage' for other callers, such as the UI). */
export class OwnAddress extends UserError {
  constructor(readonly pod: string, readonly ip: string, dst: string) {
    super('usage', `${pod} -> ${dst === pod ? `${pod} (${ip})` : ip}: a packet to the pod's own address stays on lo inside ${pod}; there is no hop on the path to capture`);
    this.name = 'OwnAddress';
  }
}

function podsOf(views: readonly NodeView[]): string {
  const names = views.flatMap((v) => v.s.namespaces.filter((p) => p.identity.kind === 'pod').map((p) => p.identity.name));
  return [...new Set(names)].sort(natural).join(', ') || 'none';
}

/** A pod on another node that the source node does not route into the overlay: the path follows the
 * route the node has (out through that device, and onto the underlay switch behind it) and ends there. */
function misrouted(from: Attachment, to: Attachment, dstIp: string): TracePath {
  const route = lookupRoute(from.node.host.routes, dstIp);
  const st = new Stations();
  st.podHead(from);
  const dev = route ? from.node.host.links.find((l) => l.name === route.dev) : undefined;
  if (dev && dev.name !== from.bridge) {
    st.add(from.node.name, from.node.host.path, dev.name, 'node-uplink');
    const sw = farBridge(from.node, dev);
    if (sw) st.add(sw.ns.identity.kind === 'switch' ? 'underlay' : sw.ns.identity.name, sw.ns.path, sw.bridge, 'underlay');
  }
  const vxlans = new Set(from.node.host.links.filter((l) => l.kind === 'vxlan').map((l) => l.name));
  const overlay = lookupRoute(from.node.host.routes.filter((r) => r.dev !== undefined && vxlans.has(r.dev)), dstIp);
  return {
    src: { owner: from.owner, ip: from.ip, mac: from.iface.mac }, dst: { owner: to.owner, ip: dstIp }, points: st.points,
    misroute: { node: from.node.name, dst: dstIp, dstNode: to.node.name, ...(route ? { route: formatRoute(route) } : {}), ...(overlay ? { overlayRoute: formatRoute(overlay) } : {}) },
  };
}

/** The path from pod `src` to `dst` (a pod name, or an IPv4 address) over the given node snapshots
 * (one node, or several: a lab). */
export function tracePath(snapshots: Snapshot | readonly Snapshot[], src: string, dst: string): TracePath {
  const views = (Array.isArray(snapshots) ? snapshots : [snapshots as Snapshot]).map(nodeView).filter((v): v is NodeView => v !== undefined);
  if (!views.length) throw new UserError('state', 'nothing to trace: the node\'s namespace could not be read');
  const nodeNames = views.map((v) => v.name).join(', ');
  const srcNs = findNs(views, src);
  if (!srcNs) throw new UserError('not-found', `unknown pod "${src}" on ${nodeNames} (pods: ${podsOf(views)})`);
  const from = attachment(views, srcNs);
  if (!from) throw new UserError('state', `pod "${src}" has no veth into ${nodeNames} with an IPv4 address: nothing to trace from`);
  if (!from.bridge) throw new UserError('state', `${from.hostVeth.name}, the host end of ${src}'s ${from.iface.name}, is on no bridge: podnet traces bridged pods`);

  let to: Attachment | undefined;
  let dstIp: string;
  const dstNs = /^\d+\.\d+\.\d+\.\d+$/.test(dst) ? undefined : findNs(views, dst);
  if (dstNs) {
    to = attachment(views, dstNs);
    if (!to) throw new UserError('state', `pod "${dst}" has no veth into ${nodeNames} with an IPv4 address (on another node? trace to its IP, or trace on a lab)`);
    dstIp = to.ip;
  } else {
    try {
      dstIp = parseIPv4(dst);
    } catch {
      throw new UserError('not-found', `unknown destination "${dst}": give a pod name or an IPv4 address`);
    }
    const owner = views.flatMap((v) => v.s.namespaces).find((p) => !views.some((v) => v.host.id === p.id) && p.addrs.some((a) => a.family === 'inet' && a.local === dstIp));
    to = owner ? attachment(views, owner) : undefined;
  }
  if (dstNs?.id === srcNs.id || dstIp === from.ip || dstIp.startsWith('127.')) throw new OwnAddress(from.owner, dstIp, dst);
  const out = to?.node === from.node ? undefined : crossing(views, from.node, dstIp);
  if (!out && to && to.node !== from.node) return misrouted(from, to, dstIp);
  if (!out && to && to.bridge !== from.bridge) throw new UserError('state', `${src} and ${to.owner} are on different bridges (${from.bridge}, ${to.bridge ?? 'none'})`);

  const st = new Stations();
  st.podHead(from);
  let last: { node: NodeView; bridge?: string } = { node: from.node, bridge: from.bridge };
  let reply: OverlayLeg | undefined;
  if (out) {
    last = st.overlay(from.node, out, dstIp);
    reply = out.remote ? crossing(views, out.remote.node, from.ip)?.leg : inbound(out, from.node, from.ip);
  }
  const reaches = to && to.node === last.node && last.bridge !== undefined && to.bridge === last.bridge;
  if (to && reaches) st.podTail(to);
  const points = st.points;
  const dstOwner = to?.owner ?? (views.find((v) => v.host.addrs.some((a) => a.local === dstIp))?.name ?? dstIp);
  return {
    src: { owner: from.owner, ip: from.ip, mac: from.iface.mac },
    dst: { owner: dstOwner, ip: dstIp, ...(to && reaches ? { mac: to.iface.mac } : {}) },
    points,
    ...(out ? { overlay: { request: out.leg, ...(reply ? { reply } : {}) } } : {}),
  };
}
