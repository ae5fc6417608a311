// resolvePlan without a kernel: the names of every namespace, the nodes' addresses on the underlay,
// their pod CIDRs (counted from the cluster CIDR or as declared) and cni0 addresses, the MACs, IDs and
// UUIDs drawn from a seeded random source (derived here independently from the seed's SHA-256 stream),
// pods spread over the nodes in order, and podNetwork's bridge config equal to the delegate flannel
// builds from the node's subnet.env.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { LOOPBACK_IFNAME, LOOPBACK_NETWORK, podNetwork, resolvePlan, type LabPlan } from '../../../src/lab/plan.js';
import { buildDelegate, flannelConf } from '../../../src/cni/flannel.js';
import { parseSubnetEnv } from '../../../src/model/subnet-env.js';
import { defaultTopology, parseTopology } from '../../../src/model/topology.js';
import { seededRandom } from '../seeded.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const plan = (raw: unknown, seed = 'plan', lab = 'demo'): LabPlan => resolvePlan(lab, parseTopology(raw), seededRandom(seed));
const nodes = (...names: string[]) => names.map((name) => ({ name }));
const pods = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `pod${i + 1}` }));

/** The `counter`-th draw of seededRandom(seed), as test/unit/seeded.ts defines it: SHA-256 of "seed:counter". */
const draw = (seed: string, counter: number) => createHash('sha256').update(`${seed}:${counter}`).digest();
const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** A locally administered unicast MAC from six bytes (bit 1 of the first byte set, bit 0 cleared). */
const macOf = (b: Uint8Array) => [(b[0] & 0xfc) | 0x02, ...b.subarray(1, 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
/** A version-4 UUID from sixteen bytes. */
function uuidOf(b: Uint8Array): string {
  const x = Buffer.from(b.subarray(0, 16));
  x[6] = (x[6] & 0x0f) | 0x40;
  x[8] = (x[8] & 0x3f) | 0x80;
  const h = x.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

test('names: node namespaces podnet-<lab>-<node>, the underlay switch podnet-<lab>-underlay with bridge sw0, pods podnet-<lab>-cni-<uuid v4>', () => {
  const p = plan({ nodes: nodes('server', 'agent1'), pods: pods(3) }, 'plan', 'lab7');
  assert.equal(p.lab, 'lab7');
  assert.deepEqual(p.nodes.map((n) => [n.name, n.netns]), [['server', 'podnet-lab7-server'], ['agent1', 'podnet-lab7-agent1']]);
  assert.equal(p.underlay.netns, 'podnet-lab7-underlay');
  assert.equal(p.underlay.bridge, 'sw0');
  for (const pod of p.pods) {
    assert.match(pod.netns, /^podnet-lab7-cni-/);
    assert.match(pod.netns.slice('podnet-lab7-cni-'.length), UUID_V4);
  }
  assert.equal(new Set(p.pods.map((x) => x.netns)).size, 3, 'every pod has its own namespace');
});

test('the lab\'s ranges and MTU come from the topology (K3s defaults when not declared)', () => {
  const p = plan(defaultTopology(1));
  assert.deepEqual([p.clusterCIDR, p.serviceCIDR, p.mtu], ['10.42.0.0/16', '10.43.0.0/16', 1450]);
  const q = plan({ clusterCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12', mtu: 1400, nodes: nodes('a') });
  assert.deepEqual([q.clusterCIDR, q.serviceCIDR, q.mtu], ['10.244.0.0/16', '10.96.0.0/12', 1400]);
});

test('underlay: the switch holds .1 (the nodes\' gateway), node i holds .(2+i), all with the underlay\'s prefix', () => {
  const p = plan({ nodes: nodes('server', 'agent1', 'agent2') });
  assert.deepEqual(p.underlay, { netns: 'podnet-demo-underlay', bridge: 'sw0', cidr: '198.51.100.0/24', gateway: '198.51.100.1/24' });
  assert.deepEqual(p.nodes.map((n) => n.ip), ['198.51.100.2/24', '198.51.100.3/24', '198.51.100.4/24']);
  // A declared underlay, written with host bits: the network is what counts.
  const q = plan({ underlay: '203.0.113.5/28', nodes: nodes('a', 'b') });
  assert.deepEqual([q.underlay.cidr, q.underlay.gateway], ['203.0.113.0/28', '203.0.113.1/28']);
  assert.deepEqual(q.nodes.map((n) => n.ip), ['203.0.113.2/28', '203.0.113.3/28']);
});

test('pod CIDRs: node i gets the i-th /24 of the cluster CIDR (K3s: 10.42.0.0/24 first); cni0 holds its .1', () => {
  const p = plan({ nodes: nodes('server', 'agent1', 'agent2') });
  assert.deepEqual(p.nodes.map((n) => n.podCIDR), ['10.42.0.0/24', '10.42.1.0/24', '10.42.2.0/24']);
  assert.deepEqual(p.nodes.map((n) => n.bridgeIP), ['10.42.0.1/24', '10.42.1.1/24', '10.42.2.1/24']);
  const q = plan({ clusterCIDR: '10.244.0.0/16', nodes: nodes('a', 'b') });
  assert.deepEqual(q.nodes.map((n) => [n.podCIDR, n.bridgeIP]), [['10.244.0.0/24', '10.244.0.1/24'], ['10.244.1.0/24', '10.244.1.1/24']]);
});

test('pod CIDRs as declared: a declared one is used as is; the others keep their own index\'s /24', () => {
  const p = plan({ nodes: [{ name: 'server' }, { name: 'agent1', podCIDR: '10.42.7.0/24' }, { name: 'agent2' }] });
  assert.deepEqual(p.nodes.map((n) => [n.podCIDR, n.bridgeIP]), [['10.42.0.0/24', '10.42.0.1/24'], ['10.42.7.0/24', '10.42.7.1/24'], ['10.42.2.0/24', '10.42.2.1/24']]);
  // Smaller subnets (all nodes alike): cni0 takes the first address of each, with its prefix.
  const q = plan({ nodes: [{ name: 'a', podCIDR: '10.42.0.0/25' }, { name: 'b', podCIDR: '10.42.0.128/25' }] });
  assert.deepEqual(q.nodes.map((n) => [n.podCIDR, n.bridgeIP]), [['10.42.0.0/25', '10.42.0.1/25'], ['10.42.0.128/25', '10.42.0.129/25']]);
});

test('pods are spread over the nodes in order; a pod that names its node stays there', () => {
  const p = plan({ nodes: nodes('server', 'agent1', 'agent2'), pods: pods(5) });
  assert.deepEqual(p.pods.map((x) => [x.name, x.node]), [['pod1', 'server'], ['pod2', 'agent1'], ['pod3', 'agent2'], ['pod4', 'server'], ['pod5', 'agent1']]);
  const q = plan({ nodes: nodes('server', 'agent1'), pods: [{ name: 'a', node: 'agent1' }, { name: 'b', node: 'agent1' }, { name: 'c' }, { name: 'd' }] });
  assert.deepEqual(q.pods.map((x) => [x.name, x.node]), [['a', 'agent1'], ['b', 'agent1'], ['c', 'server'], ['d', 'agent1']]);
  assert.deepEqual(plan(defaultTopology(3)).pods.map((x) => x.node), ['server', 'server', 'server']);
  assert.equal(p.pods.every((x) => x.ip === undefined), true, 'no IP before host-local hands one out');
});

test('random values from the seeded source: per pod a 64-hex sandbox ID, a UUID for its namespace, a MAC; then one VTEP MAC per node', () => {
  const seed = 'plan-draws';
  const p = plan({ nodes: nodes('server', 'agent1'), pods: pods(2) }, seed);
  // Each call of seededRandom takes the next SHA-256 block: per pod 32 bytes (ID), 16 (UUID), 6 (MAC).
  p.pods.forEach((pod, i) => {
    assert.equal(pod.containerId, hexOf(draw(seed, 3 * i)), `${pod.name}'s sandbox ID`);
    assert.equal(pod.netns, `podnet-demo-cni-${uuidOf(draw(seed, 3 * i + 1))}`, `${pod.name}'s namespace`);
    assert.equal(pod.mac, macOf(draw(seed, 3 * i + 2)), `${pod.name}'s MAC`);
  });
  assert.deepEqual(p.nodes.map((n) => n.vtepMac), [macOf(draw(seed, 6)), macOf(draw(seed, 7))], 'VTEP MACs are drawn after every pod');
  for (const mac of [...p.pods.map((x) => x.mac), ...p.nodes.map((n) => n.vtepMac)]) {
    assert.match(mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    assert.equal(parseInt(mac.slice(0, 2), 16) & 0x03, 0x02, `${mac} is unicast and locally administered`);
  }
});

test('the same seed gives the same plan; another seed other values; a node more leaves the pods\' values as they were', () => {
  const raw = { nodes: nodes('server', 'agent1'), pods: pods(4) };
  assert.deepEqual(plan(raw, 's1'), plan(raw, 's1'));
  const other = plan(raw, 's2');
  const first = plan(raw, 's1');
  for (const [i, pod] of first.pods.entries()) {
    assert.notEqual(pod.containerId, other.pods[i].containerId);
    assert.notEqual(pod.mac, other.pods[i].mac);
    assert.notEqual(pod.netns, other.pods[i].netns);
  }
  // The VTEP MACs come last, so the pods of a one-node and a two-node lab draw alike.
  const one = plan({ nodes: nodes('server'), pods: pods(4) }, 's1');
  assert.deepEqual(one.pods.map((x) => [x.containerId, x.netns, x.mac]), first.pods.map((x) => [x.containerId, x.netns, x.mac]));
  assert.equal(one.nodes[0].vtepMac, first.nodes[0].vtepMac);
  assert.notEqual(first.nodes[0].vtepMac, first.nodes[1].vtepMac);
});

test('podNetwork: conflist cbr0 (cniVersion 1.0.0) whose bridge is exactly the delegate flannel builds from the node\'s subnet.env', () => {
  const p = plan({ nodes: nodes('server', 'agent1'), pods: pods(2) });
  const node = p.nodes[1];
  const net = podNetwork(p, node, '/var/lib/podnet/agent1/networks');
  assert.equal(net.cniVersion, '1.0.0');
  assert.equal(net.name, 'cbr0');
  assert.equal(net.plugins.length, 1);
  // What flannel's agent writes for agent1 on K3s, and what the flannel plugin then hands its delegate.
  const subnetEnv = parseSubnetEnv('FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n');
  const k3sFlannel = { cniVersion: '1.0.0', name: 'cbr0', type: 'flannel', delegate: { hairpinMode: true, forceAddress: true, isDefaultGateway: true }, ipam: { type: 'host-local', dataDir: '/var/lib/podnet/agent1/networks' } };
  assert.deepEqual(net.plugins[0], buildDelegate(k3sFlannel as never, flannelConf(k3sFlannel as never), subnetEnv));
  // …which is K3s's bridge config (docs/facts.md#k3s) for this node's subnet.
  assert.deepEqual(net.plugins[0], {
    type: 'bridge', name: 'cbr0', cniVersion: '1.0.0', hairpinMode: true, forceAddress: true, isDefaultGateway: true, isGateway: true, ipMasq: false, mtu: 1450,
    ipam: { type: 'host-local', dataDir: '/var/lib/podnet/agent1/networks', ranges: [[{ subnet: '10.42.1.0/24' }]], routes: [{ dst: '10.42.0.0/16' }] },
  });
});

test('podNetwork follows the topology: another cluster CIDR, MTU and a declared subnet', () => {
  const p = plan({ clusterCIDR: '10.244.0.0/16', mtu: 1400, nodes: [{ name: 'a', podCIDR: '10.244.9.0/24' }] });
  const bridge = podNetwork(p, p.nodes[0], '/d').plugins[0] as unknown as { mtu: number; ipam: { ranges: unknown; routes: unknown } };
  assert.equal(bridge.mtu, 1400);
  assert.deepEqual(bridge.ipam.ranges, [[{ subnet: '10.244.9.0/24' }]]);
  assert.deepEqual(bridge.ipam.routes, [{ dst: '10.244.0.0/16' }]);
});

test('the loopback network is containerd\'s (go-cni\'s WithLoNetwork): cni-loopback, CNI 0.3.1, the loopback plugin, on lo', () => {
  assert.deepEqual(LOOPBACK_NETWORK, { cniVersion: '0.3.1', name: 'cni-loopback', plugins: [{ type: 'loopback' }] });
  assert.equal(LOOPBACK_IFNAME, 'lo');
});
