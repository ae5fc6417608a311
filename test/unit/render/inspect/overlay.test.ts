// The overlay in the inspect views: `inspect overlay` on a node of a two-node lab (the remote node
// by name from the lab's state) and on a real node (by IP), what a missing route, neighbour or FDB
// entry is reported as, the FDB and neighbour owners named after nodes, and the graph's remote
// nodes. Golden tables (UPDATE_GOLDEN=1 rewrites them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTable } from '../../../../src/render/table.js';
import { graphModel, inspectFdb, inspectNeigh, inspectOverlay } from '../../../../src/views/index.js';
import { overlayColumns, overlayWideColumns, renderGraphDot, renderGraphMermaid, renderGraphSvg } from '../../../../src/render/inspect/index.js';
import { fixedSnapshot } from '../../../fixtures/inspect/snapshot.js';
import { assertGolden } from '../../../fixtures/inspect/golden.js';
import { checkXml } from '../../../fixtures/inspect/xml.js';
import { AGENT1, SERVER, twoNodes } from '../../../fixtures/trace/two-nodes.js';

test('inspect overlay: flannel.1\'s attributes and, per remote node, its route, neighbour and FDB entry, by name', () => {
  const { server, agent1 } = twoNodes();
  const rows = [...inspectOverlay(server), ...inspectOverlay(agent1)];
  assertGolden('overlay.golden', renderTable(rows, overlayColumns) + '\n' + renderTable(rows, overlayWideColumns));
  assert.deepEqual(rows[0], {
    node: 'server', device: 'flannel.1', vni: 1, local: '198.51.100.2', dstport: 8472, learning: false, mtu: 1450, deviceMac: SERVER.vtepMac,
    addresses: ['10.42.0.0/32'], remote: 'agent1', remoteNetnsId: '', remoteIp: '198.51.100.3', subnet: '10.42.1.0/24', vtepIp: '10.42.1.0',
    vtepMac: AGENT1.vtepMac, neigh: 'PERMANENT', fdb: 'permanent', route: '10.42.1.0/24 via 10.42.1.0 dev flannel.1 onlink', status: 'ok',
  });
  assert.deepEqual(rows.map((r) => [r.node, r.remote]), [['server', 'agent1'], ['agent1', 'server']]);
});

test('a real node knows its peers by IP; a fixed K3s-shaped node too', () => {
  const [row] = inspectOverlay(twoNodes({ named: false }).server);
  assert.equal(row.remote, '198.51.100.3');
  assert.equal(row.status, 'ok');
  const fixed = inspectOverlay(fixedSnapshot());
  assert.deepEqual(fixed.map((r) => [r.remote, r.subnet, r.vtepMac, r.status]), [['198.51.100.3', '10.42.1.0/24', 'ba:d0:0c:00:00:01', 'ok']]);
});

test('what a missing entry breaks is said in the status', () => {
  const status = (missing: ('fdb' | 'neigh' | 'route')[]) => inspectOverlay(twoNodes({ missing }).server).map((r) => r.status);
  assert.deepEqual(status(['fdb']), [`no FDB entry for ${AGENT1.vtepMac}: flannel.1 does not know which node IP to send to`]);
  assert.deepEqual(status(['neigh']), [
    'no neighbour entry for 10.42.1.0: the kernel would ARP over the overlay, and nobody answers (nolearning)',
    `no route through flannel.1 to ${AGENT1.vtepMac}: nothing is sent to agent1's pods`,
  ], 'without the neighbour nothing ties the route to the FDB entry: two rows, each saying what it lacks');
  const noRoute = inspectOverlay(twoNodes({ missing: ['route'] }).server);
  assert.deepEqual(noRoute.map((r) => [r.remote, r.subnet, r.status]), [['agent1', '', `no route through flannel.1 to 10.42.1.0: nothing is sent to agent1's pods`]]);
  const none = inspectOverlay(twoNodes({ missing: ['route', 'neigh', 'fdb'] }).server);
  assert.deepEqual(none.map((r) => [r.remote, r.status]), [['', 'no remote nodes: nothing is routed through flannel.1']]);
});

test('the FDB and neighbour views name the node behind a remote VTEP', () => {
  const { server } = twoNodes();
  const fdb = inspectFdb(server).find((r) => r.port === 'flannel.1')!;
  assert.equal(fdb.owner, 'agent1 (VTEP 198.51.100.3)');
  assert.match(fdb.explanation, /encapsulated to VTEP 198\.51\.100\.3, node agent1 \(flannel adds one per remote node\)$/);
  assert.equal(inspectNeigh(server).find((r) => r.dev === 'flannel.1')?.owner, 'agent1 (VTEP 198.51.100.3)');
  assert.equal(inspectFdb(twoNodes({ named: false }).server).find((r) => r.port === 'flannel.1')?.owner, 'VTEP 198.51.100.3');
});

test('the graph draws each remote node beside flannel.1, joined by a dashed tunnel', () => {
  const g = graphModel(twoNodes().server);
  assert.deepEqual(g.remotes, [{ id: 'server_remote_agent1', name: 'agent1', ip: '198.51.100.3', subnet: '10.42.1.0/24', vtepMac: AGENT1.vtepMac, vxlan: 'server_flannel_1' }]);
  assert.match(renderGraphMermaid(g), /\n {4}server_remote_agent1\["Node agent1 198\.51\.100\.3 pods 10\.42\.1\.0\/24"\]\n/);
  assert.match(renderGraphMermaid(g), /\n {4}server_flannel_1 -\.-\|"VTEP 26:15:63:45:1d:4a"\| server_remote_agent1\n/);
  assert.match(renderGraphDot(g), /"server_flannel_1" -- "server_remote_agent1" \[style=dashed/);
  const svg = renderGraphSvg(g);
  checkXml(svg);
  assert.equal(svg.match(/class="remote"/g)?.length, 1);
  assert.equal(graphModel(twoNodes({ named: false }).server).remotes[0].name, '198.51.100.3');
});
