// Causal order, not capture-time order: each packet's hops follow the path (ingress port → bridge →
// egress port; requests forwards, replies backwards; reflections after the bridge that reflected
// them; the route into flannel.1 before encapsulation) in correlate, the text timeline, the JSON and
// the sequence diagram, each hop keeping its measured time; the timeline notes once when times run
// backwards; packets still follow each other in time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answered, correlate, explainL2, verdict } from '../../../src/trace/correlate.js';
import { causalOrder } from '../../../src/trace/causal.js';
import { explainOverlay } from '../../../src/trace/overlay.js';
import { OUT_OF_ORDER_NOTE, renderSequence, renderTimeline, traceJson } from '../../../src/render/trace.js';
import { timeline, timesOutOfOrder, type TraceEvent, type TracedPacket, type TracePath, type TraceResult } from '../../../src/model/trace.js';
import { crossPath } from './overlay-scenarios.js';
import { crossIcmpLate, measuredArpRetry, measuredTcp, nowherePath } from './measured-scenarios.js';
import { P, path, T0, warmFdb, warmIcmp } from './scenarios.js';

const forward = [P.pod1, P.veth1, P.cni0, P.veth2, P.pod2];
const backward = [...forward].reverse();
const points = (p: TracedPacket) => p.hops.map((h) => `${h.point}${h.reflected ? ' (reflected)' : ''}`);

function result(p: TracePath, events: TraceEvent[], protocol: 'icmp' | 'tcp' = 'icmp', cold = false): TraceResult {
  const packets = explainL2(p, explainOverlay(p, correlate(p, events)), cold ? [] : warmFdb);
  return { path: p, protocol, cold, startedAt: '2025-11-24T16:00:00.123Z', packets, answered: answered(packets, protocol), verdict: verdict(p, packets, protocol), fdbBefore: [], fdbAfter: [] };
}

/** The hop lines of a timeline as [point, arrow, label]: columns split on two or more spaces. */
const hopRows = (text: string) => text.split('\n').filter((l) => /^ *\+\d/.test(l)).map((l) => l.trim().split(/ {2,}/).slice(1, 4));

test('TCP on one bridge: the bridge after its ingress port and before the egress port, though stamped after it', () => {
  const packets = correlate(path, measuredTcp());
  assert.deepEqual(packets.map((p) => p.label), ['TCP SYN', 'TCP SYN,ACK', 'TCP ACK']);
  assert.deepEqual(points(packets[0]), forward);
  assert.deepEqual(points(packets[1]), backward, 'the reply walks the path backwards');
  assert.deepEqual(points(packets[2]), forward);
  const syn = packets[0].hops;
  assert.deepEqual(syn.map((h) => h.sinceStartNs), [0, 5_000, 37_000, 34_000, 43_000], 'each hop keeps its measured time');
  assert.ok(syn[2].tsNs > syn[3].tsNs, 'cni0 is stamped after the egress veth');
  assert.equal(answered(packets, 'tcp'), true);
});

test('TCP on one bridge: the text timeline in causal order, one note that times run backwards', () => {
  const text = renderTimeline(result(path, measuredTcp(), 'tcp'));
  const rows = hopRows(text);
  assert.deepEqual(rows.map((r) => r[0]), [...forward, ...backward, ...forward]);
  const cni0 = rows.findIndex((r) => r[0] === P.cni0);
  assert.ok(cni0 < rows.findIndex((r) => r[0] === P.veth2), 'forwarded by cni0 before it leaves through the egress veth');
  assert.match(text, /server\/cni0 +→ +″ +forwarded to port veth5e6f7a8b: .*\n\+0\.034 ms {2}server\/veth5e6f7a8b +→ +″ +leaves cni0 through veth5e6f7a8b/);
  assert.equal(text.split('\n').filter((l) => l === OUT_OF_ORDER_NOTE).length, 1, 'the note once');
  assert.match(text, new RegExp(`\\n${OUT_OF_ORDER_NOTE.replace(/[()]/g, '\\$&')}\\nreply from 10\\.42\\.0\\.3 in \\d+\\.\\d{3} ms\\n$`), 'under the timeline, the verdict last');
  assert.ok(!renderTimeline(result(path, warmIcmp())).includes('note:'), 'no note when times follow the path');
});

test('TCP on one bridge: the JSON keeps the causal order and every measured time; Mermaid draws it so', () => {
  const j = JSON.parse(JSON.stringify(traceJson(result(path, measuredTcp(), 'tcp')))) as { packets: { hops: { point: string; tsNs: string; sinceStartNs: number }[] }[] };
  assert.deepEqual(j.packets.map((p) => p.hops.map((h) => h.point)), [forward, backward, forward]);
  assert.deepEqual(j.packets[0].hops.map((h) => h.tsNs), [0n, 5_000n, 37_000n, 34_000n, 43_000n].map((n) => (T0 + n).toString()));
  const m = renderSequence(result(path, measuredTcp(), 'tcp'));
  assert.ok(m.indexOf('p1->>p2: TCP SYN (+0.037 ms)') < m.indexOf('p2->>p3: TCP SYN (+0.034 ms)'), m);
});

test('a cold ARP sent again: each send ingress port → bridge → reflection, the bridge never before the port it entered by', () => {
  const packets = correlate(nowherePath, measuredArpRetry());
  assert.equal(packets.length, 2);
  for (const p of packets) assert.deepEqual(points(p), [P.pod1, P.veth1, P.cni0, `${P.veth1} (reflected)`, `${P.pod1} (reflected)`]);
  assert.equal(packets[1].hops[1].tsNs, packets[1].hops[2].tsNs, 'the bridge ties with its ingress port');
  const rows = hopRows(renderTimeline(result(nowherePath, measuredArpRetry(), 'icmp', true)));
  assert.deepEqual(rows.map((r) => `${r[0]} ${r[1]}`), [...Array(2)].flatMap(() => [`${P.pod1} →`, `${P.veth1} →`, `${P.cni0} →`, `${P.veth1} →↺`, `${P.pod1} →↺`]));
});

test('across nodes: the route into flannel.1 before encapsulation, agent1\'s cni0 before its veth, times kept', () => {
  const p = crossPath();
  const ids = p.points.map((x) => x.id);
  const r = result(p, crossIcmpLate(p));
  const [req, rep] = r.packets;
  assert.deepEqual(req.hops.map((h) => h.point), ids);
  assert.deepEqual(rep.hops.map((h) => h.point), [...ids].reverse());
  const at = (point: string) => req.hops.find((h) => h.point === point)!;
  assert.ok(at('server/flannel.1').tsNs > at('server/eth0').tsNs && at('agent1/cni0').tsNs > at('agent1/veth0b000001').tsNs, 'stamped late');
  assert.match(at('server/flannel.1').explanation ?? '', /^routed by server: 10\.42\.1\.0\/24 via 10\.42\.1\.0 dev flannel\.1 onlink \(TTL 64 → 63\)/, 'the TTL change is read from the hop it came from');
  const rows = hopRows(renderTimeline(r));
  assert.deepEqual(rows.map((x) => x[0]), [...ids, ...[...ids].reverse()]);
  const j = traceJson(r) as { packets: { hops: { point: string }[] }[] };
  assert.deepEqual(j.packets[0].hops.map((h) => h.point), ids);
});

test('causalOrder: where times agree with the path it is the time order; a flood branches, its hops by time', () => {
  const packets = correlate(path, warmIcmp());
  for (const p of packets) assert.deepEqual(causalOrder(p.hops, p.direction), p.hops);
  const hop = (point: string, position: number, ns: number, reflected = false) => ({ point, role: 'host-veth' as const, position, tsNs: T0 + BigInt(ns), sinceStartNs: ns, srcMac: '', dstMac: '', ...(reflected ? { reflected } : {}) });
  const flood = [hop(P.pod1, 0, 0), hop(P.veth1, 1, 10), hop(P.veth2, 3, 12), hop(P.cni0, 2, 15), hop(P.veth1, 1, 20, true), hop(P.pod1, 0, 22, true), hop(P.pod2, 4, 30)];
  assert.deepEqual(causalOrder(flood, 'request').map((h) => `${h.point}${h.reflected ? '↺' : ''}`),
    [P.pod1, P.veth1, P.cni0, P.veth2, `${P.veth1}↺`, `${P.pod1}↺`, P.pod2]);
});

test('timeline: separate packets follow each other in time, each packet\'s hops in causal order', () => {
  const packets = correlate(path, measuredTcp());
  const entries = timeline(packets);
  assert.deepEqual(entries.map((e) => e.packetIndex), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
  assert.equal(timesOutOfOrder(entries), true);
  assert.equal(timesOutOfOrder(timeline(correlate(path, warmIcmp()))), false);
});
