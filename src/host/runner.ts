// The one seam through which podnet touches the machine: commands as argv arrays (never shell
// strings), an optional stdin, and whether the command changes anything. Runners: the real one,
// a verbose one (-v), a dry-run one (--dry-run) and a recording one for golden tests.
import { spawn } from 'node:child_process';
import { HostError, classifyStderr } from './errors.js';
import { runByRtnl, type RtnlWork } from './rtnl.js';
import { startByFork, warmPauseSpawner, type PauseWork } from './pause.js';
import { warmRtnlHelpers } from './rtnl-helper.js';

/** A command to run: `argv[0]` is looked up on PATH; `input` is written to stdin. */
export interface Command {
  argv: readonly string[];
  input?: string;
  /** Extra environment for the process (`start` only: marks long-running processes as podnet's). */
  env?: Record<string, string>;
  /** False for reads (`ip -json … show`): a dry run answers them without running them. */
  mutates: boolean;
  /** The same work as rtnetlink can do it from podnet's process (./rtnl.ts): a runner that really
   * runs commands may do that instead of starting the program, and answers as the program would. */
  rtnl?: RtnlWork;
  /** `start` only: the same process as a fork of podnet's pause spawner can make it (./pause.ts): a
   * runner that really runs commands may fork it instead of starting the program. */
  pause?: PauseWork;
  /** The command's answer as podnet's process can give it without a program (a read of a directory,
   * an exchange on unbound's control socket): a runner that really runs commands calls this instead
   * of starting the program, and gets the answer the program would have given. */
  inProcess?: () => Promise<RunResult>;
}

/** What a command printed and how it ended. */
export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs commands; implementations decide whether they really run. */
export interface Runner {
  /** Runs `cmd` and resolves with its output whatever the exit code (callers decide what failure means). */
  run(cmd: Command): Promise<RunResult>;
  /** Starts `cmd` as a long-running process that outlives podnet (stdio to /dev/null); resolves with its PID. */
  start(cmd: Command): Promise<number>;
  /** Sends `signal` to process `pid`. Equivalent to: `kill -SIGNAL PID`. */
  signal(pid: number, signal: NodeJS.Signals): Promise<void>;
  /** Starts, ahead of need, the helpers a burst of work will ask for (the rtnetlink helpers, the pause
   * spawner of the mark `env`), so that their start-up overlaps other waits (process.ts, helpersWarm).
   * Changes nothing on the machine; only runners that really run commands have it. */
  warm?(env: Record<string, string>): void;
}

/** What ExecRunner and ShellRunner warm: see Runner.warm. */
export function warmHelpers(env: Record<string, string>): void {
  warmRtnlHelpers();
  warmPauseSpawner(env);
}

/** Runs `cmd` and throws a classified HostError unless it exits 0. */
export async function runOk(runner: Runner, cmd: Command): Promise<RunResult> {
  const r = await runner.run(cmd);
  if (r.exitCode !== 0) {
    throw new HostError({ kind: classifyStderr(r.stderr), argv: cmd.argv, exitCode: r.exitCode, stderr: r.stderr });
  }
  return r;
}

/** Runs commands for real with child_process.spawn (no shell). */
export class ExecRunner implements Runner {
  async run(cmd: Command): Promise<RunResult> {
    if (cmd.inProcess) return cmd.inProcess();
    return (cmd.rtnl && await runByRtnl(cmd.rtnl)) || this.spawn(cmd);
  }

  private spawn(cmd: Command): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(cmd.argv[0], cmd.argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e: NodeJS.ErrnoException) => {
        const missing = e.code === 'ENOENT';
        reject(new HostError({
          kind: missing ? 'not-found' : 'failed', argv: cmd.argv, exitCode: null, stderr: e.message, cause: e,
          message: missing ? `${cmd.argv[0]} is not installed (run \`npm run setup\` as root)` : `${cmd.argv[0]}: ${e.message}`,
        }));
      });
      child.on('close', (code, signal) => {
        resolve({
          stdout: Buffer.concat(out).toString(),
          stderr: Buffer.concat(err).toString() + (signal ? `killed by ${signal}` : ''),
          exitCode: code ?? 128,
        });
      });
      child.stdin.on('error', () => { /* the command may exit before reading its input */ });
      child.stdin.end(cmd.input ?? '');
    });
  }

  async start(cmd: Command): Promise<number> {
    return (cmd.pause && await startByFork(cmd.argv, cmd.pause)) || this.spawnDetached(cmd);
  }

  private spawnDetached(cmd: Command): Promise<number> {
    return new Promise((resolve, reject) => {
      const child = spawn(cmd.argv[0], cmd.argv.slice(1), {
        detached: true, stdio: 'ignore', env: { ...process.env, ...cmd.env },
      });
      child.once('error', (e) => reject(new HostError({ kind: 'failed', argv: cmd.argv, exitCode: null, stderr: e.message, cause: e })));
      child.once('spawn', () => {
        child.unref();
        resolve(child.pid ?? 0);
      });
    });
  }

  warm(env: Record<string, string>): void {
    warmHelpers(env);
  }

  async signal(pid: number, signal: NodeJS.Signals): Promise<void> {
    try {
      process.kill(pid, signal);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }
}

/** Formats a command the way a user could paste it into a shell (stdin as a here-document); a
 * background one with the redirections podnet starts it with (nothing from or to the terminal). */
export function formatCommand(cmd: Command, background = false): string {
  const quote = (a: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const env = Object.entries(cmd.env ?? {}).map(([k, v]) => `${k}=${quote(v)} `).join('');
  const line = env + cmd.argv.map(quote).join(' ') + (background ? ' </dev/null >/dev/null 2>&1 &' : '');
  if (cmd.input === undefined || cmd.input === '') return line;
  const body = cmd.input.endsWith('\n') ? cmd.input : `${cmd.input}\n`;
  return `${line} <<'EOF'\n${body}EOF`;
}

/** Prints every command before running it through `inner` (`-v`). */
export class VerboseRunner implements Runner {
  constructor(private readonly inner: Runner, private readonly print: (line: string) => void) {}
  async run(cmd: Command): Promise<RunResult> {
    this.print(`+ ${formatCommand(cmd)}`);
    return this.inner.run(cmd);
  }
  async start(cmd: Command): Promise<number> {
    this.print(`+ ${formatCommand(cmd, true)}`);
    return this.inner.start(cmd);
  }
  async signal(pid: number, signal: NodeJS.Signals): Promise<void> {
    this.print(`+ kill -${signal.replace(/^SIG/, '')} ${pid}`);
    return this.inner.signal(pid, signal);
  }
  warm(env: Record<string, string>): void {
    this.inner.warm?.(env);
  }
}

/** Runs nothing: records commands that change the machine and answers reads with `answer` (default:
 * "nothing there", so plans behave as on an empty machine). Used by --dry-run and golden tests. */
export class RecordingRunner implements Runner {
  /** What would have run, as pasteable shell lines. */
  readonly lines: string[] = [];
  private nextPid = 1;
  constructor(private readonly answer: (cmd: Command) => RunResult | Promise<RunResult> = emptyAnswer) {}
  async run(cmd: Command): Promise<RunResult> {
    if (!cmd.mutates) return this.answer(cmd);
    this.lines.push(formatCommand(cmd));
    return { stdout: '', stderr: '', exitCode: 0 };
  }
  async start(cmd: Command): Promise<number> {
    this.lines.push(formatCommand(cmd, true));
    return -this.nextPid++;
  }
  async signal(pid: number, signal: NodeJS.Signals): Promise<void> {
    this.lines.push(`kill -${signal.replace(/^SIG/, '')} ${pid}`);
  }
  /** The recorded commands, pasteable. */
  script(): string {
    return this.lines.join('\n');
  }
}

/** A read's answer on an empty machine: JSON reads give `[]`, a machine without rules saves nothing and
 * accepts any ruleset checked (`nft -c`), other reads fail with "not found". */
export function emptyAnswer(cmd: Command): RunResult {
  if (cmd.argv.includes('-json') || cmd.argv.includes('-j')) return { stdout: '[]', stderr: '', exitCode: 0 };
  if (cmd.argv.some((a) => /^ip6?tables-save$/.test(a)) || (cmd.argv.includes('nft') && cmd.argv.includes('-c'))) return { stdout: '', stderr: '', exitCode: 0 };
  return { stdout: '', stderr: 'No such file or directory', exitCode: 1 };
}
