// `get pods` / `get nodes` rows from a snapshot shaped like what `ip -json -details` prints on a lab
// node and its pods, joined to what the lab records; and iproute2 JSON parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addrsFromJson, fdbFromJson, linkFromJson, routeFromJson } from '../../../src/model/kernel.js';
import { madePodRows, nodeRows, podRows } from '../../../src/views/lab.js';
import type { NetnsSnapshot, Snapshot } from '../../../src/model/snapshot.js';
import { renderTable } from '../../../src/render/table.js';
import { renderData } from '../../../src/render/output.js';

const veth = (index: number, name: string, peer: number, mac: string, master?: string) => ({
  ifindex: index, link_index: peer, ifname: name, flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1450, operstate: 'UP',
  address: mac, link_netnsid: 0, promiscuity: master ? 1 : 0, ...(master ? { master } : {}),
  linkinfo: { info_kind: 'veth', ...(master ? { info_slave_kind: 'bridge', info_slave_data: { state: 'forwarding', hairpin: true, learning: true, flood: true } } : {}) },
});
const nodeLinks = [
  { ifindex: 2, link_index: 3, ifname: 'eth0', flags: ['UP', 'LOWER_UP'], mtu: 1500, operstate: 'UP', address: '02:00:00:00:00:01', linkinfo: { info_kind: 'veth' },
    addr_info: [{ family: 'inet', local: '198.51.100.2', prefixlen: 24, scope: 'global' }] },
  { ifindex: 3, ifname: 'cni0', flags: ['UP', 'LOWER_UP'], mtu: 1450, operstate: 'UP', address: '0a:00:00:00:00:01', linkinfo: { info_kind: 'bridge' },
    addr_info: [{ family: 'inet', local: '10.42.0.1', prefixlen: 24, scope: 'global' }] },
  veth(4, 'veth82ebd960', 2, '0a:00:00:00:00:04', 'cni0'),
  veth(5, 'veth18eb7d52', 2, '0a:00:00:00:00:05', 'cni0'),
];
const podLinks = (peer: number, mac: string, ip: string) => [
  { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP'], mtu: 65536, operstate: 'UNKNOWN', address: '00:00:00:00:00:00', link_type: 'loopback', addr_info: [] },
  { ...veth(2, 'eth0', peer, mac), addr_info: [{ family: 'inet', local: ip, prefixlen: 24, scope: 'global' }] },
];
const ns = (inode: number, name: string, list: Record<string, unknown>[], pids: number[] = []): NetnsSnapshot => ({
  id: `ino:${inode}`, inode, names: [name], path: `/run/netns/${name}`, processes: pids.map((pid) => ({ pid, cmd: 'busybox sleep 2147483647' })),
  links: list.map(linkFromJson), addrs: addrsFromJson(list), routes: [], neighs: [], fdb: [], nsids: [],
  identity: { kind: inode === 1 ? 'node' : 'pod', name: name === 'podnet-demo-server' ? 'server' : name, source: 'lab' },
});

const server: Snapshot = {
  takenAt: '2026-01-01T00:01:00Z', host: 'ino:1',
  namespaces: [
    ns(1, 'podnet-demo-server', [...nodeLinks, { ifindex: 9, ifname: 'flannel.1', flags: ['UP'], mtu: 1450, operstate: 'UNKNOWN', address: '0a:00:00:00:00:f1', linkinfo: { info_kind: 'vxlan', info_data: { id: 1 } } }]),
    ns(2, 'podnet-demo-cni-1', podLinks(4, '0a:00:00:00:00:a1', '10.42.0.2'), [101]),
    ns(3, 'podnet-demo-cni-2', podLinks(5, '0a:00:00:00:00:a2', '10.42.0.3')),
  ],
};
const pods = [
  { name: 'pod1', node: 'server', netns: 'podnet-demo-cni-1', createdAt: '2026-01-01T00:00:00Z', pid: 101 },
  { name: 'pod2', node: 'server', netns: 'podnet-demo-cni-2', createdAt: '2026-01-01T00:00:30Z', pid: 102 },
];

test('iproute2 JSON becomes iproute2 vocabulary', () => {
  const l = linkFromJson(nodeLinks[2]);
  assert.equal(l.kind, 'veth');
  assert.equal(l.kind === 'veth' && l.peerIndex, 2);
  assert.equal(l.master, 'cni0');
  assert.deepEqual(l.port, { state: 'forwarding', hairpin: true, learning: true, flood: true });
  assert.equal(linkFromJson(podLinks(4, 'x', 'y')[0]).kind, 'generic');
  assert.deepEqual(routeFromJson({ dst: 'default', gateway: '10.42.0.1', dev: 'eth0', flags: [] }), { dst: 'default', gateway: '10.42.0.1', dev: 'eth0', flags: [] });
  assert.equal(fdbFromJson({ mac: '0a:00:00:00:00:a1', ifname: 'veth82ebd960', master: 'cni0', flags: [], state: '' }).master, 'cni0');
});

test('get pods: each recorded pod joined to its namespace, its eth0@ifN to the host veth, its process', () => {
  const now = new Date('2026-01-01T00:01:00Z');
  const rows = podRows(pods, new Map([['server', server]]), now);
  assert.equal(renderTable(rows, [
    { header: 'NAME', cell: (r) => r.name }, { header: 'READY', cell: (r) => r.ready }, { header: 'STATUS', cell: (r) => r.status }, { header: 'AGE', cell: (r) => r.age },
    { header: 'IP', cell: (r) => r.ip }, { header: 'IFACE', cell: (r) => r.iface }, { header: 'HOST VETH', cell: (r) => r.hostVeth }, { header: 'PID', cell: (r) => r.pid || '-' },
  ]), [
    'NAME   READY   STATUS    AGE   IP          IFACE      HOST VETH          PID',
    'pod1   1/1     Running   60s   10.42.0.2   eth0@if4   veth82ebd960@if2   101',
    'pod2   0/1     Error     30s   10.42.0.3   eth0@if5   veth18eb7d52@if2   -',
    '',
  ].join('\n'));
  const gone = podRows([{ ...pods[0], netns: 'podnet-demo-cni-9' }], new Map([['server', server]]), now)[0];
  assert.deepEqual([gone.ip, gone.iface, gone.hostVeth, gone.status], ['<none>', '<none>', '<none>', 'Error'], 'a pod whose namespace is gone');
  assert.equal(renderTable([], [{ header: 'NAME', cell: () => '' }]), 'No resources found.\n');
  assert.equal(renderData({ a: [1] }, 'yaml'), 'a:\n  - 1\n');
});

test('lab up\'s table: the rows a scan gives, from the records and the node\'s links; undefined when a pod does not check out', () => {
  const now = new Date('2026-01-01T00:01:00Z');
  const made = pods.map((p, i) => ({ ...p, ip: `10.42.0.${i + 2}`, hostVeth: ['veth82ebd960', 'veth18eb7d52'][i], inNetns: true }));
  const links = new Map([['server', nodeLinks.map(linkFromJson)]]);
  const rows = madePodRows(made, links, now);
  assert.deepEqual(rows, podRows(pods, new Map([['server', server]]), now).map((r) => ({ ...r, ready: '1/1', status: 'Running', pid: String(pods[pods.findIndex((p) => p.name === r.name)].pid) })));
  assert.equal(madePodRows([{ ...made[0], inNetns: false }], links, now), undefined, 'its process is not in its namespace');
  assert.equal(madePodRows([{ ...made[0], ip: undefined }], links, now), undefined, 'no IP recorded');
  assert.equal(madePodRows([{ ...made[0], hostVeth: 'vethgone' }], links, now), undefined, 'its host veth is gone');
  const down = new Map([['server', nodeLinks.map((j) => linkFromJson(j.ifname === 'veth82ebd960' ? { ...j, operstate: 'LOWERLAYERDOWN' } : j))]]);
  assert.equal(madePodRows([made[0]], down, now), undefined, 'its eth0 is down (no carrier on the host veth)');
  assert.equal(madePodRows([{ ...made[0], node: 'agent1' }], links, now), undefined, 'its node was not read');
});

test('get nodes: internal IP and VTEP MAC from the kernel, the age of each node, NotReady without its agent', () => {
  const host = { osImage: 'Debian', kernelVersion: '6.18', version: 'v0.1.0+podnet' };
  const now = new Date('2026-01-01T00:10:00Z');
  const records = [
    { name: 'server', podCIDR: '10.42.0.0/24', createdAt: '2026-01-01T00:00:00Z', roles: 'control-plane,master' },
    { name: 'agent3', podCIDR: '10.42.3.0/24', createdAt: '2026-01-01T00:09:30Z', roles: '<none>', agentAlive: false },
  ];
  const rows = nodeRows(records, new Map([['server', server]]), host, now);
  assert.deepEqual(rows.map((r) => [r.name, r.status, r.age, r.internalIP, r.podCIDR, r.vtepMac]), [
    ['server', 'Ready', '10m', '198.51.100.2', '10.42.0.0/24', '0a:00:00:00:00:f1'],
    ['agent3', 'NotReady', '30s', '<none>', '10.42.3.0/24', '<none>'],
  ]);
  assert.equal(rows[0].containerRuntime, 'podnet://0.1.0');
});
