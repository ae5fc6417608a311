// What a host holds: every network namespace with its links, addresses, routes, neighbours and
// bridge FDB, each veth's peer resolved to a namespace, who each namespace is, and which cluster
// nodes the evidence names; plus the VXLAN peers a namespace's overlay state describes. Pure: the
// scanner (src/inspect/scan.ts) fills it from the machine; everything the user sees is drawn from it.
import { contains, parseCidr } from './ip.js';
import type { Addr, FdbEntry, Link, Neigh, Route } from './kernel.js';
import { isMulticastMac } from './mac.js';

/** How sure we are of a namespace's identity, and from what. */
export type IdentitySource = 'lab' | 'cni-cache' | 'host-local' | 'podman' | 'containerd' | 'process' | 'host' | 'none';

/** Who a namespace is. */
export interface Identity {
  /** pod: a container sandbox; node: a lab node; host: the namespace inspected as the host; switch: a lab underlay. */
  kind: 'pod' | 'node' | 'host' | 'switch' | 'unknown';
  /** The best name: pod name, node name, or `netns <inode> (pid N: cmd)` when nothing better is known. */
  name: string;
  /** Kubernetes namespace of a pod, when known (K8S_POD_NAMESPACE). */
  podNamespace?: string;
  /** The lab the namespace belongs to, for lab objects. */
  lab?: string;
  /** The sandbox / container ID, when known. */
  containerId?: string;
  source: IdentitySource;
}

/** A process inside a namespace. */
export interface NsProcess {
  pid: number;
  /** argv joined by spaces, as /proc/PID/cmdline has it. */
  cmd: string;
}

/** One network namespace and what it holds. */
export interface NetnsSnapshot {
  /** Stable key: `ino:<inode>`. */
  id: string;
  inode: number;
  /** Names under /run/netns (a namespace can be pinned under several). */
  names: string[];
  /** A path that opens it (pinned file, or /proc/PID/ns/net). */
  path: string;
  processes: NsProcess[];
  links: Link[];
  addrs: Addr[];
  routes: Route[];
  neighs: Neigh[];
  /** FDB of every bridge and vxlan device here (empty when there is none). */
  fdb: FdbEntry[];
  /** This namespace's nsids for the namespaces it can see, as `ip netns list-id` reports them. */
  nsids: { nsid: number; name?: string }[];
  /** Set when the namespace vanished or could not be read mid-scan; its lists are then empty. */
  error?: string;
  identity: Identity;
}

/** Where a veth's other end is. */
export interface VethPeer {
  /** The peer namespace's id (`ino:…`), when resolved. */
  netns?: string;
  /** The peer's ifindex (the N of `@ifN`). */
  index: number;
  /** The peer link's name, when resolved. */
  name?: string;
}

/** A cluster node as the evidence names it: a lab's state, or a real node's own
 * /run/flannel/subnet.env. Joins an overlay peer (node IP, VTEP MAC, pod subnet) to a name. */
export interface ClusterNode {
  name: string;
  /** Its underlay (public) IP, bare. */
  ip: string;
  /** Its pod subnet (10.42.1.0/24), '' when unknown. */
  podCIDR: string;
  /** The MAC of its VXLAN device (flannel.1), '' when unknown. */
  vtepMac: string;
  source: 'lab' | 'subnet.env';
}

/** A whole host. */
export interface Snapshot {
  takenAt: string;
  /** The id of the namespace inspected as the host. */
  host: string;
  namespaces: NetnsSnapshot[];
  /** The cluster's nodes the evidence names (absent when none does). */
  nodes?: ClusterNode[];
}

/** A veth end in one namespace. */
export interface VethEnd {
  netns: string;
  link: Link & { kind: 'veth' };
}

/** The veth ends of every namespace, keyed `netnsId/ifindex`. */
function vethEnds(s: Snapshot): VethEnd[] {
  return s.namespaces.flatMap((ns) => ns.links.filter((l): l is Link & { kind: 'veth' } => l.kind === 'veth').map((link) => ({ netns: ns.id, link })));
}

/** Resolves every veth's peer to a namespace and link. A peer is certain when the namespace's own
 * nsid table names it (`ip netns list-id`), or when exactly one veth elsewhere has the right
 * ifindex and points back; otherwise it stays unresolved (index only), never guessed. */
export function resolvePeers(s: Snapshot): Map<string, VethPeer> {
  const byId = new Map(s.namespaces.map((n) => [n.id, n]));
  const byName = new Map<string, string>();
  for (const n of s.namespaces) for (const name of n.names) byName.set(name, n.id);
  const ends = vethEnds(s);
  const key = (netns: string, index: number) => `${netns}/${index}`;
  const out = new Map<string, VethPeer>();
  for (const end of ends) {
    const { link } = end;
    const peerIndex = link.peerIndex;
    if (peerIndex === undefined) continue;
    // Same namespace: no link-netnsid.
    if (link.linkNetnsid === undefined) {
      const peer = byId.get(end.netns)?.links.find((l) => l.index === peerIndex);
      out.set(key(end.netns, link.index), { netns: end.netns, index: peerIndex, name: peer?.name });
      continue;
    }
    const named = byId.get(end.netns)?.nsids.find((x) => x.nsid === link.linkNetnsid)?.name;
    const namedId = named !== undefined ? byName.get(named) : undefined;
    const candidates = (namedId ? ends.filter((e) => e.netns === namedId) : ends.filter((e) => e.netns !== end.netns))
      .filter((e) => e.link.index === peerIndex && e.link.peerIndex === link.index && e.link.linkNetnsid !== undefined);
    out.set(key(end.netns, link.index), candidates.length === 1
      ? { netns: candidates[0].netns, index: peerIndex, name: candidates[0].link.name }
      : { index: peerIndex });
  }
  // A pair is symmetric: if one end resolved and the other did not, the other follows.
  for (const [k, peer] of out) {
    if (!peer.netns) continue;
    const back = out.get(key(peer.netns, peer.index));
    const [netns, index] = [k.slice(0, k.lastIndexOf('/')), Number(k.slice(k.lastIndexOf('/') + 1))];
    if (back && !back.netns) out.set(key(peer.netns, peer.index), { netns, index, name: byId.get(netns)?.links.find((l) => l.index === index)?.name });
  }
  return out;
}

/** The key resolvePeers uses for a link. */
export function peerKey(netns: string, index: number): string {
  return `${netns}/${index}`;
}

/** One remote VTEP as a VXLAN device's state describes it — flannel's three entries per remote node:
 * the route to its pod subnet via its VTEP IP, the neighbour VTEP IP → VTEP MAC, the FDB entry
 * VTEP MAC → its node IP. A missing entry leaves its fields empty. */
export interface VxlanPeer {
  /** The VXLAN device (flannel.1). */
  device: string;
  /** The route through the device, when there is one. */
  route?: Route;
  /** The VTEP IP: the route's gateway, or the neighbour's IP; '' when unknown. */
  vtepIp: string;
  neigh?: Neigh;
  /** The remote VTEP's MAC: the neighbour's lladdr, or the FDB entry's MAC; '' when unknown. */
  vtepMac: string;
  fdb?: FdbEntry;
  /** The remote node's underlay IP (the FDB entry's dst), '' when unknown. */
  nodeIp: string;
}

const ZERO_MAC = '00:00:00:00:00:00';

/** The peers of every VXLAN device of a namespace: one per route through the device (in kernel
 * order), then neighbours and unicast FDB entries that no route uses. */
export function vxlanPeers(ns: NetnsSnapshot): VxlanPeer[] {
  const out: VxlanPeer[] = [];
  for (const dev of ns.links.filter((l) => l.kind === 'vxlan')) {
    const neighs = ns.neighs.filter((n) => n.dev === dev.name);
    const fdb = ns.fdb.filter((e) => e.dev === dev.name && e.dst !== undefined && e.mac !== ZERO_MAC && !isMulticastMac(e.mac));
    const usedNeighs = new Set<Neigh>();
    const usedFdb = new Set<FdbEntry>();
    const peer = (route: Route | undefined, neigh: Neigh | undefined, mac: string): VxlanPeer => {
      const entry = mac ? fdb.find((e) => e.mac === mac) : undefined;
      if (neigh) usedNeighs.add(neigh);
      if (entry) usedFdb.add(entry);
      return {
        device: dev.name, ...(route ? { route } : {}), vtepIp: route?.gateway ?? neigh?.dst ?? '', ...(neigh ? { neigh } : {}),
        vtepMac: mac, ...(entry ? { fdb: entry } : {}), nodeIp: entry?.dst ?? '',
      };
    };
    for (const route of ns.routes.filter((r) => r.dev === dev.name)) {
      const neigh = route.gateway !== undefined ? neighs.find((n) => n.dst === route.gateway) : undefined;
      out.push(peer(route, neigh, neigh?.lladdr ?? ''));
    }
    for (const neigh of neighs.filter((n) => !usedNeighs.has(n))) out.push(peer(undefined, neigh, neigh.lladdr ?? ''));
    for (const entry of fdb.filter((e) => !usedFdb.has(e))) out.push(peer(undefined, undefined, entry.mac));
  }
  return out;
}

/** The cluster node a peer stands for: by its node IP, else its VTEP MAC, else the subnet its route covers. */
export function nodeOfPeer(nodes: readonly ClusterNode[] | undefined, p: VxlanPeer): ClusterNode | undefined {
  if (!nodes?.length) return undefined;
  const inSubnet = (n: ClusterNode) => {
    if (!n.podCIDR || !p.vtepIp) return false;
    try {
      return contains(parseCidr(n.podCIDR), p.vtepIp);
    } catch {
      return false;
    }
  };
  return (p.nodeIp ? nodes.find((n) => n.ip === p.nodeIp) : undefined)
    ?? (p.vtepMac ? nodes.find((n) => n.vtepMac === p.vtepMac) : undefined)
    ?? nodes.find(inSubnet);
}
