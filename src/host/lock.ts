// An exclusive lock on a file that other processes respect: flock(2), the lock host-local takes on
// its `lock` file, so podnet and the reference plugins can share one IPAM directory. Node has no
// flock, so `flock -x 0` takes it on an open file description we share with it (locks belong to the
// open file description, not the process): when flock exits, we hold the lock until we close the file.
// A daemon takes them through one persistent helper process instead (./lock-helper.ts).
import { spawn } from 'node:child_process';
import { open, type FileHandle } from 'node:fs/promises';
import { helperTryLock, helperUnlock } from './lock-helper.js';

/** A held lock; release() closes the file, which drops the lock. */
export interface HeldLock {
  release(): Promise<void>;
}

/** Takes an exclusive flock on `path` (created if missing), waiting at most `timeoutS` seconds.
 * Equivalent to: `flock -x -w TIMEOUT PATH`. */
export async function lockFile(path: string, timeoutS = 30): Promise<HeldLock> {
  // In a daemon: the persistent helper (./lock-helper.ts), no process per lock — unless it is busy.
  if ((await helperTryLock(path)) === 'taken') return { release: () => helperUnlock(path) };
  const fh: FileHandle = await open(path, 'a', 0o600);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('flock', ['-x', '-w', String(timeoutS), '0'], { stdio: [fh.fd, 'ignore', 'pipe'] });
      let err = '';
      child.stderr?.on('data', (b: Buffer) => { err += b.toString(); });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`could not lock ${path} within ${timeoutS}s${err ? `: ${err.trim()}` : ''}`))));
    });
  } catch (e) {
    await fh.close();
    throw e;
  }
  return { release: () => fh.close() };
}

/** Serialises callers in this process and holds the file lock while any are queued, so a burst of
 * callers pays for one `flock` instead of one each. */
export class FileMutex {
  private tail: Promise<void> = Promise.resolve();
  private held?: Promise<HeldLock>;
  private waiting = 0;
  private gen = 0;

  /** Changes every time the file lock is taken anew: what was read under one generation stays true
   * until the generation changes (no other process can change the locked data meanwhile). */
  get generation(): number {
    return this.gen;
  }

  constructor(private readonly path: string, private readonly timeoutS = 30) {}

  /** Runs `fn` holding the lock. */
  async with<T>(fn: () => Promise<T>): Promise<T> {
    this.waiting++;
    const prev = this.tail;
    let done!: () => void;
    this.tail = new Promise<void>((r) => { done = r; });
    try {
      await prev;
      if (!this.held) {
        this.gen++;
        this.held = lockFile(this.path, this.timeoutS);
      }
      try {
        await this.held;
      } catch (e) {
        this.held = undefined;
        throw e;
      }
      return await fn();
    } finally {
      this.waiting--;
      if (this.waiting === 0 && this.held) {
        const h = this.held;
        this.held = undefined;
        await (await h.catch(() => undefined))?.release();
      }
      done();
    }
  }
}
