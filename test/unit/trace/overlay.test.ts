// A ping across nodes, correlated and explained: one packet's inner frame and its VXLAN-wrapped copies
// line up on the eleven points in path order, uplink hops keep the outer headers, each hop's reason
// names the route, the neighbour, the FDB entry and the remote node; goldens of the timeline and the
// sequence diagram (UPDATE_GOLDEN=1 rewrites them), and the JSON's overlay fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { answered, correlate, explainL2, verdict } from '../../../src/trace/correlate.js';
import { explainOverlay } from '../../../src/trace/overlay.js';
import { renderSequence, renderTimeline, traceJson } from '../../../src/render/trace.js';
import type { TraceResult } from '../../../src/model/trace.js';
import { tracePath } from '../../../src/trace/path.js';
import { AGENT1, SERVER, nodeIp, twoNodes } from '../../fixtures/trace/two-nodes.js';
import { crossIcmp, crossPath } from './overlay-scenarios.js';

const golden = (name: string) => fileURLToPath(new URL(`../../../../test/fixtures/trace-render/${name}.golden`, import.meta.url));
async function matchGolden(name: string, text: string): Promise<void> {
  if (process.env.UPDATE_GOLDEN) await writeFile(golden(name), text);
  assert.equal(text, await readFile(golden(name), 'utf8'), `${name} differs from its golden file (UPDATE_GOLDEN=1 rewrites it)`);
}

const path = crossPath();
const fdbBefore = [
  { mac: SERVER.podMac, port: SERVER.veth, bridge: 'server/cni0' },
  { mac: AGENT1.podMac, port: AGENT1.veth, bridge: 'agent1/cni0' },
];

function result(): TraceResult {
  const packets = explainL2(path, explainOverlay(path, correlate(path, crossIcmp(path))), fdbBefore);
  return {
    path, protocol: 'icmp', cold: false, startedAt: '2025-11-24T16:00:00.123Z', packets,
    answered: answered(packets, 'icmp'), verdict: verdict(path, packets, 'icmp'), fdbBefore, fdbAfter: fdbBefore,
  };
}

test('the request and the reply each cross the eleven points in path order, outer headers on the wrapped hops', () => {
  const packets = correlate(path, crossIcmp(path));
  assert.equal(packets.length, 2, 'inner and wrapped copies are one packet each way');
  const [req, rep] = packets;
  const ids = path.points.map((p) => p.id);
  assert.deepEqual(req.hops.map((h) => h.point), ids);
  assert.deepEqual(rep.hops.map((h) => h.point), [...ids].reverse(), 'ties (decapsulation) broken by position, backwards for replies');
  const wrapped = req.hops.filter((h) => h.outer);
  assert.deepEqual(wrapped.map((h) => h.role), ['node-uplink', 'underlay', 'node-uplink']);
  assert.deepEqual(wrapped[0].outer, { srcMac: SERVER.eth0Mac, dstMac: AGENT1.eth0Mac, src: nodeIp(SERVER), dst: nodeIp(AGENT1), ttl: 64, srcPort: 43096, dstPort: 8472, vni: 1 });
  assert.deepEqual(wrapped.map((h) => [h.srcMac, h.dstMac, h.ttl]), Array(3).fill([SERVER.vtepMac, AGENT1.vtepMac, 63]), 'MACs and TTL of the inner frame');
  assert.deepEqual(req.hops.map((h) => h.ttl), [64, 64, 64, 63, 63, 63, 63, 63, 62, 62, 62]);
  assert.equal(answered(packets, 'icmp'), true);
  assert.equal(verdict(path, packets, 'icmp'), 'reply from 10.42.1.2 in 0.155 ms');
});

test('each hop explains the kernel\'s decision: route, neighbour, FDB, encapsulation, decapsulation, route on the far node', () => {
  const [req, rep] = result().packets;
  const why = (p: typeof req, point: string) => p.hops.find((h) => h.point === point)?.explanation ?? '';
  assert.equal(why(req, 'server/cni0'), 'for cni0 itself: passed up to server\'s IP stack');
  assert.equal(why(req, 'server/flannel.1'), `routed by server: 10.42.1.0/24 via 10.42.1.0 dev flannel.1 onlink (TTL 64 → 63); neighbour 10.42.1.0 is ${AGENT1.vtepMac} (PERMANENT), agent1's VTEP: the inner frame goes to ${AGENT1.vtepMac}`);
  assert.equal(why(req, 'server/eth0'), `encapsulated by flannel.1 (FDB ${AGENT1.vtepMac} dst 198.51.100.3 = agent1); outer 198.51.100.2:43096 → 198.51.100.3:8472 UDP, VNI 1, TTL 64; leaves server through eth0`);
  assert.equal(why(req, 'underlay/sw0'), `switched by the underlay bridge sw0 towards agent1 (198.51.100.3), outer dst MAC ${AGENT1.eth0Mac}`);
  assert.equal(why(req, 'agent1/eth0'), 'arrives at agent1 (198.51.100.3): UDP 8472 is flannel.1\'s port and VNI 1 its id: the kernel decapsulates it');
  assert.equal(why(req, 'agent1/flannel.1'), `decapsulated by agent1's flannel.1 (VNI 1): inner dst MAC ${AGENT1.vtepMac} is its own, so agent1 routes the packet`);
  assert.equal(why(req, 'agent1/cni0'), `routed by agent1: 10.42.1.0/24 dev cni0 proto kernel scope link src 10.42.1.1 (TTL 63 → 62); forwarded to port ${AGENT1.veth}: ${AGENT1.podMac} is in the FDB`);
  assert.equal(why(req, 'pod2/eth0'), 'delivered to pod2 (10.42.1.2 is local)');
  assert.match(why(rep, 'agent1/flannel.1'), /^routed by agent1: 10\.42\.0\.0\/24 via 10\.42\.0\.0 dev flannel\.1 onlink .*server's VTEP/);
  assert.match(why(rep, 'server/eth0'), /^arrives at server \(198\.51\.100\.2\)/);
  assert.match(why(rep, 'server/cni0'), /^routed by server: 10\.42\.0\.0\/24 dev cni0 .*forwarded to port veth0a000001/);
});

test('a node that is not scanned: the hops the local node sees are explained with the peer\'s IP', () => {
  const { server } = twoNodes({ named: false });
  const partial = tracePath(server, 'pod1', '10.42.1.2');
  const kept = new Set(partial.points.map((p) => p.id));
  const events = crossIcmp(path).filter((e) => kept.has(e.point));
  const packets = explainOverlay(partial, correlate(partial, events));
  assert.match(packets[0].hops[4].explanation ?? '', /^encapsulated by flannel\.1 \(FDB 26:15:63:45:1d:4a dst 198\.51\.100\.3\); outer /);
  assert.match(packets[1].hops[0].explanation ?? '', /^arrives at server \(198\.51\.100\.2\): UDP 8472 is flannel\.1's port and VNI 1 its id/);
  assert.equal(packets[1].hops[2].explanation, 'routed by server: 10.42.0.0/24 dev cni0 proto kernel scope link src 10.42.0.1 (TTL 63 → 62)');
});

test('explainOverlay leaves packets that did not cross alone, and a one-node path has no overlay reasons', () => {
  const packets = correlate(path, crossIcmp(path).filter((e) => e.point === 'pod1/eth0' || e.point.startsWith('server/veth')));
  assert.deepEqual(explainOverlay(path, packets), packets);
});

test('timeline of a ping across nodes: the wrapped hops marked "in VXLAN"', async () => {
  const text = renderTimeline(result());
  await matchGolden('cross-timeline', text);
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], 'trace pod1 (10.42.0.2) -> pod2 (10.42.1.2), icmp, warm, 11 capture points');
  assert.equal(lines.length, 24);
  assert.equal(lines.filter((l) => l.includes('″ in VXLAN')).length, 6);
});

test('sequence diagram of a ping across nodes: eleven participants, the wrapped arrows marked', async () => {
  const text = renderSequence(result());
  await matchGolden('cross-sequence', text);
  assert.match(text, /participant p5 as underlay\/sw0\n/);
  assert.match(text, /p3->>p4: ICMP echo request in VXLAN \(\+0\.058 ms\)/);
  assert.match(text, /Note over p0,p10: reply from 10\.42\.1\.2 in 0\.155 ms\n$/);
});

test('traceJson: the overlay legs, the outer headers of wrapped hops, the bridge of each FDB entry', () => {
  const j = JSON.parse(JSON.stringify(traceJson(result()))) as Record<string, unknown>;
  assert.deepEqual(Object.keys(j), ['version', 'src', 'dst', 'protocol', 'cold', 'startedAt', 'startNs', 'points', 'overlay', 'packets', 'answered', 'verdict', 'fdbBefore', 'fdbAfter']);
  assert.deepEqual((j.overlay as { request: unknown }).request, path.overlay?.request);
  const hops = (j.packets as { hops: Record<string, unknown>[] }[])[0].hops;
  assert.deepEqual(hops.filter((h) => h.outer).map((h) => h.point), ['server/eth0', 'underlay/sw0', 'agent1/eth0']);
  assert.equal((hops[4].outer as { vni: number }).vni, 1);
  assert.deepEqual((j.fdbBefore as unknown[])[1], { mac: AGENT1.podMac, port: AGENT1.veth, bridge: 'agent1/cni0' });
});
