import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { captureFormat, readCapture } from '../../../src/trace/capture-file.js';
import { decodeFrame } from '../../../src/trace/decode.js';
import { writePcap } from '../../../src/trace/pcap.js';
import { writePcapng } from '../../../src/trace/pcapng.js';
import { seededRandom } from '../seeded.js';
import { captured, vxlanPing } from '../../fixtures/trace/frames.js';

const dir = fileURLToPath(new URL('../../../../test/fixtures/trace/', import.meta.url));
const captures = readdirSync(dir).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort();
const file = (name: string) => new Uint8Array(readFileSync(dir + name));

test('the format is told by the first four bytes; readCapture reads either', () => {
  for (const name of captures) {
    const bytes = file(name);
    const want = name.endsWith('.pcapng') ? 'pcapng' : 'pcap';
    assert.equal(captureFormat(bytes), want, name);
    const c = readCapture(bytes);
    assert.equal(c.format, want, name);
    assert.ok(c.frames.length > 0, name);
    const damaged = name === 'truncated.pcap' || name === 'corrupt.pcapng';
    assert.equal(c.error !== undefined, damaged, `${name}: ${c.error}`);
  }
});

test('what is not a capture says so and what it starts with', () => {
  assert.equal(captureFormat(new TextEncoder().encode('hello world')), undefined);
  assert.deepEqual(readCapture(new TextEncoder().encode('hello world')), {
    format: 'pcap', interfaces: [], frames: [],
    error: 'not a capture file: starts with 68 65 6c 6c (expected a pcap magic a1b2c3d4/a1b23c4d in either byte order, or a pcapng section header 0a0d0d0a)',
  });
  assert.match(readCapture(new Uint8Array(0)).error ?? '', /^not a capture file: only 0 bytes/);
});

/** Reads and decodes everything in `bytes` the way a consumer would; throws only if podnet does. */
function consume(bytes: Uint8Array): number {
  const c = readCapture(bytes);
  let n = 0;
  for (const f of c.frames) {
    const d = decodeFrame(f);
    n += d.summary.length + JSON.stringify(d).length;
  }
  return n + (c.error?.length ?? 0);
}

test('thousands of random and damaged inputs never throw', () => {
  const rand = seededRandom('podnet trace fuzz');
  const int = (n: number) => { const b = rand(4); return (((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0) % n; };
  const heads = [
    Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1), Uint8Array.of(0x4d, 0x3c, 0xb2, 0xa1), Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4),
    Uint8Array.of(0xa1, 0xb2, 0x3c, 0x4d), Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a), new Uint8Array(0),
  ];
  // 1. random bytes behind each magic
  for (let i = 0; i < 1500; i++) {
    const head = heads[i % heads.length];
    const body = rand(int(400));
    const bytes = new Uint8Array(head.length + body.length);
    bytes.set(head);
    bytes.set(body, head.length);
    assert.doesNotThrow(() => consume(bytes));
  }
  // 2. every fixture, and two synthetic files of every link type, with bytes flipped and cut
  const synthetic = [
    writePcap([captured(vxlanPing(8472, 8, 1), 1n)]),
    writePcapng([{ linkType: 276, snapLen: 0, tsResolution: 1e9 }, { linkType: 113, snapLen: 0, tsResolution: 1e9 }, { linkType: 101, snapLen: 0, tsResolution: 1e9 }],
      [0, 1, 2].map((ifIndex) => ({ ...captured(vxlanPing(4789, 0, 2), 2n, { ifIndex }), linkType: [276, 113, 101][ifIndex] }))),
  ];
  const originals = [...captures.map(file), ...synthetic];
  for (let i = 0; i < 3000; i++) {
    const bytes = Uint8Array.from(originals[i % originals.length]);
    const flips = 1 + int(8);
    for (let k = 0; k < flips; k++) bytes[int(bytes.length)] = rand(1)[0];
    const cut = i % 3 === 0 ? bytes.subarray(0, int(bytes.length + 1)) : bytes;
    assert.doesNotThrow(() => consume(cut), `input ${i}`);
  }
  // 3. random frames straight into the decoder, under every link type
  for (let i = 0; i < 2000; i++) {
    const data = i % 2 ? rand(int(200)) : Uint8Array.from(vxlanPing(8472, 8, 1), (b, k) => (k > 13 && int(20) === 0 ? rand(1)[0] : b));
    for (const linkType of [1, 101, 113, 276, 147]) {
      assert.doesNotThrow(() => { const d = decodeFrame({ tsNs: 0n, linkType, data, origLen: data.length, ifIndex: 0 }); return d.summary + JSON.stringify(d); });
    }
  }
});
