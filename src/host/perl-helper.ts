// A persistent Perl child that answers request lines one at a time, in order: what podnet's helpers
// (rtnl-helper.ts, lock-helper.ts) share. Perl is Essential on Debian and its builtins reach the
// system calls Node lacks (flock, setns, netlink sockets) without a native addon. A helper never
// keeps podnet alive while nothing waits for an answer (its handles are unref'd), dies with podnet
// (EOF on its stdin) and is ended and reaped by `endHelpers()` before podnet exits, so a verb leaves
// no process behind it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** Every helper alive in this process. */
const helpers = new Set<PerlHelper<unknown>>();

/** The system calls helpers make with Perl's `syscall`, which takes numbers (the POSIX module would
 * cost a helper ~6 ms of start-up), by architecture. Another architecture: no helper (iproute2 and
 * nsenter as before). */
export interface SyscallNumbers { setns: number; dup3: number; close: number; setsid: number; prctl: number }
export const SYSCALLS: Partial<Record<string, SyscallNumbers>> = {
  x64: { setns: 308, dup3: 292, close: 3, setsid: 112, prctl: 157 },
  arm64: { setns: 268, dup3: 24, close: 57, setsid: 157, prctl: 167 },
};

export class PerlHelper<A> {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: { resolve: (a: A) => void; reject: (e: Error) => void }[] = [];
  private readonly exited: Promise<void>;
  private corked = false;
  dead = false;

  /** Starts `perl -e SCRIPT ARGS…`; `decode` cuts its output into answers (it keeps partial ones).
   * With `o.name`, perl runs under that name with nothing else on its command line (`ps` shows just
   * the name): it reads SCRIPT from stdin up to `__END__` and the requests after it through the
   * DATA handle (ARGS are not passed). `o.env` is added to podnet's environment. */
  constructor(private readonly what: string, script: string, args: readonly string[], decode: (chunk: Buffer) => A[], o: { env?: Record<string, string>; name?: string } = {}) {
    this.child = spawn('perl', o.name ? [] : ['-e', script, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'], ...(o.env ? { env: { ...process.env, ...o.env } } : {}), ...(o.name ? { argv0: o.name } : {}),
    });
    if (o.name) this.child.stdin.write(`${script}\n__END__\n`);
    helpers.add(this as PerlHelper<unknown>);
    this.child.stdout.on('data', (chunk: Buffer) => {
      for (const a of decode(chunk)) this.waiting.shift()?.resolve(a);
      this.idle();
    });
    this.child.stdin.on('error', () => undefined);
    this.child.stderr.on('data', () => undefined);
    const fail = (e: Error) => {
      this.dead = true;
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    this.exited = new Promise((resolve) => {
      this.child.on('error', (e) => {
        fail(e);
        resolve();
      });
      this.child.on('exit', () => {
        helpers.delete(this as PerlHelper<unknown>);
        fail(new Error(`the ${this.what} exited`));
        resolve();
      });
    });
    this.idle();
  }

  /** The helper's PID (undefined if it could not be started). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends one request line; resolves with its answer. Lines asked in one tick go in one write. */
  ask(line: string): Promise<A> {
    if (this.dead) return Promise.reject(new Error(`the ${this.what} exited`));
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.idle();
      if (!this.corked) {
        this.corked = true;
        this.child.stdin.cork();
        process.nextTick(() => {
          this.corked = false;
          this.child.stdin.uncork();
        });
      }
      this.child.stdin.write(`${line}\n`);
    });
  }

  /** Ends the helper (EOF, then SIGKILL after `graceMs`) and resolves once it has exited and is reaped. */
  async end(graceMs = 1000): Promise<void> {
    this.dead = true;
    this.child.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    if ((await Promise.race([this.exited, late])) === 'late') {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    clearTimeout(timer);
  }

  /** Keeps the event loop free to exit while nothing waits for an answer. */
  private idle(): void {
    const handles = [this.child, this.child.stdout, this.child.stdin, this.child.stderr] as unknown as { ref(): void; unref(): void }[];
    for (const h of handles) {
      if (this.waiting.length) h.ref();
      else h.unref();
    }
  }
}

/** The PIDs of this process's helpers that are alive. */
export function helperPids(): Set<number> {
  return new Set([...helpers].map((h) => h.pid).filter((p): p is number => p !== undefined));
}

/** Ends every helper of this process and waits until each is gone (at most about a second). */
export async function endHelpers(): Promise<void> {
  await Promise.all([...helpers].map((h) => h.end()));
}

/** Cuts output into lines (a decoder for helpers that answer one line per request). */
export function lineDecoder(): (chunk: Buffer) => string[] {
  let buf = '';
  return (chunk) => {
    buf += chunk.toString('utf8');
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    return lines;
  };
}
