// What the views of a snapshot share: namespaces in display order, link names as `ip` prints them, who
// owns a MAC or an IP anywhere on the host (or across the overlay), and names for the multicast
// groups a device listens to.
import type { Link } from '../model/kernel.js';
import { natural } from '../model/order.js';
import { nodeOfPeer, type ClusterNode, type NetnsSnapshot, type Snapshot, type VxlanPeer } from '../model/snapshot.js';

/** A link's name as `ip link` prints it: veths get `@ifN` (their peer's ifindex). */
export const ipLinkName = (l: Link): string => (l.kind === 'veth' && l.peerIndex ? `${l.name}@if${l.peerIndex}` : l.name);

export { natural };

/** An empty cell as a table shows it. */
export const dash = (s: string): string => (s === '' ? '-' : s);

/** An address without its prefix length (`10.42.0.2/24` → `10.42.0.2`). */
export { addressOf as bare } from '../model/ip.js';

/** The IPv4 addresses of a link in a namespace, as CIDRs. */
export const v4 = (ns: NetnsSnapshot, link: string): string[] =>
  ns.addrs.filter((a) => a.link === link && a.family === 'inet').map((a) => `${a.local}/${a.prefix}`);

/** Every address (IPv4, then IPv6) of a link in a namespace, as CIDRs. */
export const allAddrs = (ns: NetnsSnapshot, link: string): string[] => {
  const mine = ns.addrs.filter((a) => a.link === link);
  return [...mine.filter((a) => a.family === 'inet'), ...mine.filter((a) => a.family === 'inet6')].map((a) => `${a.local}/${a.prefix}`);
};

/** A link's kind as a word: veth, bridge, vxlan, or the kernel's info_kind (loopback, device, dummy…). */
export const kindOf = (l: Link): string => (l.kind === 'generic' ? l.infoKind : l.kind);

/** The host namespace of a snapshot. */
export const hostOf = (s: Snapshot): NetnsSnapshot | undefined => s.namespaces.find((n) => n.id === s.host);

/** Namespaces as every view lists them: the host first, then the others by name. */
export function orderedNamespaces(s: Snapshot): NetnsSnapshot[] {
  const host = hostOf(s);
  const rest = s.namespaces.filter((n) => n.id !== s.host).sort((a, b) => natural(a.identity.name, b.identity.name) || a.inode - b.inode);
  return host ? [host, ...rest] : rest;
}

/** Where a namespace can be opened: its pinned name under /run/netns, else its path. */
export const netnsLabel = (ns: NetnsSnapshot): string => ns.names[0] ?? ns.path;

/** Finds a namespace by its id (`ino:…`), a pinned name, or its identity name (when that is unique). */
export function findNamespace(s: Snapshot, ref: string): NetnsSnapshot | undefined {
  const byId = s.namespaces.find((n) => n.id === ref || n.names.includes(ref));
  if (byId) return byId;
  const byName = s.namespaces.filter((n) => n.identity.name === ref);
  return byName.length === 1 ? byName[0] : undefined;
}

/** Re-exported for the views here: the one multicast test lives with the MAC type. */
export { isMulticastMac } from '../model/mac.js';

/** What a group MAC stands for: `IPv6 all-nodes ff02::1`, `IPv4 all-hosts 224.0.0.1`, … */
export function multicastGroup(mac: string): string {
  const b = mac.split(':');
  const known: Record<string, string> = {
    'ff:ff:ff:ff:ff:ff': 'broadcast',
    '33:33:00:00:00:01': 'IPv6 all-nodes ff02::1',
    '33:33:00:00:00:02': 'IPv6 all-routers ff02::2',
    '33:33:00:00:00:16': 'IPv6 MLDv2 reports ff02::16',
    '33:33:00:00:00:fb': 'IPv6 mDNS ff02::fb',
    '01:00:5e:00:00:01': 'IPv4 all-hosts 224.0.0.1',
    '01:00:5e:00:00:02': 'IPv4 all-routers 224.0.0.2',
    '01:00:5e:00:00:fb': 'IPv4 mDNS 224.0.0.251',
  };
  if (known[mac]) return known[mac];
  if (b[0] === '33' && b[1] === '33' && b[2] === 'ff') return `IPv6 solicited-node ff02::1:ff${b[3]}:${b[4]}${b[5]}`;
  if (b[0] === '33' && b[1] === '33') return 'IPv6 multicast';
  if (b[0] === '01' && b[1] === '00' && b[2] === '5e') return 'IPv4 multicast';
  if (mac.startsWith('01:80:c2:00:00:')) return 'IEEE 802.1 link-local (STP, LLDP)';
  return 'multicast';
}

/** Who has a MAC or an address: a link in a namespace of this host. */
export interface OwnerRef {
  netnsId: string;
  /** `<namespace identity name>:<link name>`. */
  label: string;
}

/** Every MAC and IP of every namespace, to name who is behind an FDB or neighbour entry. */
export interface Owners {
  byMac: Map<string, OwnerRef[]>;
  byIp: Map<string, OwnerRef[]>;
}

const ZERO_MAC = '00:00:00:00:00:00';

/** Indexes every link's MAC and every address's IP across the snapshot. */
export function ownerIndex(s: Snapshot): Owners {
  const byMac = new Map<string, OwnerRef[]>();
  const byIp = new Map<string, OwnerRef[]>();
  const push = (m: Map<string, OwnerRef[]>, k: string, v: OwnerRef) => {
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
  };
  for (const ns of orderedNamespaces(s)) {
    for (const l of ns.links) if (l.mac && l.mac !== ZERO_MAC) push(byMac, l.mac, { netnsId: ns.id, label: `${ns.identity.name}:${l.name}` });
    for (const a of ns.addrs) push(byIp, a.local, { netnsId: ns.id, label: `${ns.identity.name}:${a.link}` });
  }
  return { byMac, byIp };
}

/** The owner of a MAC (preferring the one that also has `ip`), else of `ip`; undefined when neither is on this host. */
export function findOwner(o: Owners, mac: string | undefined, ip?: string): OwnerRef | undefined {
  const macs = mac ? o.byMac.get(mac) ?? [] : [];
  const ips = ip ? o.byIp.get(ip) ?? [] : [];
  return macs.find((m) => ips.some((i) => i.label === m.label)) ?? macs[0] ?? ips[0];
}

/** What a VXLAN peer is called: the cluster node the evidence names (by node IP, VTEP MAC or
 * subnet), else the namespace of this snapshot that has its VTEP MAC; '' when neither is known. */
export function peerName(s: Snapshot, owners: Owners, p: VxlanPeer): { name: string; netnsId: string } {
  const node = nodeOfPeer(s.nodes, p);
  const byMac = p.vtepMac ? owners.byMac.get(p.vtepMac) ?? [] : [];
  const ns = byMac.length === 1 ? s.namespaces.find((n) => n.id === byMac[0].netnsId) : undefined;
  if (node) return { name: node.name, netnsId: ns?.identity.name === node.name ? ns.id : '' };
  return ns ? { name: ns.identity.name, netnsId: ns.id } : { name: '', netnsId: '' };
}

/** The cluster node behind a remote VTEP (its MAC, its node IP), when the evidence names it. */
export const vtepNode = (s: Snapshot, mac: string, nodeIp: string): ClusterNode | undefined =>
  nodeOfPeer(s.nodes, { device: '', vtepIp: '', vtepMac: mac, nodeIp });

/** A remote VTEP as an owner: `agent1 (VTEP 198.51.100.3)` when its node is known, else `VTEP 198.51.100.3`. */
export function vtepOwner(s: Snapshot, mac: string, nodeIp: string): string {
  const node = vtepNode(s, mac, nodeIp);
  return node ? `${node.name} (VTEP ${nodeIp})` : `VTEP ${nodeIp}`;
}
