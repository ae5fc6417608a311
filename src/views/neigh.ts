// `podnet inspect neigh`: the neighbour (ARP) table of every namespace, each entry joined to the
// link on this host that has its MAC or IP (or the remote VTEP a VXLAN neighbour stands for).
import type { Snapshot } from '../model/snapshot.js';
import { findOwner, orderedNamespaces, ownerIndex, vtepOwner } from './common.js';

/** One neighbour entry of one namespace. */
export interface NeighViewRow {
  /** The identity name of the namespace holding the entry. */
  netns: string;
  /** That namespace's id (`ino:<inode>`). */
  netnsId: string;
  /** The neighbour's IP. */
  ip: string;
  /** Its link-layer address (lladdr), '' when there is none (INCOMPLETE, FAILED). */
  mac: string;
  /** The device the neighbour is reached through. */
  dev: string;
  /** The kernel's NUD states joined by `,` (REACHABLE, STALE, PERMANENT, …). */
  state: string;
  /** Who has that MAC (or IP): `<namespace>:<link>` on this host, `<node> (VTEP <ip>)` or `VTEP <ip>` for a VXLAN peer, or ''. */
  owner: string;
  /** The owner's namespace id, '' when it is not a link of this host. */
  ownerNetnsId: string;
}

/** The rows of `podnet inspect neigh`: the host's entries first, then each namespace's, in kernel order. */
export function inspectNeigh(s: Snapshot): NeighViewRow[] {
  const owners = ownerIndex(s);
  return orderedNamespaces(s).flatMap((ns) => ns.neighs.map((n) => {
    const ref = findOwner(owners, n.lladdr, n.dst);
    const vtep = !ref && n.lladdr ? ns.fdb.find((e) => e.mac === n.lladdr && e.dst)?.dst : undefined;
    return {
      netns: ns.identity.name,
      netnsId: ns.id,
      ip: n.dst,
      mac: n.lladdr ?? '',
      dev: n.dev,
      state: n.state.join(','),
      owner: ref?.label ?? (vtep && n.lladdr ? vtepOwner(s, n.lladdr, vtep) : ''),
      ownerNetnsId: ref?.netnsId ?? '',
    };
  }));
}
