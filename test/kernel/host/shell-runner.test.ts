// How many persistent shells a ShellRunner starts (src/host/shell-runner.ts): commands that come one
// at a time share one shell (each shell costs a spawn), and commands run at once get a shell each,
// up to the runner's size. Each command prints its parent's PID: the shell that ran it. A shell that
// dies under a job: a read runs again by spawning, a change does not (it may have taken effect).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueName } from '../helpers.js';
import { ShellRunner } from '../../../src/host/shell-runner.js';

const T = { timeout: 30_000 };
const parentOf = async (r: ShellRunner, pause = '0') => {
  const out = await r.run({ argv: ['sh', '-c', `sleep ${pause}; echo $PPID`], mutates: false });
  assert.equal(out.exitCode, 0, out.stderr);
  return Number(out.stdout.trim());
};

test('commands one at a time share one shell; at once, one shell each up to the size', T, async () => {
  const r = new ShellRunner(3);
  try {
    const oneByOne: number[] = [];
    for (let i = 0; i < 4; i++) oneByOne.push(await parentOf(r));
    assert.equal(new Set(oneByOne).size, 1, `one shell ran them all: ${oneByOne.join(' ')}`);
    assert.equal(r.started, 1);
    const together = await Promise.all([0, 1, 2, 3, 4].map(() => parentOf(r, '0.3')));
    assert.equal(new Set(together).size, 3, `three shells at most: ${together.join(' ')}`);
    assert.equal(r.started, 3);
    assert.ok(together.includes(oneByOne[0]), 'the first shell is one of them');
  } finally {
    await r.stop();
  }
});

test('a shell killed under a job: a read runs again by spawning; a change fails once, and ran once', T, async () => {
  const r = new ShellRunner(1);
  const file = join(tmpdir(), `${uniqueName('kshell')}.log`);
  // Appends a line, then kills its parent if that is the runner's shell (spawned again, its parent is
  // this test's Node, left alone).
  const job = ['sh', '-c', `echo ran >> ${file}; [ "$(cat /proc/$PPID/comm)" = sh ] && kill -9 $PPID; sleep 0.2; echo done`];
  try {
    const read = await r.run({ argv: job, mutates: false });
    assert.equal(read.stdout.trim(), 'done', 'the read was answered by its second run');
    assert.equal(readFileSync(file, 'utf8'), 'ran\nran\n', 'it ran twice: in the shell, then spawned');
    rmSync(file);
    await assert.rejects(r.run({ argv: job, mutates: true }), (e: Error) => /^sh: the shell running it ended before answering \(sh exited\); it may have taken effect, so it is not run again$/.test(e.message));
    assert.equal(readFileSync(file, 'utf8'), 'ran\n', 'the change ran once');
    assert.equal((await r.run({ argv: ['echo', 'next'], mutates: true })).stdout.trim(), 'next', 'a new shell takes the next job');
  } finally {
    await r.stop();
    rmSync(file, { force: true });
  }
});
