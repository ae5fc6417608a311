// `podnet ui` in headless Debian Chromium (playwright-core, no browser download) on a real two-node
// lab: the page loads without console errors and draws the kernel's pods; details of cni0 show the
// kernel's FDB, and stay in view and marked while a journey plays and after it; a trace plays its
// hops in path order, steps back and forth, opens decoded layers and offers the pcapng; a trace
// across nodes shows the overlay's hops and VXLAN's outer and inner headers; a pod added and deleted
// from the page comes and goes. Screenshots go to test-output/ui/ (UPDATE_SCREENSHOTS=1 also
// refreshes docs/ui.png for the README).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startUi, type UiServer } from '../../../src/web/server.js';
import { WEB_DIST } from '../../../src/web/static.js';
import type { TopologyDoc } from '../../../src/web/api.js';
import { bridgeJson, ipJson, labNetns, links, readState, waitFor, withLab, type LabFixture } from '../helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const OUT = join(ROOT, 'test-output', 'ui');
const T = { timeout: 60_000 };
const WAIT = { timeout: 10_000 };
const skip = !existsSync(CHROMIUM) ? 'chromium is not installed (scripts/setup.mjs installs it as root)'
  : !existsSync(join(WEB_DIST, 'index.html')) ? 'the front end is not built (npm run build:web; scripts/setup.mjs builds it)' : false;

// The lab is made by withLab inside the describe (nothing is made when it is skipped).
let fixture: LabFixture;
let root = '';
let lab = '';
let ui: UiServer | undefined;
let browser: Browser | undefined;
let page: Page;
const problems: string[] = [];

/** What the kernel holds for a pod: its IP, MAC and host veth (read with `ip -json`, not podnet). */
function kernelPod(pod: string) {
  const p = readState(root, lab).pods.find((x) => x.name === pod)!;
  const eth0 = links(p.netns).find((l) => l.ifname === 'eth0')!;
  const addr = (ipJson(p.netns, ['addr', 'show', 'dev', 'eth0'])[0].addr_info as { family: string; local: string }[]).find((a) => a.family === 'inet')!;
  const veth = links(`podnet-${lab}-${p.node}`).find((l) => l.ifindex === eth0.link_index)!;
  return { ip: addr.local, mac: String(eth0.address), veth: String(veth.ifname) };
}

const shot = (name: string) => page.screenshot({ path: join(OUT, `${name}.png`) });
const topology = async () => (await page.request.get('/api/topology')).json() as Promise<TopologyDoc>;
/** Clicks "trace" and waits for its journey (not the one shown before it: each has its own pcapng link). */
async function traceNow(): Promise<void> {
  const before = await (await page.$('[data-testid=pcapng]'))?.getAttribute('href');
  await page.click('[data-testid=trace]');
  await page.waitForFunction((old) => {
    const href = document.querySelector('[data-testid=pcapng]')?.getAttribute('href');
    return !!href && href !== old;
  }, before, { timeout: 30_000 });
}

describe('podnet ui in Chromium', { skip }, () => {
  fixture = withLab('web-ui', { nodes: [{ name: 'server' }, { name: 'agent1' }], pods: [{ name: 'pod1', node: 'server' }, { name: 'pod2', node: 'server' }, { name: 'pod3', node: 'agent1' }] }, { prefix: 'kb' });
  ({ root, lab } = fixture);
  // The browser and the server stop before the lab goes down.
  fixture.cleanup(async () => {
    await browser?.close();
    await ui?.close();
  });
  before(async () => {
    mkdirSync(OUT, { recursive: true });
    await fixture.ready();
    ui = await startUi({ deps: fixture.deps, target: await fixture.target(), allowChanges: true, port: 0, log: (e) => problems.push(`server: ${String(e)}`) });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 30_000 });
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, baseURL: `http://127.0.0.1:${ui.port}` });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT.timeout);
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  });

  test('the page loads without errors and draws every pod with the kernel\'s address', T, async () => {
    await page.goto(ui!.url);
    await page.waitForSelector('svg[data-testid=topology]');
    assert.equal(new URL(page.url()).search, '', 'the token left the address bar');
    assert.match(await page.textContent('[data-testid=title]') ?? '', /2 nodes, 3 pods/);
    const doc = await topology();
    for (const pod of ['pod1', 'pod2', 'pod3']) {
      const k = kernelPod(pod);
      const drawn = doc.nodes.flatMap((n) => n.graph.pods).find((p) => p.name === pod)!;
      assert.match(await page.textContent(`[data-id="${drawn.id}"]`) ?? '', new RegExp(pod));
      assert.match(await page.textContent(`[data-id="${drawn.ifaces[0].id}"]`) ?? '', new RegExp(`${k.ip.replace(/\./g, '\\.')}$`));
      assert.ok(await page.$(`[data-id="${doc.nodes.flatMap((n) => n.graph.veths).find((v) => v.name === k.veth)!.id}"]`), `${k.veth} drawn`);
    }
    await shot('topology');
    assert.deepEqual(problems, []);
  });

  test('clicking cni0 shows its FDB: the kernel\'s MACs with their owner pods and kinds', T, async () => {
    const doc = await topology();
    await page.click(`[data-id="${doc.nodes[0].graph.bridges[0].id}"]`);
    await page.waitForSelector('[data-testid=details][data-kind=bridge]');
    const rows = await page.$$eval('[data-section=FDB] tbody tr:not(.prose)', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    const kernel = bridgeJson(`podnet-${lab}-server`, ['fdb', 'show', 'br', 'cni0']);
    for (const e of kernel) assert.ok(rows.some((r) => r[0] === e.mac && r[1] === e.ifname), `${String(e.mac)} on ${String(e.ifname)} shown`);
    for (const pod of ['pod1', 'pod2']) {
      const k = kernelPod(pod);
      for (const r of rows.filter((x) => x[0] === k.mac)) {
        assert.equal(r[4], `${pod}:eth0`, `${pod}'s MAC is owned by ${pod}`);
        assert.ok(['learned', 'permanent', 'self'].includes(r[3]));
      }
    }
    assert.ok(rows.some((r) => r[3] === 'permanent' && r[1] === 'cni0'), 'the bridge\'s own entry');
    await shot('details-cni0');
    assert.deepEqual(problems, []);
  });

  test('a journey keeps the selection: cni0 stays marked and its FDB in view while the journey plays and after it ends', T, async () => {
    const doc = await topology();
    const cni0 = doc.nodes.find((n) => n.name === 'server')!.graph.bridges[0].id;
    await page.click('nav >> text=Details');
    await page.click(`[data-id="${cni0}"]`);
    await page.waitForSelector('[data-testid=details][data-kind=bridge] [data-section=FDB] tbody tr');
    /** What the page shows of the selection now. */
    const look = () => page.evaluate((id) => {
      const g = document.querySelector(`svg g[data-id="${id}"]`);
      const rect = g?.querySelector(':scope > rect');
      const shown = (el: Element | null | undefined) => !!el && (el as HTMLElement).getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
      const details = document.querySelector('[data-testid=details]');
      const panel = details?.closest('.panel');
      return {
        selected: g?.classList.contains('selected') ?? false,
        current: g?.classList.contains('current') ?? false,
        // The selection's mark: the box's magenta outline, or the magenta ring around it while the packet is there.
        marked: !!g && (getComputedStyle(rect!).stroke === 'rgb(228, 0, 124)' || shown(g.querySelector('rect.ring'))),
        detailsShown: shown(panel) && shown(details),
        title: details?.querySelector('h2')?.textContent ?? '',
        fdbRows: panel?.querySelectorAll('[data-section=FDB] tbody tr:not(.prose)').length ?? 0,
        position: document.querySelector('.controls .position')?.textContent ?? '',
        playing: !!document.querySelector('button[aria-label=pause]'),
      };
    }, cni0);
    const check = (s: Awaited<ReturnType<typeof look>>, when: string) => {
      assert.ok(s.selected && s.marked, `${when}: cni0 is still selected and marked (${JSON.stringify(s)})`);
      assert.ok(s.detailsShown, `${when}: cni0's details are in view (${JSON.stringify(s)})`);
      assert.match(s.title, /cni0/, `${when}: the details are cni0's`);
      assert.ok(s.fdbRows > 0, `${when}: cni0's FDB is shown`);
    };
    check(await look(), 'before the trace');
    await page.click('nav >> text=Journey');
    await page.selectOption('select[name=src]', 'pod1');
    await page.selectOption('select[name=dst]', 'pod2');
    await traceNow();
    await page.waitForSelector('button[aria-label=pause]');
    const seen: Awaited<ReturnType<typeof look>>[] = [];
    let pictured = false;
    assert.ok(await waitFor(async () => {
      const s = await look();
      seen.push(s);
      check(s, `at ${s.position}`);
      if (s.current && !pictured) {
        pictured = true;
        await shot('journey-selection');
      }
      return !s.playing;
    }, 20_000, 50), 'the journey plays to its end');
    assert.ok(seen.some((s) => s.current), 'the packet passed through the selected cni0 (both marks at once)');
    check(await look(), 'when the journey has ended');
    await page.click('nav >> text=Details');
    check(await look(), 'back on the Details tab');
    await shot('journey-selection-end');
    assert.deepEqual(problems, []);
  });

  test('a trace plays along the drawing: hops in path order, play, pause, back, forward, layers, pcapng', T, async () => {
    const [p1, p2] = [kernelPod('pod1'), kernelPod('pod2')];
    await page.click('nav >> text=Journey');
    await page.selectOption('select[name=src]', 'pod1');
    await page.selectOption('select[name=dst]', 'pod2');
    await traceNow();
    await page.waitForSelector('[data-testid=events] li');
    const events = await page.$$eval('[data-testid=events] li', (lis) => lis.map((li) => ({ point: li.dataset.point, request: li.classList.contains('request'), label: li.querySelector('.label')?.textContent, dir: li.querySelector('.dir')?.textContent })));
    const echo = events.filter((e) => e.label === 'ICMP echo request' && e.dir === '→').map((e) => e.point);
    assert.deepEqual(echo, ['pod1/eth0', `server/${p1.veth}`, 'server/cni0', `server/${p2.veth}`, 'pod2/eth0']);
    const reply = events.filter((e) => e.label === 'ICMP echo reply' && e.dir === '←').map((e) => e.point);
    assert.deepEqual(reply, [...echo].reverse());
    assert.match(await page.textContent('[data-testid=verdict]') ?? '', /^reply from /);
    // It plays by itself: the packet moves on to later events.
    assert.ok(await waitFor(async () => Number(await page.getAttribute('[data-testid=packet]', 'data-step')) >= 3, 8000), 'the packet moves on');
    await shot('journey');
    await page.click('button[aria-label=pause]');
    const at = Number(await page.getAttribute('[data-testid=packet]', 'data-step'));
    await page.click('button[aria-label=back]');
    await page.waitForSelector(`[data-testid=packet][data-step="${at - 1}"]`);
    await page.click('button[aria-label=forward]');
    await page.click('button[aria-label=forward]');
    await page.waitForSelector(`[data-testid=packet][data-step="${at + 1}"]`);
    // An event opens its decoded layers and the kernel's reason.
    await page.click(`[data-testid=events] li[data-point="server/cni0"] >> text=ICMP echo request`);
    await page.waitForSelector('[data-testid=layers] [data-layer=IPv4]');
    const ipv4 = await page.textContent('[data-testid=layers] [data-layer=IPv4]') ?? '';
    assert.match(ipv4, new RegExp(`src${p1.ip.replace(/\./g, '\\.')}`));
    assert.match(ipv4, new RegExp(`dst${p2.ip.replace(/\./g, '\\.')}`));
    assert.match(await page.textContent('[data-testid=event] .why') ?? '', /forwarded to port|FDB/);
    const href = await page.getAttribute('[data-testid=pcapng]', 'href') ?? '';
    assert.match(href, /^\/api\/trace\/[0-9a-f]{12}\/pcapng$/);
    const pcap = await page.request.get(href);
    assert.equal(pcap.status(), 200);
    assert.deepEqual([...(await pcap.body()).subarray(0, 4)], [0x0a, 0x0d, 0x0d, 0x0a], 'a pcapng section header');
    assert.deepEqual(problems, []);
  });

  test('across nodes: the hops through flannel.1, the uplinks and the underlay, with VXLAN outer and inner layers', T, async () => {
    const [p1, p3] = [kernelPod('pod1'), kernelPod('pod3')];
    const nodeIp = (node: string) => (ipJson(`podnet-${lab}-${node}`, ['addr', 'show', 'dev', 'eth0'])[0].addr_info as { family: string; local: string }[]).find((a) => a.family === 'inet')!.local;
    await page.selectOption('select[name=src]', 'pod1');
    await page.selectOption('select[name=dst]', 'pod3');
    await traceNow();
    await page.waitForSelector('[data-testid=header] >> text=pod3');
    const events = await page.$$eval('[data-testid=events] li', (lis) => lis.map((li) => ({ point: li.dataset.point, label: li.querySelector('.label')?.textContent, dir: li.querySelector('.dir')?.textContent })));
    assert.deepEqual(events.filter((e) => e.label === 'ICMP echo request' && e.dir === '→').map((e) => e.point), [
      'pod1/eth0', `server/${p1.veth}`, 'server/cni0', 'server/flannel.1', 'server/eth0', 'underlay/sw0',
      'agent1/eth0', 'agent1/flannel.1', 'agent1/cni0', `agent1/${p3.veth}`, 'pod3/eth0',
    ]);
    assert.match(await page.textContent('[data-testid=verdict]') ?? '', new RegExp(`^reply from ${p3.ip.replace(/\./g, '\\.')}`));
    await page.click('[data-testid=events] li[data-point="underlay/sw0"] >> text=ICMP echo request');
    await page.waitForSelector('[data-testid=layers] [data-layer="outer IPv4"]');
    const layer = async (name: string) => (await page.textContent(`[data-testid=layers] [data-layer="${name}"]`)) ?? '';
    assert.match(await layer('outer IPv4'), new RegExp(`src${nodeIp('server').replace(/\./g, '\\.')}dst${nodeIp('agent1').replace(/\./g, '\\.')}`));
    assert.match(await layer('outer UDP'), /dst port8472/);
    assert.match(await layer('VXLAN'), /vni1/);
    assert.match(await layer('inner IPv4'), new RegExp(`src${p1.ip.replace(/\./g, '\\.')}dst${p3.ip.replace(/\./g, '\\.')}`));
    await page.waitForTimeout(900); // the packet's move to the switch has ended
    await shot('journey-across-nodes');
    if (process.env.UPDATE_SCREENSHOTS) copyFileSync(join(OUT, 'journey-across-nodes.png'), join(ROOT, 'docs', 'ui.png'));
    assert.deepEqual(problems, []);
  });

  test('a pod added from the page appears in the drawing, and goes when deleted', T, async () => {
    await page.click('nav >> text=Lab');
    await page.fill('input[name=pod]', 'pod4');
    await page.selectOption('select[name=node]', 'agent1');
    await page.click('text=add pod');
    await page.waitForSelector('[data-testid=lab-message].ok');
    const k = kernelPod('pod4');
    await page.waitForSelector(`svg g.pod-iface text:text-is("${k.ip}")`, { timeout: 3000 });
    await page.waitForSelector('svg g.pod text:text-is("pod4")', { timeout: 3000 });
    await shot('pod-added');
    await page.selectOption('select[name=victim]', 'pod4');
    await page.click('text=delete pod');
    await page.waitForSelector('[data-testid=lab-message].ok');
    assert.ok(!labNetns(lab).some((n) => readState(root, lab).pods.some((p) => p.name === 'pod4' && p.netns === n)));
    await page.waitForSelector('svg g.pod text:text-is("pod4")', { state: 'detached', timeout: 3000 });
    assert.deepEqual(problems, []);
  });
});
