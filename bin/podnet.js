#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/src/cli (built by `npm run build`, run by `npm ci` via prepare).
import { main } from '../dist/src/cli/main.js';

// A reader that stops early (`podnet get pods | head -1`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });
}
main(process.argv).then((code) => { process.exitCode = code; });
