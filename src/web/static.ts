// The front end, as Vite built it into dist/web (scripts/setup.mjs runs the build): read into memory
// once, at start, and served by exact path only — no path from a request ever reaches the file system.
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { packagePath } from '../host/package-root.js';

/** Where the build lands: dist/web beside dist/src. */
export const WEB_DIST = `${packagePath('dist', 'web')}/`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** One file to serve. */
export interface StaticFile {
  body: Uint8Array;
  type: string;
  /** Vite's hashed assets never change under their name. */
  immutable: boolean;
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? walk(join(dir, e.name)) : Promise.resolve([join(dir, e.name)]))));
  return nested.flat();
}

/** URL path (`/`, `/assets/index-3f2a.js`) → file; empty when the front end was not built. */
export async function loadStatic(dir = WEB_DIST): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>();
  let paths: string[];
  try {
    paths = await walk(dir);
  } catch {
    return files;
  }
  for (const path of paths) {
    const type = TYPES[extname(path)];
    if (!type) continue;
    const url = `/${relative(dir, path).split(sep).join('/')}`;
    files.set(url === '/index.html' ? '/' : url, { body: new Uint8Array(await readFile(path)), type, immutable: url.startsWith('/assets/') });
  }
  return files;
}
