// Directories made once per process: a burst of 100 ADDs should not walk `mkdir -p` 100 times (nor
// 32 times at once, when 32 ADDs start together: the first call's mkdir is shared by the others).
import { writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

const made = new Map<string, Promise<void>>();

/** Creates `dir` (and its parents, mode 0700) unless this process already did. Equivalent to: `mkdir -p -m 0700 DIR`. */
export function ensureDir(dir: string): Promise<void> {
  let p = made.get(dir);
  if (!p) {
    p = mkdir(dir, { recursive: true, mode: 0o700 }).then(() => undefined);
    made.set(dir, p);
    p.catch(() => made.delete(dir));
  }
  return p;
}

/** Writes `text` to `file` (created with `mode`), making its directory (0700) only when the write finds
 * it missing: no mkdir on the usual path, and a directory deleted under a long-running process
 * (`podnet cni serve`) is made again. Equivalent to: `mkdir -p -m 0700 DIR && cat > FILE`.
 * The write is synchronous: for a small file, open, write and close as three thread-pool round trips
 * cost more CPU (each wakes a worker and then the loop) than the three syscalls themselves. */
export async function writeFileMakingDir(file: string, text: string, mode: number): Promise<void> {
  try {
    writeFileSync(file, text, { mode });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    made.delete(dirname(file));
    await ensureDir(dirname(file));
    writeFileSync(file, text, { mode });
  }
}

/** Removes `dir` and everything under it, and forgets that it was made. Equivalent to: `rm -rf DIR`. */
export async function removeDir(dir: string): Promise<void> {
  for (const d of made.keys()) if (d === dir || d.startsWith(`${dir}/`)) made.delete(d);
  await rm(dir, { recursive: true, force: true });
}
