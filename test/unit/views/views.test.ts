// The inspect views of a fixed K3s-shaped node (test/fixtures/inspect/snapshot.ts): golden tables
// and JSON, plus what each view must get right — veth pairing by ifindex, nothing hidden, FDB kinds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTable } from '../../../src/render/table.js';
import { renderData } from '../../../src/render/output.js';
import { findNamespace, inspectFdb, inspectLinks, inspectNeigh, inspectPods, inspectRoutes } from '../../../src/views/index.js';
import { fdbColumns, fdbWideColumns, linkColumns, neighColumns, podColumns, podWideColumns, routeColumns, routeWideColumns } from '../../../src/render/inspect/index.js';
import { fixedSnapshot } from '../../fixtures/inspect/snapshot.js';
import { assertGolden } from '../../fixtures/inspect/golden.js';

const s = fixedSnapshot();
const host = s.namespaces.find((n) => n.id === s.host)!;

test('inspect: one row per pod interface, paired with its host veth by ifindex both ways', () => {
  const rows = inspectPods(s);
  assertGolden('pods.golden', renderTable(rows, podColumns) + '\n' + renderTable(rows, podWideColumns));
  assert.deepEqual(rows.map((r) => r.pod), ['pod1', 'pod2', 'netns 4026532999 (pid 4242: /pause)', '?']);
  for (const r of rows.filter((x) => x.pod !== '?')) {
    const ns = s.namespaces.find((n) => n.id === r.netnsId)!;
    const iface = ns.links.find((l) => l.name === r.iface.split('@')[0])!;
    const veth = host.links.find((l) => l.name === r.hostVeth.split('@')[0])!;
    assert.equal(r.hostVeth, `${veth.name}@if${iface.index}`, 'HOST VETH @ifN is the pod interface ifindex');
    assert.equal(r.iface, `${iface.name}@if${veth.index}`, 'IFACE @ifN is the host veth ifindex');
    assert.equal(r.ifindex, iface.index);
    assert.equal(r.hostIndex, veth.index);
    assert.equal(r.mac, iface.mac);
    assert.equal(r.bridge, 'cni0');
    assert.equal(r.hairpin, true);
    assert.equal(r.state, 'forwarding');
  }
  const pod1 = rows[0];
  assert.deepEqual([pod1.ips, pod1.netns, pod1.podNamespace, pod1.kind], [['10.42.0.2/24'], 'cni-1a2b3c4d-0000-4000-8000-000000000001', 'default', 'pod']);
  const unnamed = rows[2];
  assert.equal(unnamed.netns, '/proc/4242/ns/net', 'an unpinned namespace is shown by a path that opens it');
  assert.deepEqual(unnamed.ips, ['10.42.0.4/24']);
  const unknown = rows[3];
  assert.deepEqual([unknown.pod, unknown.netns, unknown.netnsId, unknown.iface, unknown.hostVeth, unknown.mac, unknown.ifindex],
    ['?', '?', '', '?', 'veth3a94f27e@if2', '', 2], 'a host veth with an unknown peer is still a row');
});

test('inspect fdb: every entry of cni0 and flannel.1, kind and owner explained; other devices left out', () => {
  const rows = inspectFdb(s);
  assertGolden('fdb.golden', renderTable(rows, fdbColumns) + '\n' + renderTable(rows, fdbWideColumns));
  assert.ok(!rows.some((r) => r.port === 'eth0'), 'eth0 is not a bridge port: its multicast filter is not a bridge FDB');
  assert.equal(rows.length, host.fdb.filter((e) => e.dev !== 'eth0').length, 'every bridge/vxlan entry is listed');
  const learned = rows.filter((r) => r.kind === 'learned');
  assert.deepEqual(learned.map((r) => [r.mac, r.port, r.owner]), [
    ['0a:58:0a:2a:00:03', 'veth18eb7d52', 'pod2:eth0'],
    ['0a:58:0a:2a:00:02', 'veth82ebd960', 'pod1:eth0'],
    ['0a:58:0a:2a:00:04', 'vethc0ffee01', 'netns 4026532999 (pid 4242: /pause):eth0'],
    ['0a:58:0a:2a:00:09', 'veth3a94f27e', ''],
  ]);
  for (const r of learned) assert.match(r.explanation, /^dynamically learned from traffic seen on veth/);
  const permanent = rows.filter((r) => r.kind === 'permanent');
  assert.ok(permanent.every((r) => r.owner === `server:${r.port}`), 'a permanent entry is the port\'s own MAC');
  assert.match(permanent.find((r) => r.port === 'veth82ebd960')!.explanation, /static entry the kernel installs for the port's own MAC/);
  assert.match(permanent.find((r) => r.port === 'cni0')!.explanation, /bridge's own MAC/);
  const multicast = rows.filter((r) => r.multicast);
  assert.ok(multicast.length >= 10 && multicast.every((r) => r.kind === 'self' && r.owner.startsWith('multicast: ')), 'multicast entries are self, owned by their group');
  assert.equal(rows.find((r) => r.mac === '33:33:00:00:00:01' && r.port === 'cni0')?.owner, 'multicast: IPv6 all-nodes ff02::1');
  assert.equal(rows.find((r) => r.mac === '33:33:ff:0f:39:c4')?.owner, 'multicast: IPv6 solicited-node ff02::1:ff0f:39c4');
  assert.equal(rows.find((r) => r.mac === '01:00:5e:00:00:01')?.owner, 'multicast: IPv4 all-hosts 224.0.0.1');
  const cni0 = rows.filter((r) => r.bridge === 'cni0');
  assert.deepEqual(cni0.map((r) => r.multicast), [...cni0.filter((r) => !r.multicast), ...cni0.filter((r) => r.multicast)].map((r) => r.multicast), 'unicast first, multicast last');
  const vtep = rows.find((r) => r.port === 'flannel.1')!;
  assert.deepEqual([vtep.kind, vtep.bridge, vtep.dst, vtep.owner], ['self', '', '198.51.100.3', 'VTEP 198.51.100.3']);
  assert.equal(rows.at(-1), vtep, 'VXLAN entries come after the bridges');
});

test('inspect neigh: every namespace\'s ARP entries, each joined to who has the MAC', () => {
  const rows = inspectNeigh(s);
  assertGolden('neigh.golden', renderTable(rows, neighColumns));
  assert.deepEqual(rows.filter((r) => r.netns === 'server').map((r) => [r.ip, r.owner]), [
    ['198.51.100.1', ''], ['10.42.1.0', 'VTEP 198.51.100.3'], ['10.42.0.3', 'pod2:eth0'], ['10.42.0.2', 'pod1:eth0'], ['10.42.0.9', ''], ['fe80::1', ''],
  ]);
  assert.equal(rows.find((r) => r.ip === '10.42.0.9')?.mac, '', 'a FAILED entry has no lladdr');
  assert.ok(rows.filter((r) => r.netns === 'pod1' && r.ip === '10.42.0.1').every((r) => r.owner === 'server:cni0'));
  assert.equal(rows[0].netns, 'server', 'the host comes first');
});

test('inspect routes: one namespace or all, the host first', () => {
  const all = inspectRoutes(s);
  assertGolden('routes.golden', renderTable(all, routeColumns) + '\n' + renderTable(all, routeWideColumns));
  const pod1 = findNamespace(s, 'pod1')!;
  assert.equal(findNamespace(s, pod1.id), pod1);
  assert.equal(findNamespace(s, 'cni-1a2b3c4d-0000-4000-8000-000000000001'), pod1);
  assert.equal(findNamespace(s, 'nope'), undefined);
  assert.deepEqual(inspectRoutes(s, pod1.id).map((r) => [r.dst, r.via, r.dev]), [
    ['default', '10.42.0.1', 'eth0'], ['10.42.0.0/24', '', 'eth0'], ['10.42.0.0/16', '10.42.0.1', 'eth0'],
  ]);
  assert.deepEqual(inspectRoutes(s, 'ino:1'), []);
  assert.deepEqual(all.find((r) => r.dev === 'flannel.1')?.flags, ['onlink']);
});

test('inspect links: every link of every namespace, veth peers resolved or marked unresolved', () => {
  const rows = inspectLinks(s);
  assertGolden('links.golden', renderTable(rows, linkColumns));
  assert.equal(rows.length, s.namespaces.reduce((n, ns) => n + ns.links.length, 0));
  const peer = (link: string) => rows.find((r) => r.owner === 'server' && r.link === link)?.peer;
  assert.equal(peer('veth82ebd960@if2'), 'pod1:eth0');
  assert.equal(peer('vethc0ffee01@if2'), 'netns 4026532999 (pid 4242: /pause):eth0');
  assert.equal(peer('veth3a94f27e@if2'), 'if2 (unresolved)');
  const eth0 = rows.find((r) => r.owner === 'pod1' && r.name === 'eth0')!;
  assert.deepEqual([eth0.link, eth0.kind, eth0.peer, eth0.addresses[0]], ['eth0@if6', 'veth', 'server:veth82ebd960', '10.42.0.2/24']);
  assert.deepEqual(rows.find((r) => r.name === 'flannel.1')?.kind, 'vxlan');
});

test('every view\'s JSON shape is plain data (golden)', () => {
  const views = { pods: inspectPods(s), fdb: inspectFdb(s), neigh: inspectNeigh(s), routes: inspectRoutes(s), links: inspectLinks(s) };
  const json = renderData(views, 'json');
  assertGolden('views.json.golden', json);
  assert.deepEqual(JSON.parse(json), views, 'nothing is lost through JSON (no undefined, no class instances)');
  const plain = (v: unknown): boolean => ['string', 'number', 'boolean'].includes(typeof v)
    || (Array.isArray(v) && v.every(plain)) || (typeof v === 'object' && v !== null && Object.values(v).every(plain));
  assert.ok(plain(views));
  assert.match(renderData(views.pods, 'yaml'), /^- pod: pod1\n/);
});

test('a snapshot without its host namespace gives empty views, not errors', () => {
  const orphan = { ...s, host: 'ino:0' };
  assert.deepEqual([inspectPods(orphan), inspectFdb(orphan)], [[], []]);
  assert.equal(renderTable(inspectPods(orphan), podColumns), 'No resources found.\n');
});
