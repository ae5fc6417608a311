// `podnet ui`'s JSON API on a real two-node lab, the server in process on an ephemeral port: every
// endpoint, checked against what the kernel holds (read with `ip`/`bridge -json`, not podnet's
// readers); bad input, no session, a foreign Host or Origin, and changes refused when read-only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUi, type UiServer } from '../../../src/web/server.js';
import type { ElementDetails, Journey, TopologyDoc } from '../../../src/web/api.js';
import { bridgeJson, ipJson, labNetns, links, readState, withLab } from '../helpers.js';
import { EventStream, login, request, type Answer } from './client.js';

const T = { timeout: 60_000 };
const { lab, root, deps, target, ready, cleanup } = withLab('web-api', { nodes: [{ name: 'server' }, { name: 'agent1' }], pods: [{ name: 'pod1', node: 'server' }, { name: 'pod2', node: 'server' }, { name: 'pod3', node: 'agent1' }] }, { prefix: 'kw' });
let ro: UiServer;
let rw: UiServer;
let roCookie = '';
let rwCookie = '';
const errors: unknown[] = [];

before(async () => {
  await ready();
  const log = (e: unknown) => errors.push(e);
  ro = await startUi({ deps, target: await target(), allowChanges: false, port: 0, log });
  rw = await startUi({ deps, target: await target(), allowChanges: true, port: 0, log, tickMs: 100 });
  roCookie = await login(ro.url);
  rwCookie = await login(rw.url);
});
// The servers stop before the lab goes down; the check of their errors runs once it is down.
cleanup(async () => {
  await ro?.close();
  await rw?.close();
});
after(() => {
  assert.deepEqual(errors, [], 'no unexpected server errors');
});

const api = (path: string, o: Parameters<typeof request>[2] = {}) => request(ro.port, path, { cookie: roCookie, ...o });
const apiRw = (path: string, o: Parameters<typeof request>[2] = {}) => request(rw.port, path, { cookie: rwCookie, ...o });

/** A 4xx with `{ "error": "<one line>" }` and nothing else (no stack). */
function jsonError(a: Answer, status: number, match?: RegExp): string {
  assert.equal(a.status, status, a.text);
  assert.match(String(a.headers['content-type']), /^application\/json/);
  const body = a.json as { error?: unknown };
  assert.deepEqual(Object.keys(body), ['error'], a.text);
  assert.equal(typeof body.error, 'string');
  assert.doesNotMatch(a.text, /\n\s+at |\.ts:\d+|\.js:\d+/, 'no stack trace');
  if (match) assert.match(String(body.error), match);
  return String(body.error);
}

/** The kernel's view of a pod: its eth0's IP and MAC, and the host veth it pairs with on its node. */
function kernelPod(pod: string) {
  const p = readState(root, lab).pods.find((x) => x.name === pod)!;
  const eth0 = links(p.netns).find((l) => l.ifname === 'eth0')!;
  const addr = ipJson(p.netns, ['addr', 'show', 'dev', 'eth0'])[0].addr_info as { family: string; local: string; prefixlen: number }[];
  const veth = links(`podnet-${lab}-${p.node}`).find((l) => l.ifindex === eth0.link_index)!;
  return { node: p.node, ip: addr.find((a) => a.family === 'inet')!.local, mac: String(eth0.address), veth: String(veth.ifname) };
}

describe('the gate', () => {
  test('no session: 401 on the API (JSON) and on the page', T, async () => {
    jsonError(await request(ro.port, '/api/topology'), 401, /open the URL/);
    jsonError(await request(ro.port, '/api/topology', { cookie: 'podnet_ui_1=forged' }), 401);
    jsonError(await request(ro.port, '/api/topology', { cookie: `${roCookie.split('=')[0]}=not-a-session` }), 401);
    assert.equal((await request(ro.port, '/')).status, 401);
    jsonError(await request(ro.port, '/api/trace', { method: 'POST', body: { src: 'pod1', dst: 'pod2', protocol: 'icmp' } }), 401);
  });

  test('the login token works once, as an HttpOnly SameSite=Strict cookie, and leaves the address bar', T, async () => {
    const url = new URL(ro.loginUrl());
    const first = await request(ro.port, `/${url.search}`);
    assert.equal(first.status, 303);
    assert.equal(first.headers.location, '/');
    assert.match(first.headers['set-cookie']?.[0] ?? '', /^podnet_ui_\d+=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    assert.equal((await request(ro.port, `/${url.search}`)).status, 401, 'spent');
    assert.equal((await request(ro.port, '/?token=guessed')).status, 401);
    assert.equal((await request(ro.port, '/?token=')).status, 401);
  });

  test('a Host header that is not this server (DNS rebinding) is refused, even with a session', T, async () => {
    for (const host of ['evil.example', `evil.example:${ro.port}`, '127.0.0.1', `127.0.0.1:${ro.port + 1}`, `0.0.0.0:${ro.port}`]) {
      jsonError(await api('/api/topology', { headers: { host } }), 403, /is not this server/);
    }
    assert.equal((await api('/api/topology', { headers: { host: `localhost:${ro.port}` } })).status, 200);
  });

  test('security headers on every answer', T, async () => {
    const a = await api('/api/topology');
    assert.match(String(a.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(a.headers['x-frame-options'], 'DENY');
    assert.equal(a.headers['x-content-type-options'], 'nosniff');
    assert.equal(a.headers['cache-control'], 'no-store');
  });

  test('the page and its assets: served by exact path only, nothing from elsewhere', T, async () => {
    const page = await api('/');
    if (page.status === 503) assert.match(page.text, /front end is not built/);
    else {
      assert.equal(page.status, 200);
      for (const src of page.text.matchAll(/(?:src|href)="([^"]+)"/g)) {
        assert.doesNotMatch(src[1], /^(https?:)?\/\//, `${src[1]} is local`);
        if (src[1].startsWith('./assets/')) assert.equal((await api(src[1].slice(1))).status, 200, src[1]);
      }
    }
    for (const path of ['/assets/../../package.json', '/%2e%2e/%2e%2e/package.json', '/index.html', '/etc/passwd']) assert.equal((await api(path)).status, 404, path);
  });

  test('unknown endpoints and methods: 404 JSON', T, async () => {
    jsonError(await api('/api/nope'), 404, /no such endpoint/);
    jsonError(await api('/api/topology', { method: 'DELETE' }), 404);
  });
});

describe('GET /api/topology and /api/element/:id', () => {
  let doc: TopologyDoc;
  before(async () => {
    const a = await api('/api/topology');
    assert.equal(a.status, 200, a.text);
    doc = a.json as TopologyDoc;
  });

  test('the nodes, their bridge, VXLAN device and pods are the kernel\'s', T, () => {
    assert.deepEqual(doc.source, { kind: 'lab', lab, status: 'up' });
    assert.equal(doc.readOnly, true);
    assert.deepEqual(doc.nodes.map((n) => n.name), ['server', 'agent1']);
    for (const n of doc.nodes) {
      const kernelLinks = links(`podnet-${lab}-${n.name}`);
      assert.deepEqual(n.graph.bridges.map((b) => b.name), kernelLinks.filter((l) => (l.linkinfo as { info_kind?: string })?.info_kind === 'bridge').map((l) => l.ifname));
      assert.deepEqual(n.graph.vxlans.map((v) => v.name), ['flannel.1']);
    }
    for (const pod of ['pod1', 'pod2', 'pod3']) {
      const k = kernelPod(pod);
      const node = doc.nodes.find((n) => n.name === k.node)!;
      const p = node.graph.pods.find((x) => x.name === pod);
      assert.ok(p, `${pod} drawn on ${k.node}`);
      assert.deepEqual(p.ifaces.map((i) => i.ips), [[`${k.ip}/24`]]);
      const veth = node.graph.veths.find((v) => v.name === k.veth);
      assert.ok(veth, `${k.veth} drawn`);
      assert.ok(doc.edges.some((e) => e.kind === 'bridge-port' && e.target === veth.id && e.source === node.graph.bridges[0].id), `cni0 → ${k.veth}`);
      assert.ok(doc.edges.some((e) => e.kind === 'veth-pair' && e.source === veth.id && e.target === p.ifaces[0].id), `${k.veth} → ${pod} eth0`);
    }
    // The underlay: one port per node, each the peer of that node's eth0, and the outside host's port.
    assert.deepEqual(doc.underlay?.ports.filter((p) => p.name !== 'outside').map((p) => p.peer), ['server:eth0', 'agent1:eth0']);
    assert.ok(doc.underlay?.ports.some((p) => p.name === 'outside'), 'the outside host\'s port');
    for (const n of doc.nodes) assert.ok(doc.edges.some((e) => e.kind === 'underlay' && e.target === n.graph.interfaces.find((i) => i.name === 'eth0')?.id));
  });

  test('details of cni0: its FDB is the kernel\'s, each MAC with its owner and kind', T, async () => {
    spawnSync('ip', ['netns', 'exec', readState(root, lab).pods[0].netns, 'ping', '-c', '1', '-W', '1', kernelPod('pod2').ip], { timeout: 5000 });
    const cni0 = doc.nodes[0].graph.bridges[0];
    const a = await api(`/api/element/${encodeURIComponent(cni0.id)}`);
    assert.equal(a.status, 200, a.text);
    const d = a.json as ElementDetails;
    assert.equal(d.kind, 'bridge');
    const fdb = d.sections.find((s) => s.title === 'FDB')!;
    assert.equal(fdb.command, `podnet inspect fdb server --name ${lab} -o wide`);
    assert.deepEqual(fdb.columns.slice(0, 5), ['MAC', 'PORT', 'BRIDGE', 'KIND', 'OWNER']);
    const kernel = bridgeJson(`podnet-${lab}-server`, ['fdb', 'show', 'br', 'cni0']);
    const items = fdb.items as { mac: string; port: string; kind: string; owner: string }[];
    for (const e of kernel) assert.ok(items.some((i) => i.mac === e.mac && i.port === e.ifname), `${String(e.mac)} on ${String(e.ifname)} shown`);
    for (const pod of ['pod1', 'pod2']) {
      const k = kernelPod(pod);
      const row = items.find((i) => i.mac === k.mac);
      assert.ok(row, `${pod}'s MAC in the FDB`);
      assert.equal(row.owner, `${pod}:eth0`);
      assert.equal(row.port, k.veth);
      assert.equal(row.kind, 'learned');
    }
    assert.ok(items.some((i) => i.kind === 'permanent'));
  });

  test('details of a pod interface: its address, routes and neighbours', T, async () => {
    const k = kernelPod('pod1');
    const eth0 = doc.nodes[0].graph.pods.find((p) => p.name === 'pod1')!.ifaces[0];
    const d = (await api(`/api/element/${eth0.id}`)).json as ElementDetails;
    assert.equal(d.kind, 'pod-iface');
    const linksS = d.sections.find((s) => s.title === 'Links')!;
    assert.deepEqual((linksS.items as { addresses: string[] }[])[0].addresses.filter((x) => !x.includes(':')), [`${k.ip}/24`]);
    const routes = (d.sections.find((s) => s.title === 'Routes')!.items as { dst: string; via: string }[]).map((r) => `${r.dst} ${r.via}`);
    assert.ok(routes.includes('default 10.42.0.1') && routes.includes('10.42.0.0/16 10.42.0.1'), routes.join('; '));
    assert.ok(d.sections.some((s) => s.title === 'Neighbours'));
  });

  test('an unknown element: 404 JSON', T, async () => {
    jsonError(await api('/api/element/nope'), 404, /no element "nope"/);
    jsonError(await api(`/api/element/${encodeURIComponent('../../etc/passwd')}`), 404);
  });
});

describe('POST /api/trace and the pcapng', () => {
  test('pod1 → pod2: the hops in path order, each on a drawn element, with decoded layers; the pcapng reads back', T, async () => {
    const a = await api('/api/trace', { method: 'POST', body: { src: 'pod1', dst: 'pod2', protocol: 'icmp' } });
    assert.equal(a.status, 200, a.text);
    const j = a.json as Journey;
    const [p1, p2] = [kernelPod('pod1'), kernelPod('pod2')];
    const path = ['pod1/eth0', `server/${p1.veth}`, 'server/cni0', `server/${p2.veth}`, 'pod2/eth0'];
    assert.equal(j.answered, true, j.verdict);
    const echo = j.packets.findIndex((p) => p.kind === 'icmp' && p.direction === 'request');
    assert.deepEqual(j.events.filter((e) => e.packet === echo && !e.reflected).map((e) => e.point), path);
    const doc = (await api('/api/topology')).json as TopologyDoc;
    const ids = new Set([...doc.nodes.flatMap((n) => [...n.graph.bridges, ...n.graph.veths, ...n.graph.pods.flatMap((p) => p.ifaces)].map((x) => x.id))]);
    for (const e of j.events) assert.ok(ids.has(e.element), `${e.point} is drawn (${e.element})`);
    for (let i = 1; i < j.events.length; i++) assert.ok(j.events[i].sinceStartNs >= j.events[i - 1].sinceStartNs, 'time order');
    const first = j.events.find((e) => e.packet === echo)!;
    assert.equal(first.layers?.ipv4?.src, p1.ip);
    assert.equal(first.layers?.ipv4?.dst, p2.ip);
    assert.equal(first.layers?.icmp?.type, 8);
    assert.match(first.explanation, /route get/);

    const pcap = await api(j.pcapng);
    assert.equal(pcap.status, 200);
    assert.equal(pcap.headers['content-type'], 'application/x-pcapng');
    assert.match(String(pcap.headers['content-disposition']), /^attachment; filename="podnet-trace-pod1-pod2-[0-9a-f]{12}\.pcapng"$/);
    const dir = mkdtempSync(join(tmpdir(), 'podnet-ui-pcapng-'));
    try {
      writeFileSync(join(dir, 't.pcapng'), pcap.bytes);
      const names = spawnSync('tshark', ['-r', join(dir, 't.pcapng'), '-T', 'fields', '-e', 'frame.interface_name'], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(names.status, 0, names.stderr);
      assert.deepEqual([...new Set(names.stdout.trim().split('\n'))].sort(), [...path].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual((await api(`/api/trace/${j.id}`)).json, j);
  });

  test('bad trace input: a 4xx naming the problem', T, async () => {
    const post = (body: unknown) => api('/api/trace', { method: 'POST', body });
    jsonError(await post({ dst: 'pod2', protocol: 'icmp' }), 400, /^src is required$/);
    jsonError(await post({ src: 'pod1', dst: 'pod2', protocol: 'sctp' }), 400, /protocol must be icmp, tcp or udp/);
    jsonError(await post({ src: 'pod1', dst: 'pod2', protocol: 'tcp' }), 400, /port is required for tcp/);
    jsonError(await post({ src: 'pod1', dst: 'pod2', protocol: 'udp', port: 70000 }), 400, /port must be 1-65535/);
    jsonError(await post({ src: 'pod1', dst: 'pod2', protocol: 'icmp', port: 80 }), 400, /not icmp/);
    jsonError(await post({ src: 'pod1', dst: 'pod2', protocol: 'icmp', cold: 'yes' }), 400, /cold/);
    jsonError(await post({ src: 'pod1', dst: '10.42.0.3; reboot', protocol: 'icmp' }), 400, /dst must be a pod name or an IPv4 address/);
    jsonError(await post({ src: '$(reboot)', dst: 'pod2', protocol: 'icmp' }), 400, /^src must be/);
    jsonError(await post({ src: 'pod1', dst: 'pod2', protocol: 'icmp', extra: 1 }), 400, /unknown field "extra"/);
    jsonError(await post([1, 2]), 400);
    jsonError(await post([]), 400, /^the body must be a JSON object like \{"src": "pod1", .*\}, not a list$/);
    jsonError(await post({ src: 'pod1', dst: 'pod2', protocol: 'tcp', port: '8080; id' }), 400, /^port must be a number, not the text "8080; id"$/);
    jsonError(await post({ src: 'nosuchpod', dst: 'pod2', protocol: 'icmp' }), 404, /unknown pod "nosuchpod"/);
    jsonError(await api('/api/trace', { method: 'POST', raw: '{"src":', headers: { 'content-type': 'application/json' } }), 400, /not valid JSON/);
    jsonError(await api('/api/trace', { method: 'POST', raw: 'src=pod1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415);
    jsonError(await api('/api/trace', { method: 'POST', raw: JSON.stringify({ src: 'x'.repeat(20_000) }), headers: { 'content-type': 'application/json' } }), 413);
    jsonError(await api('/api/trace/0123456789ab'), 404, /no trace/);
    jsonError(await api('/api/trace/0123456789ab/pcapng'), 404);
  });
});

describe('lab controls', () => {
  test('read-only: adding or deleting a pod and adding a node are refused, nothing changes', T, async () => {
    const before = labNetns(lab);
    jsonError(await api('/api/pods', { method: 'POST', body: { name: 'pod9' } }), 403, /read-only.*--allow-changes/);
    jsonError(await api('/api/pods/pod1', { method: 'DELETE' }), 403, /read-only/);
    jsonError(await api('/api/nodes', { method: 'POST', body: { name: 'agent9' } }), 403, /read-only/);
    assert.deepEqual(labNetns(lab), before);
  });

  test('a request from another origin may not change anything', T, async () => {
    jsonError(await apiRw('/api/pods', { method: 'POST', body: { name: 'pod9' }, headers: { origin: 'http://evil.example' } }), 403, /may not change/);
    assert.ok(!readState(root, lab).pods.some((p) => p.name === 'pod9'));
  });

  test('add a pod: it is in the kernel and the live topology shows it within a second; delete it: gone', T, async () => {
    const events = await EventStream.open(rw.port, rwCookie);
    try {
      assert.ok(await events.waitFor(() => true, 5000), 'the first event is the current topology');
      const added = await apiRw('/api/pods', { method: 'POST', body: { name: 'pod4', node: 'agent1' } });
      assert.equal(added.status, 201, added.text);
      const t0 = Date.now();
      const k = kernelPod('pod4');
      assert.deepEqual(added.json, { name: 'pod4', node: 'agent1', ip: k.ip, hostVeth: k.veth });
      const shown = await events.waitFor((d) => d.nodes.some((n) => n.name === 'agent1' && n.graph.pods.some((p) => p.name === 'pod4')), 3000);
      assert.ok(shown, 'pod4 appears in a topology event');
      assert.ok(Date.now() - t0 < 1000, `within a second (${Date.now() - t0} ms)`);

      jsonError(await apiRw('/api/pods', { method: 'POST', body: { name: 'pod4' } }), 409, /already exists/);
      jsonError(await apiRw('/api/pods', { method: 'POST', body: { name: 'Pod_5' } }), 400, /^name must be/);
      jsonError(await apiRw('/api/pods', { method: 'POST', body: { name: 'pod5', node: 'nonode' } }), 404, /unknown node "nonode"/);
      jsonError(await apiRw('/api/pods/nosuchpod', { method: 'DELETE' }), 404, /unknown pod/);

      const netns = readState(root, lab).pods.find((p) => p.name === 'pod4')!.netns;
      const del = await apiRw('/api/pods/pod4', { method: 'DELETE' }); // no body, no Content-Type (docs/ui.md)
      assert.equal(del.status, 200, del.text);
      assert.ok(!labNetns(lab).includes(netns), 'its namespace is gone');
      assert.ok(await events.waitFor((d) => !d.nodes.some((n) => n.graph.pods.some((p) => p.name === 'pod4')), 3000), 'and it leaves the topology');
      const versions = events.docs.map((d) => d.version);
      assert.deepEqual(versions, [...versions].sort((a, b) => a - b), 'versions increase');
    } finally {
      events.close();
    }
  });

  test('add a node: its namespace, flannel.1 and underlay port are in the kernel, and it is drawn', T, async () => {
    const a = await apiRw('/api/nodes', { method: 'POST', body: { name: 'agent2' } });
    assert.equal(a.status, 201, a.text);
    const ns = `podnet-${lab}-agent2`;
    assert.ok(labNetns(lab).includes(ns));
    const vx = links(ns).find((l) => l.ifname === 'flannel.1');
    assert.equal((vx?.linkinfo as { info_kind?: string } | undefined)?.info_kind, 'vxlan');
    const node = readState(root, lab).plan.nodes.find((n) => n.name === 'agent2')!;
    assert.deepEqual(a.json, { name: 'agent2', ip: node.ip, podCIDR: node.podCIDR });
    const doc = (await apiRw('/api/topology')).json as TopologyDoc;
    assert.ok(doc.nodes.some((n) => n.name === 'agent2' && n.graph.vxlans.some((v) => v.name === 'flannel.1')));
    assert.ok(doc.underlay?.ports.some((p) => p.peer === 'agent2:eth0'));
    jsonError(await apiRw('/api/nodes', { method: 'POST', body: { name: 'agent2' } }), 409, /already exists/);
    jsonError(await apiRw('/api/nodes', { method: 'POST', body: { name: 'a-very-long-node-name' } }), 400, /^name of a node becomes an interface name/);
    jsonError(await apiRw('/api/nodes', { method: 'POST', body: {} }), 400, /^name is required$/);
  });
});
