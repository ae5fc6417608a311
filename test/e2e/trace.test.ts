// `podnet trace` as a user runs it on a lab: the text timeline, JSON, Mermaid, --pcap, exit codes,
// and one-line errors for bad input.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { T, labName, newStateDir, oneErrorLine, podnet, show, tearDown, type CliResult } from './cli.js';

const ok = (r: CliResult) => assert.equal(r.code, 0, show(r));

describe('trace on a lab', () => {
  const X = labName();
  let stateDir = '';
  let dir = '';
  const cli = (args: string[]) => podnet(args, { stateDir });

  before(async () => {
    stateDir = await newStateDir('trace');
    dir = mkdtempSync(join(tmpdir(), 'podnet-e2e-trace-'));
    ok(await cli(['lab', 'up', '--name', X]));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await tearDown([{ lab: X, stateDir }], [stateDir]);
  });

  test('the text timeline: header, one line per hop, the verdict; exit 0 when answered', T, async () => {
    const r = await cli(['trace', 'pod1', 'pod2', '--name', X, '--cold']);
    ok(r);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^trace pod1 \(10\.42\.0\.2\) -> pod2 \(10\.42\.0\.3\), icmp, cold, 5 capture points$/);
    assert.match(r.stdout, /\+0\.000 ms +pod1\/eth0 +→ +ARP who-has 10\.42\.0\.3/);
    assert.match(r.stdout, /server\/cni0 +→ +″ +broadcast: flooded to every port/);
    assert.match(r.stdout, /ICMP echo reply/);
    assert.match(lines.at(-1)!, /^reply from 10\.42\.0\.3 in \d+\.\d{3} ms$/);
  });

  test('-o json, -o mermaid and --pcap', T, async () => {
    const j = await cli(['trace', 'pod1', 'pod2', '--name', X, '-o', 'json']);
    ok(j);
    const doc = JSON.parse(j.stdout) as { version: number; answered: boolean; points: { id: string }[]; packets: { kind: string; hops: unknown[] }[] };
    assert.equal(doc.version, 1);
    assert.equal(doc.answered, true);
    assert.equal(doc.points.length, 5);
    assert.ok(doc.packets.some((p) => p.kind === 'icmp' && p.hops.length >= 5));
    const m = await cli(['trace', 'pod1', 'pod2', '--name', X, '-o', 'mermaid']);
    ok(m);
    assert.match(m.stdout, /^sequenceDiagram\n/);
    assert.match(m.stdout, /participant p0 as pod1\/eth0/);
    const pcap = join(dir, 'out.pcapng');
    const p = await cli(['trace', 'pod1', 'pod2', '--name', X, '--pcap', pcap]);
    ok(p);
    assert.ok(existsSync(pcap));
    assert.match(p.stderr, /wrote .*out\.pcapng: 5 capture points \(pod1\/eth0, server\/veth[0-9a-f]{8}, server\/cni0, server\/veth[0-9a-f]{8}, pod2\/eth0\)/);
  });

  test('no reply: exit 1 and the last point the packet reached', T, async () => {
    const r = await cli(['trace', 'pod1', '10.42.0.250', '--name', X]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout.trimEnd().split('\n').at(-1)!, /^no reply, .*last seen at server\/cni0 \(\+\d+\.\d{3} ms\)$/);
  });

  test('bad input: one line naming the problem', T, async () => {
    assert.match(oneErrorLine(await cli(['trace', 'nope', 'pod2', '--name', X])), /^unknown pod "nope" on server \(pods: pod1, pod2\)$/);
    assert.match(oneErrorLine(await cli(['trace', 'pod1', 'nowhere', '--name', X])), /^unknown destination "nowhere": give a pod name or an IPv4 address$/);
    assert.match(oneErrorLine(await cli(['trace', 'pod1', 'pod2', '--name', X, '--tcp', '80', '--udp', '53'])), /^give one of --tcp or --udp$/);
    assert.match(oneErrorLine(await cli(['trace', 'pod1', 'pod2', '--name', X, '--tcp', '0'])), /^--tcp: "0" is not a port \(1-65535\)$/);
    assert.match(oneErrorLine(await cli(['trace', 'pod1', 'pod2', '--name', X, '-o', 'png'])), /^-o: "png" is not an output format here/);
  });
});
