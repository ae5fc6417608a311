// `podnet trace` across two nodes as a user runs it: each packet's hops in causal order over the
// eleven points (pod, veth, cni0, the route into flannel.1, then the uplink, the underlay, the far
// uplink, flannel.1, cni0, veth, pod; replies the other way) in the text and the JSON; a narrow
// terminal; `--count` of pings that cross the overlay.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, T, labName, newStateDir, podnet, show, tearDown, type CliResult } from './cli.js';
import { pathOf, textPackets } from './trace-text.js';
import { WatchedChild, readState } from '../kernel/helpers.js';

const ok = (r: CliResult) => assert.equal(r.code, 0, show(r));

describe('trace across nodes, in causal order', () => {
  const X = labName();
  let stateDir = '';
  let dir = '';
  const children: WatchedChild[] = [];
  const cli = (args: string[], env: Record<string, string> = {}) => podnet([...args, '--name', X], { stateDir, env });

  before(async () => {
    stateDir = await newStateDir('trace-cross');
    dir = mkdtempSync(join(tmpdir(), 'podnet-e2e-trace-cross-'));
    writeFileSync(join(dir, 'lab.yaml'), 'nodes: [{ name: server }, { name: agent1 }]\npods: [{ name: pod1 }, { name: pod2 }]\n');
    ok(await cli(['lab', 'up', '-f', join(dir, 'lab.yaml')]));
    ok(await cli(['trace', 'pod1', 'pod2'])); // warm the caches: no ARP in the middle of what follows
  });
  after(async () => {
    for (const c of children) await c.kill();
    rmSync(dir, { recursive: true, force: true });
    await tearDown([{ lab: X, stateDir }], [stateDir]);
  });

  test('--tcp 8080: every segment over the eleven points in path order, text and JSON', T, async () => {
    const j = await cli(['trace', 'pod1', 'pod2', '--tcp', '8080', '-o', 'json']);
    ok(j);
    const { forward, backward } = pathOf(j.stdout);
    assert.equal(forward.length, 11);
    assert.deepEqual(forward.slice(2, 6), ['server/cni0', 'server/flannel.1', 'server/eth0', 'underlay/sw0']);
    const doc = JSON.parse(j.stdout) as { packets: { kind: string; direction: string; hops: { point: string }[] }[] };
    const tcp = doc.packets.filter((p) => p.kind === 'tcp');
    assert.ok(tcp.length >= 3);
    for (const p of tcp) assert.deepEqual(p.hops.map((h) => h.point), p.direction === 'request' ? forward : backward);
    const r = await cli(['trace', 'pod1', 'pod2', '--tcp', '8080']);
    ok(r);
    // Segments in flight together (an ACK and a FIN) interleave their hops in the text's time order:
    // each is put together again by its label and direction.
    const packets = textPackets(r.stdout, forward.length).filter((p) => p.label.startsWith('TCP'));
    assert.ok(packets.length >= 3, r.stdout);
    for (const p of packets) {
      const there = p.hops[0].endsWith('→');
      assert.deepEqual(p.hops, (there ? forward : backward).map((x) => `${x} ${there ? '→' : '←'}`), r.stdout);
    }
  });

  test('COLUMNS=100: no line longer than 100 characters', T, async () => {
    const r = await cli(['trace', 'pod1', 'pod2'], { COLUMNS: '100' });
    ok(r);
    for (const l of r.stdout.split('\n')) assert.ok(l.length <= 100, `${l.length}: ${l}`);
    assert.match(r.stdout, /\n\+\d+\.\d{3} ms {2}server\/eth0 +→ +″ in VXLAN\n {11}encapsulated by flannel\.1 /);
  });

  test('--count 2 while pod1 pings pod2 across the overlay: two journeys over the eleven points', T, async () => {
    const c = new WatchedChild(['env', `PODNET_STATE_DIR=${stateDir}`, process.execPath, BIN, 'trace', 'pod1', 'pod2', '--count', '2', '--name', X]);
    children.push(c);
    assert.ok(await c.waitLines((l) => l.some((x) => x.startsWith('watching pod1 (10.42.0.2) <-> pod2 (10.42.1.2): all traffic and ARP on 11 capture points')), 20_000), c.stderr.join(''));
    const netns = readState(stateDir, X).pods.find((p) => p.name === 'pod1')!.netns;
    assert.equal(spawnSync('nsenter', [`--net=/run/netns/${netns}`, 'ping', '-c', '3', '-i', '0.2', '-W', '1', '10.42.1.2'], { timeout: 15_000 }).status, 0);
    assert.equal(await Promise.race([c.exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))]), 0, c.stderr.join(''));
    const text = c.lines.join('\n');
    assert.equal(c.lines.filter((l) => /^journey \d+ at /.test(l)).length, 2, text);
    const packets = textPackets(text).filter((p) => p.label.startsWith('ICMP'));
    assert.ok(packets.length >= 2, text);
    assert.equal(packets[0].hops.length, 11, text);
    assert.ok(packets[0].hops.indexOf('server/flannel.1 →') < packets[0].hops.indexOf('server/eth0 →'), 'the route into flannel.1, then the uplink');
  });
});
