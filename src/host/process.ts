// Long-running processes inside a namespace: started through nsenter (not `ip netns exec`, which
// remounts /sys and breaks what lives on), marked with an environment variable so podnet only ever
// stops processes it started, and found again through /proc after a crash.
import { spawn } from 'node:child_process';
// /proc is read synchronously throughout: a read there is a few microseconds in the kernel and never
// waits on a disk, while each asynchronous one costs several thread-pool round trips (open, stat, read,
// close) — at 100 pods, thousands of them on `lab up` and `lab down` (docs/benchmarks.md).
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import type { Runner, RunResult } from './runner.js';
import type { Netns } from './netns.js';
import { inNetns } from './netns.js';
import { PAUSE_ARGV, endPauseSpawner } from './pause.js';
import { pool } from './pool.js';
import { helperPids } from './helper.js';

/** The environment variable that marks a process as podnet's; its value names the lab. */
export const MARKER_ENV = 'PODNET_LAB';
const MARK = `${MARKER_ENV}=`;

/** Starts a pause process inside each of `nss` (`concurrency` at a time; none new once `signal` is
 * aborted), marked as belonging to `owner`, and resolves with their PIDs in order. Where it can,
 * podnet's pause spawner makes them (./pause.ts); it ends once they are started, so no process
 * carrying the mark outlives the call but the pause processes. Else each is started as
 * `processStart` starts `PAUSE_ARGV`. Equivalent to, per namespace:
 * `PODNET_LAB=OWNER nsenter --net=PATH -- busybox sleep 2147483647 &`. */
export async function pauseStartAll(runner: Runner, nss: readonly Netns[], owner: string, o: { concurrency?: number; signal?: AbortSignal } = {}): Promise<number[]> {
  const env = { [MARKER_ENV]: owner };
  const start = (ns: Netns) => runner.start({ argv: inNetns({ path: ns.path }, PAUSE_ARGV[0], PAUSE_ARGV.slice(1)), env, mutates: true, pause: { netns: ns.path, env } });
  try {
    return await pool(nss, o.concurrency ?? 32, start, o.signal);
  } finally {
    await endPauseSpawner(env);
  }
}

/** Starts the helpers that pauseStartAll and podnet's rtnetlink reads and changes for `owner` will use,
 * ahead of need (Runner.warm): a lab's `up` calls it first, so that the helpers start while it waits
 * for its lock and its namespaces. Nothing changes on the machine. */
export function helpersWarm(runner: Runner, owner: string): void {
  runner.warm?.({ [MARKER_ENV]: owner });
}

/** Ends the pause spawner warmed for `owner` if it still runs (a lab up that failed before its pods). */
export function helpersCool(owner: string): Promise<void> {
  return endPauseSpawner({ [MARKER_ENV]: owner });
}

/** Starts `argv` inside `ns`, detached, marked as belonging to `owner`. Equivalent to:
 * `PODNET_LAB=OWNER nsenter --net=PATH -- ARGV… &`. Resolves with the PID. */
export function processStart(runner: Runner, ns: Netns, argv: readonly string[], owner: string): Promise<number> {
  return runner.start({ argv: inNetns({ path: ns.path }, argv[0], argv.slice(1)), env: { [MARKER_ENV]: owner }, mutates: true });
}

/** Runs `argv` inside `ns` once and resolves with its output, whatever the exit code (a program
 * podnet drives: a reference CNI plugin, a probe). Equivalent to: `nsenter --net=PATH -- ARGV…`. */
export function processRun(runner: Runner, ns: Netns, argv: readonly string[], o: { input?: string; mutates?: boolean } = {}): Promise<RunResult> {
  return runner.run({ argv: inNetns(ns, argv[0], argv.slice(1)), ...(o.input !== undefined ? { input: o.input } : {}), mutates: o.mutates ?? true });
}

/** The argv that runs `argv` inside `ns` with nsenter (what `podnet exec` shows under -v). */
export function attachedArgv(ns: Netns, argv: readonly string[]): string[] {
  return ['nsenter', `--net=${ns.path}`, '--', ...argv];
}

/** argv that runs `argv` in a mount namespace of its own in which `file` is bind-mounted on
 * /etc/resolv.conf — how a pod's processes see the resolv.conf kubelet wrote for them while the
 * machine's own file stays untouched (the mount dies with the namespace; nothing propagates back).
 * Equivalent to: `unshare --mount --propagation private -- sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' FILE ARGV…`. */
export function withResolvConf(file: string, argv: readonly string[]): string[] {
  return ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$0" /etc/resolv.conf && exec "$@"', file, ...argv];
}

/** Runs `argv` inside `ns` with this terminal passed through (stdin, stdout, stderr) and resolves with
 * its exit code; a command killed by a signal ends as a shell reports it, 128 + the signal's number;
 * a program that cannot be started, 127 (and `onError` hears why). Equivalent to: `nsenter --net=PATH -- ARGV…`. */
export function processRunAttached(ns: Netns, argv: readonly string[], onError: (message: string) => void = () => undefined): Promise<number> {
  const full = attachedArgv(ns, argv);
  return new Promise<number>((resolve) => {
    const child = spawn(full[0], full.slice(1), { stdio: 'inherit' });
    child.on('error', (e) => { onError(e.message); resolve(127); });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + (constants.signals[signal] ?? 15) : 1)));
  });
}

/** The processes whose environment marks them as `owner`'s (PODNET_LAB=<owner>), from /proc; never
 * this one, nor its helpers (a pause spawner carries the mark it hands its children). */
export async function processesOwnedBy(owner: string): Promise<number[]> {
  const mine = helperPids();
  const pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((p) => p !== process.pid && !mine.has(p));
  const owners = await Promise.all(pids.map(async (pid) => ((await processOwner(pid)) === owner ? pid : 0)));
  return owners.filter((p) => p > 0);
}

/** One buffer for every environment read (a lab down reads hundreds): grown when one does not fit. */
let envBuf = Buffer.allocUnsafe(64 * 1024);
const MARK_AT_START = Buffer.from(MARK, 'latin1');
const MARK_INSIDE = Buffer.from(`\0${MARK}`, 'latin1');

/** The owner recorded in a process's environment, or undefined if it is not podnet's (or gone). */
export async function processOwner(pid: number): Promise<string | undefined> {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/environ`, 'r');
  } catch {
    return undefined;
  }
  try {
    // Read into the shared buffer and searched there: no string of the whole environment is made.
    let n = 0;
    for (;;) {
      if (n === envBuf.length) envBuf = Buffer.concat([envBuf, Buffer.allocUnsafe(envBuf.length)]);
      const r = readSync(fd, envBuf, n, envBuf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    const env = envBuf.subarray(0, n);
    const atStart = env.compare(MARK_AT_START, 0, MARK_AT_START.length, 0, Math.min(n, MARK_AT_START.length)) === 0;
    const at = atStart ? 0 : env.indexOf(MARK_INSIDE) + 1;
    if (at === 0 && !atStart) return undefined;
    const end = env.indexOf(0, at);
    return env.toString('latin1', at + MARK.length, end < 0 ? n : end);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Stops podnet's processes `pids` that still belong to `owner`: TERM to all, then KILL to any still
 * there after `graceMs`. Equivalent to: `kill PID…`. Processes of anyone else are left alone.
 * `meanwhile` is work that needs the processes signalled but not gone (deleting the namespaces they
 * are in): it runs while they exit, and this resolves when both are done. */
export async function processStopAll(runner: Runner, pids: readonly number[], owner: string, graceMs = 1000, meanwhile?: () => Promise<void>): Promise<void> {
  const mine = async (list: readonly number[]) =>
    (await Promise.all(list.map(async (pid) => (pid > 0 && (await processOwner(pid)) === owner ? pid : 0)))).filter((p) => p > 0);
  // A PID podnet just started may not carry the mark yet (forked, not yet exec'd): give it a moment.
  // One read of each environment per round: the marked ones are kept, the unmarked running ones waited for.
  const settleBy = Date.now() + 500;
  let owners: (string | undefined)[];
  for (;;) {
    owners = await Promise.all(pids.map(async (pid) => (pid > 0 ? processOwner(pid) : undefined)));
    const unmarked = (await Promise.all(pids.map(async (pid, i) => (pid > 0 && owners[i] === undefined && (await processRunning(pid)) ? pid : 0)))).filter((p) => p > 0);
    if (unmarked.length === 0 || Date.now() > settleBy) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  let live = pids.filter((_, i) => owners[i] === owner);
  await Promise.all(live.map((pid) => runner.signal(pid, 'SIGTERM')));
  const work = meanwhile?.();
  work?.catch(() => undefined); // awaited below, after the wait
  const deadline = Date.now() + graceMs;
  while (live.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
    live = await mine(live);
  }
  await Promise.all(live.map((pid) => runner.signal(pid, 'SIGKILL')));
  await work;
}

/** True while process `pid` exists and is not a zombie. (Right after a shell starts a command, the
 * process may not carry podnet's mark yet: it has forked but not exec'd. Existence is the test then.) */
export async function processRunning(pid: number): Promise<boolean> {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The inode of a file — for a namespace file, the namespace's identity (what /proc/PID/ns/net links to as `net:[INODE]`). */
export async function netnsInode(path: string): Promise<number | undefined> {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** Every process whose network namespace is one of `inodes`, with its namespace inode. Reads /proc. */
export async function processesInNetns(inodes: ReadonlySet<number>): Promise<{ pid: number; inode: number }[]> {
  if (inodes.size === 0) return [];
  const pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
  const found = pids.map((pid) => {
    try {
      const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/net`));
      const inode = m ? Number(m[1]) : NaN;
      return inodes.has(inode) ? { pid, inode } : undefined;
    } catch {
      return undefined;
    }
  });
  return found.filter((x): x is { pid: number; inode: number } => x !== undefined);
}

/** A process's start time (field 22 of /proc/PID/stat, in clock ticks since boot), or undefined when
 * it is gone. With the PID it names one process for good: a PID reused later has another start time. */
export function processStartTimeSync(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
