// Services in `podnet ui` and `podnet graph` on a real two-node lab: a NodePort Service selecting a
// pod on each node is drawn as a Service node with an edge to each endpoint pod's eth0 — the
// endpoints' IPs checked against the pods' eth0 as `ip -json addr` reports them, the ClusterIP and
// NodePort against the lab's state — in the API's topology, its drawing, the element's details, and
// the DOT and Mermaid of `podnet graph`.
import { after, before, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { labBreak, labHeal } from '../../../src/lab/faults.js';
import { WEB_DIST } from '../../../src/web/static.js';
import assert from 'node:assert/strict';
import { startUi, type UiServer } from '../../../src/web/server.js';
import type { DoctorDoc, ElementDetails, ReachDoc, TopologyDoc } from '../../../src/web/api.js';
import { podRun } from '../../../src/lab/pods.js';
import { applyManifests } from '../../../src/lab/services.js';
import { parseManifest } from '../../../src/model/manifest.js';
import { graphOf } from '../../../src/cli/actions/inspect.js';
import { renderClusterDot, renderClusterMermaid } from '../../../src/render/inspect/cluster.js';
import { ipJson, runStatus, withLab } from '../helpers.js';
import { login, request } from './client.js';

const T = { timeout: 120_000 };
const k = withLab('web-svc', { nodes: [{ name: 'server' }, { name: 'agent1' }], pods: [] }, { prefix: 'kws' });
let ui: UiServer;
let cookie = '';
const errors: unknown[] = [];
const spec = () => ({ labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' as const }], commands: [['busybox', 'httpd', '-f', '-p', '8080', '-h', join(k.root, 'www')]] });

before(async () => {
  await k.ready();
  await mkdir(join(k.root, 'www'));
  await writeFile(join(k.root, 'www', 'index.html'), 'hello from web\n');
  await podRun(k.deps, k.lab, 'web1', 'server', spec());
  await podRun(k.deps, k.lab, 'web2', 'agent1', spec());
  await podRun(k.deps, k.lab, 'other', 'server', { labels: { app: 'db' } });
  await applyManifests(k.deps, k.lab, [{
    kind: 'Service', name: 'web', namespace: 'default', type: 'NodePort', selector: { app: 'web' }, externalTrafficPolicy: 'Cluster', sessionAffinity: 'None',
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http', nodePort: 30080 }],
  }]);
  ui = await startUi({ deps: k.deps, target: await k.target(), allowChanges: false, port: 0, log: (e: unknown) => errors.push(e) });
  cookie = await login(ui.url);
});
let browser: Browser | undefined;
let page: Page | undefined;
k.cleanup(async () => {
  await browser?.close();
  await ui?.close();
});
after(() => assert.deepEqual(errors, [], 'no unexpected server errors'));

/** A pod's eth0 address as the kernel reports it. */
const kernelIp = (pod: string) => {
  const p = k.state().pods.find((x) => x.name === pod)!;
  const info = ipJson(p.netns, ['addr', 'show', 'dev', 'eth0'])[0].addr_info as { family: string; local: string }[];
  return info.find((a) => a.family === 'inet')!.local;
};

test('the topology has the Service with an edge to each endpoint pod, on both nodes', T, async () => {
  const doc = (await request(ui.port, '/api/topology', { cookie })).json as TopologyDoc;
  const svc = doc.services?.find((s) => s.name === 'web');
  assert.ok(svc, JSON.stringify(doc.services));
  const state = k.state().services!.find((s) => s.name === 'web')!;
  assert.deepEqual([svc.type, svc.clusterIP, svc.ports, svc.nodePorts], ['NodePort', state.clusterIP, [`${state.clusterIP}:80/TCP`], [30080]]);
  assert.match(state.clusterIP, /^10\.43\./);
  const eth0 = (pod: string) => doc.nodes.flatMap((n) => n.graph.pods).find((p) => p.name === pod)!.ifaces.find((i) => i.name === 'eth0')!.id;
  assert.deepEqual(svc.edges.map((e) => [e.pod, e.node, e.endpoint, e.iface]).sort(), [
    ['web1', 'server', `${kernelIp('web1')}:8080`, eth0('web1')], ['web2', 'agent1', `${kernelIp('web2')}:8080`, eth0('web2')],
  ]);
  const wires = doc.drawing.wires.filter((w) => w.kind === 'service-endpoint' && w.source === svc.id);
  assert.deepEqual(wires.map((w) => w.target).sort(), [eth0('web1'), eth0('web2')].sort());
  const box = doc.drawing.boxes.find((b) => b.id === svc.id);
  assert.equal(box?.kind, 'service');
  assert.ok(box.x + box.w <= doc.drawing.width && box.y + box.h <= doc.drawing.height, 'the Service fits in the drawing');
  for (const w of wires) assert.ok(w.points.length >= 2 && w.points.every((p) => p.x >= 0 && p.x <= doc.drawing.width));
  const d = (await request(ui.port, `/api/element/${encodeURIComponent(svc.id)}`, { cookie })).json as ElementDetails;
  assert.equal(d.kind, 'service');
  assert.deepEqual(d.sections.map((s) => s.title), ['Endpoints']);
  assert.equal(d.sections[0].rows.length, 2);
});

test('podnet graph of the lab: DOT and Mermaid draw the Service and its two edges', T, async () => {
  const drawing = await graphOf(k.deps, await k.target());
  assert.ok('cluster' in drawing);
  const dot = renderClusterDot(drawing.cluster);
  const mermaid = renderClusterMermaid(drawing.cluster);
  assert.match(dot, /"svc_default_web" \[label="Service default\/web\\n10\.43\.\d+\.\d+:80\/TCP\\nNodePort 30080", shape=hexagon/);
  for (const pod of ['web1', 'web2']) {
    assert.ok(dot.includes(`→ ${kernelIp(pod)}:8080"`), `DOT edge to ${pod}`);
    assert.ok(mermaid.includes(`→ ${kernelIp(pod)}:8080"|`), `Mermaid edge to ${pod}`);
  }
  assert.equal((dot.match(/"svc_default_web" -- /g) ?? []).length, 2);
  assert.equal((mermaid.match(/svc_default_web -->/g) ?? []).length, 2);
});

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = '/tmp/kws-shots';
const noBrowser = !existsSync(CHROMIUM) ? 'chromium is not installed' : !existsSync(`${WEB_DIST}/index.html`) ? 'the front end is not built' : false;

test('in Chromium: the Service is drawn with its two wires, and clicking it lists its endpoints', { ...T, skip: noBrowser }, async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 30_000 });
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  // The one-time login URL was spent by the API tests: the browser gets their session cookie.
  const [name, ...value] = cookie.split('=');
  await context.addCookies([{ name, value: value.join('='), url: `http://127.0.0.1:${ui.port}` }]);
  page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`http://127.0.0.1:${ui.port}/`);
  await page.waitForSelector('svg[data-testid=topology] [data-id="svc_default_web"]', { timeout: 15_000 });
  assert.match(await page.textContent('[data-id="svc_default_web"]') ?? '', /Service default\/web.*10\.43\.\d+\.\d+:80\/TCP.*NodePort 30080/s);
  assert.equal(await page.locator('path.wire.service-endpoint').count(), 2);
  await page.screenshot({ path: `${SHOTS}/service-topology.png` });
  await page.click('[data-id="svc_default_web"]');
  await page.waitForSelector('[data-testid=details][data-kind=service]');
  const rows = await page.$$eval('[data-section=EndpointList] tbody tr, [data-section=Endpoints] tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
  for (const pod of ['web1', 'web2']) assert.ok(rows.some((r) => r.includes(`${kernelIp(pod)}:8080`) && r.includes(pod)), `${pod} listed: ${rows.join(' | ')}`);
  await page.screenshot({ path: `${SHOTS}/service-details.png` });
  // A journey through the Service: from `other` to `web` on TCP 80; a hop after the DNAT shows the rewrite.
  await page.click('nav button:has-text("Journey")');
  await page.selectOption('select[name=src]', 'other');
  await page.selectOption('select[name=dst]', '(ip)');
  await page.fill('input[name=ip]', 'web');
  await page.selectOption('select[name=protocol]', 'tcp');
  await page.fill('input[name=port]', '80');
  await page.click('[data-testid=trace]');
  await page.waitForSelector('[data-testid=verdict]', { timeout: 60_000 });
  const nat = page.locator('.events li:has(.nat-tag)').first();
  assert.ok(await nat.count(), `a hop shows the NAT: ${await page.textContent('[data-testid=events]')}`);
  await nat.click();
  assert.match(await page.textContent('[data-testid=verdict]') ?? '', /reply from 10\.42\./);
  assert.equal(await page.locator('[data-testid=drop]').count(), 0, 'an answered journey shows no drop');
  await page.click('.canvas', { position: { x: 5, y: 5 } }); // no selection: the journey's hop has the panel
  const text = await page.textContent('[data-testid=nat]') ?? '';
  assert.match(text, /10\.43\.\d+\.\d+:80 → .*10\.42\.\d+\.\d+:8080|10\.43\.\d+\.\d+:80.*→.*:8080/s, text);
  await page.screenshot({ path: `${SHOTS}/service-journey.png` });
  assert.deepEqual(problems, []);
});

test('doctor: a lab broken with `lab break ip-forward-off --node agent1` has that finding on agent1, outlined when clicked; a journey across it shows where and why it died', { ...T, skip: noBrowser }, async () => {
  assert.ok(page, 'the page of the test before');
  await labBreak(k.deps, k.lab, { fault: 'ip-forward-off', node: 'agent1' });
  try {
    const doc = (await request(ui.port, '/api/doctor', { cookie })).json as DoctorDoc;
    const f = doc.findings.find((x) => x.id === 'ip-forward-off');
    assert.ok(f, JSON.stringify(doc.findings.map((x) => [x.id, x.node])));
    assert.equal(f.node, 'agent1');
    assert.deepEqual(doc.findings.map((x) => x.node), ['agent1'], 'one root cause, on agent1 only');
    assert.ok(f.elements.includes('node:agent1'), f.elements.join());
    await page.click('nav button:has-text("Doctor")');
    await page.click('[data-testid=run-doctor]');
    await page.waitForSelector('[data-finding="ip-forward-off"]', { timeout: 60_000 });
    await page.click('[data-finding="ip-forward-off"]');
    await page.waitForSelector('g.box.group.dropped[data-id="node:agent1"]');
    assert.equal(await page.locator('g.box.dropped').count(), f.elements.length);
    assert.match(await page.textContent('[data-finding="ip-forward-off"]') ?? '', /sysctl/);
    await page.screenshot({ path: `${SHOTS}/doctor-finding.png` });
    // The same fault seen by a journey: other (server) → web2 (agent1) dies on agent1, where the kernel
    // refuses to forward; the journey says why, and the topology marks the element it died at.
    await page.click('nav button:has-text("Journey")');
    await page.selectOption('select[name=src]', 'other');
    await page.selectOption('select[name=dst]', '(ip)');
    await page.fill('input[name=ip]', kernelIp('web2'));
    await page.selectOption('select[name=protocol]', 'tcp');
    await page.fill('input[name=port]', '8080');
    await page.click('[data-testid=trace]');
    await page.waitForSelector('[data-testid=drop]', { timeout: 60_000 });
    const drop = await page.textContent('[data-testid=drop]') ?? '';
    assert.match(drop, /^dropped at agent1\/\S+: IP_INADDRERRORS \(ip_error\)/, drop);
    const mark = page.locator('[data-testid=drop-mark]');
    await mark.waitFor({ timeout: 10_000 });
    assert.match(await mark.textContent() ?? '', /✕ dropped: IP_INADDRERRORS/);
    assert.ok(await page.locator('g.box.dropped').count() >= 1, 'the element it died at is marked');
    await page.screenshot({ path: `${SHOTS}/journey-dropped.png` });
  } finally {
    await labHeal(k.deps, k.lab);
  }
  const healed = (await request(ui.port, '/api/doctor', { cookie })).json as DoctorDoc;
  assert.deepEqual(healed.findings.map((x) => x.id), [], 'clean again after lab heal');
});

test('a pod\'s details list the NetworkPolicy that selects it, isolated for ingress, as the kernel enforces it', T, async () => {
  await applyManifests(k.deps, k.lab, [parseManifest({
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'web-from-db', namespace: 'default' },
    spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'db' } } }] }] },
  }, 'web-from-db')]);
  const doc = (await request(ui.port, '/api/topology', { cookie })).json as TopologyDoc;
  const id = (pod: string) => doc.nodes.flatMap((n) => n.graph.pods).find((p) => p.name === pod)!.id;
  const policies = async (pod: string) => {
    const d = (await request(ui.port, `/api/element/${encodeURIComponent(id(pod))}`, { cookie })).json as ElementDetails;
    return d.sections.find((x) => x.title === 'Policies');
  };
  const web1 = await policies('web1');
  assert.ok(web1, 'a Policies section');
  assert.deepEqual(web1.rows.map((r) => r.slice(0, 3)), [['default/web-from-db', 'isolated', 'open']]);
  const chain = web1.rows[0][3];
  const saved = runStatus(['ip', 'netns', 'exec', k.state().plan.nodes.find((n) => n.name === 'server')!.netns, 'iptables-save', '-t', 'filter']).stdout;
  assert.ok(chain.startsWith('KUBE-POD-FW-') && saved.includes(`:${chain} `), `${chain} is in the kernel`);
  assert.deepEqual((await policies('other'))?.rows.map((r) => r.slice(0, 3)), [['<none>', 'open', 'open']]);
});

test('reach: what `other` (app=db) may reach under web-from-db, as the API says and as real connections do; drawn in Chromium', { ...T, skip: noBrowser }, async () => {
  const reach = async (pod: string, direction: string) => (await request(ui.port, `/api/reach?pod=${pod}&direction=${direction}`, { cookie })).json as ReachDoc;
  const fromOther = await reach('other', 'egress');
  const fromWeb2 = await reach('web2', 'egress');
  const intoWeb1 = await reach('web1', 'ingress');
  const verdict = (d: ReachDoc, pod: string) => d.targets.find((t) => t.pod === pod)!;
  assert.equal(verdict(fromOther, 'web1').allowed, true, JSON.stringify(verdict(fromOther, 'web1')));
  assert.equal(verdict(fromOther, 'web2').allowed, true);
  assert.equal(verdict(fromWeb2, 'web1').allowed, false);
  assert.match(verdict(fromWeb2, 'web1').ports.find((p) => !p.allowed)!.sentence, /policy default\/web-from-db selects web1 for ingress and no rule allows/);
  assert.deepEqual(intoWeb1.policies, ['default/web-from-db']);
  assert.deepEqual(intoWeb1.targets.filter((t) => t.allowed).map((t) => t.pod), ['other'], 'only app=db may open connections to web1');
  assert.ok(fromOther.allowed.includes('svc_default_web'), 'the Service: its endpoints are allowed');
  // The kernel agrees, connection by connection (busybox wget to the pods' httpd, bounded by timeout(1):
  // this busybox's wget -T segfaults).
  const wget = (from: string, to: string) => spawnSync('nsenter', [`--net=/run/netns/${k.state().pods.find((p) => p.name === from)!.netns}`, 'timeout', '3', 'busybox', 'wget', '-O-', `http://${kernelIp(to)}:8080/`], { encoding: 'utf8', timeout: 10_000 });
  for (const [from, to, d] of [['other', 'web1', fromOther], ['other', 'web2', fromOther], ['web2', 'web1', fromWeb2]] as const) {
    const r = wget(from, to);
    assert.equal(r.status === 0, verdict(d, to).allowed, `${from} → ${to}: the API says ${verdict(d, to).allowed}, wget exited ${r.status} ${r.signal}: ${r.stdout}${r.stderr}${r.error?.message ?? ''}`);
  }
  assert.ok(page, 'the page of the tests before');
  await page.click('nav button:has-text("Details")');
  const otherId = fromOther.element;
  await page.click(`[data-id="${otherId}"] rect`, { force: true });
  await page.waitForSelector('[data-testid=reach]');
  await page.click('[data-testid=reach-egress]');
  await page.waitForSelector('svg.reaching g.box.reach-ok');
  const ok = await page.$$eval('g.box.reach-ok', (gs) => gs.map((g) => g.getAttribute('data-id')));
  assert.deepEqual(ok.sort(), [...fromOther.allowed].sort());
  assert.equal(await page.locator(`g.box.reach-from[data-id="${otherId}"]`).count(), 1);
  assert.match(await page.textContent('[data-testid=reach] li[data-pod=web1]') ?? '', /✓ web1 \(server\)/);
  await page.screenshot({ path: `${SHOTS}/reach.png` });
  await page.click('[data-testid=reach-egress]');
  assert.equal(await page.locator('svg.reaching').count(), 0, 'clicked again: the highlight goes');
});
