// The drawing fitted to its panel, in headless Debian Chromium (playwright-core) on a one-node and a
// three-node lab, in a 1280×800 and a 1920×1080 window: the whole drawing shows, it fills at least
// 80% of the panel's width or height (whichever limits), a pod's name is at least 10 px high on
// screen, at most 150% however small the lab, and the zoom readout is the real zoom. It stays fitted
// when the window changes, until the user zooms by hand; "fit" fits it again. Screenshots go to
// test-output/ui/fit-*.png.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startUi, type UiServer } from '../../../src/web/server.js';
import { WEB_DIST } from '../../../src/web/static.js';
import { waitFor, withLab } from '../helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const OUT = join(ROOT, 'test-output', 'ui');
const T = { timeout: 60_000 };
const skip = !existsSync(CHROMIUM) ? 'chromium is not installed (scripts/setup.mjs installs it as root)'
  : !existsSync(join(WEB_DIST, 'index.html')) ? 'the front end is not built (npm run build:web; scripts/setup.mjs builds it)' : false;

const WINDOWS = [{ width: 1280, height: 800 }, { width: 1920, height: 1080 }] as const;
/** The most a fitted drawing is blown up (web/src/Topology.tsx MAX_FIT). */
const MAX_FIT = 1.5;

/** What the page shows of the drawing: the panel, the drawing in it, the zoom, the pods' names. */
async function measure(page: Page) {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLElement>('.canvas')!;
    const svg = document.querySelector<SVGSVGElement>('svg[data-testid=topology]')!;
    const c = canvas.getBoundingClientRect();
    const s = svg.getBoundingClientRect();
    return {
      panel: { left: c.left, top: c.top, width: canvas.clientWidth, height: canvas.clientHeight },
      drawing: { left: s.left, top: s.top, width: s.width, height: s.height },
      scrolls: canvas.scrollWidth > canvas.clientWidth + 1 || canvas.scrollHeight > canvas.clientHeight + 1,
      /** The real zoom: the drawing's size on screen over its own. */
      zoom: s.width / svg.viewBox.baseVal.width,
      readout: document.querySelector('.zoom span')?.textContent ?? '',
      fitted: canvas.dataset.fitted === 'true',
      podText: [...document.querySelectorAll('svg g.pod text.name')].map((t) => t.getBoundingClientRect().height),
    };
  });
}
type Measure = Awaited<ReturnType<typeof measure>>;

/** The checks of a fitted drawing. */
function assertFitted(m: Measure, what: string): void {
  const { panel: p, drawing: d } = m;
  assert.ok(!m.scrolls, `${what}: the whole drawing shows (nothing to scroll)`);
  assert.ok(d.left >= p.left - 0.5 && d.top >= p.top - 0.5 && d.left + d.width <= p.left + p.width + 0.5 && d.top + d.height <= p.top + p.height + 0.5,
    `${what}: the drawing (${JSON.stringify(d)}) lies inside the panel (${JSON.stringify(p)})`);
  const fill = Math.max(d.width / p.width, d.height / p.height);
  assert.ok(fill >= 0.8 || Math.abs(m.zoom - MAX_FIT) < 0.01, `${what}: the drawing fills ${Math.round(fill * 100)}% of the panel's limiting side (at zoom ${m.zoom.toFixed(2)})`);
  assert.ok(m.zoom <= MAX_FIT + 0.01, `${what}: zoom ${m.zoom.toFixed(2)} is at most ${MAX_FIT}`);
  assert.equal(m.readout, `${Math.round(m.zoom * 100)}%`, `${what}: the readout shows the real zoom`);
  assert.ok(m.podText.length > 0, `${what}: pods drawn`);
  for (const h of m.podText) assert.ok(h >= 10, `${what}: a pod's name is ${h.toFixed(1)} px high on screen (at least 10)`);
  assert.ok(m.fitted, `${what}: the page says it is fitted (the "fit" button is on)`);
}

describe('podnet ui fits the drawing to its panel', { skip }, () => {
  const labs = [
    { name: '1 node', fixture: withLab('web-fit1', { nodes: [{ name: 'server' }], pods: [{ name: 'pod1', node: 'server' }, { name: 'pod2', node: 'server' }] }, { prefix: 'kf' }) },
    {
      name: '3 nodes',
      fixture: withLab('web-fit3', {
        nodes: [{ name: 'server' }, { name: 'agent1' }, { name: 'agent2' }],
        pods: [{ name: 'pod1', node: 'server' }, { name: 'pod2', node: 'agent1' }, { name: 'pod3', node: 'agent2' }],
      }, { prefix: 'kf' }),
    },
  ];
  const servers = new Map<string, UiServer>();
  let browser: Browser | undefined;
  const problems: string[] = [];
  // The browser and the servers stop before the labs go down (the last registered runs first).
  for (const l of labs) l.fixture.cleanup(async () => { await servers.get(l.name)?.close(); });
  labs[1].fixture.cleanup(async () => { await browser?.close(); });

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    for (const l of labs) {
      await l.fixture.ready();
      servers.set(l.name, await startUi({ deps: l.fixture.deps, target: await l.fixture.target(), allowChanges: false, port: 0, log: (e) => problems.push(`server: ${String(e)}`) }));
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 30_000 });
  });

  /** A page of `lab`'s server in a window of `size`, once it has drawn the pods. */
  async function open(lab: string, size: { width: number; height: number }): Promise<Page> {
    const ui = servers.get(lab)!;
    const context = await browser!.newContext({ viewport: size, baseURL: `http://127.0.0.1:${ui.port}` });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(ui.loginUrl());
    await page.waitForSelector('svg[data-testid=topology] g.pod');
    return page;
  }

  for (const { name } of labs) {
    for (const size of WINDOWS) {
      test(`${name}, ${size.width}×${size.height}: the whole drawing, as large as the panel allows, readable`, T, async () => {
        const page = await open(name, size);
        try {
          const m = await measure(page);
          await page.screenshot({ path: join(OUT, `fit-${name.replace(' ', '')}-${size.width}x${size.height}.png`) });
          assertFitted(m, `${name} at ${size.width}×${size.height}`);
          assert.deepEqual(problems, []);
        } finally {
          await page.context().close();
        }
      });
    }
  }

  test('3 nodes: it stays fitted while the window changes, keeps the user\'s zoom, and "fit" fits again', T, async () => {
    const [small, large] = WINDOWS;
    const page = await open('3 nodes', small);
    try {
      const first = await measure(page);
      assertFitted(first, 'at first');
      await page.setViewportSize(large);
      assert.ok(await waitFor(async () => (await measure(page)).zoom > first.zoom + 0.05, 3000), 'a larger window: a larger drawing');
      assertFitted(await measure(page), 'after the window grew');
      await page.setViewportSize(small);
      assert.ok(await waitFor(async () => Math.abs((await measure(page)).zoom - first.zoom) < 0.01, 3000), 'back to the first size: the first zoom');
      assertFitted(await measure(page), 'after the window shrank');
      // A zoom by hand ends the fit: the window's next change leaves the user's zoom alone.
      await page.click('button[title="zoom in"]');
      const mine = await measure(page);
      assert.ok(!mine.fitted && mine.zoom > first.zoom, `zoomed in by hand: ${mine.readout}`);
      assert.equal(mine.readout, `${Math.round(mine.zoom * 100)}%`);
      await page.setViewportSize(large);
      await page.waitForTimeout(300);
      assert.ok(Math.abs((await measure(page)).zoom - mine.zoom) < 0.01, 'the user\'s zoom is kept when the window changes');
      await page.click('button[aria-pressed]:text("fit")');
      assert.ok(await waitFor(async () => (await measure(page)).fitted, 3000));
      assertFitted(await measure(page), 'after "fit"');
      assert.deepEqual(problems, []);
    } finally {
      await page.context().close();
    }
  });
});
