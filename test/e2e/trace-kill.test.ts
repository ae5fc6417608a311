// A trace stopped in the middle leaves nothing behind. While a trace's evidence runs (its `-j TRACE`
// rules in the nodes' raw tables, xtables-monitor, tcpdump, a tracefs instance for skb:kfree_skb):
// Ctrl-C (SIGINT) makes the CLI remove everything itself and exit 130; SIGKILL leaves its journal,
// and what `podnet clean` runs for traces (the journal's leftovers, tracefs instances of dead
// processes) removes the rest. `podnet clean` itself is not run: it removes every podnet namespace on
// the machine, other tests' labs too. Everything is read back from the kernel and /proc.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, T, labName, newStateDir, podnet, show, tearDown, type CliResult } from './cli.js';
import { runStatus } from '../kernel/helpers.js';
import { deadInstances, traceLeftovers } from '../kernel/trace/leftovers.js';
import { ExecRunner } from '../../src/host/runner.js';
import { traceJournalLeftovers } from '../../src/host/trace-journal.js';
import { dropWatchLeftovers } from '../../src/host/tracefs.js';

const ok = (r: CliResult) => assert.equal(r.code, 0, show(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A process that exists and is not a zombie (an orphan's exit is reaped by whoever adopted it). */
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
const describePid = (pid: number) => `${pid}: ${(() => { try { return readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ').slice(0, 4).join(' ') + ' ' + readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '); } catch { return 'gone'; } })()}`;

describe('a trace killed mid-way leaves nothing behind', () => {
  const X = labName();
  let stateDir = '';

  before(async () => {
    stateDir = await newStateDir('trace-kill');
    ok(await podnet(['lab', 'up', '--nodes', '2', '--pods', '2', '--name', X], { stateDir }));
  });
  after(async () => {
    await tearDown([{ lab: X, stateDir }], [stateDir]);
  });

  /** Starts `podnet trace pod1 pod2 --tcp 8080` and waits (bounded) until its TRACE rule is in the
   * server's raw table; resolves with the child, its exit, and the PIDs its journal lists. */
  async function traceRunning(): Promise<{ pid: number; exited: Promise<number | string>; pids: number[] }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const child = spawn('node', [BIN, 'trace', 'pod1', 'pod2', '--tcp', '8080', '--name', X], { env: { ...process.env, PODNET_STATE_DIR: stateDir }, stdio: 'ignore' });
      const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code ?? -1)));
      const journal = join(stateDir, 'traces', `${child.pid}.json`);
      const deadline = Date.now() + 15_000;
      let done = false;
      void exited.then(() => { done = true; });
      while (!done && Date.now() < deadline) {
        const raw = runStatus(['ip', 'netns', 'exec', `podnet-${X}-server`, 'iptables-save', '-t', 'raw']).stdout;
        const items = existsSync(journal) ? (JSON.parse(readFileSync(journal, 'utf8') || '{}') as { items?: { kind: string; pid?: number }[] }).items ?? [] : [];
        const procs = items.filter((i) => i.kind === 'process').map((i) => i.pid!);
        if (raw.includes('podnet-trace') && procs.length >= 2) return { pid: child.pid!, exited, pids: procs };
        await sleep(15);
      }
      await exited; // the trace ended before it was caught running: try again
    }
    throw new Error('never caught a trace while its evidence ran');
  }

  test('SIGINT (Ctrl-C): exits 130 and removes its rules, processes, tracefs instance and journal', T, async () => {
    const t = await traceRunning();
    process.kill(t.pid, 'SIGINT');
    assert.equal(await t.exited, 130);
    assert.deepEqual(traceLeftovers(X, stateDir, t.pid), []);
    for (let i = 0; i < 50 && t.pids.some(alive); i++) await sleep(20);
    assert.deepEqual(t.pids.filter(alive).map(describePid), [], 'the trace\'s tcpdumps and monitors are gone');
  });

  test('SIGKILL: the rules stay until clean\'s trace step removes them (journal, tracefs)', T, async () => {
    const t = await traceRunning();
    process.kill(t.pid, 'SIGKILL');
    assert.equal(await t.exited, 'SIGKILL');
    const left = traceLeftovers(X, stateDir);
    assert.ok(left.some((l) => l.includes('podnet-trace')), `a TRACE rule is left: ${left.join('; ')}`);
    assert.ok(left.some((l) => l.startsWith('journal ')), 'the journal is left');
    // the journal names the trace's temporary directory (captures, rule tracer output); clean removes it
    const journal = JSON.parse(readFileSync(join(stateDir, 'traces', `${t.pid}.json`), 'utf8')) as { items: { kind: string; path?: string }[] };
    const tmp = journal.items.find((i) => i.kind === 'dir')?.path;
    assert.ok(tmp && existsSync(tmp), `the journal names the trace's directory: ${JSON.stringify(journal.items)}`);
    const removed = await traceJournalLeftovers(new ExecRunner(), stateDir);
    const instances = await dropWatchLeftovers(new ExecRunner());
    assert.ok(removed.some((r) => /TRACE rule/.test(r)), removed.join('; '));
    assert.deepEqual(deadInstances(t.pid), [], `instances removed: ${instances.join(', ')}`);
    assert.deepEqual(traceLeftovers(X, stateDir), []);
    assert.ok(!existsSync(tmp), `${tmp} removed`);
    // Every process the trace started carries its mark, journaled or not (a capture may start just before the kill).
    const marked = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => { try { return readFileSync(`/proc/${p}/environ`, 'latin1').split('\0').includes(`PODNET_LAB=podnet-trace-${t.pid}`); } catch { return false; } });
    assert.deepEqual(marked.filter((p) => alive(Number(p))), [], 'no process of the killed trace is left');
    assert.ok(removed.includes(`directory ${tmp}`), removed.join('; '));
    assert.deepEqual(t.pids.filter(alive).map(describePid), [], 'the journal\'s processes are stopped');
  });
});
