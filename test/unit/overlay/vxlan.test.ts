// flannel.1's entries as a difference: what is missing is added in flannel's order (neighbour, FDB,
// route), what is stale goes (route first), what is right is left alone; the device is kept only
// when every parameter matches. And the nftables ruleset equals flannel's iptables rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceLines, deviceMatches, diffEntries, remotesOf, type VtepState } from '../../../src/overlay/vxlan.js';
import { flannelRuleset } from '../../../src/overlay/nft.js';
import type { Link } from '../../../src/model/kernel.js';

const leases = [
  { subnet: '10.42.0.0/24', attrs: { PublicIP: '198.51.100.2', BackendType: 'vxlan' as const, BackendData: { VNI: 1, VtepMAC: 'AA:00:00:00:00:00' } } },
  { subnet: '10.42.1.0/24', attrs: { PublicIP: '198.51.100.3', BackendType: 'vxlan' as const, BackendData: { VNI: 1, VtepMAC: 'aa:00:00:00:00:01' } } },
  { subnet: '10.42.2.0/24', attrs: { PublicIP: '198.51.100.4', BackendType: 'vxlan' as const, BackendData: { VNI: 1, VtepMAC: 'aa:00:00:00:00:02' } } },
];
const empty: VtepState = { neighs: [], fdb: [], routes: [] };

test('every other lease is a remote; our own is not', () => {
  assert.deepEqual(remotesOf(leases, '10.42.1.0/24').map((r) => [r.subnet, r.vtepIP, r.vtepMac, r.publicIP]), [
    ['10.42.0.0/24', '10.42.0.0', 'aa:00:00:00:00:00', '198.51.100.2'],
    ['10.42.2.0/24', '10.42.2.0', 'aa:00:00:00:00:02', '198.51.100.4'],
  ]);
});

test('from nothing: neighbour, FDB, route per remote, in flannel\'s order', () => {
  const d = diffEntries(empty, remotesOf(leases, '10.42.0.0/24'));
  assert.deepEqual(d.remove, { ip: [], fdb: [] });
  assert.deepEqual(d.add.neigh, ['neigh replace 10.42.1.0 lladdr aa:00:00:00:00:01 dev flannel.1 nud permanent', 'neigh replace 10.42.2.0 lladdr aa:00:00:00:00:02 dev flannel.1 nud permanent']);
  assert.deepEqual(d.add.fdb, ['fdb replace aa:00:00:00:00:01 dev flannel.1 dst 198.51.100.3 self permanent', 'fdb replace aa:00:00:00:00:02 dev flannel.1 dst 198.51.100.4 self permanent']);
  assert.deepEqual(d.add.route, ['route replace 10.42.1.0/24 via 10.42.1.0 dev flannel.1 onlink', 'route replace 10.42.2.0/24 via 10.42.2.0 dev flannel.1 onlink']);
});

test('converged: nothing to do; a node gone: its route, FDB entry and neighbour go; a moved node: re-pointed', () => {
  const have: VtepState = {
    neighs: [{ dst: '10.42.1.0', dev: 'flannel.1', lladdr: 'aa:00:00:00:00:01', state: ['PERMANENT'] }, { dst: '10.42.2.0', dev: 'flannel.1', lladdr: 'aa:00:00:00:00:02', state: ['PERMANENT'] }],
    fdb: [{ mac: 'aa:00:00:00:00:01', dev: 'flannel.1', dst: '198.51.100.3', flags: ['self'], state: 'permanent' }, { mac: 'aa:00:00:00:00:02', dev: 'flannel.1', dst: '198.51.100.4', flags: ['self'], state: 'permanent' }],
    routes: [{ dst: '10.42.1.0/24', gateway: '10.42.1.0', dev: 'flannel.1', flags: ['onlink'] }, { dst: '10.42.2.0/24', gateway: '10.42.2.0', dev: 'flannel.1', flags: ['onlink'] }],
  };
  const none = diffEntries(have, remotesOf(leases, '10.42.0.0/24'));
  assert.deepEqual([...none.remove.ip, ...none.remove.fdb, ...none.add.neigh, ...none.add.fdb, ...none.add.route], []);
  const gone = diffEntries(have, remotesOf(leases.slice(0, 2), '10.42.0.0/24'));
  assert.deepEqual(gone.remove, { ip: ['route del 10.42.2.0/24 dev flannel.1', 'neigh del 10.42.2.0 dev flannel.1'], fdb: ['fdb del aa:00:00:00:00:02 dev flannel.1 dst 198.51.100.4 self'] });
  const moved = [leases[0], leases[1], { ...leases[2], attrs: { ...leases[2].attrs, PublicIP: '198.51.100.9' } }];
  const m = diffEntries(have, remotesOf(moved, '10.42.0.0/24'));
  assert.deepEqual(m.remove.fdb, ['fdb del aa:00:00:00:00:02 dev flannel.1 dst 198.51.100.4 self']);
  assert.deepEqual(m.add.fdb, ['fdb replace aa:00:00:00:00:02 dev flannel.1 dst 198.51.100.9 self permanent']);
});

test('flannel.1 is made with its MAC set before it exists, and kept only when all parameters match', () => {
  const v = { mac: 'aa:00:00:00:00:09', localIP: '198.51.100.2', underlayDev: 'eth0', underlayMtu: 1500, subnet: '10.42.0.0/24' };
  assert.deepEqual(deviceLines(v), [
    'link add flannel.1 address aa:00:00:00:00:09 mtu 1450 type vxlan id 1 local 198.51.100.2 dev eth0 dstport 8472 nolearning',
    'addr add 10.42.0.0/32 dev flannel.1',
    'link set flannel.1 up',
  ]);
  const link = { name: 'flannel.1', kind: 'vxlan', vni: 1, local: '198.51.100.2', dstport: 8472, learning: false, mtu: 1450, mac: 'aa:00:00:00:00:09' } as unknown as Link;
  assert.equal(deviceMatches(link, v), true);
  assert.equal(deviceMatches({ ...link, mac: 'aa:00:00:00:00:08' } as Link, v), false, 'another MAC: re-made (remote FDBs point at ours)');
  assert.equal(deviceMatches({ ...link, learning: true } as Link, v), false);
  assert.equal(deviceMatches(undefined, v), false);
});

test('the nftables ruleset is flannel\'s FLANNEL-POSTRTG and FLANNEL-FWD, replacing the table atomically', () => {
  const r = flannelRuleset('10.42.0.0/16', '10.42.1.0/24', true);
  assert.match(r, /^table ip flannel \{\}\ndelete table ip flannel\ntable ip flannel \{/);
  assert.ok(r.indexOf('meta mark & 0x4000 == 0x4000 return') < r.indexOf('ip saddr 10.42.1.0/24 ip daddr 10.42.0.0/16 return'));
  for (const rule of ['ip saddr 10.42.0.0/16 ip daddr 10.42.1.0/24 return', 'ip saddr != 10.42.0.0/16 ip daddr 10.42.1.0/24 return',
    'ip saddr 10.42.0.0/16 ip daddr != 224.0.0.0/4 masquerade random,fully-random', 'ip saddr != 10.42.0.0/16 ip daddr 10.42.0.0/16 masquerade random,fully-random',
    'ip saddr 10.42.0.0/16 accept', 'ip daddr 10.42.0.0/16 accept']) assert.ok(r.includes(rule), rule);
  const off = flannelRuleset('10.42.0.0/16', '10.42.1.0/24', false);
  assert.ok(!off.includes('masquerade') && !off.includes('FLANNEL-POSTRTG'), 'FLANNEL_IPMASQ=false: no nat chain at all (an empty one would still turn conntrack on)');
  assert.ok(off.includes('chain FLANNEL-FWD'));
});
