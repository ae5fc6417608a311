// Many entries: a node with 250 pods and an FDB of over a thousand entries — every view keeps
// every row, the pairing holds for each, and the SVG stays well-formed and quick to draw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { graphModel, inspectFdb, inspectLinks, inspectNeigh, inspectPods, inspectRoutes } from '../../../../src/views/index.js';
import { podColumns, renderGraphDot, renderGraphMermaid, renderGraphSvg } from '../../../../src/render/inspect/index.js';
import { renderTable } from '../../../../src/render/table.js';
import { bigSnapshot } from '../../../fixtures/inspect/snapshot.js';
import { checkXml } from '../../../fixtures/inspect/xml.js';

const s = bigSnapshot(250);

test('250 pods: one row each, in natural order, each paired by ifindex', () => {
  const rows = inspectPods(s);
  assert.equal(rows.length, 250);
  assert.deepEqual(rows.slice(0, 3).map((r) => r.pod), ['pod-1', 'pod-2', 'pod-3']);
  assert.equal(rows[9].pod, 'pod-10', 'pod-10 comes after pod-9');
  for (const r of rows) {
    assert.equal(r.hostVeth.split('@if')[1], String(r.ifindex));
    assert.equal(r.iface, `eth0@if${r.hostIndex}`);
  }
  assert.equal(new Set(rows.map((r) => r.hostVeth)).size, 250);
  assert.equal(renderTable(rows, podColumns).split('\n').length, 252);
});

test('an FDB of hundreds of entries: all listed, learned ones joined to their pods', () => {
  const rows = inspectFdb(s);
  assert.ok(rows.length > 1000, `${rows.length} entries`);
  const learned = rows.filter((r) => r.kind === 'learned');
  assert.equal(learned.length, 250);
  assert.ok(learned.every((r) => /^pod-\d+:eth0$/.test(r.owner)));
  assert.equal(inspectLinks(s).length, 4 + 250 + 500);
  assert.equal(inspectRoutes(s).length, 4 + 750);
  assert.ok(inspectNeigh(s).length > 500);
});

test('the graph of 250 pods renders quickly, wrapped, and well-formed', () => {
  const t0 = performance.now();
  const g = graphModel(s);
  const svg = renderGraphSvg(g);
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `model + SVG took ${ms.toFixed(0)} ms`);
  checkXml(svg);
  const [, w, h] = /viewBox="0 0 (\d+) (\d+)"/.exec(svg)!.map(Number);
  assert.ok(w <= 1700, `pods wrap into bands instead of one ${w}px row`);
  assert.ok(h > w, 'bands stack downwards');
  assert.equal(svg.match(/class="namespace"/g)?.length, 250);
  assert.equal(renderGraphMermaid(g).match(/Network Namespace/g)?.length, 250);
  assert.equal(renderGraphDot(g).match(/subgraph "cluster_/g)?.length, 250);
});
