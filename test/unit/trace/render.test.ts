// Golden tests of the trace renderers: the timeline and the Mermaid sequence of a warm and a cold ping
// (UPDATE_GOLDEN=1 rewrites the files after a deliberate change), and the JSON shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { answered, correlate, explainL2, verdict } from '../../../src/trace/correlate.js';
import { renderSequence, renderTimeline, traceHeader, traceJson } from '../../../src/render/trace.js';
import type { TraceEvent, TraceResult } from '../../../src/model/trace.js';
import { coldIcmp, noReply, path, T0, tcpHandshake, warmFdb, warmIcmp } from './scenarios.js';

const golden = (name: string) => fileURLToPath(new URL(`../../../../test/fixtures/trace-render/${name}.golden`, import.meta.url));

async function matchGolden(name: string, text: string): Promise<void> {
  if (process.env.UPDATE_GOLDEN) await writeFile(golden(name), text);
  assert.equal(text, await readFile(golden(name), 'utf8'), `${name} differs from its golden file (UPDATE_GOLDEN=1 rewrites it)`);
}

function result(events: TraceEvent[], opts: { cold: boolean; protocol?: 'icmp' | 'tcp' | 'udp'; port?: number; fdbBefore?: { mac: string; port: string }[] }): TraceResult {
  const protocol = opts.protocol ?? 'icmp';
  const fdbBefore = opts.fdbBefore ?? (opts.cold ? [] : warmFdb);
  const packets = explainL2(path, correlate(path, events), fdbBefore);
  return {
    path, protocol, ...(opts.port !== undefined ? { port: opts.port } : {}), cold: opts.cold, startedAt: '2025-11-24T16:00:00.123Z',
    packets, answered: answered(packets, protocol), verdict: verdict(path, packets, protocol), fdbBefore, fdbAfter: warmFdb,
  };
}

test('timeline of a warm ping', async () => {
  const text = renderTimeline(result(warmIcmp(), { cold: false }));
  await matchGolden('warm-timeline', text);
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], 'trace pod1 (10.42.0.2) -> pod2 (10.42.0.3), icmp, warm, 5 capture points');
  assert.equal(lines.length, 12);
  assert.match(lines[1], /^\+0\.000 ms {2}pod1\/eth0 +→ {2}ICMP echo request {2}sent by pod1/);
  assert.match(lines[2], /→ {2}″ /);
  assert.match(lines[6], /← {2}ICMP echo reply +sent by pod2/);
  assert.equal(lines[11], 'reply from 10.42.0.3 in 0.044 ms');
  const column = (l: string) => l.indexOf('server/') >= 0 ? l.indexOf('server/') : l.indexOf('pod');
  assert.equal(new Set(lines.slice(1, 11).map(column)).size, 1, 'the point column is aligned');
});

test('timeline of a cold ping marks the hairpin reflections', async () => {
  const text = renderTimeline(result(coldIcmp(), { cold: true }));
  await matchGolden('cold-timeline', text);
  assert.match(text, /, icmp, cold, 5 capture points\n/);
  assert.equal((text.match(/→↺/g) ?? []).length, 2);
});

test('Mermaid sequence of a warm ping', async () => {
  const text = renderSequence(result(warmIcmp(), { cold: false }));
  await matchGolden('warm-sequence', text);
  assert.match(text, /^sequenceDiagram\n/);
  assert.match(text, /participant p0 as pod1\/eth0\n/);
  assert.match(text, /p1->>p2: ICMP echo request \(\+0\.006 ms\)/);
  assert.match(text, /p1-->>p0: ICMP echo reply \(\+0\.044 ms\)/);
  assert.equal((text.match(/->>/g) ?? []).length, 8);
  assert.match(text, /Note over p0,p4: reply from 10\.42\.0\.3 in 0\.044 ms\n$/);
});

test('Mermaid sequence of a cold ping: the flood as a note, the hairpin arrows back to pod1', async () => {
  const text = renderSequence(result(coldIcmp(), { cold: true }));
  await matchGolden('cold-sequence', text);
  assert.match(text, /Note over p2: broadcast: flooded to every port, the ingress port too \(hairpin\)/);
  assert.match(text, /p2->>p1: ARP who-has 10\.42\.0\.3, hairpin/);
  assert.match(text, /p1->>p0: ARP who-has 10\.42\.0\.3, hairpin/);
  assert.match(text, /p2->>p3: ARP who-has 10\.42\.0\.3 /);
  assert.match(text, /p4-->>p3: ARP 10\.42\.0\.3 is-at/);
});

test('the verdict of a lost ping ends the timeline and the diagram', () => {
  const r = result(noReply(), { cold: false });
  assert.match(renderTimeline(r), /\nno reply, last seen at server\/cni0 \(\+0\.006 ms\)\n$/);
  assert.match(renderSequence(r), /Note over p0,p4: no reply, last seen at server\/cni0 \(\+0\.006 ms\)\n$/);
  assert.equal(renderTimeline({ ...r, packets: [] }).split('\n')[1], '(no packets captured)');
});

test('the header names the port of a TCP trace and a bare destination address', () => {
  const r = result(tcpHandshake(), { cold: false, protocol: 'tcp', port: 80 });
  assert.equal(traceHeader(r), 'trace pod1 (10.42.0.2) -> pod2 (10.42.0.3), tcp port 80, warm, 5 capture points');
  assert.equal(traceHeader({ ...r, path: { ...path, dst: { owner: '10.42.0.9', ip: '10.42.0.9' } } }).split(', ')[0], 'trace pod1 (10.42.0.2) -> 10.42.0.9');
  assert.match(renderSequence(r), /p4-->>p3: TCP SYN,ACK \(\+0\.034 ms\)/);
});

test('traceJson: plain JSON, epoch times as strings, offsets as numbers', () => {
  const r = result(warmIcmp(), { cold: false });
  const j = traceJson(r) as Record<string, unknown>;
  const round = JSON.parse(JSON.stringify(j)) as typeof j;
  assert.deepEqual(round, j, 'survives JSON.stringify unchanged (no bigint, no undefined)');
  assert.equal(j.version, 1);
  assert.equal(j.startNs, T0.toString());
  assert.equal(j.answered, true);
  assert.equal(j.verdict, 'reply from 10.42.0.3 in 0.044 ms');
  const packets = j.packets as { hops: Record<string, unknown>[]; direction: string; flow: string }[];
  assert.equal(packets.length, 2);
  assert.equal(packets[1].direction, 'reply');
  assert.deepEqual(packets[0].hops[2], {
    point: 'server/cni0', role: 'bridge', position: 2, tsNs: (T0 + 6120n).toString(), sinceStartNs: 6120, sinceStartMs: 0.006,
    srcMac: path.src.mac, dstMac: path.dst.mac, ttl: 64, reflected: false, explanation: 'forwarded to port veth5e6f7a8b: 9e:44:5d:21:7c:03 is in the FDB',
  });
  assert.deepEqual(Object.keys(j), ['version', 'src', 'dst', 'protocol', 'cold', 'startedAt', 'startNs', 'points', 'packets', 'answered', 'verdict', 'fdbBefore', 'fdbAfter']);
});
