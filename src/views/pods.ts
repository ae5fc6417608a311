// `podnet inspect`: one row per pod interface — the pod, its eth0@ifN, the host veth@ifN it is
// paired with, the bridge port behind it. "Pods" are every namespace (other than the host's) with
// a veth whose peer is in the host namespace, whatever its identity; host veths whose peer could
// not be resolved are listed too, as pod `?`, so nothing is hidden.
import type { Link, VethLink } from '../model/kernel.js';
import type { Snapshot } from '../model/snapshot.js';
import { peerKey, resolvePeers } from '../model/snapshot.js';
import { hostOf, ipLinkName, natural, netnsLabel, v4 } from './common.js';

/** One pod interface and the host veth it is paired with. */
export interface InspectPodRow {
  /** The namespace's identity name: pod name, node name, or `netns <inode> (pid N: cmd)`; `?` when the host veth's peer is unresolved. */
  pod: string;
  /** The identity kind: pod, node, host, switch or unknown (`unknown` for `?` rows). */
  kind: string;
  /** The pod's Kubernetes namespace, '' when unknown. */
  podNamespace: string;
  /** The sandbox / container id, '' when unknown. */
  containerId: string;
  /** The pod interface's IPv4 addresses, as CIDRs. */
  ips: string[];
  /** Where the namespace can be opened: its name under /run/netns, else a path (`/proc/PID/ns/net`); `?` when unresolved. */
  netns: string;
  /** The namespace's stable id (`ino:<inode>`), '' when unresolved. */
  netnsId: string;
  /** The pod interface as `ip link` prints it: `eth0@if13`, 13 being the host veth's ifindex; `?` when unresolved. */
  iface: string;
  /** The pod interface's ifindex (known from the host veth even when unresolved; 0 when unknown). */
  ifindex: number;
  /** The host veth as `ip link` prints it: `veth82ebd960@if2`, 2 being the pod interface's ifindex. */
  hostVeth: string;
  /** The host veth's ifindex. */
  hostIndex: number;
  /** The bridge the host veth is enslaved to, '' when none. */
  bridge: string;
  /** The pod interface's MAC, '' when unresolved. */
  mac: string;
  /** Hairpin mode of the host veth's bridge port (false when it is not a bridge port). */
  hairpin: boolean;
  /** The host veth's bridge-port state (forwarding, learning, blocking, disabled), else its operstate. */
  state: string;
}

const isVeth = (l: Link): l is VethLink => l.kind === 'veth';

/** The rows of `podnet inspect`: pods by name, then other namespaces by name, then the host veths whose
 * peer is unknown. A lab's switch and nodes are not pods and are left to `links`. */
export function inspectPods(s: Snapshot): InspectPodRow[] {
  const host = hostOf(s);
  if (!host) return [];
  const peers = resolvePeers(s);
  const byId = new Map(s.namespaces.map((n) => [n.id, n]));
  const resolved: InspectPodRow[] = [];
  const unresolved: InspectPodRow[] = [];
  for (const veth of host.links.filter(isVeth)) {
    const peer = peers.get(peerKey(host.id, veth.index));
    if (peer?.netns === host.id) continue; // both ends on the host: not a pod
    const port = {
      bridge: veth.master ?? '',
      hairpin: veth.port?.hairpin ?? false,
      state: veth.port?.state ?? veth.operstate,
    };
    const ns = peer?.netns !== undefined ? byId.get(peer.netns) : undefined;
    // A lab's underlay switch or another node is infrastructure, not a pod (it shows in `links`).
    if (ns && (ns.identity.kind === 'switch' || ns.identity.kind === 'node')) continue;
    const iface = ns?.links.find((l) => l.index === peer?.index);
    if (!ns || !iface) {
      unresolved.push({
        pod: '?', kind: 'unknown', podNamespace: '', containerId: '', ips: [], netns: '?', netnsId: '',
        iface: '?', ifindex: veth.peerIndex ?? 0, hostVeth: ipLinkName(veth), hostIndex: veth.index, bridge: port.bridge, mac: '', hairpin: port.hairpin, state: port.state,
      });
      continue;
    }
    resolved.push({
      pod: ns.identity.name,
      kind: ns.identity.kind,
      podNamespace: ns.identity.podNamespace ?? '',
      containerId: ns.identity.containerId ?? '',
      ips: v4(ns, iface.name),
      netns: netnsLabel(ns),
      netnsId: ns.id,
      iface: `${iface.name}@if${veth.index}`,
      ifindex: iface.index,
      hostVeth: `${veth.name}@if${iface.index}`,
      hostIndex: veth.index,
      bridge: port.bridge,
      mac: iface.mac,
      hairpin: port.hairpin,
      state: port.state,
    });
  }
  // Identified pods first (by name), then the other namespaces (unnamed sandboxes, lab nodes…).
  resolved.sort((a, b) => Number(a.kind !== 'pod') - Number(b.kind !== 'pod') || natural(a.pod, b.pod) || natural(a.netnsId, b.netnsId) || a.ifindex - b.ifindex);
  unresolved.sort((a, b) => a.hostIndex - b.hostIndex);
  return [...resolved, ...unresolved];
}
