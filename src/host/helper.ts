// A persistent helper process that answers request lines one at a time, in order: what podnet's helpers
// share — the Perl scripts behind rtnetlink and locks (rtnl-helper.ts, lock-helper.ts) and the pause
// spawner, a C program of podnet's own (pause.ts, native/pause.c). A helper is started by the
// launcher (./launcher.ts), not by Node, and speaks over a Unix socket connection instead of pipes.
// Perl is Essential on Debian and its builtins reach the system calls Node lacks (flock, setns,
// netlink sockets) without a native addon. A helper never keeps podnet alive while nothing waits for
// an answer (its handles are unref'd), dies with podnet (EOF on its stdin) and is ended and reaped by
// `endHelpers()` before podnet exits — the launcher after them — so a verb leaves no process behind it.
import type { Socket } from 'node:net';
import { endLauncher, launch, launcherPid, type Launched } from './launcher.js';

/** Every helper alive in this process. */
const helpers = new Set<Helper<unknown>>();

/** What a helper runs: a Perl script (`perl -e SCRIPT ARGS…`), or a program of podnet's own, under
 * the name `argv0` (all that `ps` shows of its command line). */
export type HelperProgram = { perl: string; args?: readonly string[] } | { exec: string; argv0: string };

export class Helper<A> {
  private readonly proc: Launched;
  private io: Socket | undefined;
  private readonly waiting: { resolve: (a: A) => void; reject: (e: Error) => void }[] = [];
  /** Lines asked in this tick, written together (and, until the helper has connected, kept). */
  private outbox = '';
  private flushing = false;
  private ending = false;
  dead = false;

  /** Starts `program` (through the launcher, ./launcher.ts) with `env` added to podnet's environment;
   * `decode` cuts its output into answers (it keeps partial ones). */
  constructor(private readonly what: string, program: HelperProgram, decode: (chunk: Buffer) => A[], env?: Record<string, string>) {
    this.proc = 'perl' in program
      ? launch(['perl', '-e', program.perl, ...(program.args ?? [])], env ? { env } : {})
      : launch([program.exec], { argv0: program.argv0, ...(env ? { env } : {}) });
    helpers.add(this as Helper<unknown>);
    const fail = (e: Error) => {
      this.dead = true;
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    this.proc.ready.then(({ io }) => {
      this.io = io;
      io.on('data', (chunk: Buffer) => {
        for (const a of decode(chunk)) this.waiting.shift()?.resolve(a);
        this.idle();
      });
      io.on('error', () => undefined);
      io.on('close', () => fail(new Error(`the ${this.what} exited`)));
      io.resume();
      this.flush();
      // Ended before it connected: what was asked is still sent, then EOF, as for a helper that had.
      if (this.ending) io.end();
      this.idle();
    }, (e: Error) => fail(e));
    void this.proc.exited.then(() => {
      helpers.delete(this as Helper<unknown>);
      fail(new Error(`the ${this.what} exited`));
    });
  }

  /** The helper's PID (undefined until the launcher has forked it). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Sends one request line; resolves with its answer. Lines asked in one tick go in one write. */
  ask(line: string): Promise<A> {
    if (this.dead) return Promise.reject(new Error(`the ${this.what} exited`));
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.idle();
      this.outbox += `${line}\n`;
      if (!this.flushing) {
        this.flushing = true;
        process.nextTick(() => {
          this.flushing = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    if (!this.io || this.outbox === '') return;
    this.io.write(this.outbox);
    this.outbox = '';
  }

  /** Ends the helper (EOF, then SIGKILL after `graceMs`) and resolves once it has exited and is reaped. */
  async end(graceMs = 1000): Promise<void> {
    this.dead = true;
    this.ending = true;
    this.flush();
    this.io?.end();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    if ((await Promise.race([this.proc.waitExit(), late])) === 'late') {
      this.proc.kill('SIGKILL');
      await this.proc.waitExit();
    }
    clearTimeout(timer);
  }

  /** Keeps the event loop free to exit while nothing waits for an answer (the launcher keeps it
   * alive until the helper has connected). */
  private idle(): void {
    if (this.waiting.length) this.io?.ref();
    else this.io?.unref();
  }
}

/** The PIDs of this process's helpers that are alive. */
export function helperPids(): Set<number> {
  return new Set([...[...helpers].map((h) => h.pid), launcherPid()].filter((p): p is number => p !== undefined));
}

/** Ends every helper of this process and waits until each is gone (at most about a second). */
export async function endHelpers(): Promise<void> {
  await Promise.all([...helpers].map((h) => h.end()));
  await endLauncher();
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
