// Range sets and round-robin allocation, as pure functions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRangeSet, nextIP, ownedBy, parseRange, parseRangeSets, planAllocations, rangeFor, type RangeSet } from '../../../../src/cni/ipam/allocator.js';
import { isDottedQuad as isIPv4 } from '../../../../src/model/ip.js';
import { CniError } from '../../../../src/cni/spec.js';

const k3s = (): RangeSet[] => parseRangeSets({ ranges: [[{ subnet: '10.42.0.0/24' }]] });
const none = () => false;

/** Asserts `fn` throws a CniError with `code` whose message matches `msg`. */
function throwsCni(fn: () => unknown, code: number, msg: RegExp | string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CniError, `not a CniError: ${String(e)}`);
    assert.equal(e.code, code);
    if (typeof msg === 'string') assert.equal(e.message, msg);
    else assert.match(e.message, msg);
    return true;
  });
}

test('defaults: gateway and rangeStart = network+1, rangeEnd = broadcast-1', () => {
  const [set] = k3s();
  assert.equal(set.length, 1);
  assert.deepEqual(set[0], { subnet: { ip: '10.42.0.0', prefix: 24 }, rangeStart: '10.42.0.1', rangeEnd: '10.42.0.254', gateway: '10.42.0.1' });
  assert.equal(formatRangeSet(set), '10.42.0.1-10.42.0.254');
});

test('explicit rangeStart, rangeEnd and gateway are kept', () => {
  const r = parseRange({ subnet: '10.10.0.0/16', rangeStart: '10.10.1.20', rangeEnd: '10.10.3.50', gateway: '10.10.0.254' }, 'ipam');
  assert.deepEqual([r.rangeStart, r.rangeEnd, r.gateway], ['10.10.1.20', '10.10.3.50', '10.10.0.254']);
});

test('old single-range form becomes range set 0, before "ranges"', () => {
  const sets = parseRangeSets({ subnet: '10.42.0.0/24', rangeStart: '10.42.0.10', ranges: [[{ subnet: '10.43.0.0/24' }]] });
  assert.deepEqual(sets.map(formatRangeSet), ['10.42.0.10-10.42.0.254', '10.43.0.1-10.43.0.254']);
});

test('/30 is the smallest network; /31 and /32 are too small', () => {
  const [set] = parseRangeSets({ subnet: '10.42.0.0/30' });
  assert.equal(formatRangeSet(set), '10.42.0.1-10.42.0.2');
  throwsCni(() => parseRangeSets({ subnet: '10.42.0.0/31' }), 7, /^ipam\.subnet: invalid CIDR 10\.42\.0\.0\/31: network too small/);
  throwsCni(() => parseRangeSets({ ranges: [[{ subnet: '10.42.0.0/32' }]] }), 7, /^ipam\.ranges\[0\]\[0\]\.subnet: invalid CIDR .*too small/);
});

test('validation errors name the field and the fix', () => {
  const bad: [Parameters<typeof parseRangeSets>[0], RegExp | string][] = [
    [{ ranges: [[{ subnet: '10.42.0.0/33' }]] }, 'ipam.ranges[0][0].subnet: "10.42.0.0/33" is not a CIDR (like 10.42.0.0/24)'],
    [{ ranges: [[{ subnet: 'banana' }]] }, /subnet: "banana" is not a CIDR/],
    [{ ranges: [[{ subnet: '10.42.0.1/24' }]] }, /^ipam\.ranges\[0\]\[0\]\.subnet: "10\.42\.0\.1\/24" has host bits set; .*use 10\.42\.0\.0\/24/],
    [{ ranges: [[{ subnet: '10.42.0.0/24', rangeStart: '10.43.0.5' }]] }, 'ipam.ranges[0][0].rangeStart: 10.43.0.5 is not in network 10.42.0.0/24'],
    [{ ranges: [[{ subnet: '10.42.0.0/24', rangeEnd: '10.42.1.5' }]] }, /rangeEnd: 10\.42\.1\.5 is not in network/],
    [{ ranges: [[{ subnet: '10.42.0.0/24', gateway: '10.9.9.9' }]] }, /gateway: 10\.9\.9\.9 is not in network/],
    [{ ranges: [[{ subnet: '10.42.0.0/24', gateway: '10.42.0.300' }]] }, /gateway: "10\.42\.0\.300" is not an IPv4 address/],
    [{ ranges: [[{ subnet: '10.42.0.0/24', rangeStart: '10.42.0.200', rangeEnd: '10.42.0.100' }]] }, /^ipam\.ranges\[0\]\[0\]: rangeStart 10\.42\.0\.200 is after rangeEnd 10\.42\.0\.100/],
    [{ ranges: [[{ subnet: 'fd00::/64' }]] }, /subnet: "fd00::\/64" is IPv6; podnet's host-local is IPv4-only for now/],
    [{ ranges: [[]] }, /^ipam\.ranges\[0\]: empty range set/],
    [{}, /^ipam: no IP ranges specified/],
    [{ gateway: '10.42.0.1', ranges: [[{ subnet: '10.42.0.0/24' }]] }, /^ipam\.gateway: given without "subnet"/],
    [{ ranges: [[{ subnet: '10.42.0.0/24' }], [{ subnet: '10.42.0.0/25' }]] }, /^ipam\.ranges\[1\]: range set 10\.42\.0\.1-10\.42\.0\.126 overlaps ipam\.ranges\[0\]/],
    [{ subnet: '10.42.0.0/24', ranges: [[{ subnet: '10.42.0.0/24' }]] }, /^ipam\.ranges\[0\]: range set .* overlaps ipam \(/],
    [{ ranges: [[{ subnet: '10.42.0.0/24' }, { subnet: '10.42.0.0/24', rangeStart: '10.42.0.100' }]] }, /^ipam\.ranges\[0\]: ranges 10\.42\.0\.1-10\.42\.0\.254 and 10\.42\.0\.100-10\.42\.0\.254 overlap/],
  ];
  for (const [input, msg] of bad) throwsCni(() => parseRangeSets(input), 7, msg);
});

test('disjoint ranges of one subnet in different sets are fine', () => {
  const sets = parseRangeSets({ ranges: [[{ subnet: '10.42.0.0/24', rangeEnd: '10.42.0.99' }], [{ subnet: '10.42.0.0/24', rangeStart: '10.42.0.100' }]] });
  assert.equal(sets.length, 2);
});

test('round robin: first call skips the gateway, then continues after the last reserved', () => {
  const [set] = k3s();
  assert.equal(nextIP(set, undefined, none), '10.42.0.2');
  assert.equal(nextIP(set, '10.42.0.2', none), '10.42.0.3');
  assert.equal(nextIP(set, '10.42.0.17', none), '10.42.0.18');
});

test('round robin wraps after rangeEnd and skips the gateway on the way round', () => {
  const [set] = k3s();
  assert.equal(nextIP(set, '10.42.0.254', none), '10.42.0.2');
});

test('round robin skips taken addresses', () => {
  const [set] = k3s();
  const taken = new Set(['10.42.0.3', '10.42.0.4']);
  assert.equal(nextIP(set, '10.42.0.2', (ip) => taken.has(ip)), '10.42.0.5');
});

test('a last reserved IP outside the set starts from rangeStart', () => {
  const [set] = parseRangeSets({ subnet: '10.42.0.0/24', rangeStart: '10.42.0.50' });
  assert.equal(nextIP(set, '10.9.9.9', none), '10.42.0.50');
  assert.equal(nextIP(set, '10.42.0.10', none), '10.42.0.50');
});

test('the last reserved IP itself is tried last', () => {
  const [set] = parseRangeSets({ subnet: '10.42.0.0/29' });
  const taken = new Set(['10.42.0.2', '10.42.0.3', '10.42.0.5', '10.42.0.6']);
  assert.equal(nextIP(set, '10.42.0.4', (ip) => taken.has(ip)), '10.42.0.4');
});

test('several ranges in a set: continue into the next range, wrap to the first', () => {
  const [set] = parseRangeSets({ ranges: [[{ subnet: '10.42.0.0/30' }, { subnet: '10.43.0.0/30' }]] });
  assert.equal(formatRangeSet(set), '10.42.0.1-10.42.0.2,10.43.0.1-10.43.0.2');
  assert.equal(nextIP(set, '10.42.0.2', none), '10.43.0.2');
  assert.equal(nextIP(set, '10.43.0.2', none), '10.42.0.2');
  assert.equal(rangeFor(set, '10.43.0.2')?.gateway, '10.43.0.1');
});

test('exhaustion: undefined from nextIP, the reference message from planAllocations', () => {
  const [set] = k3s();
  const all = new Set(Array.from({ length: 254 }, (_, i) => `10.42.0.${i + 1}`));
  assert.equal(nextIP(set, '10.42.0.9', (ip) => all.has(ip)), undefined);
  throwsCni(() => planAllocations([set], { lastReserved: [], taken: all }, 1), 999, 'no IP addresses available in range set: 10.42.0.1-10.42.0.254');
  const [two] = parseRangeSets({ ranges: [[{ subnet: '10.42.0.0/30' }, { subnet: '10.43.0.0/30' }]] });
  throwsCni(() => planAllocations([two], { lastReserved: [], taken: [] }, 3), 999, 'no IP addresses available in range set: 10.42.0.1-10.42.0.2,10.43.0.1-10.43.0.2');
});

test('planAllocations predicts successive ADDs, one IP per range set', () => {
  const sets = parseRangeSets({ ranges: [[{ subnet: '10.42.0.0/24' }], [{ subnet: '10.44.0.0/24' }]] });
  const plan = planAllocations(sets, { lastReserved: ['10.42.0.7'], taken: ['10.42.0.8'] }, 3);
  assert.deepEqual(plan, [['10.42.0.9', '10.44.0.2'], ['10.42.0.10', '10.44.0.3'], ['10.42.0.11', '10.44.0.4']]);
  const [set] = parseRangeSets({ subnet: '10.42.0.0/30' });
  assert.deepEqual(planAllocations([set], { lastReserved: [], taken: [] }, 1), [['10.42.0.2']]);
});

test('ownedBy: exact owner, else old files that only carry the container ID', () => {
  const entries = [{ ip: 'a', id: 'c1', ifname: 'eth0' }, { ip: 'b', id: 'c1', ifname: '' }, { ip: 'c', id: 'c2', ifname: 'eth0' }];
  assert.deepEqual(ownedBy(entries, 'c1', 'eth0').map((e) => e.ip), ['a']);
  assert.deepEqual(ownedBy(entries, 'c1', 'eth1').map((e) => e.ip), ['b']);
  assert.deepEqual(ownedBy(entries, 'c3', 'eth0'), []);
});

test('isIPv4 accepts dotted quads only', () => {
  assert.deepEqual(['10.42.0.2', '10.42.0.300', 'lock', 'last_reserved_ip.0', 'fd00::1', '10.42.0'].map(isIPv4), [true, false, false, false, false, false]);
});
