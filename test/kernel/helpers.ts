// Shared helpers for the kernel tier: unique names, LabDeps on a temp state root, a lab of a test
// file's own (withLab: up in `before`, down and checked from kernel state in `after`), and independent
// reads of what the kernel holds (`ip -n NS -json -details …`, `bridge -n NS -json …`, /proc), made
// straight through child_process — never through podnet's own readers. Every wait is bounded.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { Host } from '../../src/host/host.js';
import { ExecRunner } from '../../src/host/runner.js';
import type { LabDeps } from '../../src/lab/deps.js';
import { LabDir, type LabState } from '../../src/lab/state.js';
import { resolveTarget, type Target } from '../../src/lab/target.js';
import { labUp, requireUp, type LabUpOptions } from '../../src/lab/lifecycle.js';
import { defaultTopology, parseTopology } from '../../src/model/topology.js';

type Json = Record<string, unknown>;

/** A name nobody else uses: `prefix` + 6 random hex digits (a lab name, a namespace prefix). */
export function uniqueName(prefix = 'kt'): string {
  return `${prefix}${randomBytes(3).toString('hex')}`;
}

/** A fresh temp directory (the lab's state root, a CNI data dir). */
export function tempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `podnet-kernel-${label}-`));
}

/** LabDeps as the CLI builds them, with state under `stateRoot`. */
export function labDeps(stateRoot: string): LabDeps {
  return { host: new Host(new ExecRunner()), stateRoot, random: (n) => new Uint8Array(randomBytes(n)) };
}

/** Runs argv (no shell) and returns stdout; throws with stderr on a non-zero exit. Bounded by `timeoutMs`. */
export function run(argv: readonly string[], timeoutMs = 20_000): string {
  return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Like run, but returns the exit status and output instead of throwing. */
export function runStatus(argv: readonly string[], timeoutMs = 20_000): { status: number; stdout: string; stderr: string } {
  try {
    return { status: 0, stdout: run(argv, timeoutMs), stderr: '' };
  } catch (e) {
    const err = e as { status?: number | null; stdout?: string; stderr?: string };
    return { status: err.status ?? 1, stdout: String(err.stdout ?? ''), stderr: String(err.stderr ?? '') };
  }
}

/** `ip -n NS -json -details ARGS…`, parsed. */
export function ipJson(ns: string, args: readonly string[]): Json[] {
  const out = run(['ip', '-n', ns, '-json', '-details', ...args]).trim();
  return out ? (JSON.parse(out) as Json[]) : [];
}

/** `bridge -n NS -json ARGS…`, parsed. */
export function bridgeJson(ns: string, args: readonly string[]): Json[] {
  const out = run(['bridge', '-n', ns, '-json', ...args]).trim();
  return out ? (JSON.parse(out) as Json[]) : [];
}

/** One link of a namespace by name (with details), or undefined. */
export function link(ns: string, name: string): Json | undefined {
  return ipJson(ns, ['link', 'show']).find((l) => l.ifname === name);
}

/** Every link of a namespace (with details). */
export function links(ns: string): Json[] {
  return ipJson(ns, ['link', 'show']);
}

/** The IPv4 addresses of one interface as `a.b.c.d/len`, in kernel order. */
export function inet(ns: string, dev: string): string[] {
  const [entry] = ipJson(ns, ['addr', 'show', 'dev', dev]);
  const infos = (entry?.addr_info ?? []) as { family: string; local: string; prefixlen: number }[];
  return infos.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}

/** The kind of a link (`veth`, `bridge`, …) from `linkinfo.info_kind`. */
export function kindOf(l: Json | undefined): string | undefined {
  return (l?.linkinfo as { info_kind?: string } | undefined)?.info_kind;
}

/** A sysctl read inside a namespace: `nsenter --net=/run/netns/NS sysctl -n KEY`. */
export function nsSysctl(ns: string, key: string): string {
  return run(['nsenter', `--net=/run/netns/${ns}`, 'sysctl', '-n', key]).trim();
}

/** The pinned namespaces (`ip -json netns list`) whose names start with `prefix`. */
export function netnsWithPrefix(prefix: string): string[] {
  const out = run(['ip', '-json', 'netns', 'list']).trim();
  const names = out ? (JSON.parse(out) as { name: string }[]).map((e) => e.name) : [];
  return names.filter((n) => n.startsWith(prefix)).sort();
}

/** The namespaces of lab `lab` (`podnet-<lab>-…`). */
export function labNetns(lab: string): string[] {
  return netnsWithPrefix(`podnet-${lab}-`);
}

/** PIDs of processes whose environment holds PODNET_LAB=<lab> (read from /proc/PID/environ). */
export function labProcesses(lab: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(`PODNET_LAB=${lab}`)) pids.push(Number(name));
    } catch {
      // gone, or a kernel thread
    }
  }
  return pids;
}

/** The PIDs of `pid`'s children now (every thread's `children` file under /proc/PID/task), none if it is gone. */
export function childrenOf(pid: number | string): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'latin1').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

/** The process group of `pid` (field 5 of /proc/PID/stat), or undefined if it is gone. */
export function pgrpOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

/** PIDs of processes in process group `pgrp`. */
export function processGroup(pgrp: number): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => pgrpOf(pid) === pgrp);
}

/** The network-namespace inode of a process (`/proc/PID/ns/net` → `net:[INODE]`), or undefined. */
export function netInodeOf(pid: number): number | undefined {
  try {
    const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/net`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The inode of a file, read with `stat -L -c %i`. */
export function statInode(path: string): number {
  return Number(run(['stat', '-L', '-c', '%i', path]).trim());
}

/** A process's argv (`/proc/PID/cmdline`), or undefined if it is gone. */
export function cmdline(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** True while /proc/PID exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Reads `<stateRoot>/<lab>/state.json` directly. */
export function readState(stateRoot: string, lab: string): LabState {
  return JSON.parse(readFileSync(join(stateRoot, lab, 'state.json'), 'utf8')) as LabState;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** `p`, or `fallback` once `ms` have passed (the timer is cleared either way, so nothing lingers). */
export async function within<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<F>((r) => { timer = setTimeout(() => r(fallback), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `pred()` is true, checking every `stepMs`, for at most `timeoutMs`; returns the last value. */
export async function waitFor(pred: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Last-resort removal of what a lab left (used only when labDown itself failed to): the lab's
 * processes (by their PODNET_LAB marker) and its namespaces. Touches nothing else. */
export function forceRemoveLab(lab: string): void {
  for (const pid of labProcesses(lab)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const ns of labNetns(lab)) runStatus(['ip', 'netns', 'del', ns]);
}

/** After a lab went down: waits briefly for its processes to end; if namespaces or processes are
 * left, removes them by force and says what was left (undefined when nothing was). */
export async function leftoversOf(lab: string): Promise<string | undefined> {
  await waitFor(() => labProcesses(lab).length === 0, 3000);
  const ns = labNetns(lab);
  const procs = labProcesses(lab);
  if (!ns.length && !procs.length) return undefined;
  forceRemoveLab(lab);
  return `lab ${lab} left namespaces [${ns.join(', ')}] and processes [${procs.join(', ')}]`;
}

/** Tear-down for an `after` hook: labDown every lab, then check (and, failing that, force) that no
 * `podnet-<lab>-` namespace and no process of the lab is left; removes the temp dirs. Throws (after
 * cleaning) if labDown left anything, so a leak fails the file. */
export async function tearDownLabs(deps: LabDeps, labs: readonly string[], dirs: readonly string[]): Promise<void> {
  const { labDown } = await import('../../src/lab/down.js');
  const problems: string[] = [];
  for (const lab of labs) {
    try {
      await labDown(deps, lab);
    } catch (e) {
      problems.push(`labDown ${lab}: ${(e as Error).message}`);
    }
    const left = await leftoversOf(lab);
    if (left) problems.push(left);
  }
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  if (problems.length) throw new Error(problems.join('; '));
}


/** `import` specifiers (file URLs) of the compiled modules a child script needs. */
export function distModules(): Record<'lifecycle' | 'clean' | 'host' | 'runner' | 'topology', string> {
  const url = (rel: string) => new URL(`../../src/${rel}`, import.meta.url).href;
  return { lifecycle: url('lab/lifecycle.js'), clean: url('lab/clean.js'), host: url('host/host.js'), runner: url('host/runner.js'), topology: url('model/topology.js') };
}

/** A child process whose stdout lines are collected, so a test can wait for one and kill it there. */
export class WatchedChild {
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  readonly pid: number;
  /** Resolves with the exit code (or the signal's name) when the child ends. */
  readonly exited: Promise<number | string>;
  private waiters: (() => void)[] = [];

  /** Starts argv detached (its own process group, whose id is its PID). */
  constructor(argv: readonly string[]) {
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.pid = child.pid ?? 0;
    let buf = '';
    child.stdout.on('data', (b: Buffer) => {
      buf += b.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      this.lines.push(...parts);
      for (const w of this.waiters.splice(0)) w();
    });
    child.stderr.on('data', (b: Buffer) => { this.stderr.push(b.toString()); });
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
      for (const w of this.waiters.splice(0)) w();
      resolve(signal ?? code ?? -1);
    }));
  }

  /** Waits until `pred(lines)` holds, the child exits, or `timeoutMs` passes; true when `pred` held. */
  async waitLines(pred: (lines: readonly string[]) => boolean, timeoutMs: number): Promise<boolean> {
    let done = false;
    void this.exited.then(() => { done = true; });
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.lines)) {
      if (done || Date.now() >= deadline) return pred(this.lines);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
    return true;
  }

  /** SIGKILL to the child alone (not its group), then waits (bounded) until it has exited and every
   * process left in its group (iproute2, nsenter, flock it had started) has finished. */
  async kill(timeoutMs = 10_000): Promise<void> {
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await within(this.exited, timeoutMs, 'timeout');
    await waitFor(() => processGroup(this.pid).length === 0, timeoutMs);
  }
}

/** The target `podnet inspect --name LAB [NODE]` resolves to (the lab's state read once). */
export async function labTarget(stateRoot: string, lab: string, node?: string): Promise<Target> {
  return resolveTarget(stateRoot, { lab, labExplicit: true, ...(node !== undefined ? { node } : {}) });
}

/** The state of a lab that is up. */
export function labState(stateRoot: string, lab: string): Promise<LabState> {
  return requireUp(new LabDir(stateRoot, lab), lab);
}

/** A lab of a test file's own (see withLab). */
export interface LabFixture {
  /** The lab's name: `<prefix>` + 6 random hex digits. */
  readonly lab: string;
  /** Its state root, a temp dir of its own (made in the `before` hook, removed in `after`). */
  readonly root: string;
  /** LabDeps on that root, as the CLI builds them (ExecRunner). */
  readonly deps: LabDeps;
  /** The lab's state file, read now (readState). */
  state(): LabState;
  /** The target `podnet inspect --name LAB [NODE]` resolves to. */
  target(node?: string): Promise<Target>;
  /** Resolves once the lab is up (brings it up if withLab's own hook has not yet): a file's `before`
   * that needs the lab awaits this first — node 20 runs a file's top-level `before` hooks at once,
   * not one after the other (inside a `describe` they do run in order). */
  ready(): Promise<void>;
  /** Registers `fn` to run in the tear-down before the lab goes down, the last registered first:
   * for what reads the lab (a UI server, a browser, shells). Its failure fails the file. */
  cleanup(fn: () => unknown): void;
}

/** How withLab brings its lab up. */
export interface WithLabOptions {
  /** The lab name's prefix (default `kt`). */
  prefix?: string;
  /** labUp's options: the lease store, the agents' lease TTL. */
  up?: LabUpOptions;
  /** Runs in the `before` hook before the lab comes up (e.g. an etcd of the user's that the lab uses). */
  beforeUp?: () => Promise<unknown>;
  /** Runs in the `after` hook once the lab is down and checked, whatever happened before (e.g. that
   * etcd stopped). Its failure fails the file. */
  afterDown?: () => Promise<unknown>;
}

/** A lab for the tests of a file (or of a `describe`, when called inside one): `topology` (a number
 * of pods on the default node `server`, or a topology as written; default 2 pods) comes up in a
 * `before` hook under a fresh state root; an `after` hook runs the cleanups, takes the lab down, checks
 * from kernel state that no `podnet-<lab>-` namespace and no process of the lab is left (removing
 * them by force if one is, and failing the file), and removes the state root. A `before` of the file
 * that needs the lab awaits `ready()`; `after` hooks run in the order they were registered, so one
 * registered after withLab runs once the lab is down. Nothing happens at the call itself, so a
 * skipped `describe` makes nothing. */
export function withLab(label: string, topology: number | object = 2, opts: WithLabOptions = {}): LabFixture {
  const lab = uniqueName(opts.prefix ?? 'kt');
  const root = join(tmpdir(), `podnet-kernel-${label}-${randomBytes(4).toString('hex')}`);
  const deps = labDeps(root);
  const cleanups: (() => unknown)[] = [];
  let up: Promise<void> | undefined;
  const ready = () => (up ??= (async () => {
    await mkdir(root, { mode: 0o700 }); // fails if the name exists: the root is this fixture's own
    await opts.beforeUp?.();
    await labUp(deps, lab, parseTopology(typeof topology === 'number' ? defaultTopology(topology) : topology), opts.up);
  })());
  before(ready);
  after(async () => {
    const problems: string[] = [];
    const attempt = async (what: string, fn: () => unknown) => {
      try {
        await fn();
      } catch (e) {
        problems.push(`${what}: ${(e as Error).message}`);
      }
    };
    for (const fn of cleanups.splice(0).reverse()) await attempt('cleanup', fn);
    await attempt('tear-down', () => tearDownLabs(deps, [lab], [root]));
    if (opts.afterDown) await attempt('after the lab went down', opts.afterDown);
    if (problems.length) throw new Error(problems.join('; '));
  });
  return {
    lab, root, deps,
    state: () => readState(root, lab),
    target: (node) => labTarget(root, lab, node),
    ready,
    cleanup: (fn) => { cleanups.push(fn); },
  };
}
