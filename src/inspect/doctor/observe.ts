// What one node's kernel holds, for `podnet doctor`: its namespace and its pods from a scan (links,
// addresses, routes, neighbours, FDB, each pod's veth joined to its host end), plus what a scan does
// not read — sysctls, UDP and conntrack counters, netfilter's chains (and the rules the checks need),
// the VXLAN device's offloads, host-local's store. Read only: every read goes through src/host.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Host } from '../../host/host.js';
import type { Netns } from '../../host/netns.js';
import { procRead } from '../../host/procfs.js';
import { iptablesChainWithTargets, nftListChain, nftListChains } from '../../host/netfilter-read.js';
import type { NftFamily, NftRuleset } from '../../model/netfilter-nft.js';
import type { IptablesDump } from '../../model/netfilter-iptables.js';
import { parseIptablesS } from '../../model/doctor/iptables-s.js';
import { ethtoolFeatures } from '../../host/ethtool.js';
import { peerKey, resolvePeers, type NetnsSnapshot, type Snapshot } from '../../model/snapshot.js';
import { parseConntrackStat, parseSnmp } from '../../model/doctor/check-counters.js';
import { sysctlKeys } from '../../model/doctor/check-sysctl.js';
import type { IpamEntry, NodeExpectation, NodeObservation, NsRef, PodObservation } from '../../model/doctor/types.js';

/** How a snapshot's namespace is opened again (its pinned name, else its path). */
export const nsRefOf = (ns: Pick<NetnsSnapshot, 'names' | 'path'>): NsRef => (ns.names[0] ? { name: ns.names[0] } : { path: ns.path });

/** The Netns handle for an NsRef. */
export const netnsOf = (r: NsRef): Netns => (r.current ? { path: '/proc/self/ns/net', current: true } : r.name ? { name: r.name, path: `/run/netns/${r.name}` } : { path: r.path! });

/** The pods of the host namespace of `s`: every other namespace whose veth's host end is a bridge port. */
export function podsOf(s: Snapshot): PodObservation[] {
  const host = s.namespaces.find((n) => n.id === s.host);
  if (!host) return [];
  const peers = resolvePeers(s);
  const byId = new Map(s.namespaces.map((n) => [n.id, n]));
  const out: PodObservation[] = [];
  for (const veth of host.links.filter((l) => l.kind === 'veth' && l.master)) {
    const peer = peers.get(peerKey(host.id, veth.index));
    const ns = peer?.netns ? byId.get(peer.netns) : undefined;
    if (!ns || ns.id === host.id || ns.identity.kind === 'node' || ns.identity.kind === 'switch') continue;
    const iface = ns.links.find((l) => l.index === peer!.index);
    out.push({
      name: ns.identity.kind === 'pod' ? ns.identity.name : ns.names[0] ?? ns.identity.name, ns: nsRefOf(ns),
      ...(ns.identity.containerId ? { containerId: ns.identity.containerId } : {}), hostVeth: veth,
      ...(iface ? { iface: { name: iface.name, mtu: iface.mtu, up: iface.up, addrs: ns.addrs.filter((a) => a.link === iface.name && a.family === 'inet').map((a) => `${a.local}/${a.prefix}`) } } : {}),
      ...(ns.error ? { error: ns.error } : {}),
    });
  }
  return out;
}

const CT = '/proc/sys/net/netfilter/';
/** The tables iptables-nft keeps (read through iptables, chain by chain: a whole dump of a node with
 * 1,000 Services costs seconds). */
const IPTABLES_TABLES = new Set(['filter', 'nat', 'mangle', 'raw', 'security']);
const isIptables = (c: { family: string; table: string }) => (c.family === 'ip' || c.family === 'ip6') && IPTABLES_TABLES.has(c.table);

/** What the netfilter checks read, cheaply: every chain (hooks, policies, names — kube-proxy's
 * included) without rules; the rules of flannel's table and of nftables' own chains at forward; and
 * iptables' FORWARD with the chains it jumps to. iptables' nat table appears with its chains' names only. */
async function netfilter(h: Host, ns: Netns): Promise<{ nft: NftRuleset; iptables: IptablesDump }> {
  const [all, forward] = await Promise.all([nftListChains(h.runner, ns), iptablesChainWithTargets(h.runner, ns, 'filter', 'FORWARD').catch(() => '')]);
  const own = all.chains.filter((c) => !isIptables(c) && ((c.family === 'ip' && c.table === 'flannel') || c.hook === 'forward'));
  const lists = await Promise.all(own.map((c) => nftListChain(h.runner, ns, c.family as NftFamily, c.table, c.name)));
  const tables = [...new Map(all.chains.map((c) => [`${c.family} ${c.table}`, { family: c.family, name: c.table, handle: 0 }])).values()];
  const nat = all.chains.filter((c) => c.family === 'ip' && c.table === 'nat');
  const filter = parseIptablesS('filter', forward);
  return {
    nft: { tables, chains: all.chains.filter((c) => !isIptables(c)), rules: lists.flatMap((l) => l.rules), sets: [] },
    iptables: { tables: [...filter.tables, ...(nat.length ? [{ name: 'nat', chains: nat.map((c) => ({ name: c.name, policy: c.policy?.toUpperCase() ?? '-', builtin: c.hook !== undefined })), rules: [] }] : [])], warnings: filter.warnings },
  };
}

/** host-local's reservations in `dir` (`<dataDir>/<network>`): one file per address holding the container ID. */
export async function readIpam(dir: string): Promise<{ dir: string; entries: IpamEntry[] } | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  const entries = await Promise.all(names.filter((n) => /^\d+\.\d+\.\d+\.\d+$/.test(n)).map(async (ip): Promise<IpamEntry> => {
    const file = join(dir, ip);
    const text = await readFile(file, 'utf8').catch(() => '');
    return { ip, containerId: text.split('\n')[0].trim(), file };
  }));
  return { dir, entries };
}

/** What a scan does not read of a node: sysctls, counters, iptables, nftables, the VXLAN device's
 * offloads, in parallel (a few processes in the node's namespace). */
async function extras(h: Host, ns: Netns, exp: NodeExpectation, node: NetnsSnapshot): Promise<Partial<NodeObservation>> {
  const vtep = node.links.find((l) => l.name === exp.vtep?.device) ?? node.links.find((l) => l.kind === 'vxlan');
  const local = vtep?.kind === 'vxlan' ? vtep.local : undefined;
  const uplink = exp.uplink ?? node.addrs.find((a) => a.family === 'inet' && a.local === (exp.publicIP ?? local))?.link;
  const devs = [...new Set([uplink, vtep?.name].filter((d): d is string => !!d))];
  const keys = sysctlKeys(devs);
  const files = [...keys.map((k) => `/proc/sys/${k}`), '/proc/net/snmp', '/proc/net/stat/nf_conntrack', `${CT}nf_conntrack_count`, `${CT}nf_conntrack_max`];
  const [proc, nf, features] = await Promise.all([
    procRead(h.runner, ns, files),
    netfilter(h, ns).catch(() => undefined),
    vtep ? ethtoolFeatures(h.runner, ns, vtep.name).catch(() => undefined) : Promise.resolve(undefined),
  ]);
  const sysctls = Object.fromEntries(keys.filter((k) => proc[`/proc/sys/${k}`] !== undefined).map((k) => [k, proc[`/proc/sys/${k}`].trim()]));
  const count = Number(proc[`${CT}nf_conntrack_count`]?.trim());
  const max = Number(proc[`${CT}nf_conntrack_max`]?.trim());
  return {
    sysctls, ...(proc['/proc/net/snmp'] ? { udp: parseSnmp(proc['/proc/net/snmp'], 'Udp') } : {}),
    ...(Number.isFinite(count) && Number.isFinite(max) ? { conntrack: { count, max, stats: parseConntrackStat(proc['/proc/net/stat/nf_conntrack'] ?? '') } } : {}),
    ...(nf ? nf : {}), ...(features ? { vtepFeatures: features } : {}),
  };
}

/** One node's observation from its snapshot (the node as the host) and the reads a scan leaves out. */
export async function observeNode(h: Host, name: string, ns: NsRef, s: Snapshot, exp: NodeExpectation, ipamDir?: string): Promise<NodeObservation> {
  const node = s.namespaces.find((n) => n.id === s.host);
  const empty: NodeObservation = { node: name, ns, links: [], addrs: [], routes: [], neighs: [], fdb: [], sysctls: {}, pods: [] };
  if (!node || node.error) return { ...empty, error: node?.error ?? 'the namespace is gone' };
  const [more, ipam] = await Promise.all([extras(h, netnsOf(ns), exp, node), ipamDir ? readIpam(ipamDir) : Promise.resolve(undefined)]);
  return { ...empty, links: node.links, addrs: node.addrs, routes: node.routes, neighs: node.neighs, fdb: node.fdb, ...more, pods: podsOf(s), ...(ipam ? { ipam } : {}) };
}

