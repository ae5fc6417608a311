// `podnet graph`: the topology of the host namespace as plain data — the host interfaces, each
// bridge and VXLAN device, the remote nodes each VXLAN device sends to, the host veths, and each pod
// namespace with its interfaces — drawn by the Mermaid, DOT and SVG renderers beside this file.
// Every element carries a stable id the renderers use; edges are given as ids (uplink, underlay,
// vxlan, bridge, iface, veth).
import type { Link } from '../model/kernel.js';
import type { Snapshot } from '../model/snapshot.js';
import { peerKey, resolvePeers, vxlanPeers } from '../model/snapshot.js';
import { addressOf } from '../model/ip.js';
import { hostOf, ipLinkName, kindOf, ownerIndex, peerName, v4 } from './common.js';
import { inspectPods } from './pods.js';
import type { GraphService } from './graph-services.js';

/** A host interface: a link of the host namespace with an IPv4 address that is not loopback, a bridge, a VXLAN device or a bridge port. */
export interface GraphInterface {
  /** Graph id. */
  id: string;
  /** Link name (eth0). */
  name: string;
  /** Link kind (device, veth, …). */
  kind: string;
  /** IPv4 addresses as CIDRs. */
  ips: string[];
}

/** A bridge of the host namespace. */
export interface GraphBridge {
  id: string;
  name: string;
  /** IPv4 addresses as CIDRs (the pods' gateway). */
  ips: string[];
  /** Id of the host interface it is drawn connected to (the default route's, else the first), '' when none. */
  uplink: string;
}

/** A VXLAN device of the host namespace (flannel.1). */
export interface GraphVxlan {
  id: string;
  name: string;
  /** IPv4 addresses as CIDRs. */
  ips: string[];
  /** VXLAN network identifier, 0 when the kernel did not report it. */
  vni: number;
  /** UDP destination port, 0 when not reported. */
  dstport: number;
  /** Local (underlay) IP, '' when not reported. */
  local: string;
  /** Id of the host interface that carries its packets (the one holding `local`, else the uplink), '' when none. */
  underlay: string;
}

/** A remote node a VXLAN device of the host sends to (flannel's route, neighbour and FDB entry for it). */
export interface GraphRemote {
  id: string;
  /** The node's name when the evidence gives one, else its underlay IP. */
  name: string;
  /** Its underlay IP (the FDB entry's dst), '' when unknown. */
  ip: string;
  /** Its pod subnet (the route through the device), '' when unknown. */
  subnet: string;
  /** Its VTEP MAC, '' when unknown. */
  vtepMac: string;
  /** Id of the VXLAN device that reaches it. */
  vxlan: string;
}

/** A host veth (every veth of the host namespace that is not a host interface). */
export interface GraphVeth {
  id: string;
  name: string;
  /** As `ip link` prints it: `veth82ebd960@if2`. */
  label: string;
  /** Id of the bridge it is enslaved to, '' when none. */
  bridge: string;
  /** Hairpin mode of its bridge port. */
  hairpin: boolean;
  /** Bridge-port state, else operstate. */
  state: string;
  /** The other end: `<namespace>:<link>`, or `ifN (unresolved)`. */
  peer: string;
  /** Id of the pod interface at the other end, '' when it is not in a drawn pod. */
  iface: string;
}

/** An interface of a pod namespace paired with a host veth. */
export interface GraphPodIface {
  id: string;
  name: string;
  /** As `ip link` prints it: `eth0@if13`. */
  label: string;
  /** IPv4 addresses as CIDRs. */
  ips: string[];
  /** Id of the host veth it is paired with. */
  veth: string;
}

/** A pod namespace (any namespace whose veth's peer is a host veth). */
export interface GraphPod {
  id: string;
  /** Its namespace id (`ino:<inode>`), '' when not from a snapshot. */
  netnsId: string;
  /** Identity name: pod name, or `netns <inode> (pid N: cmd)`. */
  name: string;
  /** Identity kind: pod, node, switch, unknown. */
  kind: string;
  /** Its pinned name or path, '' when not known. */
  netns: string;
  ifaces: GraphPodIface[];
}

/** The topology of one host namespace. */
export interface GraphModel {
  /** The host namespace's identity name (the node). */
  node: string;
  interfaces: GraphInterface[];
  bridges: GraphBridge[];
  vxlans: GraphVxlan[];
  /** The remote nodes of the VXLAN devices. */
  remotes: GraphRemote[];
  veths: GraphVeth[];
  pods: GraphPod[];
  /** A lab's Services with edges to their endpoints (graph-services.ts); absent on a host. */
  services?: GraphService[];
}

/** A readable id: runs of anything but letters and digits become one `_`. */
export const slug = (s: string): string => s.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '');

/** Hands out ids `<parent>_<slug of name>`, unique within one graph (a clash gets `_2`, `_3`, …). */
function idMaker(): (parent: string, name: string) => string {
  const used = new Set<string>();
  return (parent, name) => {
    const base = `${parent}_${slug(name) || 'x'}`;
    let id = base;
    for (let i = 2; used.has(id); i++) id = `${base}_${i}`;
    used.add(id);
    return id;
  };
}

const isLoopback = (l: Link) => kindOf(l) === 'loopback' || l.flags.includes('LOOPBACK');

/** The graph of the snapshot's host namespace. */
export function graphModel(s: Snapshot): GraphModel {
  const host = hostOf(s);
  const node = host?.identity.name ?? s.host;
  const empty: GraphModel = { node, interfaces: [], bridges: [], vxlans: [], remotes: [], veths: [], pods: [] };
  if (!host) return empty;
  const prefix = slug(node) || 'host';
  const unique = idMaker();
  const mkId = (name: string) => unique(prefix, name);
  const linkId = new Map<string, string>();
  const idOf = (name: string) => linkId.get(name) ?? '';

  const interfaces: GraphInterface[] = host.links
    .filter((l) => !isLoopback(l) && l.kind !== 'bridge' && l.kind !== 'vxlan' && l.master === undefined && v4(host, l.name).length > 0)
    .map((l) => ({ id: mkId(l.name), name: l.name, kind: kindOf(l), ips: v4(host, l.name) }));
  for (const i of interfaces) linkId.set(i.name, i.id);
  const viaDefault = host.routes.find((r) => r.dst === 'default' && r.dev !== undefined && linkId.has(r.dev))?.dev;
  const uplink = viaDefault !== undefined ? idOf(viaDefault) : interfaces[0]?.id ?? '';

  const bridges: GraphBridge[] = host.links.filter((l) => l.kind === 'bridge').map((l) => ({ id: mkId(l.name), name: l.name, ips: v4(host, l.name), uplink }));
  for (const b of bridges) linkId.set(b.name, b.id);
  const vxlans: GraphVxlan[] = host.links.flatMap((l) => (l.kind !== 'vxlan' ? [] : [{
    id: mkId(l.name), name: l.name, ips: v4(host, l.name), vni: l.vni ?? 0, dstport: l.dstport ?? 0, local: l.local ?? '',
    underlay: idOf(interfaces.find((i) => i.ips.some((ip) => addressOf(ip) === l.local))?.name ?? '') || uplink,
  }]));
  const owners = ownerIndex(s);
  const remotes: GraphRemote[] = vxlanPeers(host).filter((p) => p.nodeIp || p.route).map((p) => {
    const name = peerName(s, owners, p).name || p.nodeIp || p.vtepIp;
    return { id: mkId(`remote ${name}`), name, ip: p.nodeIp, subnet: p.route?.dst ?? '', vtepMac: p.vtepMac, vxlan: vxlans.find((x) => x.name === p.device)?.id ?? '' };
  });

  const rows = inspectPods(s);
  const pods: GraphPod[] = [];
  const podOf = new Map<string, GraphPod>();
  const ifaceOfVeth = new Map<number, GraphPodIface>();
  const vethIds = new Map<number, string>();
  for (const r of rows) {
    if (!r.netnsId || linkId.has(host.links.find((l) => l.index === r.hostIndex)?.name ?? '')) continue;
    let pod = podOf.get(r.netnsId);
    if (!pod) {
      pod = { id: mkId(r.pod), netnsId: r.netnsId, name: r.pod, kind: r.kind, netns: r.netns, ifaces: [] };
      podOf.set(r.netnsId, pod);
      pods.push(pod);
    }
    const name = r.iface.split('@')[0];
    const vethId = mkId(r.hostVeth.split('@')[0]);
    vethIds.set(r.hostIndex, vethId);
    const iface = { id: unique(pod.id, name), name, label: r.iface, ips: r.ips, veth: vethId };
    pod.ifaces.push(iface);
    ifaceOfVeth.set(r.hostIndex, iface);
  }

  const peers = resolvePeers(s);
  const byId = new Map(s.namespaces.map((n) => [n.id, n]));
  const hostVeths = host.links.filter((l) => l.kind === 'veth' && !linkId.has(l.name));
  const podOrder = new Map([...ifaceOfVeth.keys()].map((index, i) => [index, i]));
  hostVeths.sort((a, b) => (podOrder.get(a.index) ?? 1e9 + a.index) - (podOrder.get(b.index) ?? 1e9 + b.index));
  const veths: GraphVeth[] = hostVeths.map((l) => {
    const p = peers.get(peerKey(host.id, l.index));
    const other = p?.netns !== undefined ? byId.get(p.netns) : undefined;
    const index = p?.index ?? (l.kind === 'veth' ? l.peerIndex : undefined);
    const peer = other ? `${other.identity.name}:${p?.name ?? `if${index}`}` : `if${index ?? '?'} (unresolved)`;
    return {
      id: vethIds.get(l.index) ?? mkId(l.name),
      name: l.name,
      label: ipLinkName(l),
      bridge: l.master !== undefined ? idOf(l.master) : '',
      hairpin: l.port?.hairpin ?? false,
      state: l.port?.state ?? l.operstate,
      peer,
      iface: ifaceOfVeth.get(l.index)?.id ?? '',
    };
  });
  return { node, interfaces, bridges, vxlans, remotes, veths, pods };
}
