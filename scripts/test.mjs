#!/usr/bin/env node
// Runs the test tiers in order — unit (pure), kernel (root, real namespaces), e2e (the CLI as a
// user runs it) — with node's test runner over the compiled files in dist/test/.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tiers = process.argv.slice(2).length ? process.argv.slice(2) : ['unit', 'kernel', 'e2e'];

const walk = (dir) => (!existsSync(dir) ? [] : readdirSync(dir)).flatMap((name) => {
  const path = join(dir, name);
  if (statSync(path).isDirectory()) return walk(path);
  return name.endsWith('.test.js') ? [path] : [];
});

const files = tiers.flatMap((tier) => walk(join(root, 'dist', 'test', tier)).sort());
if (files.length === 0) {
  console.error(`no test files for tiers: ${tiers.join(', ')} (did the build run?)`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files], {
  stdio: 'inherit', cwd: root, env: { ...process.env, PODNET_TEST: '1' },
});
process.exit(r.status ?? 1);
