// Details of an element: the `podnet inspect` views' rows that concern it, with the CLI's columns
// and the command that prints the same table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixedSnapshot } from '../../fixtures/inspect/snapshot.js';
import { inspectFdb, inspectRoutes } from '../../../src/views/index.js';
import { fdbWideColumns } from '../../../src/render/inspect/index.js';
import { elementDetails } from '../../../src/web/details.js';
import { buildTopology } from '../../../src/web/topology.js';
import type { Target } from '../../../src/lab/target.js';
import type { LabState } from '../../../src/lab/state.js';

/** A lab target (details only name the lab). */
const labTarget = (lab: string): Target => ({ kind: 'lab', lab, state: {} as LabState });

const built = buildTopology({ source: { kind: 'lab', lab: 'big', status: 'up' }, takenAt: 'x', nodes: [fixedSnapshot()] });
const details = (id: string, t: Parameters<typeof elementDetails>[1] = labTarget('big')) => elementDetails(built.elements.get(id)!, t);
const section = (d: ReturnType<typeof details>, title: string) => d.sections.find((s) => s.title === title)!;

test('a bridge: its link, routes, neighbours and its FDB with owner and kind, as inspect fdb -o wide', () => {
  const d = details('server_cni0');
  assert.equal(d.kind, 'bridge');
  assert.deepEqual(d.sections.map((s) => s.title), ['Links', 'Routes', 'Neighbours', 'FDB']);
  const fdb = section(d, 'FDB');
  assert.equal(fdb.command, 'podnet inspect fdb server --name big -o wide');
  assert.deepEqual(fdb.columns, fdbWideColumns.map((c) => c.header));
  assert.deepEqual(fdb.items, inspectFdb(fixedSnapshot()).filter((r) => r.bridge === 'cni0'));
  const pod1 = (fdb.items as { owner: string; kind: string }[]).find((r) => r.owner === 'pod1:eth0');
  assert.equal(pod1?.kind, 'learned');
  assert.deepEqual(section(d, 'Links').rows.map((r) => r[1]), ['cni0']);
  assert.ok(section(d, 'Routes').rows.every((r) => r[3] === 'cni0'), 'only routes through cni0');
});

test('a pod interface: its own namespace\'s routes and neighbours', () => {
  const d = details('server_pod1_eth0');
  const routes = section(d, 'Routes');
  assert.equal(routes.command, 'podnet inspect routes pod1 --name big -o wide');
  assert.deepEqual(routes.items, inspectRoutes(fixedSnapshot(), 'ino:4026532401').filter((r) => r.dev === 'eth0'));
  assert.deepEqual((section(d, 'Pod').items as { pod: string }[]).map((r) => r.pod), ['pod1']);
});

test('a veth: its link and FDB entries; the remote node: flannel\'s route, neighbour and FDB entry for it', () => {
  const veth = details('server_veth82ebd960');
  assert.ok((section(veth, 'FDB').items as { port: string }[]).every((r) => r.port === 'veth82ebd960'));
  const remote = details('server_remote_198_51_100_3');
  assert.deepEqual((section(remote, 'Routes').items as { dst: string }[]).map((r) => r.dst), ['10.42.1.0/24']);
  assert.ok((section(remote, 'FDB').items as { dst: string }[]).some((r) => r.dst === '198.51.100.3'));
});

test('commands name the viewpoint the way the CLI does: the demo lab needs no --name, a host needs --host', () => {
  assert.equal(section(details('server_cni0', labTarget('demo')), 'FDB').command, 'podnet inspect fdb server -o wide');
  assert.equal(section(details('server_cni0', { kind: 'host' }), 'FDB').command, 'podnet inspect fdb --host -o wide');
});
