// Where podnet is installed: the directory holding its package.json, found by walking up from this
// module. The same answer whether the code runs from dist/src/… (tsc's output) or from the bundle in
// dist/src/bundle/ (scripts/bundle.mjs), so nothing depends on how deep a module sits.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The package's root directory (where package.json says `"name": "podnet"`). */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'podnet') return (root = dir);
    } catch {
      // not here: go up
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`podnet's package.json not found above ${fileURLToPath(import.meta.url)}`);
}

/** A path inside the package: `packagePath('dist', 'web')`. */
export const packagePath = (...parts: string[]): string => join(packageRoot(), ...parts);

/** podnet's version, from its package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
}
