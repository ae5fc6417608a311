// The bundled CLI's V8 code cache (bin/bundle.js), as a user's runs meet it: the first run of a verb
// saves what it compiled, the next run of it writes nothing, a new verb adds its own modules, a
// damaged cache file changes nothing a user sees and is written again, and PODNET_COMPILE_CACHE=0
// writes nothing. Each run gets a cache directory of its own (PODNET_COMPILE_CACHE_DIR), so other
// tests' runs cannot touch it. Skipped where the bundle is stale (after a plain `tsc`): then no
// bundle runs at all.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, T, newStateDir, podnet, show } from './cli.js';

const dist = join(ROOT, 'dist', 'src');
const fresh = (() => {
  try {
    return readFileSync(join(dist, 'bundle', 'stamp'), 'utf8') === String(statSync(join(dist, 'cli', 'main.js')).mtimeMs);
  } catch {
    return false;
  }
})();

/** Cache file → mtime (ms) of everything in `dir`. */
const files = (dir: string) => new Map(existsSync(dir) ? readdirSync(dir).map((f) => [f, statSync(join(dir, f)).mtimeMs]) : []);

describe('the bundled CLI\'s code cache', { skip: fresh ? false : 'the bundle is stale (plain tsc build): nothing to cache' }, () => {
  let stateDir = '';
  let cacheDir = '';
  before(async () => {
    stateDir = await newStateDir('cache');
    cacheDir = await mkdtemp(join(tmpdir(), 'podnet-e2e-cache-'));
  });
  after(async () => {
    await rm(stateDir, { recursive: true, force: true });
    await rm(cacheDir, { recursive: true, force: true });
  });
  const run = (args: string[], env: Record<string, string> = {}) => podnet(args, { stateDir, env: { PODNET_COMPILE_CACHE_DIR: cacheDir, ...env } });

  test('the first run saves, the same verb again writes nothing, another verb adds its modules', T, async () => {
    const help = await run(['--help']);
    assert.equal(help.code, 0, show(help));
    const first = files(cacheDir);
    assert.ok(first.has('main.cjs.bin'), `saved: ${[...first.keys()].join(' ')}`);
    assert.ok([...first.keys()].every((f) => f.endsWith('.cjs.bin')), 'no temporary file left');

    const again = await run(['--help']);
    assert.equal(again.stdout, help.stdout);
    assert.deepEqual(files(cacheDir), first, 'nothing written by a run that found every module cached');

    const list = await run(['lab', 'list']);
    assert.equal(list.code, 0, show(list));
    const after = files(cacheDir);
    assert.ok(after.size > first.size, `lab list adds its modules (${first.size} → ${after.size})`);
  });

  test('a damaged cache file changes nothing a user sees, and is written again', T, async () => {
    const file = join(cacheDir, 'main.cjs.bin');
    const good = await run(['--help']);
    writeFileSync(file, Buffer.from('not V8 bytecode'));
    const r = await run(['--help']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, good.stdout);
    assert.equal(r.stderr, '');
    assert.ok(statSync(file).size > 1000, 'rewritten with real bytecode');
  });

  test('PODNET_COMPILE_CACHE=0 runs without the cache and writes nothing', T, async () => {
    const off = await mkdtemp(join(tmpdir(), 'podnet-e2e-cache-off-'));
    try {
      const r = await podnet(['--help'], { stateDir, env: { PODNET_COMPILE_CACHE_DIR: off, PODNET_COMPILE_CACHE: '0' } });
      assert.equal(r.code, 0, show(r));
      assert.deepEqual(readdirSync(off), []);
    } finally {
      await rm(off, { recursive: true, force: true });
    }
  });
});
