// Network namespace handles: a namespace is always named explicitly (netlink's Handle, CNI's NetNS),
// never taken from ambient "current namespace" state.
import { readdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Runner, RunResult } from './runner.js';
import { runOk } from './runner.js';
import { HostError, batchFailures, classifyStderr } from './errors.js';
import { netnsAddLine, netnsDelLine } from './ip-lines.js';

/** Where `ip netns add` pins named namespaces. */
export const NETNS_RUN_DIR = '/run/netns';

/** A network namespace: by name (pinned under /run/netns) or by path (any nsfs file), or the one podnet runs in. */
export interface Netns {
  /** Set when the namespace is pinned under /run/netns, so `ip -n NAME` can reach it. */
  readonly name?: string;
  /** A file that opens the namespace (`/run/netns/NAME`, `/proc/PID/ns/net`, …). */
  readonly path: string;
  /** True for the namespace the podnet process itself runs in. */
  readonly current?: boolean;
}

/** The namespace podnet runs in (the root namespace, or the one `ip netns exec`/nsenter put it in). */
export const CURRENT_NETNS: Netns = Object.freeze({ path: '/proc/self/ns/net', current: true });

/** A handle for the namespace pinned as /run/netns/NAME. */
export function netnsNamed(name: string): Netns {
  return { name, path: `${NETNS_RUN_DIR}/${name}` };
}

/** A handle for a namespace file; pinned namespaces (/run/netns, /var/run/netns) also get their name. */
export function netnsAt(path: string): Netns {
  const dir = dirname(path);
  if (dir === NETNS_RUN_DIR || dir === '/var/run/netns') return { name: basename(path), path };
  return { path };
}

/** argv that runs `program args…` inside `ns`: `ip -n NAME …` for iproute2, else `nsenter --net=PATH …`. */
export function inNetns(ns: Netns, program: string, args: readonly string[]): string[] {
  if (ns.current) return [program, ...args];
  if (ns.name && (program === 'ip' || program === 'bridge')) return [program, '-n', ns.name, ...args];
  return ['nsenter', `--net=${ns.path}`, '--', program, ...args];
}

/** Creates namespaces, all in one process. Equivalent to: `ip netns add NAME` for each name.
 * Fails with a HostError naming the first name that could not be created (the others stay: the caller unwinds). */
export async function netnsAdd(runner: Runner, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const argv = ['ip', '-force', '-batch', '-'];
  const r = await runner.run({ argv, input: names.map((n) => `${netnsAddLine(n)}\n`).join(''), mutates: true });
  if (r.exitCode === 0) return;
  const [first] = batchFailures(r.stderr);
  const name = first ? names[first.line - 1] : undefined;
  throw new HostError({
    kind: classifyStderr(first?.message ?? r.stderr), argv, exitCode: r.exitCode, stderr: r.stderr, line: first?.line,
    message: `ip netns add ${name ?? names.join(' ')}: ${first?.message ?? r.stderr.trim()}`,
  });
}

/** Deletes namespaces, all in one process; a namespace already gone is fine. Equivalent to: `ip netns del NAME` for each. */
export async function netnsDelete(runner: Runner, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const argv = ['ip', '-force', '-batch', '-'];
  const r = await runner.run({ argv, input: names.map((n) => `${netnsDelLine(n)}\n`).join(''), mutates: true });
  if (r.exitCode === 0) return;
  const real = batchFailures(r.stderr).filter((f) => classifyStderr(f.message) !== 'not-found');
  if (real.length > 0) {
    throw new HostError({ kind: classifyStderr(real[0].message), argv, exitCode: r.exitCode, stderr: r.stderr, line: real[0].line,
      message: `ip netns del ${names[real[0].line - 1]}: ${real[0].message}` });
  }
}

/** `ip -json netns list` as podnet answers it itself: the entries of /run/netns (the names only; ip
 * adds an `id` where the namespace has one here, which no caller reads). No directory: no namespaces. */
async function listRunDir(): Promise<RunResult> {
  try {
    const names = await readdir(NETNS_RUN_DIR);
    return { stdout: names.length ? `${JSON.stringify(names.map((name) => ({ name })))}\n` : '', stderr: '', exitCode: 0 };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { stdout: '', stderr: '', exitCode: 0 };
    return { stdout: '', stderr: `${(e as Error).message}\n`, exitCode: 1 };
  }
}

/** The names of the pinned namespaces. Equivalent to: `ip -json netns list` (read in process: see listRunDir). */
export async function netnsList(runner: Runner): Promise<string[]> {
  const r = await runOk(runner, { argv: ['ip', '-json', 'netns', 'list'], mutates: false, inProcess: listRunDir });
  const text = r.stdout.trim();
  if (!text) return [];
  return (JSON.parse(text) as { name: string }[]).map((e) => e.name);
}
