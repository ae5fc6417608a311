// Directories podnet makes once per process, and files written where the directory may be missing:
// on a private temporary directory (files only, nothing of the network).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDir, removeDir, writeFileMakingDir } from '../../../src/host/dirs.js';

function scratch(t: { after: (fn: () => void) => void }): string {
  const root = mkdtempSync(join(tmpdir(), 'pnx-dirs-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

test('ensureDir makes the directory 0700 with its parents; 32 calls at once share one mkdir', async (t) => {
  const dir = join(scratch(t), 'a', 'b');
  const calls = Array.from({ length: 32 }, () => ensureDir(dir));
  assert.equal(new Set(calls).size, 1, 'one promise for the directory');
  await Promise.all(calls);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
});

test('a failed mkdir is not remembered: the next call tries again', async (t) => {
  const root = scratch(t);
  const blocker = join(root, 'file');
  await writeFileMakingDir(blocker, 'x', 0o600);
  await assert.rejects(ensureDir(join(blocker, 'sub')), /ENOTDIR|EEXIST/);
  await rm(blocker);
  await ensureDir(join(blocker, 'sub'));
  assert.ok(statSync(join(blocker, 'sub')).isDirectory());
});

test('writeFileMakingDir writes with the mode, and makes the directory again after it was deleted', async (t) => {
  const dir = join(scratch(t), 'results');
  const file = join(dir, 'cbr0-abc-eth0');
  await writeFileMakingDir(file, 'one', 0o600);
  assert.equal(readFileSync(file, 'utf8'), 'one');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  rmSync(dir, { recursive: true }); // deleted under a long-running process
  await writeFileMakingDir(file, 'two', 0o600);
  assert.equal(readFileSync(file, 'utf8'), 'two');
  await removeDir(dir);
  await ensureDir(dir); // forgotten by removeDir: made again
  assert.ok(statSync(dir).isDirectory());
});
