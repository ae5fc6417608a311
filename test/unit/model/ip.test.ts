import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addIp, broadcastOf, contains, containsCidr, hasHostBits, networkOf, overlaps, parseCidr, subnetAt, formatCidr } from '../../../src/model/ip.js';
import { macFromBytes, parseMac } from '../../../src/model/mac.js';

test('CIDR arithmetic', () => {
  const c = parseCidr('10.42.0.7/24');
  assert.equal(networkOf(c), '10.42.0.0');
  assert.equal(broadcastOf(c), '10.42.0.255');
  assert.ok(hasHostBits(c));
  assert.ok(contains(c, '10.42.0.254'));
  assert.ok(!contains(c, '10.42.1.0'));
  assert.ok(containsCidr(parseCidr('10.42.0.0/16'), parseCidr('10.42.3.0/24')));
  assert.ok(overlaps(parseCidr('10.42.0.0/16'), parseCidr('10.42.3.0/24')));
  assert.ok(!overlaps(parseCidr('10.42.0.0/16'), parseCidr('10.43.0.0/16')));
  assert.equal(addIp('10.42.0.255', 1), '10.42.1.0');
  assert.equal(formatCidr(subnetAt(parseCidr('10.42.0.0/16'), 24, 3)), '10.42.3.0/24');
  assert.throws(() => subnetAt(parseCidr('10.42.0.0/16'), 24, 256), /holds 256/);
  assert.throws(() => parseCidr('10.42.0.0'), /not a CIDR/);
});

test('MACs', () => {
  assert.equal(parseMac('AA:BB:CC:DD:EE:FF'), 'aa:bb:cc:dd:ee:ff');
  assert.equal(parseMac('aa-bb'), undefined);
  const m = macFromBytes(new Uint8Array([0xff, 1, 2, 3, 4, 5]));
  assert.equal(m, 'fe:01:02:03:04:05');
});
