// A Runner that hands commands to a few long-lived `sh` processes instead of forking Node for each.
// Why: Node's spawn() forks the whole Node process, 1.4–11 ms of main-thread time per child
// (bench/results/lab-up.json, spawnCostMs); a lab of 100 pods runs several hundred commands, and
// that serial cost starved everything else. A small shell forks in a fraction of that, off Node's
// thread — and the shells themselves are forked by the launcher (./launcher.ts), not by Node. The seam stays argv arrays: each argv is quoted word by word (formatCommand), stdin is a
// here-document with a delimiter the input cannot contain, and each command's stdout and stderr
// come back on the shell's own connections between marker lines (a shell runs one command at a time).
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { ExecRunner, formatCommand, warmHelpers, type Command, type RunResult, type Runner } from './runner.js';
import { HostError } from './errors.js';
import { runByRtnl } from './rtnl.js';
import { startByFork } from './pause.js';
import { launch, type Launched } from './launcher.js';

interface Job {
  id: string;
  resolve: (r: { stdout: string; stderr: string; value: string }) => void;
  reject: (e: Error) => void;
}

/** Collects one stream's text between `@@podnet-begin ID` and `@@podnet-end ID [VALUE]` lines. */
class Framed {
  private buf = '';
  private readonly done = new Map<string, { text: string; value: string }>();

  /** Feeds text; completed sections become available through has/take. */
  feed(chunk: string): void {
    this.buf += chunk;
    for (;;) {
      const b = this.buf.indexOf('@@podnet-begin ');
      if (b < 0) break;
      const nl = this.buf.indexOf('\n', b);
      if (nl < 0) break;
      const id = this.buf.slice(b + 15, nl);
      const endMark = `\n@@podnet-end ${id}`;
      const e = this.buf.indexOf(endMark, nl);
      if (e < 0) break;
      const eol = this.buf.indexOf('\n', e + endMark.length);
      if (eol < 0) break;
      this.done.set(id, { text: this.buf.slice(nl + 1, e), value: this.buf.slice(e + endMark.length, eol).trim() });
      this.buf = this.buf.slice(eol + 1);
    }
  }

  has(id: string): boolean {
    return this.done.has(id);
  }

  take(id: string): { text: string; value: string } | undefined {
    const d = this.done.get(id);
    this.done.delete(id);
    return d;
  }
}

/** Why a shell gave no answer: it was gone before the job was written to it (`sent` false: the job
 * never ran), or it went while the job was with it (the job may have run, in part or whole). */
class ShellGone extends Error {
  constructor(message: string, readonly sent: boolean) {
    super(message);
  }
}

/** One `sh` reading command lines from its stdin, started by the launcher (./launcher.ts: its own
 * session, so a Ctrl-C at podnet's terminal does not reach the shell or what it starts). */
class Shell {
  private readonly proc: Launched;
  private io: Socket | undefined;
  private err: Socket | undefined;
  private readonly jobs = new Map<string, Job>();
  private readonly out = new Framed();
  private readonly errs = new Framed();
  /** Scripts sent before the shell connected. */
  private queued = '';
  private ending = false;
  dead = false;

  constructor() {
    this.proc = launch(['sh'], { stderr: true });
    this.proc.ready.then(({ io, err }) => {
      this.io = io;
      this.err = err;
      io.setEncoding('utf8');
      err!.setEncoding('utf8');
      io.on('data', (c: string) => { this.out.feed(c); this.settle(); });
      err!.on('data', (c: string) => { this.errs.feed(c); this.settle(); });
      for (const s of [io, err!]) s.on('error', () => undefined);
      io.on('close', () => this.fail('sh exited'));
      io.resume();
      err!.resume();
      if (this.queued) io.write(this.queued);
      this.queued = '';
      if (this.ending) io.end();
      this.idle();
    }, (e: Error) => this.fail(e.message, false));
  }

  get load(): number {
    return this.jobs.size;
  }

  /** Resolves every job whose output has ended on both streams. */
  private settle(): void {
    for (const [id, job] of this.jobs) {
      if (!this.out.has(id) || !this.errs.has(id)) continue;
      const o = this.out.take(id)!;
      const e = this.errs.take(id)!;
      this.jobs.delete(id);
      job.resolve({ stdout: o.text, stderr: e.text, value: o.value });
    }
    if (this.jobs.size === 0) this.idle();
  }

  /** `sent`: whether the jobs were written to the shell (not when it never connected). */
  private fail(why: string, sent = true): void {
    this.dead = true;
    for (const j of this.jobs.values()) j.reject(new ShellGone(why, sent));
    this.jobs.clear();
  }

  /** While nothing is pending the shell must not keep podnet alive (until it has connected, the
   * launcher keeps podnet alive). */
  private idle(): void {
    for (const s of [this.io, this.err]) {
      if (this.jobs.size) s?.ref();
      else s?.unref();
    }
  }

  /** Runs `script` (which must leave `$v` set to the value to report) framed on both streams. */
  send(id: string, script: string): Promise<{ stdout: string; stderr: string; value: string }> {
    if (this.dead) return Promise.reject(new ShellGone('sh exited', false));
    for (const s of [this.io, this.err]) s?.ref();
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { id, resolve, reject });
      const text = `echo "@@podnet-begin ${id}"; echo "@@podnet-begin ${id}" >&2\n${script}\n` +
        `echo; echo "@@podnet-end ${id} $v"; echo >&2; echo "@@podnet-end ${id}" >&2\n`;
      if (this.io) this.io.write(text);
      else this.queued += text;
    });
  }

  close(): void {
    this.ending = true;
    this.io?.end();
  }

  /** Ends the shell now: its jobs fail and the `sh` process (only it: what start() began lives on) is
   * killed; a command it is running finishes on its own. Resolves once `sh` has exited and been
   * reaped (its connections, which such a command may hold, are not waited for). */
  async kill(): Promise<void> {
    this.fail('sh was stopped');
    for (const s of [this.io, this.err]) s?.unref();
    this.ending = true;
    this.io?.end();
    this.proc.kill('SIGKILL');
    await this.proc.waitReaped();
  }
}

/** Runs commands through `size` persistent shells (falling back to spawning when a shell is gone; a change a
 * dying shell had is not run again: refuseRerun). */
export class ShellRunner implements Runner {
  private shells: Shell[] = [];
  private stopped = false;
  private shellsStarted = 0;
  private seq = 0;
  private readonly tag = randomBytes(4).toString('hex');
  private readonly fallback = new ExecRunner();

  constructor(private readonly size = 4) {}

  /** How many shells this runner has started (what a bench reports as processes). */
  get started(): number {
    return this.shellsStarted;
  }

  /** An idle shell; else a new one while there are fewer than `size` (each costs a spawn, ~6 ms of
   * this thread here: commands that come one at a time share one shell); else the least busy. */
  private shell(): Shell {
    this.shells = this.shells.filter((s) => !s.dead);
    const idle = this.shells.find((s) => s.load === 0);
    if (idle) return idle;
    if (this.shells.length < this.size) {
      this.shellsStarted++;
      const s = new Shell();
      this.shells.push(s);
      return s;
    }
    return this.shells.reduce((a, b) => (b.load < a.load ? b : a));
  }

  async run(cmd: Command): Promise<RunResult> {
    this.refuseWhenStopped();
    if (cmd.inProcess) return cmd.inProcess();
    const byRtnl = cmd.rtnl && await runByRtnl(cmd.rtnl);
    if (byRtnl) return byRtnl;
    const id = `${this.tag}-${++this.seq}`;
    const line = formatCommand({ argv: cmd.argv, mutates: cmd.mutates });
    let script: string;
    if (cmd.input) {
      const eof = `PODNET_EOF_${id.replace(/-/g, '_')}`;
      const body = cmd.input.endsWith('\n') ? cmd.input : `${cmd.input}\n`;
      if (body.split('\n').includes(eof)) return this.fallback.run(cmd);
      script = `${line} <<'${eof}'\n${body}${eof}\nv=$?`;
    } else {
      script = `${line} </dev/null; v=$?`;
    }
    let r: { stdout: string; stderr: string; value: string };
    try {
      r = await this.shell().send(id, script);
    } catch (e) {
      this.refuseRerun(e, cmd);
      return this.fallback.run(cmd);
    }
    const exitCode = Number(r.value);
    if (exitCode === 127 && /not found/.test(r.stderr)) {
      throw new HostError({ kind: 'not-found', argv: cmd.argv, exitCode, stderr: r.stderr, message: `${cmd.argv[0]} is not installed (run \`npm run setup\` as root)` });
    }
    return { stdout: r.stdout, stderr: r.stderr, exitCode };
  }

  async start(cmd: Command): Promise<number> {
    this.refuseWhenStopped();
    const forked = cmd.pause && await startByFork(cmd.argv, cmd.pause);
    if (forked) return forked;
    const id = `${this.tag}-${++this.seq}`;
    const line = formatCommand({ argv: cmd.argv, env: cmd.env, mutates: true }, true);
    try {
      return Number((await this.shell().send(id, `${line} v=$!`)).value);
    } catch (e) {
      this.refuseRerun(e, cmd);
      return this.fallback.start(cmd);
    }
  }

  /** After a shell failed a job: a read, or a job the shell never got, runs again by spawning; a
   * change the shell had (it may have taken effect) must not run twice — a second agent, a rule
   * appended twice — so it fails, saying so. */
  private refuseRerun(e: unknown, cmd: Command): void {
    if (this.stopped) throw e;
    if (e instanceof ShellGone && e.sent && cmd.mutates) {
      throw new HostError({ kind: 'failed', argv: cmd.argv, exitCode: null, stderr: e.message, message: `${cmd.argv[0]}: the shell running it ended before answering (${e.message}); it may have taken effect, so it is not run again` });
    }
  }

  private refuseWhenStopped(): void {
    if (this.stopped) throw new Error('podnet is stopping: no command runs any more');
  }

  warm(env: Record<string, string>): void {
    warmHelpers(env);
  }

  signal(pid: number, signal: NodeJS.Signals): Promise<void> {
    return this.fallback.signal(pid, signal);
  }

  /** Ends the shells (they also end when podnet exits). */
  close(): void {
    for (const s of this.shells) s.close();
    this.shells = [];
  }

  /** Ends the shells at once, for a program that is stopping (podnet ui on Ctrl-C): what they were
   * asked to run and have not finished is dropped (its callers get an error), a command running
   * finishes on its own, nothing runs after (run() and start() fail) and podnet no longer waits
   * for them; resolves once the shells have exited. Processes begun with start() are left alone
   * (they outlive podnet by design). */
  async stop(): Promise<void> {
    this.stopped = true;
    const shells = this.shells;
    this.shells = [];
    await Promise.all(shells.map((s) => s.kill()));
  }
}
