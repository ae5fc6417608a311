// `podnet inspect fdb`: the forwarding database of the host namespace's bridges and VXLAN devices,
// each entry's kind explained as the blog does and its MAC joined to whoever has it.
import { fdbKind, type FdbEntry, type Link } from '../model/kernel.js';
import type { Snapshot } from '../model/snapshot.js';
import { findOwner, hostOf, isMulticastMac, multicastGroup, ownerIndex, vtepNode, vtepOwner } from './common.js';

/** One FDB entry of a bridge or VXLAN device of the host namespace. */
export interface FdbViewRow {
  /** The MAC address. */
  mac: string;
  /** The device the entry is on (`dev`): a bridge port, the bridge itself, or a VXLAN device. */
  port: string;
  /** The bridge the entry belongs to (its master, or the device itself for a bridge's own entries); '' for a VXLAN device's entries. */
  bridge: string;
  /** learned: dynamically learned from traffic; permanent: static; self: the device's own entry. */
  kind: 'learned' | 'permanent' | 'self';
  /** The kernel's state word ('' for learned entries, `permanent`, `static`, `stale`…). */
  state: string;
  /** The kernel's flags (`self`, `extern_learn`, `offload`…). */
  flags: string[];
  /** The remote VTEP a VXLAN entry sends to, '' otherwise. */
  dst: string;
  /** True for a group (multicast or broadcast) MAC. */
  multicast: boolean;
  /** Who has the MAC: `<namespace>:<link>` on this host, `<node> (VTEP <ip>)` or `VTEP <ip>` for a remote VXLAN endpoint, `multicast: <group>`, or ''. */
  owner: string;
  /** The owner's namespace id (`ino:…`), '' when it is not a link of this host. */
  ownerNetnsId: string;
  /** One sentence on what the entry means. */
  explanation: string;
}

const KIND_RANK = { learned: 0, permanent: 1, self: 2 } as const;

/** The bridge (or '' for a VXLAN device) an entry belongs to, or undefined when it belongs to neither. */
function groupOf(e: FdbEntry, links: Map<string, Link>): string | undefined {
  const dev = links.get(e.dev);
  if (e.master !== undefined && (links.get(e.master)?.kind ?? 'bridge') === 'bridge') return e.master;
  if (dev?.kind === 'bridge') return dev.name;
  if (dev?.master !== undefined && links.get(dev.master)?.kind === 'bridge') return dev.master;
  if (dev?.kind === 'vxlan') return '';
  return undefined;
}

function explain(e: FdbEntry, kind: FdbViewRow['kind'], dev: Link | undefined, bridge: string, owner: string, remote: string): string {
  if (kind === 'learned') {
    const who = owner ? `${owner} sent from there` : 'its owner is not on this host';
    return `dynamically learned from traffic seen on ${e.dev} (${who}): ${bridge || e.dev} forwards frames for this MAC to that port`;
  }
  if (kind === 'permanent') {
    if (dev && dev.mac === e.mac && dev.kind === 'bridge') return `static entry for the bridge's own MAC: frames to it are delivered to the host through ${e.dev}`;
    if (dev && dev.mac === e.mac) return `static entry the kernel installs for the port's own MAC (${e.dev} joined ${bridge || 'the bridge'})`;
    return 'static entry added by hand or by a program (not learned, never ages out)';
  }
  if (isMulticastMac(e.mac)) return `the entry belongs to ${e.dev} itself: it listens to ${multicastGroup(e.mac)} (its multicast filter, not a forwarding decision)`;
  if (dev?.kind === 'vxlan' && e.dst) {
    return e.mac === '00:00:00:00:00:00'
      ? `the entry belongs to ${e.dev} itself: default VXLAN destination, unknown and broadcast frames are sent to ${e.dst}`
      : `the entry belongs to ${e.dev} itself: frames for this MAC are encapsulated to VTEP ${e.dst}${remote ? `, node ${remote}` : ''} (flannel adds one per remote node)`;
  }
  return `the entry belongs to the device itself: ${e.dev}'s own address`;
}

/** The rows of `podnet inspect fdb`, grouped by bridge (then VXLAN devices); learned, permanent, then self; unicast before multicast. */
export function inspectFdb(s: Snapshot): FdbViewRow[] {
  const host = hostOf(s);
  if (!host) return [];
  const links = new Map(host.links.map((l) => [l.name, l]));
  const owners = ownerIndex(s);
  const order = new Map(host.links.map((l) => [l.name, l.index]));
  const rows: (FdbViewRow & { group: number; devIndex: number })[] = [];
  for (const e of host.fdb) {
    const bridge = groupOf(e, links);
    if (bridge === undefined) continue;
    const kind = fdbKind(e);
    const dev = links.get(e.dev);
    const multicast = isMulticastMac(e.mac);
    let owner = '';
    let ownerNetnsId = '';
    if (multicast) owner = `multicast: ${multicastGroup(e.mac)}`;
    else {
      const ref = e.mac === '00:00:00:00:00:00' ? undefined : findOwner(owners, e.mac);
      if (ref) [owner, ownerNetnsId] = [ref.label, ref.netnsId];
      else if (e.dst && e.mac !== '00:00:00:00:00:00') owner = vtepOwner(s, e.mac, e.dst);
    }
    const remote = dev?.kind === 'vxlan' && e.dst ? vtepNode(s, e.mac, e.dst)?.name ?? '' : '';
    rows.push({
      mac: e.mac, port: e.dev, bridge, kind, state: e.state, flags: [...e.flags], dst: e.dst ?? '', multicast, owner, ownerNetnsId,
      explanation: explain(e, kind, dev, bridge, ownerNetnsId ? owner : '', remote),
      group: bridge === '' ? 1e9 + (order.get(e.dev) ?? 0) : (order.get(bridge) ?? 1e9 - 1),
      devIndex: order.get(e.dev) ?? Number.MAX_SAFE_INTEGER,
    });
  }
  rows.sort((a, b) => a.group - b.group || KIND_RANK[a.kind] - KIND_RANK[b.kind] || Number(a.multicast) - Number(b.multicast)
    || a.devIndex - b.devIndex || (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
  return rows.map(({ group: _g, devIndex: _d, ...row }) => row);
}
