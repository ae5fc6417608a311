// `podnet ui` as a user runs it: it prints one URL with a one-time token on 127.0.0.1, the URL opens a
// session that sees the lab, Ctrl-C stops it at once — right after the URL is printed (the first scan
// and ELK's warm-up still running) and with a page open in Chromium (its event stream and keep-alive
// connections open) — exiting 0 by itself with "podnet ui: stopped" last and no process of its own
// left; bad flags get one error line and start nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { BIN, ROOT, T, labName, newStateDir, oneErrorLine, podnet, show, tearDown } from './cli.js';
import { login, request } from '../kernel/web/client.js';
import { childrenOf, waitFor, within } from '../kernel/helpers.js';
import type { TopologyDoc } from '../../src/web/api.js';

const CHROMIUM = '/usr/bin/chromium';
/** How soon after Ctrl-C `podnet ui` must have exited. */
const STOP_MS = 500;

/** A process as /proc shows it: its PID and start time (so a reused PID is not taken for it). */
type Proc = `${number}@${string}`;
const startOf = (pid: number | string): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
};
/** Every process under `pid` now (children, their children…). */
const descendants = (pid: number | string): Proc[] => childrenOf(pid).flatMap((c) => {
  const start = startOf(c);
  return start ? [`${Number(c)}@${start}` as Proc, ...descendants(c)] : [];
});
/** The processes of `procs` that still exist (a zombie too: nobody reaped it). */
const left = (procs: Iterable<Proc>): Proc[] => [...procs].filter((p) => {
  const [pid, start] = p.split('@');
  return startOf(pid) === start;
});

/** `podnet ui --lab LAB` started as a user starts it, once it has printed its URL. */
async function serve(lab: string, stateDir: string) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [BIN, 'ui', '--lab', lab], { cwd: ROOT, env: { ...process.env, PODNET_STATE_DIR: stateDir }, stdio: 'pipe' });
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, at: performance.now() })));
  // Its children (the shells it runs commands through) and what they run, seen every few ms.
  const kids = new Set<Proc>();
  const seen = new Set<Proc>();
  const look = () => {
    for (const c of childrenOf(child.pid!)) {
      const start = startOf(c);
      if (start) kids.add(`${Number(c)}@${start}`);
    }
    for (const p of descendants(child.pid!)) seen.add(p);
  };
  const watch = setInterval(look, 5);
  void exited.then(() => clearInterval(watch));
  await waitFor(() => stdout.includes('\n') || child.exitCode !== null, 20_000, 2);
  const url = stdout.trim();
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) {
    child.kill('SIGKILL');
    throw new Error(`podnet ui printed no URL (exit ${String(child.exitCode)})\nstdout: ${stdout}\nstderr: ${stderr}`);
  }
  return {
    child, url, seen,
    out: () => ({ stdout, stderr }),
    /** Ctrl-C; resolves with how it ended, how long it took, and what of its processes was left. */
    async interrupt() {
      look();
      const t0 = performance.now();
      child.kill('SIGINT');
      const end = await within(exited, 10_000, undefined);
      if (!end) child.kill('SIGKILL');
      // Its own children must be gone (and reaped) once it has exited; a command a stopped shell was
      // running (a read of the kernel) gets a moment to finish.
      const leftAtExit = left(kids);
      await waitFor(() => left(seen).length === 0, 1000, 20);
      return { ...(end ?? { code: null, signal: null }), ms: end ? end.at - t0 : Infinity, leftAtExit, leftAfter: left(seen), stderr };
    },
  };
}

describe('podnet ui', () => {
  let stateDir = '';
  const lab = labName();
  before(async () => {
    stateDir = await newStateDir('ui');
    const up = await podnet(['lab', 'up', '--name', lab], { stateDir });
    assert.equal(up.code, 0, show(up));
  });
  after(() => tearDown([{ lab, stateDir }], [stateDir]));

  /** The checks of a stop: exit 0 by itself within STOP_MS, "podnet ui: stopped" last, nothing left. */
  const stoppedCleanly = (r: Awaited<ReturnType<Awaited<ReturnType<typeof serve>>['interrupt']>>, what: string) => {
    assert.equal(r.code, 0, `${what}: exit ${String(r.code)} (${String(r.signal)})\n${r.stderr}`);
    assert.match(r.stderr, /podnet ui: stopped\n$/, `${what}: the last line says it stopped`);
    assert.ok(r.ms <= STOP_MS, `${what}: exited ${Math.round(r.ms)} ms after SIGINT (at most ${STOP_MS})`);
    assert.deepEqual(r.leftAtExit, [], `${what}: its children are gone when it has exited`);
    assert.deepEqual(r.leftAfter, [], `${what}: nothing it started is left`);
  };

  test('prints a login URL on 127.0.0.1, serves the lab read-only, stops on Ctrl-C', T, async () => {
    const ui = await serve(lab, stateDir);
    try {
      const { stdout, stderr } = ui.out();
      assert.match(ui.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/, `stdout: ${stdout}\nstderr: ${stderr}`);
      assert.match(stderr, new RegExp(`serving lab "${lab}", read-only on 127\\.0\\.0\\.1:\\d+`));
      const cookie = await login(ui.url);
      const port = Number(new URL(ui.url).port);
      const doc = (await request(port, '/api/topology', { cookie })).json as TopologyDoc;
      assert.deepEqual(doc.source, { kind: 'lab', lab, status: 'up' });
      assert.deepEqual(doc.nodes.flatMap((n) => n.graph.pods.map((p) => p.name)).sort(), ['kube-dns', 'pod1', 'pod2'], 'the node\'s pods, the DNS pod lab up runs among them');
      assert.equal((await request(port, '/api/pods', { cookie, method: 'POST', body: { name: 'pod3' } })).status, 403);
      const page = await request(port, '/', { cookie });
      assert.equal(page.status, 200, 'the built front end is served');
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.doesNotMatch(page.text, /https?:\/\//, 'nothing is loaded from elsewhere');
    } finally {
      stoppedCleanly(await ui.interrupt(), 'after API calls');
    }
  });

  test('Ctrl-C right after the URL is printed (first scan and ELK warm-up under way) stops it at once', T, async () => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const ui = await serve(lab, stateDir);
      assert.match(ui.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=/, ui.out().stderr);
      const r = await ui.interrupt();
      times.push(Math.round(r.ms));
      stoppedCleanly(r, `run ${i + 1}`);
    }
    process.stderr.write(`# podnet ui: SIGINT right after the URL → exit: ${times.join(', ')} ms\n`);
  });

  test('Ctrl-C with a page open in Chromium (event stream, keep-alive connections) stops it at once', { ...T, skip: existsSync(CHROMIUM) ? false : 'chromium is not installed (scripts/setup.mjs installs it as root)' }, async () => {
    if (!existsSync(join(ROOT, 'dist', 'web', 'index.html'))) assert.fail('the front end is not built (npm run build:web)');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 30_000 });
    try {
      const times: number[] = [];
      for (let i = 0; i < 2; i++) {
        const ui = await serve(lab, stateDir);
        const page = await browser.newPage();
        await page.goto(ui.url);
        await page.waitForSelector('svg[data-testid=topology] g.pod', { timeout: 10_000 });
        await page.waitForSelector('header .live.on', { timeout: 10_000 }); // the event stream is open
        assert.ok(ui.seen.size > 0, 'it runs its shells');
        const r = await ui.interrupt();
        times.push(Math.round(r.ms));
        stoppedCleanly(r, `run ${i + 1}`);
        await page.close();
      }
      process.stderr.write(`# podnet ui: SIGINT with a page open → exit: ${times.join(', ')} ms\n`);
    } finally {
      await browser.close();
    }
  });

  test('bad flags: one error line, nothing served', T, async () => {
    assert.match(oneErrorLine(await podnet(['ui', '--port', '70000'], { stateDir })), /^--port: "70000" is not a port/);
    assert.match(oneErrorLine(await podnet(['ui', '--host', '--allow-changes'], { stateDir })), /^--allow-changes works with labs only/);
    assert.match(oneErrorLine(await podnet(['ui', '--host', '--lab', lab], { stateDir })), /^give one of --lab or --host$/);
    assert.match(oneErrorLine(await podnet(['ui', '--lab', 'Bad_Name'], { stateDir })), /^--lab: "Bad_Name": a lab name must be lowercase/);
  });

  test('--help explains it with examples', T, async () => {
    const r = await podnet(['ui', '--help'], { stateDir });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^Usage: podnet ui /);
    assert.match(r.stdout, /127\.0\.0\.1/);
    assert.match(r.stdout, /\nExamples:\n {2}podnet ui /);
  });
});
