import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAgainstRoutes, defaultTopology, nodePodCidr, parseTopology, TopologyError } from '../../../src/model/topology.js';
import { formatCidr } from '../../../src/model/ip.js';

const fails = (raw: unknown, message: RegExp) => assert.throws(() => parseTopology(raw), (e: unknown) => e instanceof TopologyError && message.test(e.message));

test('the default topology is the blog\'s node', () => {
  const t = parseTopology(defaultTopology(2));
  assert.equal(t.clusterCIDR, '10.42.0.0/16');
  assert.equal(t.serviceCIDR, '10.43.0.0/16');
  assert.equal(t.underlay, '198.51.100.0/24');
  assert.equal(t.mtu, 1450);
  assert.deepEqual(t.nodes, [{ name: 'server' }]);
  assert.deepEqual(t.pods.map((p) => p.name), ['pod1', 'pod2']);
  assert.equal(formatCidr(nodePodCidr(t, 0)), '10.42.0.0/24');
});

test('nodes get consecutive /24s of the cluster CIDR', () => {
  const t = parseTopology({ nodes: [{ name: 'server' }, { name: 'agent1' }, { name: 'agent2' }] });
  assert.deepEqual([0, 1, 2].map((i) => formatCidr(nodePodCidr(t, i))), ['10.42.0.0/24', '10.42.1.0/24', '10.42.2.0/24']);
});

test('each problem is one line naming the field and the fix', () => {
  fails({ nodes: [{ name: 'server', podCIDR: '10.43.0.0/24' }] }, /^nodes\[0\]\.podCIDR: 10\.43\.0\.0\/24 is not inside clusterCIDR 10\.42\.0\.0\/16: pick a subnet of it/);
  fails({ nodes: [{ name: 'averyveryverylongname' }] }, /^nodes\[0\]\.name: a node name becomes an interface name .* at most 15 characters/);
  fails({ nodez: [] }, /^unknown field "nodez" \(known: /);
  fails({ nodes: [{ name: 'server', cidr: 'x' }] }, /^nodes\[0\]: unknown field "cidr" \(known: name, podCIDR\)/);
  fails({ clusterCIDR: '10.42.0.0/33' }, /^clusterCIDR: .*prefix length over 32/);
  fails({ clusterCIDR: 'ten' }, /^clusterCIDR: "ten" is not a CIDR/);
  fails({ pods: [{ name: 'Pod_1' }] }, /^pods\[0\]\.name: a pod name must be lowercase/);
  fails({ pods: [{ name: 'a', node: 'nope' }] }, /^pods\[0\]\.node: unknown node "nope" \(nodes: server\)/);
  fails({ pods: [{ name: 'a' }, { name: 'a' }] }, /^pods\[1\]\.name: "a" is declared twice/);
  fails({ serviceCIDR: '10.42.128.0/17' }, /^serviceCIDR: .* overlaps clusterCIDR/);
  fails({ underlay: '10.42.5.0/24' }, /^underlay: .* overlaps clusterCIDR/);
  fails({ nodes: [{ name: 'a', podCIDR: '10.42.0.0/24' }, { name: 'b', podCIDR: '10.42.0.0/24' }] }, /^nodes\[1\]\.podCIDR: .* overlaps nodes\[0\]\.podCIDR/);
  fails({ nodes: [{ name: 'a', podCIDR: '10.42.0.0/24' }, { name: 'b', podCIDR: '10.42.1.0/25' }] }, /^nodes\[1\]\.podCIDR: 10\.42\.1\.0\/25 is a \/25 but nodes\[0\]'s is a \/24: flannel gives every node a subnet of one size \(SubnetLen\); declare them alike$/);
  fails({ mtu: 100 }, /^mtu: the pod MTU must be at least 576/);
  fails({ nodes: [] }, /^nodes: a lab needs at least one node/);
});

test('a range that overlaps one of the machine\'s routes is refused', () => {
  const t = parseTopology({ underlay: '192.0.2.0/24' });
  assert.throws(() => checkAgainstRoutes(t, [{ dst: '192.0.2.0/24', dev: 'eth0' }, { dst: 'default' }]),
    /underlay: 192\.0\.2\.0\/24 overlaps this machine's route 192\.0\.2\.0\/24 \(dev eth0\)/);
  assert.doesNotThrow(() => checkAgainstRoutes(parseTopology({}), [{ dst: '192.0.2.0/24', dev: 'eth0' }, { dst: '192.0.2.1' }]));
});
