// A Runner that hands commands to a few long-lived `sh` processes instead of forking Node for each.
// Why: Node's spawn() forks the whole Node process, ~1.4 ms of main-thread time per child here
// (bench/results/lab-up.json, spawnCostMs); a lab of 100 pods runs several hundred commands, and
// that serial cost starved everything else. A small shell forks in a fraction of that, off Node's
// thread. The seam stays argv arrays: each argv is quoted word by word (formatCommand), stdin goes
// through a file, stdout/stderr come back through files in a private directory.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecRunner, formatCommand, type Command, type RunResult, type Runner } from './runner.js';
import { HostError } from './errors.js';

interface Pending {
  resolve: (v: string) => void;
  reject: (e: Error) => void;
}

/** One `sh` reading command lines; each answers with a line "ID VALUE" on the shell's stdout. */
class Shell {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<string, Pending>();
  private buf = '';
  dead = false;

  constructor() {
    // Own process group: a Ctrl-C at podnet's terminal does not reach the shell or what it starts.
    this.child = spawn('sh', [], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => this.onData(chunk));
    this.child.stderr.resume();
    this.child.stdin.on('error', () => undefined);
    this.child.on('close', () => this.fail(new Error('sh exited')));
    this.child.on('error', (e) => this.fail(e));
    this.idle();
  }

  get load(): number {
    return this.pending.size;
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    for (let i = this.buf.indexOf('\n'); i >= 0; i = this.buf.indexOf('\n')) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      const sp = line.indexOf(' ');
      const p = this.pending.get(line.slice(0, sp));
      if (!p) continue;
      this.pending.delete(line.slice(0, sp));
      p.resolve(line.slice(sp + 1));
    }
    if (this.pending.size === 0) this.idle();
  }

  private fail(e: Error): void {
    this.dead = true;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** While nothing is pending the shell must not keep podnet alive. */
  private idle(): void {
    this.child.unref();
    (this.child.stdout as unknown as { unref(): void }).unref();
    (this.child.stdin as unknown as { unref(): void }).unref();
  }

  /** Sends `line` (which must end by printing "ID VALUE") and resolves with VALUE. */
  send(id: string, line: string): Promise<string> {
    if (this.dead) return Promise.reject(new Error('sh exited'));
    this.child.ref();
    (this.child.stdout as unknown as { ref(): void }).ref();
    (this.child.stdin as unknown as { ref(): void }).ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(`${line}\n`);
    });
  }

  close(): void {
    this.child.stdin.end();
  }
}

/** Runs commands through `size` persistent shells (falls back to spawning when /bin/sh is missing). */
export class ShellRunner implements Runner {
  private shells: Shell[] = [];
  private readonly dir: string;
  private seq = 0;
  private readonly fallback = new ExecRunner();

  constructor(private readonly size = 4) {
    this.dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'podnet-run-'));
    process.once('exit', () => rmSync(this.dir, { recursive: true, force: true }));
  }

  private shell(): Shell {
    this.shells = this.shells.filter((s) => !s.dead);
    if (this.shells.length < this.size) {
      const s = new Shell();
      this.shells.push(s);
      return s;
    }
    return this.shells.reduce((a, b) => (b.load < a.load ? b : a));
  }

  async run(cmd: Command): Promise<RunResult> {
    const id = `c${++this.seq}`;
    const base = join(this.dir, id);
    if (cmd.input) await writeFile(`${base}.in`, cmd.input);
    const line = `${formatCommand({ argv: cmd.argv, mutates: cmd.mutates })} <${cmd.input ? `${base}.in` : '/dev/null'} >${base}.out 2>${base}.err; echo "${id} $?"`;
    let code: string;
    try {
      code = await this.shell().send(id, line);
    } catch {
      return this.fallback.run(cmd);
    }
    const [stdout, stderr] = await Promise.all([readFile(`${base}.out`, 'utf8'), readFile(`${base}.err`, 'utf8')]);
    await Promise.all(['in', 'out', 'err'].map((x) => rm(`${base}.${x}`, { force: true })));
    const exitCode = Number(code);
    if (exitCode === 127 && /not found/.test(stderr)) {
      throw new HostError({ kind: 'not-found', argv: cmd.argv, exitCode, stderr, message: `${cmd.argv[0]} is not installed (run \`npm run setup\` as root)` });
    }
    return { stdout, stderr, exitCode };
  }

  async start(cmd: Command): Promise<number> {
    const id = `s${++this.seq}`;
    const line = `${formatCommand({ argv: cmd.argv, env: cmd.env, mutates: true })} </dev/null >/dev/null 2>&1 & echo "${id} $!"`;
    try {
      return Number(await this.shell().send(id, line));
    } catch {
      return this.fallback.start(cmd);
    }
  }

  signal(pid: number, signal: NodeJS.Signals): Promise<void> {
    return this.fallback.signal(pid, signal);
  }

  /** Ends the shells (they also end when podnet exits). */
  close(): void {
    for (const s of this.shells) s.close();
    this.shells = [];
  }
}
