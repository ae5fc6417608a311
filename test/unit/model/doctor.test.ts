// podnet doctor's pure logic on fixtures (./doctor-fixtures.ts: a healthy two-node lab as read on this
// machine): a healthy lab has no finding; each fault, made in a copy of the observation, is exactly
// one finding — one per root cause, not per symptom — with its evidence and a fix; the same problem
// on two nodes is one finding; what breaks most comes first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose, type DoctorInput, type NodeInput } from '../../../src/model/doctor/index.js';
import type { Finding } from '../../../src/model/doctor/types.js';
import { parseIptablesSave } from '../../../src/model/netfilter-iptables.js';
import { parseNftJson } from '../../../src/model/netfilter-nft.js';
import { CLUSTER, NODE_IPTABLES, clusterFacts, healthyLab } from './doctor-fixtures.js';

const ids = (fs: readonly Finding[]) => fs.map((f) => f.id);
/** Diagnoses the lab after `change` broke a copy of it. */
function broken(change: (nodes: NodeInput[], input: DoctorInput) => void, withCluster = true): Finding[] {
  const nodes = healthyLab();
  const input: DoctorInput = { nodes, ...(withCluster ? { cluster: clusterFacts() } : {}) };
  change(nodes, input);
  return diagnose(input);
}
const [S, A] = [0, 1];

test('a healthy lab has no finding', () => {
  assert.deepEqual(broken(() => undefined), []);
});

test('ip_forward off: one finding with the sysctl read and the sysctl that fixes it', () => {
  const fs = broken((n) => { n[A].obs.sysctls['net/ipv4/ip_forward'] = '0'; });
  assert.deepEqual(ids(fs), ['ip-forward-off']);
  assert.equal(fs[0].node, 'agent1');
  assert.deepEqual(fs[0].evidence, [{ command: 'nsenter --net=/run/netns/podnet-t-agent1 sysctl net.ipv4.ip_forward', value: 'net.ipv4.ip_forward = 0' }]);
  assert.deepEqual(fs[0].fix, ['nsenter --net=/run/netns/podnet-t-agent1 sysctl -w net.ipv4.ip_forward=1']);
});

test('bridge-nf-call-iptables off, or br_netfilter missing', () => {
  assert.deepEqual(ids(broken((n) => { n[S].obs.sysctls['net/bridge/bridge-nf-call-iptables'] = '0'; })), ['bridge-nf-off']);
  const missing = broken((n) => { delete n[S].obs.sysctls['net/bridge/bridge-nf-call-iptables']; });
  assert.deepEqual(ids(missing), ['bridge-nf-off']);
  assert.equal(missing[0].fix[0], 'modprobe br_netfilter');
});

test('rp_filter strict through `all` covers the uplink and flannel.1 in one finding; loose (2) is fine', () => {
  const fs = broken((n) => { n[A].obs.sysctls['net/ipv4/conf/all/rp_filter'] = '1'; });
  assert.deepEqual(ids(fs), ['rp-filter-strict']);
  assert.match(fs[0].what, /eth0 and flannel\.1/);
  assert.deepEqual(fs[0].fix, ['nsenter --net=/run/netns/podnet-t-agent1 sysctl -w net.ipv4.conf.all.rp_filter=2']);
  assert.deepEqual(broken((n) => { n[A].obs.sysctls['net/ipv4/conf/eth0/rp_filter'] = '2'; }), []);
});

test('hairpin off on two ports of a node: one finding naming both, a fix per port', () => {
  const fs = broken((n) => { for (const p of n[S].obs.pods) p.hostVeth!.port!.hairpin = false; });
  assert.deepEqual(ids(fs), ['hairpin-off']);
  assert.match(fs[0].what, /2 pod ports/);
  assert.equal(fs[0].fix.length, 2);
  assert.match(fs[0].fix[0], /^ip -n podnet-t-server link set veth00000000 type bridge_slave hairpin on$/);
});

test('bridge ports: one not forwarding is an error, learning off a speed warning, one finding each', () => {
  const blocked = broken((n) => { n[S].obs.pods[0].hostVeth!.port!.state = 'blocking'; });
  assert.deepEqual(ids(blocked), ['port-state']);
  assert.match(blocked[0].fix[0], /bridge_slave state 3$/);
  const deaf = broken((n) => { for (const p of n[A].obs.pods) p.hostVeth!.port!.learning = false; });
  assert.deepEqual(deaf.map((f) => [f.id, f.severity, f.reach]), [['port-learning-off', 'warning', 'speed']]);
});

test('flannel.1 MTU wrong: one finding, never one per pod', () => {
  const fs = broken((n) => { n[S].obs.links.find((l) => l.name === 'flannel.1')!.mtu = 1400; });
  assert.deepEqual(ids(fs), ['vtep-mtu']);
  assert.deepEqual(fs[0].fix, ['ip -n podnet-t-server link set flannel.1 mtu 1450']);
});

test('pods with a wrong MTU on one node: one finding listing them; cni0 apart', () => {
  const fs = broken((n) => { for (const p of n[A].obs.pods) p.iface!.mtu = 1400; });
  assert.deepEqual(ids(fs), ['pod-mtu']);
  assert.equal(fs[0].fix.length, 2);
  assert.deepEqual(ids(broken((n) => { n[S].obs.links.find((l) => l.name === 'cni0')!.mtu = 1400; })), ['bridge-mtu']);
});

test('flannel.1 with VNI 2 and its entries gone: one finding (its fix puts the entries back too)', () => {
  const fs = broken((n) => {
    const vx = n[A].obs.links.find((l) => l.name === 'flannel.1')!;
    if (vx.kind === 'vxlan') vx.vni = 2;
    n[A].obs.neighs = [];
    n[A].obs.fdb = [];
  });
  assert.deepEqual(ids(fs), ['vtep-vni']);
  assert.ok(fs[0].fix.some((l) => l.includes('type vxlan id 1 local 198.51.100.3 dev eth0 dstport 8472 nolearning')), fs[0].fix.join('\n'));
  assert.ok(fs[0].fix.some((l) => l.startsWith('bridge -n podnet-t-agent1 fdb replace 8a:d5:9b:3e:26:91 dev flannel.1 dst 198.51.100.2')));
});

test('one missing entry toward a peer is named by its kind; all three are one finding', () => {
  assert.deepEqual(ids(broken((n) => { n[S].obs.fdb = []; })), ['remote-fdb']);
  assert.deepEqual(ids(broken((n) => { n[S].obs.neighs = []; })), ['remote-neigh']);
  assert.deepEqual(ids(broken((n) => { n[S].obs.routes = n[S].obs.routes.filter((r) => r.dev !== 'flannel.1'); })), ['remote-route']);
  const all = broken((n) => { n[S].obs.fdb = []; n[S].obs.neighs = []; n[S].obs.routes = n[S].obs.routes.filter((r) => r.dev !== 'flannel.1'); });
  assert.deepEqual(ids(all), ['remote-entries']);
  assert.equal(all[0].subject, 'agent1');
  assert.equal(all[0].fix.length, 3);
});

test('a stale FDB entry (the peer\'s old IP) is named; an entry no lease calls for is extra', () => {
  const stale = broken((n) => { n[S].obs.fdb[0].dst = '198.51.100.99'; });
  assert.deepEqual(ids(stale), ['remote-fdb']);
  assert.match(stale[0].what, /198\.51\.100\.99 \(lease: 198\.51\.100\.3\)/);
  const extra = broken((n) => { n[S].obs.routes.push({ dst: '10.42.9.0/24', gateway: '10.42.9.0', dev: 'flannel.1', flags: ['onlink'] }); });
  assert.deepEqual(ids(extra), ['remote-extra']);
});

test('the same problem on two nodes is one finding naming both', () => {
  const fs = broken((n) => { n[S].obs.sysctls['net/ipv4/conf/all/rp_filter'] = '1'; n[A].obs.sysctls['net/ipv4/conf/all/rp_filter'] = '1'; });
  assert.deepEqual(ids(fs), ['rp-filter-strict']);
  assert.equal(fs[0].node, 'server, agent1');
  assert.equal(fs[0].fix.length, 2);
});

test('FORWARD: a REJECT first is found and deleted by its own words; after flannel\'s ACCEPT it is harmless; DROP policy without an ACCEPT', () => {
  const reject = '-A FORWARD -m comment --comment "podnet-fault forward-reject" -j REJECT --reject-with icmp-port-unreachable';
  const withRule = (rules: string, policy = 'ACCEPT') => NODE_IPTABLES.replace(':FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:KUBE-EXTERNAL', `:FORWARD ${policy} [0:0]\n:OUTPUT ACCEPT [0:0]\n:FLANNEL-FWD - [0:0]\n:KUBE-EXTERNAL`).replace('-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall"', `${rules}\n-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall"`);
  const fs = broken((n) => { n[A].obs.iptables = parseIptablesSave(withRule(reject)); });
  assert.deepEqual(ids(fs), ['forward-reject']);
  assert.deepEqual(fs[0].fix, ['nsenter --net=/run/netns/podnet-t-agent1 iptables -D FORWARD -m comment --comment \'podnet-fault forward-reject\' -j REJECT --reject-with icmp-port-unreachable']);
  const flannel = `-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD\n-A FLANNEL-FWD -s ${CLUSTER} -m comment --comment "flanneld forward" -j ACCEPT\n-A FLANNEL-FWD -d ${CLUSTER} -m comment --comment "flanneld forward" -j ACCEPT`;
  assert.deepEqual(broken((n) => { n[A].obs.iptables = parseIptablesSave(withRule(`${flannel}\n${reject}`)); }), []);
  assert.deepEqual(broken((n) => { n[A].obs.iptables = parseIptablesSave(withRule(flannel, 'DROP')); }), []);
  assert.deepEqual(ids(broken((n) => { n[A].obs.iptables = parseIptablesSave(withRule('', 'DROP')); })), ['forward-policy-drop']);
  const other = broken((n) => { n[A].obs.iptables = parseIptablesSave(withRule('-A FORWARD -s 192.168.7.0/24 -j DROP')); });
  assert.deepEqual(other, [], 'a DROP of another network is not pod traffic');
});

test('flannel\'s nftables table read back as flannel writes it; a missing table or a stale subnet is one finding', () => {
  assert.deepEqual(ids(broken((n) => { n[S].obs.nft = parseNftJson('[]'); })), ['flannel-rules-missing']);
  const stale = broken((n) => { n[A].obs.nft = healthyLab()[S].obs.nft; });
  assert.deepEqual(ids(stale), ['flannel-rules']);
  assert.match(stale[0].what, /stale/);
  assert.match(stale[0].fix[0], /^nsenter --net=\/run\/netns\/podnet-t-agent1 nft -f - <<'EOF'\n/);
});

test('conntrack: nearly full is one finding; failed inserts another; flannel.1 checksum offload off is a warning, last', () => {
  assert.deepEqual(ids(broken((n) => { n[S].obs.conntrack = { count: 950, max: 1000, stats: {} }; })), ['conntrack-full']);
  assert.deepEqual(ids(broken((n) => { n[S].obs.conntrack!.stats.insert_failed = 3; })), ['conntrack-drops']);
  const fs = broken((n) => { n[S].obs.vtepFeatures = { 'tx-checksum-ip-generic': false }; n[A].obs.sysctls['net/ipv4/ip_forward'] = '0'; });
  assert.deepEqual(ids(fs), ['ip-forward-off', 'vtep-tx-csum-off']);
  assert.equal(fs[1].severity, 'warning');
});

test('a pod holding another pod\'s address: one finding (not also "lost its address" or a leaked reservation)', () => {
  const fs = broken((n) => { n[A].obs.pods[1].iface!.addrs = ['10.42.1.2/24']; });
  assert.deepEqual(ids(fs), ['duplicate-pod-ip']);
  assert.match(fs[0].what, /pod4 holds it instead of its own 10\.42\.1\.3/);
  assert.ok(fs[0].fix.some((l) => l === 'ip -n podnet-t-cni-pod4 addr add 10.42.1.3/24 dev eth0'));
});

test('a reservation no pod uses is a leak, with the file to remove', () => {
  const fs = broken((n) => { n[S].obs.ipam!.entries.push({ ip: '10.42.0.9', containerId: 'dead'.repeat(16), file: '/x/cbr0/10.42.0.9' }); });
  assert.deepEqual(ids(fs), ['ipam-leak']);
  assert.deepEqual(fs[0].fix, ['rm /x/cbr0/10.42.0.9']);
});

test('a stale lease is one finding, its missing entries on every node are not', () => {
  const fs = broken((_n, input) => { input.cluster!.leases.push({ subnet: '10.42.5.0/24', publicIP: '198.51.100.250', vtepMac: '02:de:ad:00:00:01', vni: 1 }); for (const x of input.nodes) x.exp.remotes!.push({ name: '198.51.100.250', subnet: '10.42.5.0/24', vtepIP: '10.42.5.0', vtepMac: '02:de:ad:00:00:01', publicIP: '198.51.100.250', stale: true }); });
  assert.deepEqual(ids(fs), ['stale-lease']);
  assert.equal(fs[0].node, 'cluster');
});

test('rules on the underlay switch are one finding with the rule and the table to delete', () => {
  const table = '{"nftables":[{"table":{"family":"bridge","name":"x","handle":1}},{"chain":{"family":"bridge","table":"x","name":"c","handle":1,"type":"filter","hook":"forward","prio":0,"policy":"accept"}},{"rule":{"family":"bridge","table":"x","chain":"c","handle":2,"expr":[{"match":{"op":"==","left":{"meta":{"key":"iifname"}},"right":"server"}},{"match":{"op":"==","left":{"payload":{"protocol":"udp","field":"dport"}},"right":8472}},{"mangle":{"key":{"payload":{"protocol":"udp","field":"checksum"}},"value":57005}}]}}]}';
  const fs = broken((n, input) => { input.cluster!.underlay!.nft = parseNftJson(table); n[A].obs.udp!.InCsumErrors = 4; });
  assert.deepEqual(ids(fs), ['underlay-filter']);
  assert.match(fs[0].what, /VXLAN/);
  assert.match(fs[0].evidence[0].value, /iifname server udp dport 8472 udp checksum set 57005/);
  assert.deepEqual(fs[0].fix, ['nsenter --net=/run/netns/podnet-t-underlay nft delete table bridge x']);
});

test('a lease store that cannot be read is one finding; the nodes are still checked against the plan', () => {
  const fs = broken((n, input) => { input.cluster!.storeError = 'etcd unix:///x/etcd.sock is unreachable (connect ENOENT)'; n[S].obs.sysctls['net/ipv4/ip_forward'] = '0'; });
  assert.deepEqual(ids(fs), ['lease-store-unreachable', 'ip-forward-off']);
});

test('a node without its lease, and a node that could not be read', () => {
  assert.deepEqual(ids(broken((_n, input) => { input.cluster!.leases = input.cluster!.leases.filter((l) => l.publicIP !== '198.51.100.3'); })), ['lease-missing']);
  const fs = broken((n) => { n[A].obs.error = 'Cannot open network namespace'; });
  assert.deepEqual(ids(fs), ['node-unreadable']);
});

test('order: errors before warnings, what breaks a node before what breaks a pod', () => {
  const fs = broken((n) => {
    n[S].obs.sysctls['net/ipv4/conf/all/rp_filter'] = '1';
    n[S].obs.pods[0].hostVeth!.port!.hairpin = false;
    n[A].obs.links.find((l) => l.name === 'flannel.1')!.mtu = 1400;
  });
  assert.deepEqual(ids(fs), ['vtep-mtu', 'hairpin-off', 'rp-filter-strict']);
});
