#!/usr/bin/env node
// Builds podnet's C programs (native/*.c) into dist/native/ with the machine's C compiler, when a
// source is newer than its program: today one, the pause spawner (native/pause.c; why it is C:
// src/host/pause.ts). scripts/setup.mjs runs this (and installs gcc where there is no `cc`), as does
// `npm run build`. Without the program, podnet starts its pause processes the plain way.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'native');
mkdirSync(out, { recursive: true });
for (const name of readdirSync(join(root, 'native')).filter((n) => n.endsWith('.c'))) {
  const src = join(root, 'native', name);
  const program = join(out, name.slice(0, -2));
  if (existsSync(program) && statSync(program).mtimeMs >= statSync(src).mtimeMs) continue;
  // Built beside, then renamed: a program that is running (a lab's pause processes share the
  // spawner's memory) is replaced, not written over.
  const tmp = `${program}.${process.pid}`;
  const r = spawnSync('cc', ['-O2', '-Wall', '-Wextra', '-o', tmp, src], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`podnet build: compiling native/${name} failed${r.error ? ` (${r.error.message})` : ''}: install a C compiler (apt-get install gcc) and retry`);
    process.exit(1);
  }
  renameSync(tmp, program);
}
