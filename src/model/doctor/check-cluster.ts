// What a lab knows beyond any one node: every node holds a lease announcing its own IP and MAC, no
// lease is held by a node that is gone, and the underlay between the nodes is a plain switch. Pure.
import { inNs } from './commands.js';
import { ruleText } from './nft-text.js';
import type { ClusterFacts, Finding, NodeExpectation, NodeObservation } from './types.js';

/** The lease checks: one finding per node without a lease, and one per lease no node holds. */
export function checkLeases(c: ClusterFacts, store: string): Finding[] {
  if (c.storeError) {
    return [{ id: 'lease-store-unreachable', severity: 'error', reach: 'cluster', node: 'cluster', what: `The lease store cannot be read (${store}): ${c.storeError}`,
      breaks: 'No node learns of a node that joins or leaves, and no lease is renewed: once they expire, nodes drop each other\'s entries.',
      evidence: [{ command: 'podnet lab status', value: c.storeError }], fix: ['# start the store again (the lab\'s etcd: podnet lab down, then up); the nodes were checked against the lab\'s plan'] }];
  }
  const out: Finding[] = [];
  for (const n of c.nodes) {
    if (c.leases.some((l) => l.publicIP === n.ip)) continue;
    out.push({ id: 'lease-missing', severity: 'error', reach: 'node', node: n.name, subject: n.name,
      what: `No lease in ${store} announces ${n.name} (${n.ip})`,
      breaks: `Other nodes drop their entries for ${n.name} when they next reconcile, and a new node may be given its subnet ${n.podCIDR}.`,
      evidence: [{ command: `podnet inspect overlay ${n.name}`, value: c.leases.map((l) => `${l.subnet} → ${l.publicIP}`).join(', ') || '(no leases)' }],
      fix: [`# restart ${n.name}'s flannel agent: it takes its lease again`] });
  }
  const ips = new Set(c.nodes.map((n) => n.ip));
  for (const l of c.leases.filter((x) => !ips.has(x.publicIP))) {
    out.push({ id: 'stale-lease', severity: 'warning', reach: 'cluster', node: 'cluster', subject: l.subnet,
      what: `The lease for ${l.subnet} is held by ${l.publicIP} (VTEP ${l.vtepMac}), which is no node of the cluster`,
      breaks: `${l.subnet} cannot be given to a new node, and every node that programs the lease sends that subnet's traffic to a node that is gone.`,
      evidence: [{ command: `podnet inspect overlay`, value: `lease ${l.subnet}: PublicIP ${l.publicIP}, VtepMAC ${l.vtepMac}` }],
      fix: [`# remove the key /coreos.com/network/subnets/${l.subnet.replace('/', '-')} from ${store}`] });
  }
  return out;
}

/** A lab's underlay switch filters nothing: any nftables table in it is something nobody in the cluster set. */
export function checkUnderlay(c: ClusterFacts, nodes: readonly { exp: NodeExpectation; obs: NodeObservation }[]): Finding[] {
  const u = c.underlay;
  if (!u?.nft || u.nft.tables.length === 0) return [];
  const rules = u.nft.rules.map((r) => `${r.family} ${r.table} ${r.chain}: ${ruleText(r.expr)}`);
  const vxlan = rules.some((r) => /\b8472\b/.test(r));
  const counted = nodes.filter(({ obs }) => (obs.udp?.InCsumErrors ?? 0) > 0).map(({ obs }) => `${obs.node} ${obs.udp!.InCsumErrors}`);
  return [{ id: 'underlay-filter', severity: 'error', reach: vxlan ? 'peer' : 'cluster', node: 'underlay',
    what: `The underlay between the nodes ${vxlan ? 'rewrites or filters VXLAN packets (UDP 8472)' : 'filters or rewrites packets'}: ${u.nft.tables.map((t) => `table ${t.family} ${t.name}`).join(', ')}${counted.length ? `; UDP checksum errors counted on ${counted.join(', ')}` : ''}`,
    breaks: vxlan ? 'VXLAN packets crossing it no longer arrive as sent: the receiving node drops them (a bad UDP checksum) and cross-node traffic stops.' : 'Traffic between the nodes meets rules nobody in the cluster set.',
    evidence: [
      { command: inNs(u.ns, ['nft', 'list', 'ruleset']), value: rules.join('; ') || '(empty tables)' },
      ...nodes.filter(({ obs }) => obs.udp).map(({ obs }) => ({ command: inNs(obs.ns, ['cat', '/proc/net/snmp']), value: `${obs.node}: Udp InCsumErrors ${obs.udp!.InCsumErrors ?? 0}` })),
    ],
    fix: u.nft.tables.map((t) => inNs(u.ns, ['nft', 'delete', 'table', t.family, t.name])) }];
}
