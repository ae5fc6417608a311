// One command at a time per lab, across processes: two `lab up` of one name must not interleave.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { lockFile } from '../host/lock.js';
import type { LabDeps } from './deps.js';

/** Runs `fn` holding lab `lab`'s lock (`<state root>/.locks/<lab>.lock`, flock). A dry run changes
 * nothing and takes no lock. */
export async function withLabLock<T>(deps: LabDeps, lab: string, fn: () => Promise<T>): Promise<T> {
  if (deps.host.dryRun) return fn();
  await mkdir(join(deps.stateRoot, '.locks'), { recursive: true, mode: 0o700 });
  const held = await lockFile(join(deps.stateRoot, '.locks', `${lab}.lock`), 120);
  try {
    return await fn();
  } finally {
    await held.release();
  }
}
