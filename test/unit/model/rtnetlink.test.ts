// The rtnetlink attribute reader and the MAC formatter (src/model/rtnetlink.ts), on bytes laid out
// as the kernel lays them out: what iproute2 would read is read, and malformed tails stop the reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attrs, macString, parseAttrs } from '../../../src/model/rtnetlink.js';

test('parseAttrs reads each attribute by type, the nested flag cleared, the last of a type winning', () => {
  const header = Buffer.alloc(16, 0xee);
  const attrs = new Attrs().str(3, 'eth0').u32(4, 1450).nest(18, (a) => a.str(1, 'veth')).u32(4, 1500).build();
  const m = parseAttrs(Buffer.concat([header, attrs]), 16);
  assert.equal(m.get(3)?.toString('utf8'), 'eth0\0');
  assert.equal(m.get(4)?.readUInt32LE(0), 1500);
  assert.equal(parseAttrs(m.get(18)!).get(1)?.toString('utf8'), 'veth\0');
  assert.equal(m.get(5), undefined);
  assert.equal(m.has(18), true);
  assert.equal(m.has(5), false);
});

test('parseAttrs stops at a length that is too short or runs past the end', () => {
  const good = new Attrs().u32(1, 7).build();
  const tooShort = Buffer.from([2, 0, 2, 0]);
  const pastEnd = Buffer.from([40, 0, 3, 0, 1, 2, 3, 4]);
  assert.equal(parseAttrs(Buffer.concat([good, tooShort, new Attrs().u32(2, 9).build()])).has(2), false);
  const m = parseAttrs(Buffer.concat([good, pastEnd]));
  assert.equal(m.get(1)?.readUInt32LE(0), 7);
  assert.equal(m.has(3), false);
});

test('an attribute read is a view of the message, not a copy', () => {
  const buf = new Attrs().bytes(6, Buffer.from([1, 2, 3])).build();
  const v = parseAttrs(buf).get(6)!;
  assert.deepEqual([...v], [1, 2, 3]);
  buf[4] = 9;
  assert.equal(v[0], 9);
});

test('macString prints lower-case hex pairs joined by colons, as iproute2 does', () => {
  assert.equal(macString(Buffer.from([0x0a, 0x58, 0x0a, 0x2a, 0x00, 0xff])), '0a:58:0a:2a:00:ff');
  assert.equal(macString(Buffer.from([0xde, 0xad, 0xbe, 0xef])), 'de:ad:be:ef');
  assert.equal(macString(Buffer.alloc(0)), '');
});
