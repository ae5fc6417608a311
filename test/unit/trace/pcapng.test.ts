import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isPcapng, readPcapng, writePcapng } from '../../../src/trace/pcapng.js';
import { readPcap } from '../../../src/trace/pcap.js';
import type { CaptureInterface, CapturedFrame } from '../../../src/model/packet.js';
import { captured, vxlanPing } from '../../fixtures/trace/frames.js';

const dir = fileURLToPath(new URL('../../../../test/fixtures/trace/', import.meta.url));
const file = (name: string) => new Uint8Array(readFileSync(dir + name));
const hasTshark = spawnSync('tshark', ['--version']).status === 0 && spawnSync('capinfos', ['-h']).status === 0;
const plain = (f: CapturedFrame) => ({ ...f, data: Array.from(f.data) });

test('dumpcap: two interfaces with if_name, if_description, if_tsresol=9; statistics blocks skipped', () => {
  const c = readPcapng(file('dumpcap-2if.pcapng'));
  assert.equal(c.error, undefined);
  assert.equal(c.format, 'pcapng');
  assert.deepEqual(c.interfaces, [
    { linkType: 1, snapLen: 262144, tsResolution: 1e9, name: 'eth0' },
    { linkType: 1, snapLen: 262144, tsResolution: 1e9, name: 'lo', description: 'Loopback' },
  ]);
  // tshark -T fields -e frame.interface_name -e frame.time_epoch
  assert.deepEqual(c.frames.map((f) => [f.ifIndex, f.tsNs, f.origLen]), [
    [0, 1795677829075531496n, 98], [0, 1795677829075567229n, 98], [1, 1795677829251470632n, 98], [1, 1795677829251483371n, 98],
  ]);
});

test('editcap: no if_tsresol means microseconds; the frames equal the pcap they came from', () => {
  const c = readPcapng(file('editcap-us.pcapng'));
  assert.equal(c.error, undefined);
  assert.deepEqual(c.interfaces, [{ linkType: 1, snapLen: 262144, tsResolution: 1e6 }]);
  assert.deepEqual(c.frames.map(plain), readPcap(file('pod2-eth0-us.pcap')).frames.map(plain));
});

test('two sections, big- then little-endian: base-2 and base-10 resolutions, if_tsoffset, SPB; NRB, ISB, custom skipped', () => {
  const c = readPcapng(file('two-sections.pcapng'));
  assert.equal(c.error, undefined);
  assert.deepEqual(c.interfaces, [
    { linkType: 1, snapLen: 262144, tsResolution: 1e6, name: 'server/cni0', description: 'the bridge' },
    { linkType: 1, snapLen: 262144, tsResolution: 2 ** 20, name: 'pod1/eth0' },
    { linkType: 1, snapLen: 262144, tsResolution: 1e9, name: 'pod2/eth0' },
    { linkType: 1, snapLen: 262144, tsResolution: 1e9, name: 'agent/eth0' },
  ]);
  // tshark -T fields -e frame.interface_name -e frame.time_epoch (capinfos -M agrees on the interfaces)
  assert.deepEqual(c.frames.map((f) => [f.ifIndex, f.tsNs, f.data.length]), [
    [0, 1795600000000001000n, 60], // µs
    [1, 1795600000500000000n, 98], // 2^-20 s: x.5 s
    [2, 1795600000000000123n, 45], // ns + 100 s offset
    [0, 0n, 60], // simple packet block: no timestamp
    [3, 1795600001000000000n, 98], // the second section's interface 0
  ]);
});

test('a corrupt block stops the read with its offset; the packets before it are kept', () => {
  const c = readPcapng(file('corrupt.pcapng'));
  assert.equal(c.frames.length, 2);
  assert.equal(c.interfaces.length, 2);
  assert.equal(c.error, 'pcapng: block at offset 576: trailing length 136 differs from the leading length 132');
});

/** A small valid file: one interface, two packets (blocks at 0, 44, 84, 264; 444 bytes). */
const small = () => writePcapng([{ linkType: 1, snapLen: 0, tsResolution: 1e9, name: 'x' }],
  [captured(vxlanPing(8472, 8, 1), 1n), captured(vxlanPing(8472, 0, 1), 2n)]);
const patched = (at: number, v: number, bytes = small()) => { new DataView(bytes.buffer).setUint32(at, v, true); return bytes; };

test('every kind of damage is one error naming the offset, never a throw', () => {
  const good = small();
  assert.deepEqual(readPcapng(good).frames.length, 2);
  assert.equal(readPcapng(good).error, undefined);
  const cases: [Uint8Array, string][] = [
    [good.subarray(0, good.length - 3), 'pcapng: block at offset 264: total length 180 runs past the end of the file (177 bytes left)'],
    [good.subarray(0, 272), 'pcapng: block at offset 264: truncated: 8 bytes left, a block takes at least 12'],
    [patched(88, 150), 'pcapng: block at offset 84: bad total length 150 (must be a multiple of 4, at least 12)'],
    [patched(88, 8), 'pcapng: block at offset 84: bad total length 8 (must be a multiple of 4, at least 12)'],
    [patched(88, 1 << 30), 'pcapng: block at offset 84: total length 1073741824 runs past the end of the file (360 bytes left)'],
    [patched(92, 1), 'pcapng: block at offset 84: packet on interface 1, but this section defines 1 interface(s)'],
    [patched(104, 1000), 'pcapng: block at offset 84: captured length 1000 exceeds the block (148 bytes of packet data)'],
    [patched(8, 0x01020304), 'pcapng: block at offset 0: section header with bad byte-order magic 0x01020304'],
    [patched(12, 2), 'pcapng: block at offset 0: section header version 2.0 is not 1.x'],
    [patched(0, 6), 'pcapng: not a pcapng file: the first block (type 0x6) is not a section header'],
  ];
  for (const [bytes, error] of cases) assert.equal(readPcapng(bytes).error, error);
  assert.equal(readPcapng(patched(88, 150)).frames.length, 0);
  assert.equal(readPcapng(good.subarray(0, 272)).frames.length, 1);
});

test('the obsolete Packet Block is read like an EPB', () => {
  const bytes = patched(84, 2); // an EPB's 32-bit interface id reads as PB's 16-bit id + 0 drops
  const c = readPcapng(bytes);
  assert.equal(c.error, undefined);
  assert.deepEqual(c.frames.map((f) => [f.ifIndex, f.tsNs, f.data.length]), [[0, 1n, 148], [0, 2n, 148]]);
});

const hops: CaptureInterface[] = [
  { linkType: 1, snapLen: 262144, tsResolution: 1e9, name: 'server/veth1234abcd', description: 'pod1 eth0 peer' },
  { linkType: 1, snapLen: 262144, tsResolution: 1e6, name: 'server/cni0', description: 'bridge' },
  { linkType: 276, snapLen: 65535, tsResolution: 1e9, name: 'server/any' },
];
const hopFrames = (): CapturedFrame[] => {
  const any = readPcap(file('node-any-sll2.pcap')).frames.slice(0, 2).map((f) => ({ ...f, ifIndex: 2 }));
  return [
    captured(vxlanPing(8472, 8, 1), 1795600000000000001n, { ifIndex: 0 }),
    captured(vxlanPing(8472, 8, 1), 1795600000000000001n, { ifIndex: 1 }),
    ...any,
    captured(vxlanPing(8472, 0, 1), 1795600000000100000n, { ifIndex: 0, snap: 50 }),
  ];
};

test('write → read round trip: interfaces (nanosecond resolution), frames in order with their interface', () => {
  const frames = hopFrames();
  const c = readPcapng(writePcapng(hops, frames));
  assert.equal(c.error, undefined);
  assert.deepEqual(c.interfaces, hops.map((h) => ({ ...h, tsResolution: 1e9 })));
  assert.deepEqual(c.frames.map(plain), frames.map(plain));
  assert.ok(isPcapng(writePcapng([], [])));
  assert.deepEqual(readPcapng(writePcapng([], [])), { format: 'pcapng', interfaces: [], frames: [] });
});

test('the writer refuses frames on an interface it was not given, or of another link type', () => {
  assert.throws(() => writePcapng(hops.slice(0, 1), [captured(new Uint8Array(1), 0n, { ifIndex: 1 })]), /frame on interface 1, but 1 interface\(s\) given/);
  assert.throws(() => writePcapng(hops, [captured(new Uint8Array(1), 0n, { ifIndex: 2 })]), /frame link type 1 differs from interface 2's 276/);
});

test('tshark and capinfos read the written pcapng with the interface names intact', { skip: hasTshark ? false : 'tshark/capinfos are not installed (apt-get install tshark)' }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'podnet-pcapng-'));
  try {
    const path = join(tmp, 'hops.pcapng');
    writeFileSync(path, writePcapng(hops, hopFrames()));
    const t = spawnSync('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.interface_id', '-e', 'frame.interface_name', '-e', 'frame.interface_description', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len'], { encoding: 'utf8' });
    assert.equal(t.status, 0, t.stderr);
    assert.deepEqual(t.stdout.trim().split('\n'), [
      '0\tserver/veth1234abcd\tpod1 eth0 peer\t1795600000.000000001\t148\t148',
      '1\tserver/cni0\tbridge\t1795600000.000000001\t148\t148',
      '2\tserver/any\t\t1795677821.240827714\t48\t48',
      '2\tserver/any\t\t1795677821.240848155\t48\t48',
      '0\tserver/veth1234abcd\tpod1 eth0 peer\t1795600000.000100000\t148\t50',
    ]);
    const m = spawnSync('capinfos', ['-M', path], { encoding: 'utf8' });
    assert.equal(m.status, 0, m.stderr);
    assert.match(m.stdout, /Capture application: podnet/);
    assert.match(m.stdout, /Number of packets:\s+5/);
    assert.match(m.stdout, /Interface #0 info:\s+Name = server\/veth1234abcd\s+Description = pod1 eth0 peer/);
    assert.match(m.stdout, /Interface #1 info:\s+Name = server\/cni0\s+Description = bridge/);
    assert.match(m.stdout, /Interface #2 info:\s+Name = server\/any\s+Encapsulation = Linux cooked-mode capture v2/);
    assert.match(m.stdout, /Time precision = nanoseconds \(9\)/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
