// The Tour panel of `podnet ui` on a real one-node lab (pods pod1, pod2): the API (chapters, a step
// refused read-only, bad bodies), then headless Chromium takes chapters 1 and 3 as a learner would —
// one question answered wrong by clicking an element (the hint shows), then right by clicking the
// right one (the evidence shows), typed answers, "show me", a predict step whose output waits for the
// answer — and the progress lands in the same file the terminal's tour keeps. Screenshots in
// /tmp/kwt-shots.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { WEB_DIST } from '../../../src/web/static.js';
import { startUi, type UiServer } from '../../../src/web/server.js';
import type { TopologyDoc, TourDoc } from '../../../src/web/api.js';
import { withLab } from '../helpers.js';
import { login, request } from './client.js';

const T = { timeout: 180_000 };
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = '/tmp/kwt-shots';
const noBrowser = !existsSync(CHROMIUM) ? 'chromium is not installed' : !existsSync(`${WEB_DIST}/index.html`) ? 'the front end is not built' : false;
const k = withLab('web-tour', { nodes: [{ name: 'server' }], pods: [{ name: 'pod1', node: 'server' }, { name: 'pod2', node: 'server' }] }, { prefix: 'kwt' });
let ui: UiServer;
let readOnly: UiServer;
let browser: Browser | undefined;
const errors: unknown[] = [];
const env = { PODNET_STATE_DIR: process.env.PODNET_STATE_DIR, XDG_STATE_HOME: process.env.XDG_STATE_HOME };

before(async () => {
  await k.ready();
  // The steps' `podnet …` commands run as child processes: they must find this lab and keep progress here.
  process.env.PODNET_STATE_DIR = k.root;
  process.env.XDG_STATE_HOME = join(k.root, 'xdg');
  ui = await startUi({ deps: k.deps, target: await k.target(), allowChanges: true, port: 0, log: (e: unknown) => errors.push(e) });
  readOnly = await startUi({ deps: k.deps, target: await k.target(), allowChanges: false, port: 0, log: (e: unknown) => errors.push(e) });
});
k.cleanup(async () => {
  await browser?.close();
  await ui?.close();
  await readOnly?.close();
  for (const [key, v] of Object.entries(env)) if (v === undefined) delete process.env[key]; else process.env[key] = v;
});
after(() => assert.deepEqual(errors, [], 'no unexpected server errors'));

test('the API: the chapters with progress; a step refused read-only; bad bodies named', T, async () => {
  const cookie = await login(ui.loginUrl());
  const doc = (await request(ui.port, '/api/tour', { cookie })).json as TourDoc;
  assert.equal(doc.lab, k.lab);
  assert.equal(doc.canRun, true);
  assert.equal(doc.chapters.length, 11);
  assert.deepEqual(doc.chapters[0], { number: 1, title: 'A pod is a network namespace', steps: 5, nodes: 1, status: 'new' });
  const roCookie = await login(readOnly.loginUrl());
  const ro = await request(readOnly.port, '/api/tour/step', { cookie: roCookie, method: 'POST', body: { chapter: 1, step: 0 } });
  assert.equal(ro.status, 403);
  assert.match((ro.json as { error: string }).error, /^read-only: a tour step runs its command on lab \S+ .*podnet ui --allow-changes.*podnet tour 1$/);
  const bad = async (body: unknown) => (await request(ui.port, '/api/tour/step', { cookie, method: 'POST', body })).json as { error: string };
  assert.equal((await bad({ chapter: 0, step: 0 })).error, 'chapter counts from 1');
  assert.equal((await bad({ chapter: 1, step: 'x' })).error, 'step must be a number, not the text "x"');
  assert.equal((await bad({ chapter: 99, step: 0 })).error, 'no chapter 99 (there are 11: GET /api/tour)');
  const noQ = await request(ui.port, '/api/tour/answer', { cookie, method: 'POST', body: { chapter: 1, step: 1, answer: 'x' } });
  assert.equal(noQ.status, 404);
});

/** The drawn element ids of the lab: a pod's eth0, a pod's host veth, a node's cni0. */
async function ids(cookie: string) {
  const doc = (await request(ui.port, '/api/topology', { cookie })).json as TopologyDoc;
  const g = doc.nodes[0].graph;
  const eth0 = (pod: string) => g.pods.find((p) => p.name === pod)!.ifaces.find((i) => i.name === 'eth0')!.id;
  const veth = (pod: string) => {
    const name = k.state().pods.find((p) => p.name === pod)!.hostVeth!;
    return g.veths.find((v) => v.name === name)!.id;
  };
  return { eth0, veth, cni0: g.bridges.find((b) => b.name === 'cni0')!.id };
}

test('in Chromium: chapters 1 and 3 in the Tour panel, answered by clicking elements (wrong, then right) and by typing', { ...T, skip: noBrowser }, async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 30_000 });
  const page: Page = await (await browser.newContext({ viewport: { width: 1600, height: 1000 } })).newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.setDefaultTimeout(30_000);
  await page.goto(ui.loginUrl());
  await page.waitForSelector('svg[data-testid=topology] g.pod');
  const cookie = await login(ui.loginUrl());
  const el = await ids(cookie);
  const click = (id: string) => page.click(`[data-id="${id}"] rect`, { force: true });
  const title = () => page.textContent('[data-testid=tour-title]');
  page.on('response', (r) => { if (r.url().includes('/api/tour/') && r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
  const next = async (expect: string) => { await page.click('[data-testid=tour-next]'); await page.waitForFunction((t) => document.querySelector('[data-testid=tour-title]')?.textContent === t, expect); };

  await page.click('nav button:has-text("Tour")');
  await page.click('[data-chapter="1"]');
  await page.waitForSelector('[data-testid=tour-title]');
  assert.equal(await title(), 'The pods and their addresses');
  assert.match(await page.textContent('[data-testid=tour-command]') ?? '', /^\$ podnet get pods -o wide --name \S+$/);
  assert.match(await page.textContent('[data-testid=tour-output] mark') ?? '', /^10\.42\.0\.\d+$/);
  // Which IP did pod2 get? pod1's eth0 is wrong; pod2's eth0 is right.
  await click(el.eth0('pod1'));
  await page.waitForSelector('[data-testid=tour-hint]');
  assert.match(await page.textContent('[data-testid=tour-hint]') ?? '', /^✗ not eth0@if\d+ 10\.42\.0\.\d+\. hint: it is in the IP column of pod2's row/);
  await page.screenshot({ path: `${SHOTS}/tour-hint.png` });
  await click(el.eth0('pod2'));
  await page.waitForSelector('[data-testid=tour-evidence]');
  assert.match(await page.textContent('[data-testid=tour-evidence]') ?? '', /^✓ right: 10\.42\.0\.\d+/);
  await page.screenshot({ path: `${SHOTS}/tour-right.png` });
  await next('A pod\'s process and its namespace');
  await next('Inside the namespace with nsenter');
  await page.fill('input[name=answer]', '0');
  await page.click('button:has-text("answer")');
  await page.waitForSelector('[data-testid=tour-hint]');
  await page.click('button:has-text("show me")');
  await page.waitForSelector('[data-testid=tour-evidence]');
  assert.match(await page.textContent('[data-testid=tour-evidence]') ?? '', /^the kernel's answer: \d+/);
  await next('The pod\'s own routing table');
  await click(el.cni0); // the gateway: cni0's address
  await page.waitForSelector('[data-testid=tour-evidence]');
  assert.match(await page.textContent('[data-testid=tour-evidence]') ?? '', /^✓ right: 10\.42\.0\.1/);
  await next('The same, the podnet way');
  await page.waitForSelector('[data-testid=tour-summary]');

  await page.click('button:has-text("chapters")');
  await page.click('[data-chapter="3"]');
  await page.waitForFunction(() => document.querySelector('[data-testid=tour-title]')?.textContent === 'The bridge and its address');
  assert.ok(await page.locator('g.box.about').count() >= 1, 'the step outlines what it is about');
  await click(el.cni0);
  await page.waitForSelector('[data-testid=tour-evidence]');
  await next('The bridge\'s ports');
  await page.fill('input[name=answer]', '2');
  await page.click('button:has-text("answer")');
  await page.waitForSelector('[data-testid=tour-evidence]');
  await next('Hairpin and learning on each port');
  await next('Predict the port, then ask the kernel');
  await page.waitForSelector('[data-testid=tour-predict]');
  assert.equal(await page.locator('[data-testid=tour-output]').count(), 0, 'predict first: no output yet');
  await click(el.veth('pod2'));
  await page.waitForSelector('[data-testid=tour-hint]');
  await click(el.veth('pod1'));
  await page.waitForSelector('[data-testid=tour-evidence]');
  assert.match(await page.textContent('[data-testid=tour-evidence]') ?? '', new RegExp(`^✓ right: ${k.state().pods.find((p) => p.name === 'pod1')!.hostVeth}`));
  await page.waitForSelector('[data-testid=tour-output]');
  await page.waitForSelector('[data-testid=tour-summary]');
  await page.screenshot({ path: `${SHOTS}/tour-chapter3-done.png` });

  // Chapter 4's trace step plays its packet on the drawing: the Journey tab runs the same trace.
  await page.click('button:has-text("chapters")');
  await page.click('[data-chapter="4"]');
  await page.waitForFunction(() => document.querySelector('[data-testid=tour-title]')?.textContent === 'The blog\'s three terminals');
  await next('One ping, every hop');
  await click(el.veth('pod2')); // predict: the request leaves cni0 towards pod2 through pod2's veth
  await page.waitForSelector('[data-testid=tour-evidence]');
  await page.click('[data-testid=tour-play]');
  await page.waitForSelector('[data-testid=verdict]', { timeout: 60_000 });
  assert.match(await page.textContent('[data-testid=verdict]') ?? '', /reply from 10\.42\.0\.\d+/);
  assert.ok(await page.locator('.events li').count() >= 10, 'the echo and its reply, hop by hop');
  await page.screenshot({ path: `${SHOTS}/tour-play.png` });
  assert.deepEqual(problems, []);

  // The terminal's progress file: both chapters finished, first-try answers counted.
  const progress = JSON.parse(readFileSync(join(k.root, 'xdg', 'podnet', 'tour.json'), 'utf8')) as { chapters: Record<string, { finishedAt?: string; firstTry: number[] }> };
  assert.ok(progress.chapters['tour/01-netns.yaml']?.finishedAt && progress.chapters['tour/03-cni0.yaml']?.finishedAt, JSON.stringify(progress));
  assert.deepEqual(progress.chapters['tour/01-netns.yaml'].firstTry, [3], 'chapter 1: only the gateway was right at the first try');
});
