#!/usr/bin/env node
// Thin launcher: the CLI is built into dist/src (tsc) and bundled into dist/src/bundle
// (scripts/bundle.mjs); both by scripts/setup.mjs, which `npm start` and `npm test` run. The bundle
// starts several times faster; it is used only while its stamp matches the tsc build it came from
// (./bundle.js).
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { loadBundle } from './bundle.js';

// A verb is a short run: V8's optimizing compiler (TurboFan) would spend ~0.3 s of CPU on its
// background threads optimizing functions the run ends before it profits from (perf of a `lab up
// --pods 100`, 13% of all samples), on a machine whose two cores the kernel's work and the helpers
// need. So a short verb stays on the baseline compiler (Sparkplug); paired A/B of `lab up --pods 100`
// + `lab down`: -76.5 ms, 11 of 12 rounds faster (docs/benchmarks.md). The long-running ones — the
// node agent, the CNI daemon, the UI's server, `trace --watch` — keep every tier. (Set before the
// bundle loads; imports run first, and this one loads nothing of podnet.)
const [verb, sub] = process.argv.slice(2);
if (!(verb === 'agent' || verb === 'ui' || (verb === 'cni' && sub === 'serve') || process.argv.includes('--watch'))) v8.setFlagsFromString('--max-opt=1');

// A signal while the CLI loads ends it as one after: one line, 130 or 143 (main then takes over).
const early = (sig) => {
  process.stderr.write(`${sig}: stopped\n`);
  process.exit(sig === 'SIGTERM' ? 143 : 130);
};
process.on('SIGINT', early);
process.on('SIGTERM', early);

// `podnet --version` needs nothing but package.json: answered before any of the CLI is loaded.
if (process.argv.length === 3 && (process.argv[2] === '--version' || process.argv[2] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
  process.exit(0);
}

// The bundle (with its code cache, ./bundle.js) while it matches the tsc build, else tsc's output.
const { main } = loadBundle('main') ?? await import(new URL('../dist/src/cli/main.js', import.meta.url).href);

// A reader that stops early (`podnet get pods | head -1`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });
}
process.off('SIGINT', early);
process.off('SIGTERM', early);
main(process.argv).then((code) => { process.exitCode = code; });
// Once nothing is left to do (the loop is empty: servers closed, helpers reaped, files written), exit
// at once: process.exit() still runs every 'exit' listener, but skips tearing the V8 heap down page by
// page, which a natural exit does (~25 ms after a `lab up`, for a process that is ending anyway).
process.once('beforeExit', () => process.exit());
