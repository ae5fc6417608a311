// `podnet inspect links`: every link of every namespace, each veth's peer resolved to the
// namespace and link at its other end (or left as `ifN (unresolved)`, never guessed).
import type { Snapshot } from '../model/snapshot.js';
import { peerKey, resolvePeers } from '../model/snapshot.js';
import { allAddrs, ipLinkName, kindOf, orderedNamespaces } from './common.js';

/** One link of one namespace. */
export interface LinkViewRow {
  /** The identity name of the namespace the link is in. */
  owner: string;
  /** That namespace's id (`ino:<inode>`). */
  netnsId: string;
  /** The link as `ip link` prints it: `name@ifN` for veths (N = the peer's ifindex), else its name. */
  link: string;
  /** The link's name alone. */
  name: string;
  /** Its ifindex. */
  index: number;
  /** veth, bridge, vxlan, or the kernel's kind (loopback, device, dummy…). */
  kind: string;
  /** The bridge (or other master) it is enslaved to, '' when none. */
  master: string;
  /** Its MAC. */
  mac: string;
  /** Its MTU. */
  mtu: number;
  /** The operational state (UP, DOWN, UNKNOWN, LOWERLAYERDOWN). */
  state: string;
  /** Whether it is administratively up (the UP flag). */
  up: boolean;
  /** Its addresses as CIDRs, IPv4 first. */
  addresses: string[];
  /** For a veth: `<namespace>:<link>` at the other end, or `ifN (unresolved)`; '' for other kinds. */
  peer: string;
  /** The peer's namespace id, '' when unresolved or not a veth. */
  peerNetnsId: string;
}

/** The rows of `podnet inspect links`: the host's links first, then each namespace's, by ifindex. */
export function inspectLinks(s: Snapshot): LinkViewRow[] {
  const peers = resolvePeers(s);
  const byId = new Map(s.namespaces.map((n) => [n.id, n]));
  return orderedNamespaces(s).flatMap((ns) => [...ns.links].sort((a, b) => a.index - b.index).map((l) => {
    let peer = '';
    let peerNetnsId = '';
    if (l.kind === 'veth') {
      const p = peers.get(peerKey(ns.id, l.index));
      const index = p?.index ?? l.peerIndex;
      const other = p?.netns !== undefined ? byId.get(p.netns) : undefined;
      if (other) [peer, peerNetnsId] = [`${other.identity.name}:${p?.name ?? `if${index}`}`, other.id];
      else if (index !== undefined) peer = `if${index} (unresolved)`;
      else peer = '(unresolved)';
    }
    return {
      owner: ns.identity.name,
      netnsId: ns.id,
      link: ipLinkName(l),
      name: l.name,
      index: l.index,
      kind: kindOf(l),
      master: l.master ?? '',
      mac: l.mac,
      mtu: l.mtu,
      state: l.operstate,
      up: l.up,
      addresses: allAddrs(ns, l.name),
      peer,
      peerNetnsId,
    };
  }));
}
