// Directories made once per process: a burst of 100 ADDs should not walk `mkdir -p` 100 times.
import { mkdir, rm } from 'node:fs/promises';

const made = new Set<string>();

/** Creates `dir` (and its parents, mode 0700) unless this process already did. Equivalent to: `mkdir -p -m 0700 DIR`. */
export async function ensureDir(dir: string): Promise<void> {
  if (made.has(dir)) return;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  made.add(dir);
}

/** Removes `dir` and everything under it, and forgets that it was made. Equivalent to: `rm -rf DIR`. */
export async function removeDir(dir: string): Promise<void> {
  for (const d of made) if (d === dir || d.startsWith(`${dir}/`)) made.delete(d);
  await rm(dir, { recursive: true, force: true });
}
