#!/usr/bin/env node
// The one-shot CNI plugin, as the installed plugin clients run it when no daemon serves them:
// `node bin/podnet-cni.js TYPE` with the CNI environment and stdin. Runs the bundled plugin entry
// (dist/src/bundle/cni/main.cjs: one file, ~2.5× faster to start than tsc's module graph, with a code
// cache) while it matches the tsc build it was made from (./bundle.js), else dist/src.
import v8 from 'node:v8';
import { loadBundle } from './bundle.js';

// One request and out: the baseline compiler only, as for podnet's short verbs (bin/podnet.js).
v8.setFlagsFromString('--max-opt=1');

const { runOnce } = loadBundle('cni/main') ?? await import(new URL('../dist/src/cni/main.js', import.meta.url).href);
runOnce(process.argv[2] ?? '').then((code) => { process.exitCode = code; });
