// How many persistent shells a ShellRunner starts (src/host/shell-runner.ts): commands that come one
// at a time share one shell (each shell costs a spawn), and commands run at once get a shell each,
// up to the runner's size. Each command prints its parent's PID: the shell that ran it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
