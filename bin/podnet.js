#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/src/cli (built by `npm run build`, run by `npm ci` via prepare).
import { main } from '../dist/src/cli/main.js';
main(process.argv).then((code) => { process.exitCode = code; });
