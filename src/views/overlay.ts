// `podnet inspect overlay`: each VXLAN device of the host (flannel.1: VNI, local IP, UDP port,
// learning, MTU) and, per remote node, flannel's three entries joined — the route to its pod subnet
// via its VTEP IP, the neighbour VTEP IP → VTEP MAC, the FDB entry VTEP MAC → node IP — with the
// node's name when the evidence gives one (a lab's state), else its IP, and what a missing entry breaks.
import { formatRoute, type VxlanLink } from '../model/kernel.js';
import { nodeOfPeer, vxlanPeers, type Snapshot, type VxlanPeer } from '../model/snapshot.js';
import { hostOf, ownerIndex, peerName, v4, type Owners } from './common.js';

/** One remote node as one VXLAN device of the host sees it (or the device alone, when it has no peer). */
export interface OverlayViewRow {
  /** The host's identity name (the node holding the device). */
  node: string;
  /** The VXLAN device (flannel.1) and its attributes as `ip -d link` reports them. */
  device: string;
  vni: number;
  local: string;
  dstport: number;
  learning: boolean;
  mtu: number;
  deviceMac: string;
  /** The device's IPv4 addresses, as CIDRs (10.42.0.0/32). */
  addresses: string[];
  /** The remote node: its name when known, else its underlay IP; '' for a device without peers. */
  remote: string;
  /** The remote node's namespace id when it is in this snapshot, else ''. */
  remoteNetnsId: string;
  /** Its underlay IP: where the FDB entry sends the device's frames. */
  remoteIp: string;
  /** Its pod subnet: the destination of the route through the device. */
  subnet: string;
  /** Its VTEP IP (the route's gateway, 10.42.Y.0) and VTEP MAC (the neighbour's lladdr). */
  vtepIp: string;
  vtepMac: string;
  /** The neighbour entry's states (PERMANENT), '' when there is none. */
  neigh: string;
  /** The FDB entry's state (permanent), '' when there is none. */
  fdb: string;
  /** The route as `ip route` prints it, '' when there is none. */
  route: string;
  /** `ok`, or what is missing and what that breaks. */
  status: string;
}

/** What is wrong with a peer, in one line; `ok` when flannel's three entries agree. */
function statusOf(s: Snapshot, p: VxlanPeer, remote: string): string {
  const who = remote || 'the remote node';
  const problems: string[] = [];
  if (!p.route) problems.push(`no route through ${p.device} to ${p.vtepIp || p.vtepMac}: nothing is sent to ${who}'s pods`);
  if (p.vtepIp && !p.neigh?.lladdr) problems.push(`no neighbour entry for ${p.vtepIp}: the kernel would ARP over the overlay, and nobody answers (nolearning)`);
  if (p.vtepMac && !p.fdb) problems.push(`no FDB entry for ${p.vtepMac}: ${p.device} does not know which node IP to send to`);
  const node = nodeOfPeer(s.nodes, { ...p, nodeIp: '' });
  if (node && p.nodeIp && node.ip !== p.nodeIp) problems.push(`the FDB entry sends to ${p.nodeIp}, but ${node.name} is at ${node.ip}`);
  return problems.length ? problems.join('; ') : 'ok';
}

function deviceRow(s: Snapshot, dev: VxlanLink): Omit<OverlayViewRow, 'remote' | 'remoteNetnsId' | 'remoteIp' | 'subnet' | 'vtepIp' | 'vtepMac' | 'neigh' | 'fdb' | 'route' | 'status'> {
  const host = hostOf(s)!;
  return {
    node: host.identity.name, device: dev.name, vni: dev.vni ?? 0, local: dev.local ?? '', dstport: dev.dstport ?? 0,
    learning: dev.learning ?? false, mtu: dev.mtu, deviceMac: dev.mac, addresses: v4(host, dev.name),
  };
}

function peerRow(s: Snapshot, owners: Owners, dev: VxlanLink, p: VxlanPeer): OverlayViewRow {
  const { name, netnsId } = peerName(s, owners, p);
  const remote = name || p.nodeIp;
  return {
    ...deviceRow(s, dev), remote, remoteNetnsId: netnsId, remoteIp: p.nodeIp, subnet: p.route?.dst ?? '', vtepIp: p.vtepIp, vtepMac: p.vtepMac,
    neigh: p.neigh?.state.join(',') ?? '', fdb: p.fdb?.state ?? '', route: p.route ? formatRoute(p.route) : '', status: statusOf(s, p, remote),
  };
}

/** The rows of `podnet inspect overlay` for the snapshot's host: per VXLAN device, one row per peer in
 * kernel route order (a device without peers gets one row with the peer fields empty). */
export function inspectOverlay(s: Snapshot): OverlayViewRow[] {
  const host = hostOf(s);
  if (!host) return [];
  const owners = ownerIndex(s);
  const peers = vxlanPeers(host);
  return host.links.filter((l): l is VxlanLink => l.kind === 'vxlan').flatMap((dev) => {
    const mine = peers.filter((p) => p.device === dev.name);
    if (mine.length) return mine.map((p) => peerRow(s, owners, dev, p));
    return [{ ...deviceRow(s, dev), remote: '', remoteNetnsId: '', remoteIp: '', subnet: '', vtepIp: '', vtepMac: '', neigh: '', fdb: '', route: '', status: `no remote nodes: nothing is routed through ${dev.name}` }];
  });
}
