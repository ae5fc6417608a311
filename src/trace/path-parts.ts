// The pieces a trace's path is built from, over snapshots of the nodes: a node's view (its host
// namespace and veth peers), a pod's attachment (its interface, host veth and bridge), how a node
// sends a packet across flannel's overlay (route → VXLAN device → neighbour → FDB entry → remote node),
// the underlay switch between two uplinks, and the list of stations being built. Pure.
import { formatRoute, lookupRoute, type Link, type VxlanLink } from '../model/kernel.js';
import { nodeOfPeer, peerKey, resolvePeers, vxlanPeers, type NetnsSnapshot, type Snapshot, type VethPeer } from '../model/snapshot.js';
import type { CapturePoint, OverlayEnd, OverlayLeg } from '../model/trace.js';

/** A node of the path: its snapshot, its namespace, its name, its veth peers. */
export interface NodeView {
  s: Snapshot;
  host: NetnsSnapshot;
  name: string;
  peers: Map<string, VethPeer>;
}

/** A pod's side of the path: its node, its namespace, its interface, and the host veth and bridge it hangs on. */
export interface Attachment {
  node: NodeView;
  ns: NetnsSnapshot;
  owner: string;
  iface: Link;
  ip: string;
  hostVeth: Link;
  bridge?: string;
}

/** One node's side of an overlay crossing, as the path needs it. */
export interface Crossing {
  leg: OverlayLeg;
  vxlan: VxlanLink;
  uplink?: Link;
  /** The remote node, when it is one of the snapshots. */
  remote?: { node: NodeView; vxlan?: VxlanLink; uplink?: Link };
}

export const ipv4Of = (ns: NetnsSnapshot, link: string): string | undefined => ns.addrs.find((a) => a.link === link && a.family === 'inet')?.local;
export const holding = (ns: NetnsSnapshot, ip: string): Link | undefined => ns.links.find((l) => ns.addrs.some((a) => a.link === l.name && a.local === ip));

/** A snapshot as a node of the path (undefined when its host namespace is missing). */
export function nodeView(s: Snapshot): NodeView | undefined {
  const host = s.namespaces.find((n) => n.id === s.host);
  return host ? { s, host, name: host.identity.name, peers: resolvePeers(s) } : undefined;
}

/** Finds a namespace by its identity name, a pinned name or `ino:…`, on any node but as a node. */
export function findNs(views: readonly NodeView[], ref: string): NetnsSnapshot | undefined {
  const all = views.flatMap((v) => v.s.namespaces.filter((n) => !views.some((w) => w.host.id === n.id)));
  return all.find((n) => n.id === ref || n.names.includes(ref)) ?? all.find((n) => n.identity.name === ref);
}

/** The pod-side interface of `ns` whose peer is a veth in one of the nodes. */
export function attachment(views: readonly NodeView[], ns: NetnsSnapshot): Attachment | undefined {
  for (const node of views) {
    for (const iface of ns.links) {
      if (iface.kind !== 'veth') continue;
      const peer = node.peers.get(peerKey(ns.id, iface.index));
      if (peer?.netns !== node.host.id) continue;
      const hostVeth = node.host.links.find((l) => l.index === peer.index);
      const ip = ipv4Of(ns, iface.name);
      if (hostVeth && ip) return { node, ns, owner: ns.identity.name, iface, ip, hostVeth, ...(hostVeth.master ? { bridge: hostVeth.master } : {}) };
    }
  }
  return undefined;
}

/** The remote node's VXLAN device for `vxlan`: the same VNI and port; else one on the same port (a
 * VNI that does not match, kept so the explanation can say so). */
function remoteVxlan(remote: NodeView | undefined, vxlan: VxlanLink): { dev?: VxlanLink; seen?: VxlanLink } {
  const links = remote?.host.links.filter((l): l is VxlanLink => l.kind === 'vxlan') ?? [];
  const dev = links.find((l) => l.vni === vxlan.vni && l.dstport === vxlan.dstport);
  return { ...(dev ? { dev } : {}), ...((dev ?? links.find((l) => l.dstport === vxlan.dstport)) ? { seen: dev ?? links.find((l) => l.dstport === vxlan.dstport) } : {}) };
}

/** How `from` sends packets for `dstIp` across the overlay, or undefined when its route for it is not a VXLAN device. */
export function crossing(views: readonly NodeView[], from: NodeView, dstIp: string): Crossing | undefined {
  const route = lookupRoute(from.host.routes, dstIp);
  const vxlan = from.host.links.find((l): l is VxlanLink => l.kind === 'vxlan' && l.name === route?.dev);
  if (!route || !vxlan) return undefined;
  const peer = vxlanPeers(from.host).find((p) => p.route === route);
  const nodeIp = peer?.nodeIp ?? '';
  const remote = nodeIp ? views.find((v) => v !== from && holding(v.host, nodeIp)) : undefined;
  const { dev: rVxlan, seen } = remoteVxlan(remote, vxlan);
  const rUplink = remote ? holding(remote.host, nodeIp) : undefined;
  const uplink = vxlan.local !== undefined ? holding(from.host, vxlan.local) : undefined;
  const deliver = remote ? lookupRoute(remote.host.routes, dstIp) : undefined;
  const end = (n: NodeView | undefined, ip: string, dev: VxlanLink | undefined, up: Link | undefined, name: string): OverlayEnd => ({
    node: n?.name ?? name, ip, ...(dev ? { device: dev.name, deviceMac: dev.mac, vni: dev.vni, port: dev.dstport } : {}), ...(up ? { uplink: up.name } : {}),
  });
  const leg: OverlayLeg = {
    from: end(from, vxlan.local ?? '', vxlan, uplink, ''),
    to: end(remote, nodeIp, seen, rUplink, (peer && nodeOfPeer(from.s.nodes, peer)?.name) || nodeIp || '?'),
    route: formatRoute(route),
    ...(peer?.neigh?.lladdr ? { neighbour: { ip: peer.neigh.dst, mac: peer.neigh.lladdr, state: peer.neigh.state.join(',') } } : {}),
    ...(peer?.fdb?.dst ? { fdb: { mac: peer.fdb.mac, dst: peer.fdb.dst } } : {}),
    ...(deliver ? { deliver: formatRoute(deliver) } : {}),
  };
  return { leg, vxlan, ...(uplink ? { uplink } : {}), ...(remote ? { remote: { node: remote, ...(rVxlan ? { vxlan: rVxlan } : {}), ...(rUplink ? { uplink: rUplink } : {}) } } : {}) };
}

/** The reply's crossing when the remote node is unknown: from its IP to this node (what arrives and where it goes). */
export function inbound(out: Crossing, back: NodeView, srcIp: string): OverlayLeg {
  const deliver = lookupRoute(back.host.routes, srcIp);
  return { from: { node: out.leg.to.node, ip: out.leg.to.ip }, to: out.leg.from, ...(deliver ? { deliver: formatRoute(deliver) } : {}) };
}

/** The bridge (in some namespace of `v`'s snapshot) whose port is the veth peer of `v`'s link `l`. */
export function farBridge(v: NodeView, l: Link): { ns: NetnsSnapshot; bridge: string } | undefined {
  const p = v.peers.get(peerKey(v.host.id, l.index));
  const ns = p?.netns !== undefined ? v.s.namespaces.find((n) => n.id === p.netns) : undefined;
  const port = ns?.links.find((x) => x.index === p?.index);
  return ns && port?.master !== undefined && ns.links.some((x) => x.kind === 'bridge' && x.name === port.master) ? { ns, bridge: port.master } : undefined;
}

/** The underlay switch both uplinks hang on: a bridge in one namespace whose ports are the uplinks' veth peers. */
export function underlaySwitch(a: NodeView, up: Link, b: NodeView, bUp: Link): { ns: NetnsSnapshot; bridge: string } | undefined {
  const x = farBridge(a, up);
  const y = farBridge(b, bUp);
  return x && y && x.ns.id === y.ns.id && x.bridge === y.bridge ? x : undefined;
}

/** The stations of a path being built, in order. */
export class Stations {
  readonly points: CapturePoint[] = [];

  add(owner: string, netns: string, iface: string, role: CapturePoint['role'], mac?: string): void {
    this.points.push({ id: `${owner}/${iface}`, owner, netns, iface, role, position: this.points.length, ...(mac ? { mac } : {}) });
  }

  /** The bridge's MAC on a node. */
  static bridgeMac(v: NodeView, name: string): string | undefined {
    return v.host.links.find((l) => l.name === name)?.mac;
  }

  /** A pod's first three stations: its eth0, its host veth, the bridge. */
  podHead(a: Attachment): void {
    this.add(a.owner, a.ns.path, a.iface.name, 'pod-eth0');
    this.add(a.node.name, a.node.host.path, a.hostVeth.name, 'host-veth');
    this.add(a.node.name, a.node.host.path, a.bridge!, 'bridge', Stations.bridgeMac(a.node, a.bridge!));
  }

  /** A pod's last two stations: its host veth and its eth0. */
  podTail(a: Attachment): void {
    this.add(a.node.name, a.node.host.path, a.hostVeth.name, 'host-veth');
    this.add(a.owner, a.ns.path, a.iface.name, 'pod-eth0');
  }

  /** The overlay crossing from node A: its VXLAN device and uplink, the underlay switch, the remote
   * node's uplink, VXLAN device and the bridge its route for `dstIp` names. Returns where it ends. */
  overlay(A: NodeView, out: Crossing, dstIp: string): { node: NodeView; bridge?: string; remote: boolean } {
    this.add(A.name, A.host.path, out.vxlan.name, 'vxlan', out.vxlan.mac);
    if (out.uplink) this.add(A.name, A.host.path, out.uplink.name, 'node-uplink');
    const r = out.remote;
    if (!r) return { node: A, remote: false };
    const sw = out.uplink && r.uplink ? underlaySwitch(A, out.uplink, r.node, r.uplink) : undefined;
    if (sw) this.add(sw.ns.identity.kind === 'switch' ? 'underlay' : sw.ns.identity.name, sw.ns.path, sw.bridge, 'underlay');
    if (r.uplink) this.add(r.node.name, r.node.host.path, r.uplink.name, 'node-uplink');
    if (r.vxlan) this.add(r.node.name, r.node.host.path, r.vxlan.name, 'vxlan', r.vxlan.mac);
    const dev = lookupRoute(r.node.host.routes, dstIp)?.dev;
    const bridge = r.node.host.links.find((l) => l.kind === 'bridge' && l.name === dev)?.name;
    if (bridge) this.add(r.node.name, r.node.host.path, bridge, 'bridge', Stations.bridgeMac(r.node, bridge));
    return { node: r.node, ...(bridge ? { bridge } : {}), remote: true };
  }
}
