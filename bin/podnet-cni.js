#!/usr/bin/env node
// The one-shot CNI plugin, as the installed plugin clients run it when no daemon serves them:
// `node bin/podnet-cni.js TYPE` with the CNI environment and stdin. Runs the bundled plugin entry
// (dist/src/bundle/cni/main.js: one file, ~2.5× faster to start than tsc's module graph) while it
// matches the tsc build it was made from (the same stamp bin/podnet.js checks), else dist/src.
import { readFileSync, statSync } from 'node:fs';

const dist = new URL('../dist/src/', import.meta.url);
let entry = new URL('cni/main.js', dist);
try {
  if (readFileSync(new URL('bundle/stamp', dist), 'utf8') === String(statSync(new URL('cli/main.js', dist)).mtimeMs)) entry = new URL('bundle/cni/main.js', dist);
} catch {
  // no bundle: run tsc's output
}
const { runOnce } = await import(entry.href);
runOnce(process.argv[2] ?? '').then((code) => { process.exitCode = code; });
