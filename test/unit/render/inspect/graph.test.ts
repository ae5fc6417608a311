// `podnet graph` of the fixed node: the model, and Mermaid (the blog's shape), DOT and SVG drawn
// from it — golden files, plus well-formed, escaped SVG.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { graphModel, inspectPods } from '../../../../src/views/index.js';
import { podColumns, renderGraphDot, renderGraphMermaid, renderGraphSvg } from '../../../../src/render/inspect/index.js';
import { linkFromJson } from '../../../../src/model/kernel.js';
import { renderTable } from '../../../../src/render/table.js';
import type { Snapshot } from '../../../../src/model/snapshot.js';
import { fixedSnapshot } from '../../../fixtures/inspect/snapshot.js';
import { assertGolden } from '../../../fixtures/inspect/golden.js';
import { checkXml } from '../../../fixtures/inspect/xml.js';

const s = fixedSnapshot();

test('the graph model: host interface, bridge, VXLAN, host veths and pod namespaces', () => {
  const g = graphModel(s);
  assert.equal(g.node, 'server');
  assert.deepEqual(g.interfaces.map((i) => [i.name, i.ips]), [['eth0', ['198.51.100.2/24']]], 'lo, cni0, flannel.1 and the veths are not host interfaces');
  assert.deepEqual(g.bridges.map((b) => [b.name, b.ips, b.uplink]), [['cni0', ['10.42.0.1/24'], g.interfaces[0].id]]);
  assert.deepEqual(g.vxlans.map((x) => [x.name, x.vni, x.dstport, x.local, x.underlay]), [['flannel.1', 1, 8472, '198.51.100.2', g.interfaces[0].id]]);
  assert.deepEqual(g.pods.map((p) => p.name), ['pod1', 'pod2', 'netns 4026532999 (pid 4242: /pause)']);
  assert.deepEqual(g.veths.map((v) => [v.label, v.peer]), [
    ['veth82ebd960@if2', 'pod1:eth0'], ['veth18eb7d52@if2', 'pod2:eth0'], ['vethc0ffee01@if2', 'netns 4026532999 (pid 4242: /pause):eth0'],
    ['veth3a94f27e@if2', 'if2 (unresolved)'],
  ]);
  const ids = [...g.interfaces, ...g.bridges, ...g.vxlans, ...g.veths, ...g.pods, ...g.pods.flatMap((p) => p.ifaces)].map((x) => x.id);
  assert.equal(new Set(ids).size, ids.length, 'ids are unique');
  for (const p of g.pods) for (const i of p.ifaces) assert.equal(g.veths.find((v) => v.id === i.veth)?.iface, i.id, 'pairs point both ways');
  assert.equal(g.veths.at(-1)?.iface, '', 'the unresolved veth hangs off the bridge alone');
});

test('Mermaid keeps the blog diagram\'s shape', () => {
  const m = renderGraphMermaid(graphModel(s));
  assertGolden('graph.mermaid.golden', m);
  assert.match(m, /^graph TB\n/);
  assert.match(m, /\n {4}server_eth0\["Host Interface eth0 198\.51\.100\.2"\]\n/);
  assert.match(m, /\n {4}server_cni0\["cni0 Bridge 10\.42\.0\.1\/24"\]\n/);
  assert.match(m, /\n {4}subgraph server_pod1\["pod1 Network Namespace"\]\n {8}server_pod1_eth0\["eth0@if6 10\.42\.0\.2"\]\n {4}end\n/);
  assert.match(m, /subgraph \S+\["netns 4026532999 \(pid 4242: \/pause\) Network Namespace"\]/);
  assert.match(m, /\n {4}server_eth0 --- server_cni0\n/);
  assert.match(m, /\n {4}server_cni0 --- server_veth82ebd960\n/);
  assert.match(m, /\n {4}server_veth82ebd960 === server_pod1_eth0\n/);
  assert.match(m, /server_veth3a94f27e\["veth3a94f27e@if2, peer if2 \(unresolved\)"\]/);
  assert.match(m, /server_flannel_1\["flannel\.1 VXLAN 10\.42\.0\.0\/32 vni 1 udp 8472"\]/);
  for (const def of ['interface fill:#d4edff', 'bridge fill:#ffecd4', 'namespace fill:#e8f5e9', 'veth fill:#f3e5f5']) assert.ok(m.includes(`classDef ${def}`));
});

test('DOT: an undirected graph with one cluster per pod namespace', () => {
  const d = renderGraphDot(graphModel(s));
  assertGolden('graph.dot.golden', d);
  assert.match(d, /^graph "server" \{\n/);
  assert.equal(d.match(/subgraph "cluster_/g)?.length, 3);
  assert.match(d, /"server_veth82ebd960" -- "server_pod1_eth0" \[penwidth=3/);
  assert.ok(d.trimEnd().endsWith('}'));
  assert.equal([...d].filter((c) => c === '{').length, [...d].filter((c) => c === '}').length);
});

test('Graphviz accepts the DOT, names with quotes and backslashes included', (t) => {
  const which = spawnSync('dot', ['-V'], { encoding: 'utf8' });
  if (which.error) return t.skip('Graphviz `dot` is not installed: the DOT golden file and the checks above still hold');
  const evil: Snapshot = structuredClone(s);
  evil.namespaces.find((n) => n.identity.name === 'pod1')!.identity.name = 'a<b> & "c" \'d\' #e; \\f';
  for (const g of [graphModel(s), graphModel(evil)]) {
    const r = spawnSync('dot', ['-Tsvg'], { input: renderGraphDot(g), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /<svg/);
  }
});

test('SVG: well-formed, with a title and a viewBox, every pod and veth drawn', () => {
  const svg = renderGraphSvg(graphModel(s));
  assertGolden('graph.svg.golden', svg);
  const names = checkXml(svg);
  assert.equal(names[0], 'svg');
  assert.equal(names[1], 'title');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 \d+ \d+"/);
  for (const text of ['Host Interface eth0', 'cni0 Bridge', 'flannel.1 VXLAN', 'pod1', 'eth0@if6', '10.42.0.2/24', 'veth3a94f27e@if2', 'peer if2 (unresolved)',
    'netns 4026532999 (pid 4242: /pause)']) assert.ok(svg.includes(`>${text}<`), `draws ${text}`);
});

test('names are escaped in every format', () => {
  const evil: Snapshot = structuredClone(s);
  const pod1 = evil.namespaces.find((n) => n.identity.name === 'pod1')!;
  pod1.identity.name = 'a<b> & "c" \'d\' #e; \\f';
  const g = graphModel(evil);
  const svg = renderGraphSvg(g);
  checkXml(svg);
  assert.ok(svg.includes('a&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; #e; \\f'));
  const m = renderGraphMermaid(g);
  assert.ok(m.includes('["a#lt;b#gt; & #quot;c#quot; \'d\' #35;e; \\f Network Namespace"]'));
  assert.ok(!/subgraph [^[]*[<>"&]/.test(m), 'ids are made of letters, digits and _');
  const d = renderGraphDot(g);
  assert.ok(d.includes('label="a<b> & \\"c\\" \'d\' #e; \\\\f Network Namespace"'));
});

test('a very long pod name is cut on screen and kept whole in the SVG tooltip', () => {
  const long: Snapshot = structuredClone(s);
  const name = `deployment-${'x'.repeat(60)}-7f9c6d5b8-abcde`;
  long.namespaces.find((n) => n.identity.name === 'pod1')!.identity.name = name;
  const svg = renderGraphSvg(graphModel(long));
  checkXml(svg);
  assert.ok(svg.includes(`<title>${name}\n`));
  assert.ok(!svg.includes(`>${name}<`));
  assert.ok(svg.includes(`>${name.slice(0, 39)}…<`));
});

test('a host with no pods, bridges or addresses still draws', () => {
  const bare: Snapshot = { takenAt: s.takenAt, host: 'ino:1', namespaces: [{ ...structuredClone(s.namespaces[0]), id: 'ino:1', links: [], addrs: [], routes: [], fdb: [] }] };
  const g = graphModel(bare);
  assert.deepEqual([g.interfaces, g.bridges, g.veths, g.pods], [[], [], [], []]);
  checkXml(renderGraphSvg(g));
  assert.match(renderGraphMermaid(g), /^graph TB\n {4}%% node server\n/);
  assert.match(renderGraphDot(g), /^graph "server" \{/);
});

test('a host veth on no bridge (ptp-style) is drawn apart and listed with no bridge', () => {
  const ptp: Snapshot = structuredClone(s);
  const host = ptp.namespaces.find((n) => n.id === ptp.host)!;
  const veth = host.links.find((l) => l.name === 'veth18eb7d52')!;
  delete veth.master;
  delete veth.port;
  const row = inspectPods(ptp).find((r) => r.pod === 'pod2')!;
  assert.deepEqual([row.bridge, row.hairpin, row.state], ['', false, 'UP']);
  assert.equal(renderTable([row], podColumns).split('\n')[1].split(/\s{3,}/)[7], '-', 'HAIRPIN is - off a bridge');
  const g = graphModel(ptp);
  assert.equal(g.veths.find((v) => v.name === 'veth18eb7d52')?.bridge, '');
  assert.ok(!renderGraphMermaid(g).includes('--- server_veth18eb7d52'));
  assert.match(renderGraphMermaid(g), /server_veth18eb7d52 === server_pod2_eth0/);
  const svg = renderGraphSvg(g);
  checkXml(svg);
  assert.ok(svg.includes('>veths on no bridge<'));
});

test('a lab node: eth0 is a veth into the underlay switch — a host interface in the graph, not a pod in inspect', () => {
  const lab: Snapshot = structuredClone(s);
  const host = lab.namespaces.find((n) => n.id === lab.host)!;
  const i = host.links.findIndex((l) => l.name === 'eth0');
  host.links[i] = linkFromJson({ ifindex: 2, link_index: 3, ifname: 'eth0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500,
    operstate: 'UP', address: '02:00:00:00:00:01', link_netnsid: 9, linkinfo: { info_kind: 'veth' } });
  host.nsids.push({ nsid: 9, name: 'podnet-demo-underlay' });
  const sw = structuredClone(lab.namespaces[1]);
  Object.assign(sw, {
    id: 'ino:4026532100', inode: 4026532100, names: ['podnet-demo-underlay'], path: '/run/netns/podnet-demo-underlay', addrs: [], routes: [], neighs: [],
    identity: { kind: 'switch', name: 'underlay', lab: 'demo', source: 'lab' }, nsids: [{ nsid: 0 }],
    links: [linkFromJson({ ifindex: 3, link_index: 2, ifname: 'server', flags: ['UP'], mtu: 1500, operstate: 'UP', address: '02:00:00:00:00:02', link_netnsid: 0,
      linkinfo: { info_kind: 'veth' } })],
  });
  lab.namespaces.push(sw);
  assert.equal(inspectPods(lab).find((r) => r.pod === 'underlay'), undefined, 'the switch is infrastructure, left to `links`');
  const g = graphModel(lab);
  assert.deepEqual(g.interfaces.map((x) => [x.name, x.kind]), [['eth0', 'veth']]);
  assert.ok(!g.pods.some((p) => p.name === 'underlay') && !g.veths.some((v) => v.name === 'eth0'));
  assert.equal(g.bridges[0].uplink, g.interfaces[0].id);
});
