// `podnet inspect` and `podnet graph` as a user runs them on a lab: the joined rows equal the
// kernel's, every view in every format, one-line errors, and the SVG opened in headless Chromium
// (the screenshot lands in test-output/ for a person to look at).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { links, readState } from '../kernel/helpers.js';
import { ROOT, T, labName, newStateDir, oneErrorLine, podnet, show, tearDown, type CliResult } from './cli.js';

const ok = (r: CliResult) => assert.equal(r.code, 0, show(r));
const CHROMIUM = '/usr/bin/chromium';

describe('inspect and graph on a lab', () => {
  const X = labName();
  let stateDir = '';
  const cli = (args: string[]) => podnet(args, { stateDir });

  before(async () => {
    stateDir = await newStateDir('inspect');
    ok(await cli(['lab', 'up', '--name', X, '--pods', '3']));
    ok(await cli(['exec', 'pod1', '--name', X, '--', 'ping', '-c', '1', '-W', '2', '10.42.0.2']));
    ok(await cli(['exec', 'pod2', '--name', X, '--', 'ping', '-c', '1', '-W', '2', '10.42.0.1']));
  });
  after(async () => tearDown([{ lab: X, stateDir }], [stateDir]));

  test('inspect: one row per pod, joined exactly as the kernel has it', T, async () => {
    const r = await cli(['inspect', '--name', X, '-o', 'json']);
    ok(r);
    const doc = JSON.parse(r.stdout) as { kind: string; items: { pod: string; ips: string[]; netns: string; iface: string; ifindex: number; hostVeth: string; hostIndex: number; bridge: string; mac: string; hairpin: boolean; state: string }[] };
    assert.equal(doc.kind, 'InspectPodList');
    const state = readState(stateDir, X);
    assert.deepEqual(doc.items.map((i) => i.pod).sort(), ['kube-dns', 'pod1', 'pod2', 'pod3'], 'the node\'s pods: the lab\'s three and the DNS pod lab up runs');
    const nodeLinks = links(`podnet-${X}-server`);
    for (const item of doc.items) {
      const pod = state.pods.find((p) => p.name === item.pod)!;
      assert.equal(item.netns, pod.netns);
      const eth0 = links(pod.netns).find((l) => l.ifname === 'eth0')!;
      const veth = nodeLinks.find((l) => l.ifindex === eth0.link_index)!;
      assert.equal(item.iface, `eth0@if${veth.ifindex}`);
      assert.equal(item.hostVeth, `${veth.ifname}@if${eth0.ifindex}`);
      assert.equal(item.bridge, veth.master);
      assert.equal(item.mac, eth0.address);
      assert.equal(item.hairpin, true);
      assert.equal(item.state, 'forwarding');
      assert.deepEqual(item.ips, [`${pod.ip}/24`], "the pod's address as the kernel holds it, with its prefix");
    }
    const table = await cli(['inspect', '--name', X]);
    ok(table);
    assert.match(table.stdout, /^POD +IP +NETNS +IFACE +HOST VETH +BRIDGE +MAC +HAIRPIN +STATE\n/);
    assert.match(table.stdout, /\npod1 +10\.42\.0\.2 +podnet-\S+ +eth0@if\d+ +veth[0-9a-f]{8}@if2 +cni0 +[0-9a-f:]{17} +on +forwarding\n/);
    const yaml = YAML.parse((await cli(['inspect', 'server', '--name', X, '-o', 'yaml'])).stdout) as { items: unknown[] };
    assert.equal(yaml.items.length, 4);
  });

  test('inspect fdb: what cni0 learned from the pings, each MAC joined to its pod', T, async () => {
    const r = await cli(['inspect', 'fdb', '--name', X, '-o', 'json']);
    ok(r);
    const rows = (JSON.parse(r.stdout) as { items: { mac: string; port: string; kind: string; owner: string; explanation: string }[] }).items;
    const state = readState(stateDir, X);
    for (const name of ['pod1', 'pod2']) {
      const eth0 = links(state.pods.find((p) => p.name === name)!.netns).find((l) => l.ifname === 'eth0')!;
      const row = rows.find((x) => x.mac === eth0.address && x.kind === 'learned');
      assert.ok(row, `${name}'s MAC learned on its host veth`);
      assert.equal(row.owner, `${name}:eth0`);
      assert.match(row.explanation, /learn/i);
    }
    assert.ok(rows.some((x) => x.kind === 'permanent' && x.port.startsWith('veth')));
    assert.match((await cli(['inspect', 'fdb', '--name', X])).stdout, /^MAC +PORT +BRIDGE +KIND +OWNER\n/);
  });

  test('inspect neigh, routes and links', T, async () => {
    const neigh = await cli(['inspect', 'neigh', '--name', X]);
    ok(neigh);
    assert.match(neigh.stdout, /^NETNS +IP +MAC +DEV +STATE +OWNER\n/);
    assert.match(neigh.stdout, /\npod2 +10\.42\.0\.1 /, 'pod2 resolved its gateway');
    const routes = await cli(['inspect', 'routes', 'pod1', '--name', X]);
    ok(routes);
    assert.match(routes.stdout, /pod1 +default +10\.42\.0\.1 +eth0/);
    assert.match(routes.stdout, /pod1 +10\.42\.0\.0\/16 +10\.42\.0\.1 +eth0/);
    const linksOut = await cli(['inspect', 'links', '--name', X, '-o', 'json']);
    ok(linksOut);
    const items = (JSON.parse(linksOut.stdout) as { items: { owner: string; link: string; peer: string }[] }).items;
    assert.ok(items.some((l) => l.owner === 'pod1' && l.link.startsWith('eth0@if') && /^server:veth[0-9a-f]{8}$/.test(l.peer)));
  });

  test('graph: Mermaid shaped like the blog, DOT, and an SVG that Chromium renders', T, async (t) => {
    const mermaid = await cli(['graph', '--name', X]);
    ok(mermaid);
    assert.match(mermaid.stdout, /^graph TB\n/);
    assert.match(mermaid.stdout, /cni0 Bridge 10\.42\.0\.1\/24/);
    assert.match(mermaid.stdout, /subgraph \S+\["pod1 Network Namespace"\]/);
    const dot = await cli(['graph', '--name', X, '-o', 'dot']);
    ok(dot);
    assert.match(dot.stdout, /^(di)?graph /);
    if (existsSync('/usr/bin/dot')) {
      const r = spawnSync('dot', ['-Tsvg'], { input: dot.stdout, encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, r.stderr);
    }
    const svg = await cli(['graph', '--name', X, '-o', 'svg']);
    ok(svg);
    assert.match(svg.stdout, /^<svg [^>]*viewBox=/);
    assert.match(svg.stdout, /pod1/);
    if (!existsSync(CHROMIUM)) {
      t.skip('chromium is not installed (scripts/setup.mjs installs it as root)');
      return;
    }
    const out = join(ROOT, 'test-output');
    mkdirSync(out, { recursive: true });
    const file = join(out, 'graph.svg');
    const png = join(out, 'graph.png');
    writeFileSync(file, svg.stdout);
    rmSync(png, { force: true });
    const profile = mkdtempSync(join(tmpdir(), 'podnet-chromium-'));
    try {
      const r = spawnSync(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, `--screenshot=${png}`, '--window-size=1000,700', `file://${file}`], { timeout: 60_000, encoding: 'utf8' });
      assert.ok(existsSync(png), `chromium wrote no screenshot: ${r.stderr?.slice(-500)}`);
      assert.ok(statSync(png).size > 2000, 'the screenshot is not blank');
      t.diagnostic(`screenshot: ${png}`);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  });

  test('bad input: one line naming the problem', T, async () => {
    assert.match(oneErrorLine(await cli(['inspect', 'nope', '--name', X])), /^unknown node "nope" in lab "[^"]+" \(nodes: server\)$/);
    assert.match(oneErrorLine(await cli(['inspect', 'routes', 'nope', '--name', X])), /^no pod, node or namespace named "nope" here/);
    assert.match(oneErrorLine(await cli(['inspect', '--netns', 'no-such-ns'])), /^--netns no-such-ns: no such namespace/);
    assert.match(oneErrorLine(await cli(['graph', '--name', X, '-o', 'png'])), /^-o: "png" is not an output format here \(use mermaid, dot, svg, json\)$/);
    assert.match(oneErrorLine(await cli(['inspect', 'server', '--host', '--name', X])), /^give one of NODE, --host or --netns$/);
  });
});
