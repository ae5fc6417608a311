// `podnet trace` as a user runs it on a lab: the text timeline, JSON, Mermaid, --pcap, exit codes,
// and one-line errors for bad input; each packet's hops in causal order (veth → cni0 → veth) in the
// text and the JSON; a narrow terminal; a pod traced to itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { T, labName, newStateDir, oneErrorLine, podnet, show, tearDown, type CliResult } from './cli.js';
import { pathOf, textPackets } from './trace-text.js';

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

  test('--tcp 8080: every segment veth → cni0 → veth in causal order, in the text and the JSON', T, async () => {
    const j = await cli(['trace', 'pod1', 'pod2', '--name', X, '--tcp', '8080', '-o', 'json']);
    ok(j);
    const { forward, backward } = pathOf(j.stdout);
    const doc = JSON.parse(j.stdout) as { packets: { kind: string; direction: string; hops: { point: string; tsNs: string }[] }[] };
    const tcp = doc.packets.filter((p) => p.kind === 'tcp');
    assert.ok(tcp.length >= 3);
    for (const p of tcp) assert.deepEqual(p.hops.map((h) => h.point), p.direction === 'request' ? forward : backward, JSON.stringify(p.hops));
    const r = await cli(['trace', 'pod1', 'pod2', '--name', X, '--tcp', '8080']);
    ok(r);
    const packets = textPackets(r.stdout, forward.length).filter((p) => p.label.startsWith('TCP'));
    assert.ok(packets.length >= 3, r.stdout);
    for (const p of packets) {
      const there = p.hops[0].endsWith('→');
      assert.deepEqual(p.hops, (there ? forward : backward).map((x) => `${x} ${there ? '→' : '←'}`), r.stdout);
    }
    const cni0 = /server\/cni0 +→ +″ +forwarded to port veth/.exec(r.stdout)?.index ?? -1;
    assert.ok(cni0 > 0 && cni0 < r.stdout.indexOf(' towards pod2 (TTL 64, same MACs'), 'forwarded by cni0, then it leaves through the veth');
    if (r.stdout.includes('\nnote: ')) assert.match(r.stdout, /\nnote: hops are in causal \(path\) order; times are per-interface capture stamps and may run backwards\nreply from /);
  });

  test('--cold: the ARP enters through the veth before cni0 floods it; the ping in path order', T, async () => {
    const { forward, backward } = pathOf((await cli(['trace', 'pod1', 'pod2', '--name', X, '-o', 'json'])).stdout);
    const r = await cli(['trace', 'pod1', 'pod2', '--name', X, '--cold']);
    ok(r);
    const packets = textPackets(r.stdout);
    const arp = packets.find((p) => p.label === 'ARP who-has 10.42.0.3');
    assert.ok(arp, r.stdout);
    assert.deepEqual(arp.hops.slice(0, 3), forward.slice(0, 3).map((x) => `${x} →`));
    assert.ok(arp.hops.indexOf(`${forward[1]} →↺`) > 2, 'the reflection after the bridge');
    for (const p of packets.filter((x) => x.label.startsWith('ICMP'))) {
      const there = p.hops[0].endsWith('→');
      assert.deepEqual(p.hops, (there ? forward : backward).map((x) => `${x} ${there ? '→' : '←'}`));
    }
    // Nobody answers: the kernel asks again a second later; that flood too enters by the veth first.
    const lost = await cli(['trace', 'pod1', '10.42.0.252', '--name', X, '--cold']);
    assert.equal(lost.code, 1, show(lost));
    const asks = textPackets(lost.stdout);
    assert.ok(asks.length >= 1 && asks.every((p) => p.label === 'ARP who-has 10.42.0.252'), lost.stdout);
    for (const p of asks) assert.deepEqual(p.hops, [`${forward[0]} →`, `${forward[1]} →`, `${forward[2]} →`, `${forward[1]} →↺`, `${forward[0]} →↺`], lost.stdout);
  });

  test('COLUMNS=100: no line longer than 100 characters, the reasons wrapped under their hops; -o json unchanged', T, async () => {
    const r = await podnet(['trace', 'pod1', 'pod2', '--name', X, '--cold', '--tcp', '8080'], { stateDir, env: { COLUMNS: '100' } });
    ok(r);
    for (const l of r.stdout.split('\n')) assert.ok(l.length <= 100, `${l.length}: ${l}`);
    // The time column is as wide as the longest stamp (a slow FIN makes it +19.206 ms); the reason
    // starts under the hop's name, whatever that width.
    const first = /\n( *\+0\.000 ms {2})pod1\/eth0 +→ +ARP who-has 10\.42\.0\.3\n( +)route get 10\.42\.0\.3: /.exec(r.stdout);
    assert.ok(first, r.stdout);
    assert.equal(first[2].length, first[1].length, `the reason starts under the hop's name\n${r.stdout}`);
    const j = await podnet(['trace', 'pod1', 'pod2', '--name', X, '-o', 'json'], { stateDir, env: { COLUMNS: '100' } });
    ok(j);
    assert.equal((JSON.parse(j.stdout) as { version: number }).version, 1);
    assert.ok(j.stdout.split('\n').some((l) => l.length > 100), 'JSON is not wrapped');
  });

  test('trace pod1 pod1: one line saying the packet stays on lo inside the pod, exit 0', T, async () => {
    const r = await cli(['trace', 'pod1', 'pod1', '--name', X]);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, 'pod1 -> pod1 (10.42.0.2): a packet to the pod\'s own address stays on lo inside pod1; there is no hop on the path to capture\n');
    assert.equal(r.stderr, '');
  });

  test('bad input: one line naming the problem', T, async () => {
    assert.match(oneErrorLine(await cli(['trace', 'nope', 'pod2', '--name', X])), /^unknown pod "nope" on server \(pods: kube-dns, pod1, pod2\)$/);
    assert.match(oneErrorLine(await cli(['trace', 'pod1', 'nowhere', '--name', X])), /^unknown destination "nowhere": no pod and no Service of that name \(pods: pod1, pod2, kube-dns; Services: kubernetes.default, kube-dns.kube-system; or give an IPv4 address, HOST:PORT or outside\)$/);
    assert.match(oneErrorLine(await cli(['trace', 'pod1', 'pod2', '--name', X, '--tcp', '80', '--udp', '53'])), /^give one of --tcp or --udp$/);
    assert.match(oneErrorLine(await cli(['trace', 'pod1', 'pod2', '--name', X, '--tcp', '0'])), /^--tcp: "0" is not a port \(1-65535\)$/);
    assert.match(oneErrorLine(await cli(['trace', 'pod1', 'pod2', '--name', X, '-o', 'png'])), /^-o: "png" is not an output format here/);
    assert.match(oneErrorLine(await cli(['trace', 'pod1', 'pod2', '--name', X, '--count', '0'])), /^--count: "0" is not a number of journeys between 1 and 1000000$/);
    assert.match(oneErrorLine(await cli(['trace', 'pod1', 'pod2', '--name', X, '--watch', '--pcap', '/tmp/x.pcapng'])), /^--pcap writes the file of one trace/);
  });
});
