// The drawing: the topology laid out by ELK (run here in process) — sizes from the labels, nothing
// overlapping inside a node, pods top to bottom in name order, each pod's eth0 on its own box, every
// wire starting and ending at the boxes it joins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import elkjs from 'elkjs/lib/elk.bundled.js';
import { bigSnapshot, fixedSnapshot } from '../../fixtures/inspect/snapshot.js';
import type { Box, Drawing } from '../../../src/web/api.js';
import { toDrawing, toElk } from '../../../src/web/layout.js';
import { buildTopology } from '../../../src/web/topology.js';

const elk = new elkjs.default();
async function draw(nodes = [fixedSnapshot()]): Promise<Drawing> {
  const { doc } = buildTopology({ source: { kind: 'host', name: 'server' }, takenAt: 'x', nodes });
  const { graph, labels } = toElk(doc);
  return toDrawing(await elk.layout(graph), labels, doc);
}
const overlap = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const inside = (p: { x: number; y: number }, b: Box, slack = 1.5) => p.x >= b.x - slack && p.x <= b.x + b.w + slack && p.y >= b.y - slack && p.y <= b.y + b.h + slack;

test('every element has a box with its label; the node is a group around them', async () => {
  const d = await draw();
  const byId = new Map(d.boxes.map((b) => [b.id, b]));
  assert.deepEqual(byId.get('server_cni0')?.lines, ['cni0', '10.42.0.1/24']);
  assert.deepEqual(byId.get('server_flannel_1')?.lines, ['flannel.1', '10.42.0.0/32 vni 1']);
  assert.deepEqual(byId.get('server_pod1_eth0')?.lines, ['eth0@if6', '10.42.0.2']);
  assert.equal(byId.get('server_pod1_eth0')?.owner, 'server_pod1');
  assert.equal(byId.get('server_eth0')?.owner, 'node:server');
  const group = byId.get('node:server')!;
  for (const b of d.boxes.filter((x) => x.kind !== 'group' && x.kind !== 'interface')) assert.ok(inside({ x: b.x, y: b.y }, group) && inside({ x: b.x + b.w, y: b.y + b.h }, group), `${b.id} inside the node`);
  for (const b of d.boxes) assert.ok(b.w >= Math.max(...b.lines.map((l) => l.length)) * 7, `${b.id} is wide enough for its text`);
});

test('nothing overlaps inside a node except a port on its own box; pods run in name order', async () => {
  const d = await draw([bigSnapshot(40)]);
  const solid = d.boxes.filter((b) => b.kind !== 'group');
  for (let i = 0; i < solid.length; i++) {
    for (let j = i + 1; j < solid.length; j++) {
      const [a, b] = [solid[i], solid[j]];
      if (a.owner === b.id || b.owner === a.id) continue;
      assert.ok(!overlap(a, b), `${a.id} and ${b.id} overlap`);
    }
  }
  const pods = d.boxes.filter((b) => b.kind === 'pod').sort((a, b) => a.y - b.y).map((b) => b.lines[0]);
  assert.deepEqual(pods, [...pods].sort(new Intl.Collator('en', { numeric: true }).compare));
});

test('every wire starts at its source box and ends at its target box', async () => {
  const d = await draw();
  const byId = new Map(d.boxes.map((b) => [b.id, b]));
  assert.ok(d.wires.length > 0);
  for (const w of d.wires) {
    assert.ok(w.points.length >= 2, w.id);
    assert.ok(inside(w.points[0], byId.get(w.source)!), `${w.id} starts at ${w.source}`);
    assert.ok(inside(w.points[w.points.length - 1], byId.get(w.target)!), `${w.id} ends at ${w.target}`);
  }
});
