// The launcher (src/host/launcher.ts): podnet's helpers and shells are forked by one Perl process,
// not by Node. Checked against /proc: every launched process is the launcher's child, podnet has one
// child however many it launched, the environment it was given is in the process's own environ, its
// stdout and stderr arrive apart, a connection that names no launch is closed, a program that cannot
// be run ends without hanging anyone, and once everything is ended nothing of it is left; every exit
// is reported, also on a busy machine.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { endLauncher, launch, launcherAddress, launcherPid } from '../../../src/host/launcher.js';
import { alive, childrenOf, waitFor } from '../helpers.js';

const T = { timeout: 30_000 };
const started: number[] = [];

after(async () => {
  await endLauncher();
  for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

const ppidOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
};

/** Collects what a stream sends until `done` says it is enough (bounded). */
const collect = async (s: NodeJS.ReadableStream, done: (text: string) => boolean): Promise<string> => {
  let text = '';
  s.on('data', (b: Buffer) => { text += b.toString(); });
  (s as unknown as { resume(): void }).resume();
  await waitFor(() => done(text), 5000, 10);
  return text;
};

test('three shells launched: each a child of the launcher, podnet has one child, stdout and stderr apart, the environment given', T, async () => {
  const shells = [0, 1, 2].map(() => launch(['sh'], { stderr: true, env: { PODNET_PNX_TEST: 'yes' } }));
  const ready = await Promise.all(shells.map((l) => l.ready));
  await waitFor(() => shells.every((l) => l.pid !== undefined), 5000, 10);
  for (const l of shells) started.push(l.pid!);
  const lp = launcherPid();
  assert.ok(lp && alive(lp), 'the launcher runs');
  for (const l of shells) assert.equal(ppidOf(l.pid!), lp, `sh ${l.pid} is the launcher's child`);
  assert.deepEqual(childrenOf(process.pid), [lp], 'podnet itself started one process');
  const environ = readFileSync(`/proc/${shells[0].pid!}/environ`, 'latin1').split('\0');
  assert.ok(environ.includes('PODNET_PNX_TEST=yes'), 'the environment given is the process\'s own');
  const { io, err } = ready[0];
  const out = collect(io, (t) => t.includes('to-out'));
  const errText = collect(err!, (t) => t.includes('to-err'));
  io.write('echo to-out; echo to-err >&2\n');
  assert.equal((await out).trim(), 'to-out');
  assert.equal((await errText).trim(), 'to-err');
  for (const [i, l] of shells.entries()) {
    ready[i].io.end();
    await l.waitExit();
    assert.equal(alive(l.pid!), false, `sh ${l.pid} exited once its stdin ended`);
  }
});

test('a connection that names no launch is closed; a program that cannot run ends without hanging', T, async () => {
  const l = launch(['sh']);
  await l.ready;
  const address = launcherAddress();
  assert.ok(address);
  const stranger = connect(address);
  stranger.on('error', () => undefined);
  stranger.write('0123456789abcdef A\n');
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5000);
    stranger.on('close', () => { clearTimeout(timer); resolve(true); });
  });
  assert.ok(closed, 'the launcher\'s socket closed a connection with an unknown token');
  (await l.ready).io.end();
  await l.waitExit();
  const missing = launch(['podnet-no-such-program-pnx']);
  const gone = await Promise.race([missing.waitExit().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
  assert.ok(gone, 'a program that is not there: its launch ends');
});

test('ended: the launcher exits and is reaped; the next launch starts another', T, async () => {
  const first = launcherPid();
  assert.ok(first);
  await endLauncher();
  assert.equal(alive(first), false, 'the launcher is gone');
  assert.deepEqual(childrenOf(process.pid), [], 'no child of podnet is left');
  const l = launch(['sh']);
  const { io } = await l.ready;
  assert.notEqual(launcherPid(), first, 'a new launcher');
  io.end();
  await l.waitExit();
});

test('every exit is reported, one process after another while the CPUs are busy (a SIGCHLD must not wait for the next request)', { timeout: 60_000 }, async () => {
  // Two busy loops (this test's own, ended by PID) make the launcher lose the CPU at any moment: an
  // exit reported only from a signal handler was lost now and then (in ~300 launches here).
  const hogs = [0, 1].map(() => spawn('timeout', ['40', 'sh', '-c', 'while :; do :; done'], { stdio: 'ignore' }));
  try {
    for (let i = 0; i < 800; i++) {
      const l = launch(['true']);
      const r = await Promise.race([l.waitReaped().then(() => 'reported'), new Promise((res) => setTimeout(() => res('lost'), 3000))]);
      assert.equal(r, 'reported', `launch ${i + 1}: its exit was reported`);
    }
  } finally {
    for (const h of hogs) if (h.pid && alive(h.pid)) process.kill(h.pid, 'SIGTERM'); // timeout(1) passes it on to its loop
  }
});
