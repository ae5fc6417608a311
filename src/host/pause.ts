// A pod's pause process without an exec. What holds a pod's namespace in K3s is a tiny program that
// only sleeps (/pause, a C program in Kubernetes too); podnet's plain one is `busybox sleep 2147483647`,
// started through nsenter from a shell: a fork and two execs per pod, at 100 pods half a second of
// this machine's CPU during `lab up` (docs/benchmarks.md). So one spawner per owner, a small C
// program of podnet's own (native/pause.c, built into dist/native/pause by scripts/native.mjs) started
// as `pause` with the owner's mark in its environment, makes them instead: per request it enters the
// namespace (setns), makes the child and returns home. The child is made with clone(CLONE_VM): it
// shares the spawner's memory instead of copying it, which a fork does at ~2 ms of CPU a process on
// this kind of machine (~0.1 ms so); yet it is a process of its own — PID, session, files,
// namespaces, signal handlers — so it is found, entered and stopped as an exec'd one. It makes its
// own session (no terminal's signals reach it, as a shell keeps them from a background job), puts
// /dev/null on its stdio and closes every other file it inherited, leaves the directory, names itself
// `pause` (comm; its command line and environment are the spawner's: `pause`, and the mark) and
// sleeps until a signal ends it.
//
//   PATH      make a pause process in the namespace at PATH; answer `K PID` or `E errno message`
//
// The spawner's children are reaped by the kernel (it ignores SIGCHLD); they outlive it. Where the
// spawner was not built (a plain `tsc`), or with PODNET_PAUSE_FORK=0, the plain program is started.
import { existsSync } from 'node:fs';
import { HostError, classifyStderr } from './errors.js';
import { Helper, lineDecoder } from './helper.js';
import { packagePath } from './package-root.js';

/** The pause program as podnet starts it where it has no spawner (argv). */
export const PAUSE_ARGV: readonly string[] = ['busybox', 'sleep', '2147483647'];

/** The spawner podnet builds (native/pause.c), or undefined where it is not there. */
function spawnerProgram(): string | undefined {
  const path = packagePath('dist', 'native', 'pause');
  return existsSync(path) ? path : undefined;
}

/** What a runner may fork instead of starting the pause program: in the namespace at `netns`, with
 * the environment variable `env` (podnet's mark) set. */
export interface PauseWork {
  netns: string;
  env: Record<string, string>;
}

/** How a fork went: the child's PID, or why there is none. */
type ForkAnswer = { pid: number } | { errno: number; message: string };

class PauseSpawner extends Helper<string> {
  constructor(program: string, env: Record<string, string>) {
    super('pause spawner', { exec: program, argv0: 'pause' }, lineDecoder(), env);
  }
}

/** One spawner per environment (per owner), made on first use and again if it died. */
const spawners = new Map<string, PauseSpawner>();

/** The spawner of `env`, made unless it runs already; undefined where podnet has none. */
function spawnerFor(env: Record<string, string>): PauseSpawner | undefined {
  if (process.env.PODNET_PAUSE_FORK === '0') return undefined;
  const key = JSON.stringify(env);
  let s = spawners.get(key);
  if (!s || s.dead) {
    const program = spawnerProgram();
    if (!program) return undefined;
    spawners.set(key, (s = new PauseSpawner(program, env)));
  }
  return s;
}

/** Starts the spawner of `env` now, ahead of its first fork (Runner.warm). */
export function warmPauseSpawner(env: Record<string, string>): void {
  spawnerFor(env);
}

/** Makes a pause process as `work` says. Undefined when podnet cannot (PODNET_PAUSE_FORK=0, no
 * spawner built, the spawner gone): the caller starts the program instead. */
async function forkPause(work: PauseWork): Promise<ForkAnswer | undefined> {
  const s = spawnerFor(work.env);
  if (!s) return undefined;
  let line: string;
  try {
    line = await s.ask(work.netns);
  } catch {
    return undefined;
  }
  const m = /^(?:K (\d+)|E (\d+) (.*))$/.exec(line);
  if (!m) return undefined;
  return m[1] ? { pid: Number(m[1]) } : { errno: Number(m[2]), message: m[3] };
}

/** Ends the spawner of `env` (if any) and waits until it has exited; the next request starts another. */
export async function endPauseSpawner(env: Record<string, string>): Promise<void> {
  const key = JSON.stringify(env);
  const s = spawners.get(key);
  spawners.delete(key);
  await s?.end();
}

/** Starts the command `argv` stands for by forking it (`work`), when podnet can: resolves with the
 * PID, or undefined (the caller starts `argv`). A namespace that cannot be entered fails as nsenter would. */
export async function startByFork(argv: readonly string[], work: PauseWork): Promise<number | undefined> {
  const a = await forkPause(work);
  if (!a || 'pid' in a) return a?.pid;
  const stderr = `nsenter: reassociate to namespace 'ns/net' failed: ${work.netns}: ${a.message}`;
  throw new HostError({ kind: classifyStderr(a.message), argv, exitCode: 1, stderr });
}
