// The topology the UI draws, built from a fixed snapshot of a K3s node (test/fixtures/inspect):
// the node's elements are `podnet graph`'s, every edge is one the snapshot shows, every element id
// and every capture point name leads to its element, and the change key ignores the time of the scan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixedSnapshot } from '../../fixtures/inspect/snapshot.js';
import { graphModel } from '../../../src/views/graph.js';
import { buildTopology, rehost, topologyKey } from '../../../src/web/topology.js';

const scan = () => ({ source: { kind: 'host' as const, name: 'server' }, takenAt: '2026-01-01T00:00:00Z', nodes: [fixedSnapshot()] });

test('one node: its graph is podnet graph\'s, the remote VTEP gets a box of its own', () => {
  const { doc } = buildTopology(scan());
  assert.equal(doc.nodes.length, 1);
  assert.equal(doc.nodes[0].id, 'node:server');
  assert.deepEqual(doc.nodes[0].graph, graphModel(fixedSnapshot()));
  assert.equal(doc.nodes[0].graph.remotes.length, 1, 'the remote node is not drawn as a node here');
  assert.equal(doc.underlay, undefined);
});

test('edges: uplink, VXLAN underlay and routing, bridge ports, veth pairs — as the snapshot has them', () => {
  const { doc } = buildTopology(scan());
  const e = doc.edges.map((x) => `${x.kind} ${x.source} ${x.target}`);
  assert.ok(e.includes('uplink server_eth0 server_cni0'));
  assert.ok(e.includes('vxlan-underlay server_eth0 server_flannel_1'));
  assert.ok(e.includes('routed server_cni0 server_flannel_1'), 'the node routes 10.42.1.0/24 through flannel.1');
  assert.ok(e.includes('vxlan-remote server_flannel_1 server_remote_198_51_100_3'));
  assert.ok(e.includes('bridge-port server_cni0 server_veth82ebd960'));
  assert.ok(e.includes('veth-pair server_veth82ebd960 server_pod1_eth0'));
  // The host veth whose peer is unknown is a port of cni0 and pairs with nothing drawn.
  assert.ok(e.includes('bridge-port server_cni0 server_veth3a94f27e'));
  assert.ok(!e.some((x) => x.startsWith('veth-pair server_veth3a94f27e')));
  assert.equal(new Set(doc.edges.map((x) => x.id)).size, doc.edges.length, 'edge ids are unique');
});

test('every element id and capture point leads to its element', () => {
  const { doc, elements, points } = buildTopology(scan());
  assert.equal(points.get('server/cni0'), 'server_cni0');
  assert.equal(points.get('pod1/eth0'), 'server_pod1_eth0');
  assert.equal(points.get('server/veth82ebd960'), 'server_veth82ebd960');
  const g = doc.nodes[0].graph;
  for (const id of [...g.interfaces, ...g.bridges, ...g.vxlans, ...g.remotes, ...g.veths, ...g.pods, ...g.pods.flatMap((p) => p.ifaces)].map((x) => x.id)) {
    assert.ok(elements.has(id), `${id} is indexed`);
  }
  assert.equal(elements.get('server_pod1_eth0')?.netnsId, 'ino:4026532401');
  assert.equal(elements.get('server_pod1_eth0')?.link, 'eth0');
  assert.equal(elements.get('server_cni0')?.kind, 'bridge');
  for (const e of doc.edges) assert.ok(elements.has(e.source) && elements.has(e.target), `${e.id} joins indexed elements`);
});

test('the change key ignores when the scan was taken, and notices a pod going', () => {
  const a = buildTopology(scan()).doc;
  const b = buildTopology({ ...scan(), takenAt: '2026-01-01T00:00:09Z' }).doc;
  assert.equal(topologyKey(a), topologyKey(b));
  const s = fixedSnapshot();
  const fewer = { ...s, namespaces: s.namespaces.filter((n) => n.identity.name !== 'pod2') };
  assert.notEqual(topologyKey(buildTopology({ ...scan(), nodes: [fewer] }).doc), topologyKey(a));
});

test('rehost only moves the viewpoint', () => {
  const s = fixedSnapshot();
  const r = rehost(s, 'ino:4026532401');
  assert.equal(r.host, 'ino:4026532401');
  assert.equal(r.namespaces, s.namespaces);
});
