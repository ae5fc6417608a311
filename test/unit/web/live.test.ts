// The live topology with a fake target: versions move only when the drawing changes, the poll runs
// only while someone listens, a fingerprint change (or a poke) brings a rescan within a tick, and a
// request never gets a scan older than it allows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixedSnapshot } from '../../fixtures/inspect/snapshot.js';
import { LiveTopology } from '../../../src/web/live.js';
import type { TopologyDoc } from '../../../src/web/api.js';
import type { Scanned } from '../../../src/web/topology.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A target whose pods can be dropped, counting scans and layouts. */
function fake() {
  const t = { scans: 0, layouts: 0, print: 'a', dropPod2: false };
  const scan = async (): Promise<Scanned> => {
    t.scans++;
    const s = fixedSnapshot();
    const nodes = [t.dropPod2 ? { ...s, namespaces: s.namespaces.filter((n) => n.identity.name !== 'pod2') } : s];
    return { source: { kind: 'host', name: 'server' }, takenAt: new Date().toISOString(), nodes };
  };
  const live = new LiveTopology({
    scan, fingerprint: async () => t.print, readOnly: true, tickMs: 10, settleMs: 50, idleRescanMs: 10_000,
    layout: async () => { t.layouts++; return { width: 1, height: 1, boxes: [], wires: [] }; },
  });
  return { t, live };
}

test('versions move only when the drawing changes; layouts only then', async () => {
  const { t, live } = fake();
  const a = await live.refresh();
  const b = await live.refresh();
  assert.equal(a.doc.version, 1);
  assert.equal(b.doc.version, 1);
  assert.equal(t.layouts, 1);
  t.dropPod2 = true;
  assert.equal((await live.refresh()).doc.version, 2);
  assert.equal(t.layouts, 2);
  live.close();
});

test('current(): a scan no older than asked, shared by concurrent callers', async () => {
  const { t, live } = fake();
  await Promise.all([live.current(1000), live.current(1000), live.current(1000)]);
  assert.equal(t.scans, 1);
  await live.current(1000);
  assert.equal(t.scans, 1, 'fresh enough');
  await sleep(20);
  await live.current(5);
  assert.equal(t.scans, 2, 'too old: rescanned');
  live.poke();
  await live.current(1000);
  assert.equal(t.scans, 3, 'a poke makes any older scan stale');
  live.close();
});

test('the poll: nothing while nobody listens; a changed fingerprint reaches listeners within ticks', async () => {
  const { t, live } = fake();
  await live.refresh();
  await sleep(60);
  assert.equal(t.scans, 1, 'no listener: no poll');
  const docs: TopologyDoc[] = [];
  const stop = live.subscribe((d) => docs.push(d));
  await sleep(40);
  const before = t.scans;
  t.dropPod2 = true;
  t.print = 'b';
  for (let i = 0; i < 50 && docs.length === 0; i++) await sleep(10);
  assert.equal(docs.length, 1, 'one change, one event');
  assert.equal(docs[0].version, 2);
  assert.ok(!docs[0].nodes[0].graph.pods.some((p) => p.name === 'pod2'));
  assert.ok(t.scans > before);
  stop();
  await sleep(80); // the settle window ends; the poll has stopped
  const after = t.scans;
  await sleep(60);
  assert.equal(t.scans, after, 'unsubscribed: the poll stopped');
  live.close();
});
