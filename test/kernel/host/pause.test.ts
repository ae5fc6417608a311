// Pause processes made by podnet's spawner (src/host/pause.ts, native/pause.c) against what the kernel
// reports: each lives in the namespace it was asked for, named pause, in a session of its own, marked
// as its owner's, with nothing of the spawner's open; it outlives podnet's helpers and is found and
// stopped like any process podnet started — alone, though it shares the spawner's memory with its
// siblings. PODNET_PAUSE_FORK=0 starts the plain program instead.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { ExecRunner } from '../../../src/host/runner.js';
import { ShellRunner } from '../../../src/host/shell-runner.js';
import { HostError } from '../../../src/host/errors.js';
import { pauseStartAll, processStopAll } from '../../../src/host/process.js';
import { endHelpers } from '../../../src/host/helper.js';
import { packagePath } from '../../../src/host/package-root.js';
import { alive, cmdline, labProcesses, netInodeOf, run, statInode, uniqueName, waitFor } from '../helpers.js';

const T = { timeout: 30_000 };
const owner = uniqueName('pnxp');
const [nsA, nsB] = ['a', 'b'].map((s) => `podnet-${owner}-${s}`);
const path = (ns: string) => `/run/netns/${ns}`;
const started: number[] = [];

/** Field `i` (1-based, after the command) of /proc/PID/stat. */
const statField = (pid: number, i: number) => {
  const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[i - 3]);
};

before(() => {
  for (const ns of [nsA, nsB]) run(['ip', 'netns', 'add', ns]);
});

after(async () => {
  await processStopAll(new ExecRunner(), started, owner);
  for (const ns of [nsA, nsB]) run(['ip', 'netns', 'del', ns]);
  await endHelpers();
});

test('a forked pause process lives in its namespace, named pause, in its own session, marked, with nothing of the spawner open', T, async () => {
  const runner = new ShellRunner(1);
  try {
    const pids = await pauseStartAll(runner, [nsA, nsB, nsA].map((ns) => ({ path: path(ns) })), owner);
    started.push(...pids);
    assert.equal(new Set(pids).size, 3, 'three processes');
    assert.deepEqual(pids.map((p) => netInodeOf(p)), [nsA, nsB, nsA].map((ns) => statInode(path(ns))));
    for (const pid of pids) {
      assert.equal(readFileSync(`/proc/${pid}/comm`, 'latin1').trim(), 'pause');
      assert.deepEqual(cmdline(pid), ['pause']);
      assert.ok(readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`PODNET_LAB=${owner}`), 'marked');
      assert.equal(statField(pid, 6), pid, 'session leader (setsid)');
      assert.equal(readlinkSync(`/proc/${pid}/cwd`), '/');
      const fds = readdirSync(`/proc/${pid}/fd`).map((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`));
      assert.deepEqual(fds, ['/dev/null', '/dev/null', '/dev/null'], 'stdio on /dev/null, nothing else open');
    }
    // The spawner carried the mark it hands on; it has ended with the call: the marked processes are the pause processes.
    assert.deepEqual(labProcesses(owner).sort(), [...pids].sort());
  } finally {
    runner.close();
  }
});

test('pause processes outlive podnet\'s helpers, and stop on SIGTERM', T, async () => {
  const [pid] = await pauseStartAll(new ExecRunner(), [{ path: path(nsB) }], owner);
  started.push(pid);
  await endHelpers();
  assert.ok(alive(pid), 'still there once podnet\'s helpers have gone');
  await processStopAll(new ExecRunner(), [pid], owner, 2000);
  assert.ok(await waitFor(() => !alive(pid), 3000), 'gone after SIGTERM');
  // A new spawner is started on the next request.
  const [again] = await pauseStartAll(new ExecRunner(), [{ path: path(nsA) }], owner);
  started.push(again);
  assert.equal(netInodeOf(again), statInode(path(nsA)));
});

test('a namespace that is not there fails as nsenter would, naming it, and starts nothing', T, async () => {
  const before = labProcesses(owner).length;
  await assert.rejects(pauseStartAll(new ExecRunner(), [{ path: path(`${nsA}-missing`) }], owner), (e: unknown) => {
    assert.ok(e instanceof HostError);
    assert.equal(e.kind, 'not-found');
    assert.match(e.message, new RegExp(`${nsA}-missing: No such file or directory`));
    return true;
  });
  assert.equal(labProcesses(owner).length, before);
});

test('PODNET_PAUSE_FORK=0 starts the plain program (busybox sleep) through nsenter', T, async () => {
  process.env.PODNET_PAUSE_FORK = '0';
  try {
    const [pid] = await pauseStartAll(new ExecRunner(), [{ path: path(nsB) }], owner);
    started.push(pid);
    assert.ok(await waitFor(() => cmdline(pid)?.[0] === 'busybox' && netInodeOf(pid) === statInode(path(nsB)), 5000), `busybox sleep in ${nsB}: ${cmdline(pid)?.join(' ')}`);
  } finally {
    delete process.env.PODNET_PAUSE_FORK;
  }
});

test('a pause process ends alone: its siblings, which share the spawner\'s memory, and the spawner go on', T, async () => {
  const runner = new ShellRunner(1);
  try {
    const [a, b] = await pauseStartAll(runner, [{ path: path(nsA) }, { path: path(nsB) }], owner);
    started.push(a, b);
    // (Made with CLONE_VM and not CLONE_THREAD: a signal that ends one is not the others'.)
    process.kill(a, 'SIGKILL');
    assert.ok(await waitFor(() => !alive(a), 3000), 'the killed one is gone');
    assert.ok(alive(b), 'its sibling still runs');
    const [c] = await pauseStartAll(runner, [{ path: path(nsA) }], owner);
    started.push(c);
    assert.equal(netInodeOf(c), statInode(path(nsA)), 'and the spawner still makes them');
  } finally {
    runner.close();
  }
});

test('the spawner answers every line in order: a missing namespace and an over-long line each get an error, then it goes on', T, () => {
  const long = 'x'.repeat(70_000);
  const r = spawnSync(packagePath('dist', 'native', 'pause'), { env: { ...process.env, PODNET_LAB: owner }, input: `${path(nsA)}-missing\n${long}\n${path(nsB)}\n`, encoding: 'utf8', timeout: 10_000 });
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 3, r.stdout);
  assert.equal(lines[0], 'E 2 No such file or directory');
  assert.equal(lines[1], 'E 36 File name too long');
  const m = /^K (\d+)$/.exec(lines[2]);
  assert.ok(m, lines[2]);
  started.push(Number(m[1]));
  assert.equal(netInodeOf(Number(m[1])), statInode(path(nsB)));
});
