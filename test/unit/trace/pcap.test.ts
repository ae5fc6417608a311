import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isPcap, readPcap, writePcap } from '../../../src/trace/pcap.js';
import type { CapturedFrame } from '../../../src/model/packet.js';
import { captured, vxlanPing } from '../../fixtures/trace/frames.js';

const dir = fileURLToPath(new URL('../../../../test/fixtures/trace/', import.meta.url));
const file = (name: string) => new Uint8Array(readFileSync(dir + name));
const hasTshark = spawnSync('tshark', ['--version']).status === 0;
/** A frame as plain comparable data. */
const plain = (f: CapturedFrame) => ({ ...f, data: Array.from(f.data) });

test('little-endian, nanosecond magic (tcpdump --time-stamp-precision=nano)', () => {
  const c = readPcap(file('pod1-eth0.pcap'));
  assert.equal(c.error, undefined);
  assert.equal(c.format, 'pcap');
  assert.deepEqual(c.interfaces, [{ linkType: 1, snapLen: 262144, tsResolution: 1e9 }]);
  assert.equal(c.frames.length, 25);
  const f = c.frames[0];
  // tshark: frame.time_epoch 1795677821.240804660, frame.len 42
  assert.deepEqual([f.tsNs, f.linkType, f.origLen, f.data.length, f.ifIndex], [1795677821240804660n, 1, 42, 42, 0]);
  assert.equal(c.frames[24].tsNs, 1795677822435885532n);
});

test('little-endian, microsecond magic (tcpdump --time-stamp-precision=micro)', () => {
  const c = readPcap(file('pod2-eth0-us.pcap'));
  assert.equal(c.error, undefined);
  assert.deepEqual(c.interfaces, [{ linkType: 1, snapLen: 262144, tsResolution: 1e6 }]);
  assert.equal(c.frames.length, 20);
  assert.equal(c.frames[0].tsNs, 1795677821240854000n); // tshark: 1795677821.240854000
});

test('big-endian files read the same frames as their little-endian originals, µs and ns', () => {
  for (const [be, le, n] of [['pod1-eth0-be.pcap', 'pod1-eth0.pcap', 7], ['pod2-eth0-us-be.pcap', 'pod2-eth0-us.pcap', 6]] as const) {
    const b = readPcap(file(be));
    const l = readPcap(file(le));
    assert.equal(b.error, undefined);
    assert.deepEqual(b.interfaces, l.interfaces);
    assert.deepEqual(b.frames.map(plain), l.frames.slice(0, n).map(plain), be);
  }
  assert.ok(isPcap(file('pod1-eth0-be.pcap')) && isPcap(file('pod2-eth0-us-be.pcap')));
});

test('frames are views into the file, not copies', () => {
  const buf = file('pod1-eth0.pcap');
  const f = readPcap(buf).frames[3];
  assert.equal(f.data.buffer, buf.buffer);
  assert.equal(f.data.byteOffset, buf.byteOffset + 24 + 3 * 16 + 42 * 3 + 16);
});

test('a record cut short ends the read with an error naming its offset; earlier frames are kept', () => {
  const c = readPcap(file('truncated.pcap'));
  assert.equal(c.frames.length, 2);
  assert.equal(c.error, 'pcap: record at offset 352 truncated: 138 of 148 captured bytes present');
  const header = readPcap(file('vxlan.pcap').subarray(0, 24 + 164 + 9));
  assert.equal(header.frames.length, 1);
  assert.equal(header.error, 'pcap: record header at offset 188 truncated: 9 of 16 bytes');
});

test('short, foreign and absurd files get one clear error and no throw', () => {
  assert.equal(readPcap(new Uint8Array(10)).error, 'pcap: file header truncated: 10 of 24 bytes');
  assert.equal(readPcap(new Uint8Array(30)).error, 'pcap: bad magic 0x00000000 at offset 0');
  const huge = file('vxlan.pcap').slice(0, 24 + 16);
  new DataView(huge.buffer).setUint32(24 + 8, 0x7fffffff, true);
  const c = readPcap(huge);
  assert.deepEqual([c.frames.length, c.error], [0, 'pcap: record at offset 24: captured length 2147483647 exceeds the snap length 262144 (corrupt file?)']);
});

test('an unknown link type is read, frames and all', () => {
  const c = readPcap(file('unknown-linktype.pcap'));
  assert.equal(c.error, undefined);
  assert.equal(c.interfaces[0].linkType, 147);
  assert.deepEqual(c.frames.map((f) => [f.linkType, f.data.length]), [[147, 5], [147, 64]]);
});

test('write → read round trip; the writer reproduces tcpdump\'s nanosecond file byte for byte', () => {
  const original = file('pod1-eth0.pcap');
  const frames = readPcap(original).frames;
  const written = writePcap(frames);
  assert.deepEqual(Array.from(written), Array.from(original));
  // µs frames come back with the same nanosecond times; a snapped frame keeps its wire length.
  const us = readPcap(file('pod2-eth0-us.pcap')).frames;
  assert.deepEqual(readPcap(writePcap(us)).frames.map(plain), us.map(plain));
  const snapped = [captured(vxlanPing(8472, 8, 1), 5n, { snap: 60 })];
  const back = readPcap(writePcap(snapped, { snapLen: 60 }));
  assert.deepEqual([back.interfaces[0].snapLen, back.frames[0].data.length, back.frames[0].origLen, back.frames[0].tsNs], [60, 60, 148, 5n]);
  assert.deepEqual(readPcap(writePcap([])).interfaces, [{ linkType: 1, snapLen: 262144, tsResolution: 1e9 }]);
});

test('a pcap holds one link type: mixing is refused with the fix', () => {
  assert.throws(() => writePcap([captured(new Uint8Array(1), 0n), captured(new Uint8Array(1), 0n, { linkType: 276 })]),
    /frame link type 276 differs from the file's 1: a pcap holds one link type \(use writePcapng\)/);
});

test('tshark reads what writePcap wrote', { skip: hasTshark ? false : 'tshark is not installed (apt-get install tshark)' }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'podnet-pcap-'));
  try {
    const path = join(tmp, 'w.pcap');
    writeFileSync(path, writePcap([captured(vxlanPing(8472, 8, 1), 1795600000123456789n), captured(vxlanPing(8472, 0, 1), 1795600000223456789n)]));
    const r = spawnSync('tshark', ['-r', path, '-d', 'udp.port==8472,vxlan', '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'vxlan.vni', '-e', 'icmp.type'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '1795600000.123456789\t148\t1\t8\n1795600000.223456789\t148\t1\t0\n');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
