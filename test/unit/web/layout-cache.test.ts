// ELK's code cache (src/web/layout-worker.ts): written after the first layout, taken by the next
// worker (not written again), written again when damaged, never with PODNET_COMPILE_CACHE=0 — and the
// drawing is the same whichever way ELK was compiled. Each case has a cache directory of its own.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Layouter } from '../../../src/web/layouter.js';

const T = { timeout: 60_000 };
const root = mkdtempSync(join(tmpdir(), 'podnet-elk-cache-'));
const saved = { dir: process.env.PODNET_COMPILE_CACHE_DIR, off: process.env.PODNET_COMPILE_CACHE };
after(() => {
  rmSync(root, { recursive: true, force: true });
  for (const [k, v] of [['PODNET_COMPILE_CACHE_DIR', saved.dir], ['PODNET_COMPILE_CACHE', saved.off]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** The warm-up drawing made by a new worker with `env` (a worker copies the environment as it
 * starts); `settle` runs before the worker is stopped (it writes the cache after it has answered). */
async function layOut(env: Record<string, string | undefined>, settle: () => Promise<unknown> = async () => undefined): Promise<unknown> {
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const l = new Layouter();
  try {
    const drawing = await l.warm();
    assert.ok(drawing, 'the warm-up layout succeeded');
    await settle();
    return drawing;
  } finally {
    await l.close();
  }
}

/** Waits (bounded) until `file` holds more than `over` bytes and no temporary file is beside it. */
async function written(file: string, over = 100_000): Promise<number> {
  const done = () => existsSync(file) && statSync(file).size > over && readdirSync(join(file, '..')).length === 1;
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(readdirSync(join(file, '..')), ['elkjs.bin'], 'the cache, and no temporary file');
  return statSync(file).mtimeMs;
}

test('written after the first layout, taken by the next worker, the drawing unchanged', T, async () => {
  const dir = join(root, 'a');
  const file = join(dir, 'elkjs.bin');
  const compiled = await layOut({ PODNET_COMPILE_CACHE_DIR: dir, PODNET_COMPILE_CACHE: undefined }, () => written(file));
  const mtime = statSync(file).mtimeMs;
  assert.ok(statSync(file).size > 100_000, `${statSync(file).size} bytes: ELK's bytecode`);
  // Time for a rewrite, were there one.
  const cached = await layOut({ PODNET_COMPILE_CACHE_DIR: dir, PODNET_COMPILE_CACHE: undefined }, () => new Promise((r) => setTimeout(r, 300)));
  assert.equal(statSync(file).mtimeMs, mtime, 'V8 took the cache: not written again');
  assert.deepEqual(cached, compiled);
});

test('a damaged cache is refused, changes nothing drawn and is written again', T, async () => {
  const dir = join(root, 'b');
  const file = join(dir, 'elkjs.bin');
  const compiled = await layOut({ PODNET_COMPILE_CACHE_DIR: dir, PODNET_COMPILE_CACHE: undefined }, () => written(file));
  writeFileSync(file, 'not bytecode');
  const again = await layOut({ PODNET_COMPILE_CACHE_DIR: dir, PODNET_COMPILE_CACHE: undefined }, () => written(file));
  assert.ok(statSync(file).size > 100_000, 'written again');
  assert.deepEqual(again, compiled);
});

test('PODNET_COMPILE_CACHE=0: nothing read or written', T, async () => {
  const dir = join(root, 'c');
  await layOut({ PODNET_COMPILE_CACHE_DIR: dir, PODNET_COMPILE_CACHE: '0' }, () => new Promise((r) => setTimeout(r, 300)));
  assert.equal(existsSync(dir), false);
});
