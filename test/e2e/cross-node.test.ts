// `podnet trace` and `podnet inspect overlay` on a two-node lab, as a user runs them: the timeline
// across both nodes with the VXLAN hops marked, the JSON's overlay legs, the overlay table of every
// node, and the graph's remote node.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { T, labName, newStateDir, podnet, show, tearDown, type CliResult } from './cli.js';

const ok = (r: CliResult) => assert.equal(r.code, 0, show(r));

describe('across nodes', () => {
  const X = labName();
  let stateDir = '';
  let dir = '';
  const cli = (args: string[]) => podnet([...args, '--name', X], { stateDir });

  before(async () => {
    stateDir = await newStateDir('cross');
    dir = mkdtempSync(join(tmpdir(), 'podnet-e2e-cross-'));
    writeFileSync(join(dir, 'lab.yaml'), 'nodes: [{ name: server }, { name: agent1 }]\npods: [{ name: pod1 }, { name: pod2 }]\n');
    ok(await cli(['lab', 'up', '-f', join(dir, 'lab.yaml')]));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await tearDown([{ lab: X, stateDir }], [stateDir]);
  });

  test('trace pod1 pod2: eleven points, the packet inside VXLAN on the uplinks and the underlay, answered', T, async () => {
    const r = await cli(['trace', 'pod1', 'pod2']);
    ok(r);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'trace pod1 (10.42.0.2) -> pod2 (10.42.1.2), icmp, warm, 11 capture points');
    assert.match(r.stdout, /server\/flannel\.1 +→ +″ +routed by server: 10\.42\.1\.0\/24 via 10\.42\.1\.0 dev flannel\.1 onlink/);
    assert.match(r.stdout, /server\/eth0 +→ +″ in VXLAN +encapsulated by flannel\.1 \(FDB [0-9a-f:]{17} dst 198\.51\.100\.3 = agent1\); outer 198\.51\.100\.2:\d+ → 198\.51\.100\.3:8472 UDP, VNI 1/);
    assert.match(r.stdout, /agent1\/eth0 +→ +″ in VXLAN +arrives at agent1/);
    assert.equal(lines.filter((l) => l.includes(' in VXLAN ')).length, 6);
    assert.match(lines.at(-1)!, /^reply from 10\.42\.1\.2 in \d+\.\d{3} ms$/);
  });

  test('trace -o json: the overlay legs and the outer headers', T, async () => {
    const r = await cli(['trace', 'pod1', 'pod2', '-o', 'json']);
    ok(r);
    const doc = JSON.parse(r.stdout) as { overlay: { request: { to: { node: string }; fdb: { dst: string } } }; packets: { hops: { outer?: { vni: number } }[] }[] };
    assert.equal(doc.overlay.request.to.node, 'agent1');
    assert.equal(doc.overlay.request.fdb.dst, '198.51.100.3');
    assert.equal(doc.packets[0].hops.filter((h) => h.outer?.vni === 1).length, 3);
  });

  test('inspect overlay: every node\'s flannel.1 peers, by name; -o json; graph draws the remote node', T, async () => {
    const t = await cli(['inspect', 'overlay']);
    ok(t);
    assert.match(t.stdout, /^NODE +DEVICE +REMOTE +NODE IP +SUBNET +VTEP +VTEP MAC +STATUS\n/);
    assert.match(t.stdout, /\nserver +flannel\.1 +agent1 +198\.51\.100\.3 +10\.42\.1\.0\/24 +10\.42\.1\.0 +[0-9a-f:]{17} +ok\n/);
    assert.match(t.stdout, /\nagent1 +flannel\.1 +server +198\.51\.100\.2 +10\.42\.0\.0\/24 +10\.42\.0\.0 +[0-9a-f:]{17} +ok\n/);
    const j = await cli(['inspect', 'overlay', 'agent1', '-o', 'json']);
    ok(j);
    const doc = JSON.parse(j.stdout) as { kind: string; items: { node: string; remote: string; vni: number; dstport: number }[] };
    assert.equal(doc.kind, 'OverlayList');
    assert.deepEqual(doc.items.map((i) => [i.node, i.remote, i.vni, i.dstport]), [['agent1', 'server', 1, 8472]]);
    const g = await cli(['graph', 'server']);
    ok(g);
    assert.match(g.stdout, /server_flannel_1 -\.-\|"VTEP [0-9a-f:]{17}"\| server_remote_agent1\n/);
  });
});
