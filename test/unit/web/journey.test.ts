// A journey from a trace: the hops in time order, each on its drawn element, each with the frame
// captured there decoded from the trace's own pcapng. Frames are built byte by byte, captured on the
// five points of a one-node path, correlated by the trace's own code, and written as the trace does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eth, icmpEcho, ipv4 } from '../../fixtures/trace/frames.js';
import { MAC1, MAC2, IP1, IP2, P, T0, path } from '../trace/scenarios.js';
import type { CaptureInterface, CapturedFrame } from '../../../src/model/packet.js';
import type { TraceEvent, TraceResult } from '../../../src/model/trace.js';
import { correlate } from '../../../src/trace/correlate.js';
import { decodeFrame } from '../../../src/trace/decode.js';
import { writePcapng } from '../../../src/trace/pcapng.js';
import { buildJourney } from '../../../src/web/journey.js';

const order: string[] = [P.pod1, P.veth1, P.cni0, P.veth2, P.pod2];
const request = eth(MAC2, MAC1, 0x0800, ipv4({ src: IP1, dst: IP2, proto: 1, id: 0x3a01, payload: icmpEcho(8, 7, 1) }));
const reply = eth(MAC1, MAC2, 0x0800, ipv4({ src: IP2, dst: IP1, proto: 1, id: 0x7c11, payload: icmpEcho(0, 7, 1) }));

/** A warm ping: each frame at every point, the request forwards and the reply back, 3 µs apart. */
function captures(): { frames: CapturedFrame[]; events: TraceEvent[] } {
  const frames: CapturedFrame[] = [];
  const events: TraceEvent[] = [];
  const at = (point: string, data: Uint8Array, ns: number) => {
    const f: CapturedFrame = { tsNs: T0 + BigInt(ns), linkType: 1, data, origLen: data.length, ifIndex: order.indexOf(point) };
    frames.push(f);
    events.push({ point, tsNs: f.tsNs, frame: decodeFrame(f), index: events.filter((e) => e.point === point).length });
  };
  order.forEach((p, i) => at(p, request, i * 3000));
  [...order].reverse().forEach((p, i) => at(p, reply, 40_000 + i * 3000));
  return { frames, events };
}

test('events in time order, on their elements, each with its decoded frame', () => {
  const { frames, events } = captures();
  const packets = correlate(path, events);
  const result: TraceResult = { path, protocol: 'icmp', cold: false, startedAt: 'x', packets, answered: true, verdict: 'reply from 10.42.0.3 in 0.040 ms', fdbBefore: [], fdbAfter: [] };
  const interfaces: CaptureInterface[] = order.map((name) => ({ linkType: 1, name, snapLen: 262144, tsResolution: 1e9 }));
  const j = buildJourney('0123456789ab', result, writePcapng(interfaces, frames), [], (p) => `el:${p}`);
  assert.equal(j.events.length, 10);
  assert.deepEqual(j.events.map((e) => e.point), [...order, ...[...order].reverse()]);
  assert.deepEqual(j.events.map((e) => e.index), [...Array(10).keys()]);
  assert.deepEqual(j.events.map((e) => e.direction), [...Array(5).fill('request'), ...Array(5).fill('reply')]);
  assert.deepEqual(j.events.map((e) => e.element), j.events.map((e) => `el:${e.point}`));
  assert.deepEqual(j.events.map((e) => e.sinceStartMs), [0, 0.003, 0.006, 0.009, 0.012, 0.04, 0.043, 0.046, 0.049, 0.052]);
  for (const e of j.events) {
    assert.equal(e.layers?.eth?.src, e.srcMac);
    assert.equal(e.layers?.eth?.dst, e.dstMac);
    assert.equal(e.layers?.icmp?.type, e.direction === 'request' ? 8 : 0);
    assert.equal(e.layers?.ipv4?.id, e.direction === 'request' ? 0x3a01 : 0x7c11);
  }
  assert.equal(j.pcapng, '/api/trace/0123456789ab/pcapng');
  assert.deepEqual(j.points.map((p) => p.element), order.map((p) => `el:${p}`));
  assert.match(j.header, /^trace pod1 \(10\.42\.0\.2\) -> pod2 \(10\.42\.0\.3\), icmp, warm, 5 capture points$/);
  assert.equal((j.trace as { version: number }).version, 1, 'the document of podnet trace -o json');
  assert.doesNotThrow(() => JSON.stringify(j), 'plain JSON: no bigint left');
});

test('a hop whose frame is not in the pcapng has no layers, and an undrawn point no element', () => {
  const { events } = captures();
  const packets = correlate(path, events);
  const result: TraceResult = { path, protocol: 'icmp', cold: false, startedAt: 'x', packets, answered: true, verdict: '', fdbBefore: [], fdbAfter: [] };
  const j = buildJourney('x', result, writePcapng([], []), [], () => '');
  assert.ok(j.events.every((e) => e.layers === undefined && e.element === ''));
});
