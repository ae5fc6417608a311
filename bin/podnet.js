#!/usr/bin/env node
// Thin launcher: the CLI is built into dist/src (tsc) and bundled into dist/src/bundle
// (scripts/bundle.mjs); both by scripts/setup.mjs, which `npm start` and `npm test` run. The bundle
// starts several times faster; it is used only while its stamp matches the tsc build it came from.
import { readFileSync, statSync } from 'node:fs';

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

const dist = new URL('../dist/src/', import.meta.url);
let entry = new URL('cli/main.js', dist);
try {
  if (readFileSync(new URL('bundle/stamp', dist), 'utf8') === String(statSync(entry).mtimeMs)) entry = new URL('bundle/main.js', dist);
} catch {
  // no bundle: run tsc's output
}
const { main } = await import(entry.href);

// A reader that stops early (`podnet get pods | head -1`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });
}
process.off('SIGINT', early);
process.off('SIGTERM', early);
main(process.argv).then((code) => { process.exitCode = code; });
