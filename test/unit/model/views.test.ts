// Views and iproute2 JSON parsing from fixed observations shaped like what `ip -json -details` and
// `bridge -json` print (captured from a lab), plus the renderers' golden output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addrsFromJson, fdbFromJson, linkFromJson, routeFromJson } from '../../../src/model/kernel.js';
import { fdbRows, interfaceRows, nodeDiagram, podRows, vethPairs, type ObservedLab } from '../../../src/model/views.js';
import { renderTable } from '../../../src/render/table.js';
import { renderMermaid } from '../../../src/render/mermaid.js';
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
const observed = (list: Record<string, unknown>[]) => ({ links: list.map(linkFromJson), addrs: addrsFromJson(list) });

const lab: ObservedLab = {
  lab: 'demo',
  nodes: [{ name: 'server', netns: 'podnet-demo-server', createdAt: '2026-01-01T00:00:00Z', roles: 'control-plane,master', ...observed(nodeLinks),
    fdb: [
      { mac: '0a:00:00:00:00:a1', ifname: 'veth82ebd960', master: 'cni0', flags: [], state: '' },
      { mac: '0a:00:00:00:00:04', ifname: 'veth82ebd960', master: 'cni0', flags: [], state: 'permanent' },
      { mac: '33:33:00:00:00:01', ifname: 'cni0', flags: ['self'], state: 'permanent' },
    ].map(fdbFromJson) }],
  pods: [
    { name: 'pod1', node: 'server', netns: 'podnet-demo-cni-1', createdAt: '2026-01-01T00:00:00Z', running: true, ...observed(podLinks(4, '0a:00:00:00:00:a1', '10.42.0.2')) },
    { name: 'pod2', node: 'server', netns: 'podnet-demo-cni-2', createdAt: '2026-01-01T00:00:30Z', running: false, ...observed(podLinks(5, '0a:00:00:00:00:a2', '10.42.0.3')) },
  ],
};

test('iproute2 JSON becomes iproute2 vocabulary', () => {
  const l = linkFromJson(nodeLinks[2]);
  assert.equal(l.kind, 'veth');
  assert.equal(l.kind === 'veth' && l.peerIndex, 2);
  assert.equal(l.master, 'cni0');
  assert.deepEqual(l.port, { state: 'forwarding', hairpin: true, learning: true, flood: true });
  assert.equal(linkFromJson(podLinks(4, 'x', 'y')[0]).kind, 'generic');
  assert.deepEqual(routeFromJson({ dst: 'default', gateway: '10.42.0.1', dev: 'eth0', flags: [] }), { dst: 'default', gateway: '10.42.0.1', dev: 'eth0', flags: [] });
});

test('each pod eth0 is paired with the host veth whose ifindex is its peer, and back', () => {
  const pairs = vethPairs(lab.nodes[0], lab.pods);
  assert.deepEqual(pairs.map((p) => [p.pod.name, p.veth.name]), [['pod1', 'veth82ebd960'], ['pod2', 'veth18eb7d52']]);
});

test('get pods -o wide, interfaces, FDB and the diagram are drawn from the observation', () => {
  const now = new Date('2026-01-01T00:01:00Z');
  const rows = podRows(lab, now);
  assert.equal(renderTable(rows, [
    { header: 'NAME', cell: (r) => r.name }, { header: 'STATUS', cell: (r) => r.status }, { header: 'AGE', cell: (r) => r.age },
    { header: 'IP', cell: (r) => r.ip }, { header: 'IFACE', cell: (r) => r.iface }, { header: 'HOST VETH', cell: (r) => r.hostVeth },
  ]), [
    'NAME   STATUS    AGE   IP          IFACE      HOST VETH',
    'pod1   Running   60s   10.42.0.2   eth0@if4   veth82ebd960@if2',
    'pod2   Error     30s   10.42.0.3   eth0@if5   veth18eb7d52@if2',
    '',
  ].join('\n'));
  const ifaces = interfaceRows(lab, 'server');
  assert.deepEqual(ifaces.map((r) => [r.name, r.peer]), [
    ['eth0@if3', 'underlay switch'], ['cni0', ''], ['veth82ebd960@if2', 'pod1: eth0@if4 10.42.0.2/24'], ['veth18eb7d52@if2', 'pod2: eth0@if5 10.42.0.3/24'],
  ]);
  assert.deepEqual(fdbRows(lab, 'server').map((r) => [r.mac, r.port, r.kind, r.owner]), [
    ['0a:00:00:00:00:a1', 'veth82ebd960', 'learned', 'pod1 eth0@if4'],
    ['0a:00:00:00:00:04', 'veth82ebd960', 'permanent', 'host veth of pod1'],
  ]);
  const mermaid = renderMermaid([nodeDiagram(lab, 'server')!]);
  assert.match(mermaid, /^graph TB\n/);
  assert.match(mermaid, /server_eth0\["Host Interface eth0 198\.51\.100\.2"\]/);
  assert.match(mermaid, /server_cni0\["cni0 Bridge 10\.42\.0\.1\/24"\]/);
  assert.match(mermaid, /subgraph server_pod1\["pod1 Network Namespace"\]\n {8}server_pod1_eth0\["eth0@if4 10\.42\.0\.2"\]\n {4}end/);
  assert.match(mermaid, /server_pod1_veth === server_pod1_eth0/);
  assert.match(mermaid, /classDef bridge fill:#ffecd4/);
  assert.equal(renderTable([], [{ header: 'NAME', cell: () => '' }]), 'No resources found.\n');
  assert.equal(renderData({ a: [1] }, 'yaml'), 'a:\n  - 1\n');
});
