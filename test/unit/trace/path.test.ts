// The path across the overlay, from two node snapshots (test/fixtures/trace/two-nodes.ts): every
// capture point in order, the request and reply legs read from each node's route, neighbour and FDB
// entry; a single real node ends the path at its uplink; errors name what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tracePath } from '../../../src/trace/path.js';
import { AGENT1, SERVER, nodeIp, twoNodes } from '../../fixtures/trace/two-nodes.js';

const CROSS = ['pod1/eth0', `server/${SERVER.veth}`, 'server/cni0', 'server/flannel.1', 'server/eth0', 'underlay/sw0',
  'agent1/eth0', 'agent1/flannel.1', 'agent1/cni0', `agent1/${AGENT1.veth}`, 'pod2/eth0'];

test('pods on two nodes: eleven points, from pod1 through both flannel.1 and the underlay switch to pod2', () => {
  const { server, agent1 } = twoNodes();
  const path = tracePath([server, agent1], 'pod1', 'pod2');
  assert.deepEqual(path.points.map((p) => p.id), CROSS);
  assert.deepEqual(path.points.map((p) => p.role), ['pod-eth0', 'host-veth', 'bridge', 'vxlan', 'node-uplink', 'underlay', 'node-uplink', 'vxlan', 'bridge', 'host-veth', 'pod-eth0']);
  assert.deepEqual(path.points.map((p) => p.position), CROSS.map((_, i) => i));
  assert.equal(path.points[2].mac, SERVER.cni0Mac, 'a bridge point knows its own MAC');
  assert.equal(path.points[7].mac, AGENT1.vtepMac);
  assert.deepEqual(path.dst, { owner: 'pod2', ip: '10.42.1.2', mac: AGENT1.podMac });
  assert.equal(path.points[5].netns, '/run/netns/podnet-demo-underlay');
  assert.equal(path.points[8].netns, '/run/netns/podnet-demo-agent1');
});

test('the request leg is server\'s route, neighbour and FDB entry; the reply leg is agent1\'s', () => {
  const { server, agent1 } = twoNodes();
  const { overlay } = tracePath([server, agent1], 'pod1', 'pod2');
  assert.deepEqual(overlay?.request, {
    from: { node: 'server', ip: nodeIp(SERVER), device: 'flannel.1', deviceMac: SERVER.vtepMac, vni: 1, port: 8472, uplink: 'eth0' },
    to: { node: 'agent1', ip: nodeIp(AGENT1), device: 'flannel.1', deviceMac: AGENT1.vtepMac, vni: 1, port: 8472, uplink: 'eth0' },
    route: '10.42.1.0/24 via 10.42.1.0 dev flannel.1 onlink',
    neighbour: { ip: '10.42.1.0', mac: AGENT1.vtepMac, state: 'PERMANENT' },
    fdb: { mac: AGENT1.vtepMac, dst: nodeIp(AGENT1) },
    deliver: '10.42.1.0/24 dev cni0 proto kernel scope link src 10.42.1.1',
  });
  assert.equal(overlay?.reply?.from.node, 'agent1');
  assert.equal(overlay?.reply?.route, '10.42.0.0/24 via 10.42.0.0 dev flannel.1 onlink');
  assert.deepEqual(overlay?.reply?.fdb, { mac: SERVER.vtepMac, dst: nodeIp(SERVER) });
  assert.deepEqual(tracePath([agent1, server], 'pod2', 'pod1').points.map((p) => p.id), [...CROSS].reverse(),
    'the snapshots\' order does not matter, the way back is the mirror image');
});

test('an IP of the remote subnet that no pod holds ends at the remote bridge', () => {
  const { server, agent1 } = twoNodes();
  const path = tracePath([server, agent1], 'pod1', '10.42.1.77');
  assert.deepEqual(path.points.map((p) => p.id), CROSS.slice(0, 9));
  assert.deepEqual(path.dst, { owner: '10.42.1.77', ip: '10.42.1.77' });
});

test('a real node alone (its peer by IP only): the path ends at its uplink, the reply leg arrives there', () => {
  const { server } = twoNodes({ named: false });
  const path = tracePath(server, 'pod1', '10.42.1.2');
  assert.deepEqual(path.points.map((p) => p.id), CROSS.slice(0, 5));
  assert.equal(path.overlay?.request?.to.node, nodeIp(AGENT1), 'no name known: the node IP');
  assert.equal(path.overlay?.request?.to.device, undefined);
  assert.deepEqual(path.overlay?.reply?.from, { node: nodeIp(AGENT1), ip: nodeIp(AGENT1) });
  assert.equal(path.overlay?.reply?.to.node, 'server');
  assert.equal(path.overlay?.reply?.deliver, '10.42.0.0/24 dev cni0 proto kernel scope link src 10.42.0.1');
  assert.equal(tracePath(twoNodes().server, 'pod1', '10.42.1.2').overlay?.request?.to.node, 'agent1', 'named from the lab\'s nodes');
});

test('a single node: pods on one bridge keep the five-point path, with no overlay', () => {
  const { server } = twoNodes();
  const path = tracePath(server, 'pod1', '10.42.0.1');
  assert.deepEqual(path.points.map((p) => p.id), CROSS.slice(0, 3));
  assert.equal(path.overlay, undefined);
  assert.equal(path.dst.owner, 'server', 'the node\'s own address');
});

test('errors: an unknown pod lists the pods of every node; a pod the route does not send through VXLAN is traced where the route goes', () => {
  const { server, agent1 } = twoNodes({ missing: ['route'] });
  assert.throws(() => tracePath([server, agent1], 'nope', 'pod2'), /^UserError: unknown pod "nope" on server, agent1 \(pods: pod1, pod2\)$/);
  const path = tracePath([server, agent1], 'pod1', 'pod2');
  assert.deepEqual(path.points.slice(0, 4).map((p) => p.id), [...CROSS.slice(0, 3), 'server/eth0']);
  assert.equal(path.overlay, undefined);
  assert.deepEqual({ ...path.misroute, route: undefined }, { node: 'server', dst: '10.42.1.2', dstNode: 'agent1', route: undefined });
  assert.match(path.misroute?.route ?? '', /dev eth0/);
});
