// Narrow terminals: with a width, no line of the timeline is longer; each hop keeps its aligned head
// line and its reason goes under it, wrapped at spaces, every word kept; without one the timeline
// is unchanged (the golden files), and the JSON never depends on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answered, correlate, explainL2, verdict } from '../../../src/trace/correlate.js';
import { explainOverlay } from '../../../src/trace/overlay.js';
import { renderJourney, renderTimeline, traceJson, wrapText } from '../../../src/render/trace.js';
import type { TraceEvent, TracePath, TraceResult } from '../../../src/model/trace.js';
import { crossIcmp, crossPath } from './overlay-scenarios.js';
import { measuredTcp } from './measured-scenarios.js';
import { coldIcmp, path } from './scenarios.js';

function result(p: TracePath, events: TraceEvent[], protocol: 'icmp' | 'tcp' = 'icmp'): TraceResult {
  const packets = explainL2(p, explainOverlay(p, correlate(p, events)), []);
  return { path: p, protocol, cold: true, startedAt: 'x', packets, answered: answered(packets, protocol), verdict: verdict(p, packets, protocol), fdbBefore: [], fdbAfter: [] };
}

const words = (s: string) => s.split(/\s+/).filter(Boolean);

for (const [name, r] of [['a cold ping', result(path, coldIcmp())], ['a TCP handshake', result(path, measuredTcp(), 'tcp')], ['a ping across nodes', result(crossPath(), crossIcmp(crossPath()))]] as const) {
  test(`${name} at COLUMNS=100: no line over 100 characters, every reason under its hop, every word kept`, () => {
    const wide = renderTimeline(r);
    assert.ok(wide.split('\n').some((l) => l.length > 100), 'the unwrapped timeline is wider');
    const narrow = renderTimeline(r, { width: 100 });
    const lines = narrow.trimEnd().split('\n');
    for (const l of lines) assert.ok(l.length <= 100, `${l.length} > 100: ${l}`);
    assert.deepEqual(words(narrow), words(wide), 'the same words in the same order');
    const heads = lines.filter((l) => /^ *\+\d/.test(l));
    assert.equal(heads.length, r.packets.reduce((n, p) => n + p.hops.length, 0), 'one head line per hop');
    for (const [i, l] of lines.entries()) {
      if (/^ *\+\d/.test(l) && i + 1 < lines.length - 1) assert.match(lines[i + 1], /^ {11}\S/, 'its reason follows, indented under the point column');
    }
    assert.equal(renderTimeline(r, { width: 1000 }), wide, 'wide enough: unchanged');
    assert.deepEqual(traceJson(r), traceJson(r), 'JSON takes no width');
  });
}

test('wrapText: greedy at spaces, the first line after what is used, a word longer than a line split', () => {
  assert.deepEqual(wrapText('aaa bbb ccc ddd', 8, '  '), ['aaa bbb', '  ccc', '  ddd']);
  assert.deepEqual(wrapText('aaa bbb', 10, '', 5), ['aaa', 'bbb']);
  assert.deepEqual(wrapText('x 0123456789abcdef y', 6, '.'), ['x', '.01234', '.56789', '.abcde', '.f y']);
  assert.deepEqual(wrapText('', 10), ['']);
});

test('a journey of a watch fits the width too', () => {
  const text = renderJourney(2, result(path, measuredTcp(), 'tcp'), { width: 60 });
  assert.match(text, /^journey 2 at \d\d:\d\d:\d\d\.\d{3}: pod1 -> pod2, TCP SYN\n/);
  for (const l of text.trimEnd().split('\n')) assert.ok(l.length <= 60, l);
});
