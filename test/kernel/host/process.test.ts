// podnet's mark in a process's environment as /proc shows it (src/host/process.ts): found first, in the
// middle and last of the environment (and after 100 KB of it), not in a longer name, not for a process that is gone; and a
// marked process stopped by PID.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { ExecRunner } from '../../../src/host/runner.js';
import { processOwner, processStopAll, processesOwnedBy } from '../../../src/host/process.js';
import { uniqueName, waitFor } from '../helpers.js';

const T = { timeout: 30_000 };

test('the mark is read wherever it stands in the environment, and only under its own name', T, async (t) => {
  const owner = uniqueName('pnxo');
  const envs: Record<string, string>[] = [
    { PODNET_LAB: `${owner}-first`, X: '1' }, { A: '1', PODNET_LAB: `${owner}-mid`, Z: '2' },
    { A: '1', XPODNET_LAB: 'not-this' }, { A: '1', PODNET_LAB: `${owner}-last` },
    // Bigger than the buffer the environments are read into (64 KiB): it grows.
    { BIG: 'x'.repeat(100_000), PODNET_LAB: `${owner}-after-100k` },
  ];
  const children: ChildProcess[] = envs.map((env) => spawn('sleep', ['30'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: 'ignore' }));
  t.after(() => { for (const c of children) c.kill('SIGKILL'); });
  assert.ok(await waitFor(async () => (await processOwner(children[4].pid!)) !== undefined, 5000), 'the children have exec\'d');
  assert.deepEqual(await Promise.all(children.map((c) => processOwner(c.pid!))), [`${owner}-first`, `${owner}-mid`, undefined, `${owner}-last`, `${owner}-after-100k`]);
  assert.deepEqual(await processesOwnedBy(`${owner}-mid`), [children[1].pid]);
  await processStopAll(new ExecRunner(), [children[1].pid!, children[2].pid!], `${owner}-mid`);
  assert.equal(await processOwner(children[1].pid!), undefined, 'the marked process is gone');
  assert.equal(children[2].exitCode ?? children[2].signalCode, null, 'the unmarked one was left alone');
});
