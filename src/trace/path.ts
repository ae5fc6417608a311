// The capture points a packet crosses between two pods of one node, found in a snapshot: the source
// pod's eth0, its host veth, the bridge, the destination's host veth, the destination's eth0. The
// path is data, so cross-node hops (flannel.1, the node's uplink) can be added without new trace code.
import { parseIPv4 } from '../model/ip.js';
import { peerKey, resolvePeers, type NetnsSnapshot, type Snapshot } from '../model/snapshot.js';
import type { Link } from '../model/kernel.js';
import { LabError } from '../lab/errors.js';
import type { CapturePoint, TracePath } from '../model/trace.js';

/** A pod's side of the path: its namespace, its interface, and the host veth and bridge it hangs on. */
interface Attachment {
  ns: NetnsSnapshot;
  owner: string;
  iface: Link;
  ip: string;
  hostVeth: Link;
  bridge?: string;
}

const ipv4Of = (ns: NetnsSnapshot, link: string) => ns.addrs.find((a) => a.link === link && a.family === 'inet')?.local;

/** Finds a namespace by its identity name, a pinned name or `ino:…`. */
function findNs(s: Snapshot, ref: string): NetnsSnapshot | undefined {
  return s.namespaces.find((n) => n.id === ref || n.names.includes(ref)) ?? s.namespaces.find((n) => n.identity.name === ref);
}

/** The pod-side interface of `ns` whose peer is a veth in the host namespace. */
function attachment(s: Snapshot, ns: NetnsSnapshot, peers: ReturnType<typeof resolvePeers>): Attachment | undefined {
  const host = s.namespaces.find((n) => n.id === s.host);
  if (!host) return undefined;
  for (const iface of ns.links) {
    if (iface.kind !== 'veth') continue;
    const peer = peers.get(peerKey(ns.id, iface.index));
    if (peer?.netns !== s.host) continue;
    const hostVeth = host.links.find((l) => l.index === peer.index);
    const ip = ipv4Of(ns, iface.name);
    if (hostVeth && ip) return { ns, owner: ns.identity.name, iface, ip, hostVeth, ...(hostVeth.master ? { bridge: hostVeth.master } : {}) };
  }
  return undefined;
}

/** The path from pod `src` to `dst` (a pod name, or an IPv4 address) on the snapshot's host. */
export function tracePath(s: Snapshot, src: string, dst: string): TracePath {
  const peers = resolvePeers(s);
  const host = s.namespaces.find((n) => n.id === s.host)!;
  const nodeName = host.identity.name;
  const pods = s.namespaces.filter((n) => n.id !== s.host);
  const srcNs = findNs(s, src);
  if (!srcNs || srcNs.id === s.host) throw new LabError(`unknown pod "${src}" on ${nodeName} (pods: ${pods.filter((p) => p.identity.kind === 'pod').map((p) => p.identity.name).sort(new Intl.Collator('en', { numeric: true }).compare).join(', ') || 'none'})`);
  const from = attachment(s, srcNs, peers);
  if (!from) throw new LabError(`pod "${src}" has no veth into ${nodeName} with an IPv4 address: nothing to trace from`);
  if (!from.bridge) throw new LabError(`${from.hostVeth.name}, the host end of ${src}'s ${from.iface.name}, is on no bridge: podnet traces bridged pods`);

  let to: Attachment | undefined;
  let dstIp: string;
  let dstOwner: string;
  const dstNs = /^\d+\.\d+\.\d+\.\d+$/.test(dst) ? undefined : findNs(s, dst);
  if (dstNs) {
    to = attachment(s, dstNs, peers);
    if (!to) throw new LabError(`pod "${dst}" has no veth into ${nodeName} with an IPv4 address (is it on another node? cross-node traces come with the overlay)`);
    dstIp = to.ip;
    dstOwner = to.owner;
  } else {
    try {
      dstIp = parseIPv4(dst);
    } catch {
      throw new LabError(`unknown destination "${dst}": give a pod name or an IPv4 address`);
    }
    const owner = pods.find((p) => p.addrs.some((a) => a.family === 'inet' && a.local === dstIp));
    to = owner ? attachment(s, owner, peers) : undefined;
    dstOwner = to?.owner ?? (host.addrs.some((a) => a.local === dstIp) ? nodeName : dstIp);
  }
  if (to && to.bridge !== from.bridge) throw new LabError(`${src} and ${dstOwner} are on different bridges (${from.bridge}, ${to.bridge ?? 'none'})`);

  const points: CapturePoint[] = [];
  const add = (owner: string, netns: string, iface: string, role: CapturePoint['role']) =>
    points.push({ id: `${owner}/${iface}`, owner, netns, iface, role, position: points.length });
  add(from.owner, from.ns.path, from.iface.name, 'pod-eth0');
  add(nodeName, host.path, from.hostVeth.name, 'host-veth');
  add(nodeName, host.path, from.bridge, 'bridge');
  if (to) {
    add(nodeName, host.path, to.hostVeth.name, 'host-veth');
    add(to.owner, to.ns.path, to.iface.name, 'pod-eth0');
  }
  return {
    src: { owner: from.owner, ip: from.ip, mac: from.iface.mac },
    dst: { owner: dstOwner, ip: dstIp, ...(to ? { mac: to.iface.mac } : {}) },
    points,
  };
}
