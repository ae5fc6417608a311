// ui.close() on a real lab ends everything the server runs, at once: called while the first scan and
// ELK's warm-up are under way, or with an event stream open and the live poll running, it resolves
// promptly, no command of the server's runs after it (a scan in flight is abandoned, not finished),
// the event stream ends, and no worker, server socket or timer of the server is left.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Host } from '../../../src/host/host.js';
import type { Command, RunResult, Runner } from '../../../src/host/runner.js';
import { startUi } from '../../../src/web/server.js';
import { sleep, withLab } from '../helpers.js';
import { EventStream, login } from './client.js';

const T = { timeout: 60_000 };
/** How long close() may take (it waits for the ELK worker to stop; nothing else). */
const CLOSE_MS = 400;

/** Counts the commands `inner` is asked to run. */
class Counting implements Runner {
  runs = 0;
  constructor(private readonly inner: Runner) {}
  run(cmd: Command): Promise<RunResult> {
    this.runs++;
    return this.inner.run(cmd);
  }
  start(cmd: Command): Promise<number> {
    this.runs++;
    return this.inner.start(cmd);
  }
  signal(pid: number, signal: NodeJS.Signals): Promise<void> {
    return this.inner.signal(pid, signal);
  }
}

/** What of the server's kind is still open in this process (workers, sockets, servers). */
const resources = () => process.getActiveResourcesInfo().filter((r) => /Worker|MessagePort|TCP/.test(r));

describe('ui.close()', () => {
  const fixture = withLab('web-close', { nodes: [{ name: 'server' }, { name: 'agent1' }], pods: [{ name: 'pod1', node: 'server' }, { name: 'pod2', node: 'agent1' }] }, { prefix: 'kc' });

  test('right after start (first scan and ELK warm-up under way): prompt, and nothing runs after it', T, async () => {
    await fixture.ready();
    assert.deepEqual(resources(), [], 'nothing open before');
    for (let i = 0; i < 3; i++) {
      const runner = new Counting(fixture.deps.host.runner);
      const errors: unknown[] = [];
      const ui = await startUi({ deps: { ...fixture.deps, host: new Host(runner) }, target: await fixture.target(), allowChanges: false, port: 0, log: (e) => errors.push(e) });
      await sleep(i * 40); // at once, then a little into the first scan
      const t0 = performance.now();
      await ui.close();
      const ms = performance.now() - t0;
      const ran = runner.runs;
      await sleep(500);
      assert.ok(ms <= CLOSE_MS, `close() took ${Math.round(ms)} ms`);
      assert.equal(runner.runs, ran, 'no command ran after close(): the scan in flight was abandoned');
      assert.deepEqual(resources(), [], 'no worker, socket or server left');
      assert.deepEqual(errors, [], 'stopping is not an error');
    }
  });

  test('with an event stream open and the poll running: the stream ends, the poll stops', T, async () => {
    await fixture.ready();
    const runner = new Counting(fixture.deps.host.runner);
    const errors: unknown[] = [];
    const ui = await startUi({ deps: { ...fixture.deps, host: new Host(runner) }, target: await fixture.target(), allowChanges: false, port: 0, log: (e) => errors.push(e), tickMs: 20 });
    const stream = await EventStream.open(ui.port, await login(ui.url));
    try {
      assert.ok(await stream.waitFor((d) => d.nodes.length === 2, 10_000), 'the stream sent the drawing');
      // Poke: the poll rescans on every tick for a while, so a scan is likely in flight at close().
      ui.live.poke();
      await sleep(100);
      const ended = stream.ended();
      const t0 = performance.now();
      await ui.close();
      const ms = performance.now() - t0;
      const ran = runner.runs;
      assert.equal(await Promise.race([ended.then(() => 'ended'), sleep(1000).then(() => 'open')]), 'ended', 'the event stream ended');
      await sleep(300);
      assert.ok(ms <= CLOSE_MS, `close() took ${Math.round(ms)} ms`);
      assert.equal(runner.runs, ran, 'no command ran after close()');
      assert.deepEqual(resources(), [], 'no worker, socket or server left');
      assert.deepEqual(errors, [], 'stopping is not an error');
    } finally {
      stream.close();
    }
  });
});
