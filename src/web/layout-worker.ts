// Runs ELK off the server's main thread: laying out 250 pods takes about half a second, which would
// otherwise hold up every request and event stream meanwhile. One message in (an ELK graph), one out.
//
// ELK is one 1.6 MB script. Compiling it took ~160 ms of this thread on every start, and a thread
// compiling cannot be stopped: `podnet ui` stopped by Ctrl-C right after it started waited for the
// compile before it could exit. So it is compiled with a V8 code cache, as bin/bundle.js compiles
// the CLI's bundle (~16 ms instead): the bytecode a previous run saved in dist/src/bundle/.cache/ (or
// PODNET_COMPILE_CACHE_DIR), written after the first layout so that the functions a layout runs are
// in it too. A missing, torn or foreign cache (another Node, another elkjs) is refused by V8 and
// written again; nothing is written where the directory is not writable, and
// PODNET_COMPILE_CACHE=0 turns it off.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { parentPort } from 'node:worker_threads';
import type { ELK, ElkNode } from 'elkjs/lib/elk-api.js';

const require = createRequire(import.meta.url);
const ELK_FILE = require.resolve('elkjs/lib/elk.bundled.js');
// This file runs from dist/src/web (tsc's output) or dist/src/bundle (the bundle): the cache is the bundle's either way.
const CACHE = join(process.env.PODNET_COMPILE_CACHE_DIR || fileURLToPath(new URL('../bundle/.cache/', import.meta.url)), 'elkjs.bin');
const useCache = process.env.PODNET_COMPILE_CACHE !== '0';

/** ELK's constructor, compiled with the cache when there is one; `save` writes the cache if it was
 * missing or refused, once (a no-op otherwise and after). */
function loadElk(): { Elk: new () => ELK; save: () => void } {
  let cachedData: Buffer | undefined;
  try {
    if (useCache) cachedData = readFileSync(CACHE);
  } catch {
    // none yet: compiled from source, saved after the first layout
  }
  const script = new vm.Script(Module.wrap(readFileSync(ELK_FILE, 'utf8')), { filename: ELK_FILE, cachedData });
  const mod = { exports: {} as unknown };
  (script.runInThisContext() as (...a: unknown[]) => void).call(mod.exports, mod.exports, require, mod, ELK_FILE, dirname(ELK_FILE));
  let stale = useCache && (!cachedData || script.cachedDataRejected === true);
  const save = () => {
    if (!stale) return;
    stale = false;
    const tmp = `${CACHE}.${process.pid}`;
    try {
      mkdirSync(dirname(CACHE), { recursive: true });
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, CACHE);
    } catch {
      rmSync(tmp, { force: true }); // not writable, or a full disk: the next start compiles again
    }
  };
  return { Elk: mod.exports as new () => ELK, save };
}

const { Elk, save } = loadElk();
const elk = new Elk();
parentPort?.on('message', (m: { seq: number; graph: ElkNode }) => {
  elk.layout(m.graph).then(
    (laid: ElkNode) => parentPort?.postMessage({ seq: m.seq, laid }),
    (e: unknown) => parentPort?.postMessage({ seq: m.seq, error: e instanceof Error ? e.message : String(e) }),
  ).finally(save);
});
