// Bundles the CLI (and the UI's layout worker) from tsc's output into dist/src/bundle/ with rolldown:
// one module per lazily loaded verb instead of ~300 files, so Node starts podnet in a fraction of
// the time (docs/benchmarks.md, "Start-up"). The CLI and the one-shot CNI plugin are CommonJS
// (`.cjs`): Node loads them faster than ES modules, and bin/bundle.js can hand V8 a code cache for
// them (vm.Script's cachedData, which ES modules cannot take on this Node). The layout worker stays
// an ES module (a Worker loads it by URL). bin/podnet.js uses the bundle only while it matches the
// build it was made from (a stamp of dist/src/cli/main.js's mtime); after a plain `tsc` it runs
// dist/src directly, so a stale bundle can never run.
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'dist', 'src');
const out = join(src, 'bundle');

// Packages folded into the bundle: small, pure ES/CJS code that every verb's start-up pays for.
// Everything else (etcd3 and gRPC, which read files beside themselves through __dirname; elkjs;
// React) stays a plain import from node_modules, loaded only by the verbs that use it.
const BUNDLED = new Set(['commander', 'zod', 'yaml', 'ipaddr.js', 'cockatiel', 'hono', '@hono/node-server']);
const packageOf = (id) => (id.startsWith('@') ? id.split('/').slice(0, 2).join('/') : id.split('/')[0]);
const external = (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('node:') && !BUNDLED.has(packageOf(id));
rmSync(out, { recursive: true, force: true });
await build({
  // cni/main: the one-shot CNI plugin (bin/podnet-cni.js), which the installed plugin clients run when no daemon serves them.
  input: { main: join(src, 'cli', 'main.js'), 'cni/main': join(src, 'cni', 'main.js') },
  platform: 'node',
  external,
  logLevel: 'warn',
  output: { dir: out, format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: '[name]-[hash].cjs', minify: true },
});
await build({
  input: { 'layout-worker': join(src, 'web', 'layout-worker.js') },
  platform: 'node',
  external,
  logLevel: 'warn',
  output: { dir: out, format: 'esm', entryFileNames: '[name].js', chunkFileNames: 'worker-[name]-[hash].js', minify: true },
});
writeFileSync(join(out, 'stamp'), String(statSync(join(src, 'cli', 'main.js')).mtimeMs));
