// The overlay peers a node's state describes (flannel's route, neighbour and FDB entry per remote
// node, joined by gateway and MAC; leftovers kept, multicast and the all-zeros default left out), and
// the cluster node each stands for (by node IP, VTEP MAC or subnet).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fdbFromJson } from '../../../src/model/kernel.js';
import { nodeOfPeer, vxlanPeers } from '../../../src/model/snapshot.js';
import { AGENT1, LAB_NODES, twoNodes } from '../../fixtures/trace/two-nodes.js';

const host = (s: ReturnType<typeof twoNodes>['server']) => s.namespaces.find((n) => n.id === s.host)!;

test('vxlanPeers joins route → neighbour (by gateway) → FDB entry (by MAC)', () => {
  const [peer, ...rest] = vxlanPeers(host(twoNodes().server));
  assert.equal(rest.length, 0);
  assert.deepEqual([peer.device, peer.route?.dst, peer.vtepIp, peer.neigh?.state, peer.vtepMac, peer.fdb?.state, peer.nodeIp],
    ['flannel.1', '10.42.1.0/24', '10.42.1.0', ['PERMANENT'], AGENT1.vtepMac, 'permanent', '198.51.100.3']);
});

test('vxlanPeers keeps what no route uses, and leaves out group MACs and the all-zeros default', () => {
  const ns = host(twoNodes({ missing: ['route'] }).server);
  ns.fdb.push(...[
    { mac: '00:00:00:00:00:00', ifname: 'flannel.1', dst: '198.51.100.9', flags: ['self'], state: 'permanent' },
    { mac: '33:33:00:00:00:01', ifname: 'flannel.1', flags: ['self'], state: 'permanent' },
    { mac: '02:00:00:00:00:99', ifname: 'flannel.1', dst: '198.51.100.99', flags: ['self'], state: 'permanent' },
  ].map(fdbFromJson));
  assert.deepEqual(vxlanPeers(ns).map((p) => [p.route?.dst, p.vtepIp, p.vtepMac, p.nodeIp]), [
    [undefined, '10.42.1.0', AGENT1.vtepMac, '198.51.100.3'],
    [undefined, '', '02:00:00:00:00:99', '198.51.100.99'],
  ]);
});

test('nodeOfPeer: by node IP, else VTEP MAC, else the subnet holding the VTEP IP; nothing without nodes', () => {
  const base = { device: 'flannel.1', vtepIp: '', vtepMac: '', nodeIp: '' };
  assert.equal(nodeOfPeer(LAB_NODES, { ...base, nodeIp: '198.51.100.3' })?.name, 'agent1');
  assert.equal(nodeOfPeer(LAB_NODES, { ...base, vtepMac: AGENT1.vtepMac })?.name, 'agent1');
  assert.equal(nodeOfPeer(LAB_NODES, { ...base, vtepIp: '10.42.0.0' })?.name, 'server');
  assert.equal(nodeOfPeer(LAB_NODES, { ...base, nodeIp: '198.51.100.50' }), undefined);
  assert.equal(nodeOfPeer(undefined, { ...base, nodeIp: '198.51.100.3' }), undefined);
});
