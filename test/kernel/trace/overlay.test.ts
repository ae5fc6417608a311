// Live traces across nodes on a two-node lab of this file's own (pod1 on server, pod2 on agent1):
// ICMP and TCP cross the eleven points in path order, the uplink hops carry the VXLAN outer headers
// (the node IPs, flannel.1's port and VNI as `ip -d -json link` reports them) around the inner
// packet; each hop's reason names the route, the permanent neighbour, the FDB entry and the remote
// node as `ip -json` / `bridge -json` report them; --cold shows both nodes' ARP; a missing FDB entry
// ends the packet at flannel.1; tshark decodes the pcapng's VXLAN frames the same way.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShellRunner } from '../../../src/host/shell-runner.js';
import { labUp } from '../../../src/lab/lifecycle.js';
import { parseTopology } from '../../../src/model/topology.js';
import { runTrace, type TraceRequest } from '../../../src/trace/trace.js';
import type { TracedPacket, TraceResult } from '../../../src/model/trace.js';
import { bridgeJson, inet, ipJson, labDeps, links, readState, run, tearDownLabs, tempDir, uniqueName, labTarget } from '../helpers.js';
import { Host } from '../../../src/host/host.js';

const T = { timeout: 60_000 };
let root = '';
let lab = '';
const shells = new ShellRunner(8);
const runner = new Host(shells);

before(async () => {
  root = await tempDir('trace-overlay');
  lab = uniqueName('kv');
  await labUp(labDeps(root), lab, parseTopology({ nodes: [{ name: 'server' }, { name: 'agent1' }], pods: [{ name: 'pod1' }, { name: 'pod2' }] }));
});
after(async () => {
  shells.close();
  await tearDownLabs(labDeps(root), [lab], [root]);
});

const nodeNs = (node: string) => `podnet-${lab}-${node}`;
const trace = async (o: Partial<TraceRequest> = {}) => runTrace(runner, { src: 'pod1', dst: 'pod2', protocol: 'icmp', cold: false, target: await labTarget(root, lab), stateRoot: root, ...o });

/** The kernel's view, read independently: each node's IP, flannel.1 (VNI, port, MAC), and its entries for the other. */
function kernel() {
  const node = (name: string, other: string) => {
    const [dev] = ipJson(nodeNs(name), ['link', 'show', 'flannel.1']);
    const data = (dev.linkinfo as { info_data: { id: number; port: number } }).info_data;
    const [route] = ipJson(nodeNs(name), ['route', 'show', 'dev', 'flannel.1']);
    const [neigh] = ipJson(nodeNs(name), ['neigh', 'show', 'dev', 'flannel.1']);
    const fdb = bridgeJson(nodeNs(name), ['fdb', 'show', 'dev', 'flannel.1']).find((e) => e.mac === neigh.lladdr)!;
    return { ip: inet(nodeNs(name), 'eth0')[0].split('/')[0], vni: data.id, port: data.port, mac: dev.address as string, route, neigh, fdb, other };
  };
  return { server: node('server', 'agent1'), agent1: node('agent1', 'server') };
}

/** The host veth of a pod, as the kernel pairs it. */
function vethOf(pod: string): string {
  const p = readState(root, lab).pods.find((x) => x.name === pod)!;
  const eth0 = links(p.netns).find((l) => l.ifname === 'eth0')!;
  return links(nodeNs(p.node)).find((l) => l.ifindex === eth0.link_index)!.ifname as string;
}

const forward = () => ['pod1/eth0', `server/${vethOf('pod1')}`, 'server/cni0', 'server/flannel.1', 'server/eth0', 'underlay/sw0',
  'agent1/eth0', 'agent1/flannel.1', 'agent1/cni0', `agent1/${vethOf('pod2')}`, 'pod2/eth0'];
const packet = (r: TraceResult, kind: string, direction: string, flags?: string): TracedPacket => {
  const p = r.packets.find((x) => x.kind === kind && x.direction === direction && (!flags || x.tcpFlags?.join(',') === flags));
  assert.ok(p, `a ${kind} ${direction} ${flags ?? ''} in\n${r.packets.map((x) => x.key).join('\n')}`);
  return p;
};
const why = (p: TracedPacket, point: string) => p.hops.find((h) => h.point === point)?.explanation ?? '';

test('ICMP across nodes: eleven points each way, in path order, VXLAN outer around the inner packet', T, async () => {
  await trace(); // warm the caches
  const { result } = await trace();
  const k = kernel();
  assert.deepEqual(result.path.points.map((p) => p.id), forward());
  const req = packet(result, 'icmp', 'request');
  const rep = packet(result, 'icmp', 'reply');
  assert.deepEqual(req.hops.map((h) => h.point), forward());
  assert.deepEqual(rep.hops.map((h) => h.point), [...forward()].reverse());
  for (const p of [req, rep]) for (let i = 1; i < p.hops.length; i++) assert.ok(p.hops[i].tsNs >= p.hops[i - 1].tsNs, 'timestamps in order');
  const [from, to] = [k.server, k.agent1];
  for (const h of req.hops.filter((x) => x.role === 'node-uplink' || x.role === 'underlay')) {
    assert.ok(h.outer, `${h.point} is seen inside VXLAN`);
    assert.deepEqual([h.outer.src, h.outer.dst, h.outer.dstPort, h.outer.vni], [from.ip, to.ip, from.port, from.vni]);
    assert.deepEqual([h.srcMac, h.dstMac, h.ttl], [from.mac, to.mac, 63], 'inner frame: VTEP MAC to VTEP MAC, routed once');
  }
  for (const h of rep.hops.filter((x) => x.role === 'node-uplink')) assert.deepEqual([h.outer?.src, h.outer?.dst], [to.ip, from.ip]);
  assert.equal(req.hops.filter((h) => h.outer).length, 3, 'both uplinks and the underlay');
  assert.deepEqual(req.hops.map((h) => h.ttl), [64, 64, 64, 63, 63, 63, 63, 63, 62, 62, 62]);
  assert.equal(result.answered, true);
  assert.match(result.verdict, /^reply from 10\.42\.1\.2 in \d+\.\d{3} ms$/);
});

test('the reasons name the route, the permanent neighbour, the FDB entry and the remote node as the kernel has them', T, async () => {
  const { result } = await trace();
  const k = kernel();
  const req = packet(result, 'icmp', 'request');
  const rep = packet(result, 'icmp', 'reply');
  const s = k.server;
  assert.equal(s.neigh.lladdr, k.agent1.mac, 'server\'s neighbour for agent1\'s VTEP IP is agent1\'s flannel.1 MAC');
  assert.ok(why(req, 'server/flannel.1').startsWith(`routed by server: ${s.route.dst as string} via ${s.route.gateway as string} dev flannel.1 onlink (TTL 64 → 63); neighbour ${s.neigh.dst as string} is ${s.neigh.lladdr as string} (PERMANENT), agent1's VTEP`), why(req, 'server/flannel.1'));
  assert.ok(why(req, 'server/eth0').startsWith(`encapsulated by flannel.1 (FDB ${s.fdb.mac as string} dst ${s.fdb.dst as string} = agent1); outer ${s.ip}:`), why(req, 'server/eth0'));
  assert.equal(s.fdb.dst, k.agent1.ip, 'the FDB entry points at agent1\'s node IP');
  assert.match(why(req, 'server/eth0'), new RegExp(` → ${k.agent1.ip}:${s.port} UDP, VNI ${s.vni}, TTL \\d+; leaves server through eth0$`));
  assert.match(why(req, 'underlay/sw0'), /^switched by the underlay bridge sw0 towards agent1 /);
  assert.equal(why(req, 'agent1/eth0'), `arrives at agent1 (${k.agent1.ip}): UDP ${s.port} is flannel.1's port and VNI ${s.vni} its id: the kernel decapsulates it`);
  assert.match(why(req, 'agent1/flannel.1'), new RegExp(`^decapsulated by agent1's flannel\\.1 \\(VNI 1\\): inner dst MAC ${k.agent1.mac} is its own`));
  assert.match(why(req, 'agent1/cni0'), /^routed by agent1: 10\.42\.1\.0\/24 dev cni0 proto kernel scope link src 10\.42\.1\.1 \(TTL 63 → 62\); forwarded to port veth/);
  assert.match(why(rep, 'agent1/flannel.1'), new RegExp(`^routed by agent1: ${k.agent1.route.dst as string} via ${k.agent1.route.gateway as string} dev flannel\\.1 onlink .*server's VTEP`));
  assert.match(why(rep, 'server/eth0'), /^arrives at server /);
  assert.deepEqual(result.path.overlay?.request?.fdb, { mac: k.agent1.mac, dst: k.agent1.ip });
});

test('TCP across nodes: SYN, SYN-ACK, ACK, each over the eleven points', T, async () => {
  const { result } = await trace({ protocol: 'tcp', port: 8080 });
  const tcp = result.packets.filter((p) => p.kind === 'tcp').map((p) => `${p.direction} ${(p.tcpFlags ?? []).join(',')}`);
  assert.deepEqual(tcp.slice(0, 3), ['request SYN', 'reply SYN,ACK', 'request ACK'], tcp.join('\n'));
  assert.deepEqual(packet(result, 'tcp', 'request', 'SYN').hops.map((h) => h.point), forward());
  assert.deepEqual(packet(result, 'tcp', 'reply', 'SYN,ACK').hops.map((h) => h.point), [...forward()].reverse());
  assert.equal(result.answered, true);
});

test('--cold: pod1 ARPs its gateway on server, agent1 ARPs pod2 on its cni0, then the ping crosses', T, async () => {
  const { result } = await trace({ cold: true });
  const gw = result.packets.find((p) => p.kind === 'arp' && p.key === 'arp who-has 10.42.0.1 tell 10.42.0.2');
  assert.ok(gw, 'pod1 asks for its gateway');
  assert.equal(gw.hops[0].point, 'pod1/eth0');
  const far = result.packets.find((p) => p.kind === 'arp' && p.key === 'arp who-has 10.42.1.2 tell 10.42.1.1');
  assert.ok(far, 'agent1 asks for pod2');
  assert.equal(far.hops[0].point, 'agent1/cni0');
  assert.match(far.hops[0].explanation ?? '', /^sent by agent1 through cni0; broadcast: flooded to every port/);
  assert.ok(!result.packets.some((p) => p.kind === 'arp' && p.hops.some((h) => h.role === 'vxlan')), 'no ARP over the overlay: the neighbours are permanent');
  assert.equal(result.answered, true);
});

test('a missing FDB entry: the packet is last seen at server/flannel.1', T, async () => {
  const k = kernel();
  const fdb = (verb: 'del' | 'append') => run(['bridge', '-n', nodeNs('server'), 'fdb', verb, k.agent1.mac, 'dev', 'flannel.1', 'dst', k.agent1.ip,
    ...(verb === 'append' ? ['self', 'permanent'] : [])]);
  fdb('del');
  try {
    const { result } = await trace({ dst: '10.42.1.2' });
    assert.equal(result.answered, false);
    assert.match(result.verdict, /^no reply, last seen at server\/flannel\.1 \(\+\d+\.\d{3} ms\)$/);
    assert.equal(result.path.overlay?.request?.fdb, undefined);
    assert.match(why(packet(result, 'icmp', 'request'), 'server/flannel.1'),
      new RegExp(`^routed by server: .*; no FDB entry for ${k.agent1.mac}: flannel\\.1 knows no node IP to send it to, and drops it; then dropped by server → kernel: NO_TX_TARGET \\(vxlan_xmit\\)$`));
  } finally {
    fdb('append');
  }
  assert.ok(bridgeJson(nodeNs('server'), ['fdb', 'show', 'dev', 'flannel.1']).some((e) => e.mac === k.agent1.mac && e.dst === k.agent1.ip), 'restored');
});

test('the pcapng: one interface per point; tshark decodes the uplinks\' VXLAN around the same ping', T, async (t) => {
  const { result, pcapng } = await trace();
  if (!existsSync('/usr/bin/tshark')) {
    t.skip('tshark is not installed (scripts/setup.mjs installs it as root)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'podnet-pcapng-'));
  try {
    const file = join(dir, 'trace.pcapng');
    writeFileSync(file, pcapng);
    const r = spawnSync('tshark', ['-r', file, '-d', 'udp.port==8472,vxlan', '-Y', 'vxlan', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,',
      '-e', 'frame.interface_name', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'vxlan.vni', '-e', 'icmp.ident'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').map((l) => l.split('\t'));
    const k = kernel();
    const req = packet(result, 'icmp', 'request');
    const seen = rows.filter(([, src]) => src === `${k.server.ip},10.42.0.2`).map(([ifname, , dst, vni]) => [ifname, dst, vni]);
    assert.deepEqual(seen, req.hops.filter((h) => h.outer).map((h) => [h.point, `${k.agent1.ip},10.42.1.2`, '1']), 'outer and inner addresses, VNI, per uplink');
    const names = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.interface_name'], { encoding: 'utf8', timeout: 30_000 });
    assert.deepEqual([...new Set(names.stdout.trim().split('\n'))].sort(), forward().sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
