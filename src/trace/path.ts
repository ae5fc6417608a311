// The capture points a packet crosses between two pods, found in snapshots of their nodes. On one
// node: the source pod's eth0, its host veth, the bridge, the destination's host veth, its eth0. When
// the source node routes the destination into a VXLAN device (flannel.1), the path follows the
// kernel's state across the overlay: the VXLAN device, the node's uplink, the underlay switch (when
// a veth joins both uplinks to one bridge), the remote node's uplink and VXLAN device — the remote
// node being the one holding the FDB entry's IP — then its bridge, host veth and pod. A remote node
// that is not in the snapshots (a real K3s node's peer) ends the path at the local uplink.
import { parseIPv4 } from '../model/ip.js';
import { formatRoute, lookupRoute, type Link, type VxlanLink } from '../model/kernel.js';
import { nodeOfPeer, peerKey, resolvePeers, vxlanPeers, type NetnsSnapshot, type Snapshot, type VethPeer } from '../model/snapshot.js';
import { UserError } from '../model/errors.js';
import type { CapturePoint, OverlayEnd, OverlayLeg, TracePath } from '../model/trace.js';

/** A node of the path: its snapshot, its namespace, its name, its veth peers. */
interface NodeView {
  s: Snapshot;
  host: NetnsSnapshot;
  name: string;
  peers: Map<string, VethPeer>;
}

/** A pod's side of the path: its node, its namespace, its interface, and the host veth and bridge it hangs on. */
interface Attachment {
  node: NodeView;
  ns: NetnsSnapshot;
  owner: string;
  iface: Link;
  ip: string;
  hostVeth: Link;
  bridge?: string;
}

/** One node's side of an overlay crossing, as the path needs it. */
interface Crossing {
  leg: OverlayLeg;
  vxlan: VxlanLink;
  uplink?: Link;
  /** The remote node, when it is one of the snapshots. */
  remote?: { node: NodeView; vxlan?: VxlanLink; uplink?: Link };
}

const ipv4Of = (ns: NetnsSnapshot, link: string) => ns.addrs.find((a) => a.link === link && a.family === 'inet')?.local;
const holding = (ns: NetnsSnapshot, ip: string) => ns.links.find((l) => ns.addrs.some((a) => a.link === l.name && a.local === ip));
const natural = new Intl.Collator('en', { numeric: true }).compare;

function nodeView(s: Snapshot): NodeView | undefined {
  const host = s.namespaces.find((n) => n.id === s.host);
  return host ? { s, host, name: host.identity.name, peers: resolvePeers(s) } : undefined;
}

/** Finds a namespace by its identity name, a pinned name or `ino:…`, on any node but as a node. */
function findNs(views: readonly NodeView[], ref: string): NetnsSnapshot | undefined {
  const all = views.flatMap((v) => v.s.namespaces.filter((n) => !views.some((w) => w.host.id === n.id)));
  return all.find((n) => n.id === ref || n.names.includes(ref)) ?? all.find((n) => n.identity.name === ref);
}

/** The pod-side interface of `ns` whose peer is a veth in one of the nodes. */
function attachment(views: readonly NodeView[], ns: NetnsSnapshot): Attachment | undefined {
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

/** How `from` sends packets for `dstIp` across the overlay, or undefined when its route for it is not a VXLAN device. */
function crossing(views: readonly NodeView[], from: NodeView, dstIp: string): Crossing | undefined {
  const route = lookupRoute(from.host.routes, dstIp);
  const vxlan = from.host.links.find((l): l is VxlanLink => l.kind === 'vxlan' && l.name === route?.dev);
  if (!route || !vxlan) return undefined;
  const peer = vxlanPeers(from.host).find((p) => p.route === route);
  const nodeIp = peer?.nodeIp ?? '';
  const remote = nodeIp ? views.find((v) => v !== from && holding(v.host, nodeIp)) : undefined;
  const rVxlan = remote?.host.links.find((l): l is VxlanLink => l.kind === 'vxlan' && l.vni === vxlan.vni && l.dstport === vxlan.dstport);
  const rUplink = remote ? holding(remote.host, nodeIp) : undefined;
  const uplink = vxlan.local !== undefined ? holding(from.host, vxlan.local) : undefined;
  const deliver = remote ? lookupRoute(remote.host.routes, dstIp) : undefined;
  const end = (n: NodeView | undefined, ip: string, dev: VxlanLink | undefined, up: Link | undefined, name: string): OverlayEnd => ({
    node: n?.name ?? name, ip, ...(dev ? { device: dev.name, deviceMac: dev.mac, vni: dev.vni, port: dev.dstport } : {}), ...(up ? { uplink: up.name } : {}),
  });
  const leg: OverlayLeg = {
    from: end(from, vxlan.local ?? '', vxlan, uplink, ''),
    to: end(remote, nodeIp, rVxlan, rUplink, (peer && nodeOfPeer(from.s.nodes, peer)?.name) || nodeIp || '?'),
    route: formatRoute(route),
    ...(peer?.neigh?.lladdr ? { neighbour: { ip: peer.neigh.dst, mac: peer.neigh.lladdr, state: peer.neigh.state.join(',') } } : {}),
    ...(peer?.fdb?.dst ? { fdb: { mac: peer.fdb.mac, dst: peer.fdb.dst } } : {}),
    ...(deliver ? { deliver: formatRoute(deliver) } : {}),
  };
  return { leg, vxlan, ...(uplink ? { uplink } : {}), ...(remote ? { remote: { node: remote, ...(rVxlan ? { vxlan: rVxlan } : {}), ...(rUplink ? { uplink: rUplink } : {}) } } : {}) };
}

/** The reply's crossing when the remote node is unknown: from its IP to this node (what arrives and where it goes). */
function inbound(out: Crossing, back: NodeView, srcIp: string): OverlayLeg {
  const deliver = lookupRoute(back.host.routes, srcIp);
  return { from: { node: out.leg.to.node, ip: out.leg.to.ip }, to: out.leg.from, ...(deliver ? { deliver: formatRoute(deliver) } : {}) };
}

/** The underlay switch both uplinks hang on: a bridge in one namespace whose ports are the uplinks' veth peers. */
function underlaySwitch(a: NodeView, up: Link, b: NodeView, bUp: Link): { ns: NetnsSnapshot; bridge: string } | undefined {
  const far = (v: NodeView, l: Link) => {
    const p = v.peers.get(peerKey(v.host.id, l.index));
    const ns = p?.netns !== undefined ? v.s.namespaces.find((n) => n.id === p.netns) : undefined;
    const port = ns?.links.find((x) => x.index === p?.index);
    return ns && port?.master !== undefined && ns.links.some((x) => x.kind === 'bridge' && x.name === port.master) ? { ns, bridge: port.master } : undefined;
  };
  const x = far(a, up);
  const y = far(b, bUp);
  return x && y && x.ns.id === y.ns.id && x.bridge === y.bridge ? x : undefined;
}

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
  if (!out && to && to.node !== from.node) {
    throw new UserError('state', `${to.owner} is on ${to.node.name}, but ${from.node.name} does not route ${dstIp} through a VXLAN device (${lookupRoute(from.node.host.routes, dstIp)?.dev ?? 'no route'}): see podnet inspect overlay ${from.node.name}`);
  }
  if (!out && to && to.bridge !== from.bridge) throw new UserError('state', `${src} and ${to.owner} are on different bridges (${from.bridge}, ${to.bridge ?? 'none'})`);

  const points: CapturePoint[] = [];
  const add = (owner: string, netns: string, iface: string, role: CapturePoint['role'], mac?: string) =>
    points.push({ id: `${owner}/${iface}`, owner, netns, iface, role, position: points.length, ...(mac ? { mac } : {}) });
  const bridgeMac = (v: NodeView, name: string) => v.host.links.find((l) => l.name === name)?.mac;
  const A = from.node;
  add(from.owner, from.ns.path, from.iface.name, 'pod-eth0');
  add(A.name, A.host.path, from.hostVeth.name, 'host-veth');
  add(A.name, A.host.path, from.bridge, 'bridge', bridgeMac(A, from.bridge));
  let last: { node: NodeView; bridge?: string } = { node: A, bridge: from.bridge };
  let reply: OverlayLeg | undefined;
  if (out) {
    add(A.name, A.host.path, out.vxlan.name, 'vxlan', out.vxlan.mac);
    if (out.uplink) add(A.name, A.host.path, out.uplink.name, 'node-uplink');
    const r = out.remote;
    if (r) {
      const sw = out.uplink && r.uplink ? underlaySwitch(A, out.uplink, r.node, r.uplink) : undefined;
      if (sw) add(sw.ns.identity.kind === 'switch' ? 'underlay' : sw.ns.identity.name, sw.ns.path, sw.bridge, 'underlay');
      if (r.uplink) add(r.node.name, r.node.host.path, r.uplink.name, 'node-uplink');
      if (r.vxlan) add(r.node.name, r.node.host.path, r.vxlan.name, 'vxlan', r.vxlan.mac);
      const dev = lookupRoute(r.node.host.routes, dstIp)?.dev;
      const bridge = r.node.host.links.find((l) => l.kind === 'bridge' && l.name === dev)?.name;
      if (bridge) add(r.node.name, r.node.host.path, bridge, 'bridge', bridgeMac(r.node, bridge));
      last = { node: r.node, ...(bridge ? { bridge } : {}) };
      reply = crossing(views, r.node, from.ip)?.leg;
    } else {
      last = { node: A };
      reply = inbound(out, A, from.ip);
    }
  }
  const reaches = to && to.node === last.node && last.bridge !== undefined && to.bridge === last.bridge;
  if (to && reaches) {
    add(to.node.name, to.node.host.path, to.hostVeth.name, 'host-veth');
    add(to.owner, to.ns.path, to.iface.name, 'pod-eth0');
  }
  const dstOwner = to?.owner ?? (views.find((v) => v.host.addrs.some((a) => a.local === dstIp))?.name ?? dstIp);
  return {
    src: { owner: from.owner, ip: from.ip, mac: from.iface.mac },
    dst: { owner: dstOwner, ip: dstIp, ...(to && reaches ? { mac: to.iface.mac } : {}) },
    points,
    ...(out ? { overlay: { request: out.leg, ...(reply ? { reply } : {}) } } : {}),
  };
}
