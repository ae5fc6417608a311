// Loads a bundled entry (dist/src/bundle/NAME.cjs, scripts/bundle.mjs) for the launchers in this
// directory, with a V8 code cache: Node 20 compiles every function of the CLI again on every run
// (a run of `inspect` or `lab up` compiles a few thousand), and gives ES modules no way to reuse the
// work, but a CommonJS module compiled through vm.Script can take `cachedData`. So the bundle's
// modules are compiled here, each with the bytecode a previous run saved in dist/src/bundle/.cache/.
// A run that loaded a module with no cache (or one V8 refused: another Node, another build) saves,
// as it exits, the bytecode of every bundle module it loaded — after running, so the functions this
// verb called are in it too, and each new verb adds its own. Files are written whole (temporary file,
// rename); a torn or foreign one is refused by V8 and written again. Nothing is written where the
// directory is not writable (a non-root user), and PODNET_COMPILE_CACHE=0 turns it all off.
// (The npm package v8-compile-cache does the same job, measured equal on `inspect`, but keys its
// store by the working directory, saves the cache before the code has run, and stops saving for good
// when a run dies holding its lock file.)
import Module, { createRequire } from 'node:module';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const dist = fileURLToPath(new URL('../dist/src/', import.meta.url));
const dir = join(dist, 'bundle');
// PODNET_COMPILE_CACHE_DIR puts the cache elsewhere (the tests use a directory of their own).
const cacheDir = process.env.PODNET_COMPILE_CACHE_DIR || join(dir, '.cache');

/** The bundle's module NAME (`main`, `cni/main`) while the bundle matches the tsc build it was made
 * from (its stamp is that build's dist/src/cli/main.js mtime), else undefined (run tsc's output). */
export function loadBundle(name) {
  try {
    if (readFileSync(join(dir, 'stamp'), 'utf8') !== String(statSync(join(dist, 'cli', 'main.js')).mtimeMs)) return undefined;
    statSync(join(dir, `${name}.cjs`));
  } catch {
    return undefined;
  }
  if (process.env.PODNET_COMPILE_CACHE !== '0') useCodeCache();
  return createRequire(import.meta.url)(join(dir, `${name}.cjs`));
}

function useCodeCache() {
  const loaded = [];
  let stale = false;
  const compile = Module.prototype._compile;
  Module.prototype._compile = function compileWithCache(content, filename) {
    return compileModule(this, content, filename);
  };
  const compileModule = (mod, content, filename) => {
    if (dirname(filename) !== dir && !filename.startsWith(`${dir}/cni/`)) return compile.call(mod, content, filename);
    const file = join(cacheDir, `${filename.slice(dir.length + 1).replaceAll('/', '_')}.bin`);
    let cachedData;
    try {
      cachedData = readFileSync(file);
    } catch {
      // none yet
    }
    const script = new vm.Script(Module.wrap(content), { filename, cachedData });
    if (!cachedData || script.cachedDataRejected) stale = true;
    loaded.push({ script, file });
    const require = (id) => mod.require(id);
    require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
    require.cache = Module._cache;
    return script.runInThisContext().call(mod.exports, mod.exports, require, mod, filename, dirname(filename));
  };
  process.once('exit', () => {
    if (!stale) return;
    try {
      mkdirSync(cacheDir, { recursive: true });
    } catch {
      return; // not writable (another user): the next run compiles, as without a cache
    }
    for (const { script, file } of loaded) {
      const tmp = join(cacheDir, `.${basename(file)}.${process.pid}`);
      try {
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, file);
      } catch {
        rmSync(tmp, { force: true }); // a full disk: that module compiles next time
      }
    }
  });
}
