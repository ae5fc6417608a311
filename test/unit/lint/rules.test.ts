// The house rules kept by the linter (eslint.config.js) are fed files that break them, so a rule
// that stops matching fails here instead of rotting silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

/** The project root (this file runs from dist/test/unit/lint/). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const eslint = new ESLint({ cwd: ROOT });

/** The rule ids ESLint reports for `code` as if it were the file `path` of src/. */
async function problems(path: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  return r.messages.map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`);
}

const cases: { path: string; code: string; rule: RegExp | undefined; why: string }[] = [
  { path: 'src/lab/bad.ts', code: "import { spawn } from 'node:child_process';\nexport const x = spawn;\n", rule: /no-restricted-imports: .*only src\/host starts processes/, why: 'a static child_process import outside src/host' },
  { path: 'src/trace/bad.ts', code: "export const x = async () => (await import('node:child_process')).spawn;\n", rule: /no-restricted-syntax: .*only src\/host starts processes/, why: 'a dynamic child_process import outside src/host' },
  { path: 'src/cli/bad.ts', code: "import { execa } from 'execa';\nexport const x = execa;\n", rule: /no-restricted-imports/, why: 'another process-spawning module' },
  { path: 'src/inspect/bad.ts', code: "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\nexport const x = require('child_process');\n", rule: /no-restricted-syntax: .*require\(\)/, why: 'require() of child_process' },
  { path: 'src/cli/bad.ts', code: 'export const x = (m: string) => import(m);\n', rule: /no-restricted-syntax: import\(\) takes a literal/, why: 'a computed import() the layer rules cannot check' },
  { path: 'src/lab/bad.ts', code: "export const x = () => import('../web/server.js');\n", rule: /no-restricted-syntax: src\/lab may not import\(\) src\//, why: 'a dynamic import against the layer order' },
  { path: 'src/lab/bad.ts', code: "import { startUi } from '../web/server.js';\nexport const x = startUi;\n", rule: /no-restricted-imports: .*src\/lab may not import src\/web/, why: 'a static import against the layer order' },
  { path: 'src/model/bad.ts', code: "import { readFile } from 'node:fs/promises';\nexport const x = readFile;\n", rule: /no-restricted-imports: .*src\/model is pure/, why: 'I/O in a pure layer' },
  { path: 'src/views/bad.ts', code: "import { Host } from '../host/host.js';\nexport const x = Host;\n", rule: /no-restricted-imports: .*src\/views may not import src\/host/, why: 'views reaching the host' },
  { path: 'src/host/ok.ts', code: "import { spawn } from 'node:child_process';\nexport const x = spawn;\n", rule: undefined, why: 'src/host may start processes' },
  { path: 'src/cli/ok.ts', code: "export const x = () => import('./lab.js');\n", rule: undefined, why: 'a lazy verb import with a literal name' },
];

for (const c of cases) {
  test(`lint: ${c.why} (${c.path})`, async () => {
    const found = await problems(c.path, c.code);
    if (c.rule) assert.ok(found.some((p) => c.rule!.test(p)), `expected ${c.rule} for ${c.path}, got: ${found.join('; ') || 'no problem'}`);
    else assert.deepEqual(found, [], `expected no problem for ${c.path}`);
  });
}
