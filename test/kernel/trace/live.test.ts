// Live traces on a lab of this file's own: warm ICMP (five request hops, five reply hops, in path
// order), cold (ARP broadcast on every point, the reply, FDB entries learned), a TCP handshake, a
// destination that does not exist, and the pcapng read back by tshark and capinfos.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShellRunner } from '../../../src/host/shell-runner.js';
import { labUp } from '../../../src/lab/lifecycle.js';
import { defaultTopology, parseTopology } from '../../../src/model/topology.js';
import { runTrace, type TraceRequest } from '../../../src/trace/trace.js';
import type { TraceResult } from '../../../src/model/trace.js';
import { labDeps, links, readState, tearDownLabs, tempDir, uniqueName, labTarget } from '../helpers.js';
import { Host } from '../../../src/host/host.js';

const T = { timeout: 60_000 };
let root = '';
let lab = '';
const shells = new ShellRunner(8);
const runner = new Host(shells);

before(async () => {
  root = await tempDir('trace');
  lab = uniqueName('kt');
  await labUp(labDeps(root), lab, parseTopology(defaultTopology(2)));
});
after(async () => {
  shells.close();
  await tearDownLabs(labDeps(root), [lab], [root]);
});

const trace = async (o: Partial<TraceRequest>) => runTrace(runner, { src: 'pod1', dst: 'pod2', protocol: 'icmp', cold: false, target: await labTarget(root, lab, 'server'), stateRoot: root, ...o });
function hopsOf(r: TraceResult, kind: string, direction: 'request' | 'reply') {
  const p = r.packets.find((x) => x.kind === kind && x.direction === direction);
  assert.ok(p, `a ${kind} ${direction}`);
  return p.hops.filter((h) => !h.reflected).map((h) => h.point);
}

test('warm ICMP: five request hops and five reply hops, in path order, answered', T, async () => {
  await trace({}); // warm the caches
  const { result } = await trace({});
  const state = readState(root, lab);
  const veth = (pod: string) => {
    const ns = state.pods.find((p) => p.name === pod)!.netns;
    const eth0 = links(ns).find((l) => l.ifname === 'eth0')!;
    return links(`podnet-${lab}-server`).find((l) => l.ifindex === eth0.link_index)!.ifname;
  };
  const forward = ['pod1/eth0', `server/${veth('pod1')}`, 'server/cni0', `server/${veth('pod2')}`, 'pod2/eth0'];
  assert.deepEqual(result.path.points.map((p) => p.id), forward);
  assert.deepEqual(hopsOf(result, 'icmp', 'request'), forward);
  assert.deepEqual(hopsOf(result, 'icmp', 'reply'), [...forward].reverse());
  assert.equal(result.packets.filter((p) => p.kind === 'arp').length, 0, 'warm: no ARP');
  assert.equal(result.answered, true);
  assert.match(result.verdict, /^reply from 10\.42\.0\.3 in \d+\.\d{3} ms$/);
  const first = result.packets[0].hops[0];
  assert.match(first.explanation ?? '', /route get 10\.42\.0\.3: dev eth0 src 10\.42\.0\.2/);
  for (const p of result.packets) for (const h of p.hops) assert.equal(h.ttl, 64, 'bridged, TTL unchanged');
});

test('--cold: the ARP broadcast reaches every point, the reply comes back, the bridge learns both MACs', T, async () => {
  const { result } = await trace({ cold: true });
  const req = result.packets.find((p) => p.kind === 'arp' && p.direction === 'request');
  assert.ok(req);
  assert.deepEqual([...new Set(req.hops.map((h) => h.point))].sort(), result.path.points.map((p) => p.id).sort(), 'broadcast seen on all five points');
  assert.ok(req.hops.some((h) => h.reflected), 'hairpin: pod1 sees its own request come back');
  assert.ok(result.packets.some((p) => p.kind === 'arp' && p.direction === 'reply'));
  assert.equal(result.fdbBefore.length, 0, 'cold: nothing learned before');
  const macs = [result.path.src.mac, result.path.dst.mac];
  for (const mac of macs) assert.ok(result.fdbAfter.some((e) => e.mac === mac), `${mac} learned after`);
  assert.equal(result.answered, true);
  assert.match(req.hops.find((h) => h.point === 'server/cni0')?.explanation ?? '', /flooded/);
});

test('TCP: SYN, SYN-ACK, ACK through a listener podnet starts', T, async () => {
  const { result } = await trace({ protocol: 'tcp', port: 8080 });
  const tcp = result.packets.filter((p) => p.kind === 'tcp').map((p) => `${p.direction} ${(p.tcpFlags ?? []).join(',')}`);
  assert.deepEqual(tcp.slice(0, 3), ['request SYN', 'reply SYN,ACK', 'request ACK'], tcp.join('\n'));
  assert.equal(result.answered, true);
});

/** The host veth of each pod, as the kernel pairs them: the one-node path's five points. */
function forwardPath(): string[] {
  const state = readState(root, lab);
  const veth = (pod: string) => {
    const ns = state.pods.find((p) => p.name === pod)!.netns;
    const eth0 = links(ns).find((l) => l.ifname === 'eth0')!;
    return links(`podnet-${lab}-server`).find((l) => l.ifindex === eth0.link_index)!.ifname;
  };
  return ['pod1/eth0', `server/${veth('pod1')}`, 'server/cni0', `server/${veth('pod2')}`, 'pod2/eth0'];
}

test('TCP: every segment crosses veth → cni0 → veth in causal order, each hop with its own capture time', T, async () => {
  const { result } = await trace({ protocol: 'tcp', port: 8080 });
  const forward = forwardPath();
  const tcp = result.packets.filter((p) => p.kind === 'tcp');
  assert.ok(tcp.length >= 3, 'SYN, SYN-ACK, ACK at least');
  for (const p of tcp) {
    assert.deepEqual(p.hops.map((h) => h.point), p.direction === 'request' ? forward : [...forward].reverse(), `${p.label}: ${p.hops.map((h) => `${h.point}@${h.sinceStartNs}`).join(' ')}`);
  }
  // tcpdump hands the bridge's copy of a forwarded frame to cni0 after the egress port has sent it:
  // the times say so, the order does not.
  const all = tcp.flatMap((p) => p.hops);
  assert.ok(all.every((h) => Number.isInteger(h.sinceStartNs) && h.sinceStartNs >= 0));
});

test('--cold to an address nobody has: each ARP (and its retry) enters through the veth before cni0 floods it', T, async () => {
  const { result } = await trace({ dst: '10.42.0.251', cold: true });
  const arps = result.packets.filter((p) => p.kind === 'arp' && p.direction === 'request');
  assert.ok(arps.length >= 1);
  const veth1 = forwardPath()[1];
  for (const p of arps) {
    const order = p.hops.map((h) => `${h.point}${h.reflected ? '↺' : ''}`);
    assert.deepEqual(order.slice(0, 3), ['pod1/eth0', veth1, 'server/cni0'], order.join(' '));
    assert.ok(order.indexOf(`${veth1}↺`) < 0 || order.indexOf(`${veth1}↺`) > 2, 'the reflection after the bridge');
  }
  assert.match(result.verdict, /^no reply, ARP who-has 10\.42\.0\.251 unanswered/);
});

test('a destination that does not exist: no reply, last seen …, within the bound', T, async () => {
  const t0 = Date.now();
  const { result } = await trace({ dst: '10.42.0.250' });
  assert.ok(Date.now() - t0 < 5000, 'bounded');
  assert.equal(result.answered, false);
  assert.match(result.verdict, /^no reply, .*last seen at server\/cni0 \(\+\d+\.\d{3} ms\)$/);
});

test('the pcapng has one interface per point, named owner/iface, and tshark and capinfos read it', T, async (t) => {
  const { result, pcapng } = await trace({ cold: true });
  if (!existsSync('/usr/bin/tshark')) {
    t.skip('tshark is not installed (scripts/setup.mjs installs it as root)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'podnet-pcapng-'));
  try {
    const file = join(dir, 'trace.pcapng');
    writeFileSync(file, pcapng);
    const names = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.interface_name'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(names.status, 0, names.stderr);
    assert.deepEqual([...new Set(names.stdout.trim().split('\n'))].sort(), result.path.points.map((p) => p.id).sort());
    const info = spawnSync('capinfos', ['-M', file], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, /Number of interfaces in file: 5/);
    for (const p of result.path.points) assert.ok(info.stdout.includes(p.id), `capinfos names ${p.id}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
