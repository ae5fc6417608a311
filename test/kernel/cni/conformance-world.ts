// The machinery of the CNI conformance suite (conformance.test.ts): the implementations under test,
// a fresh "world" per case and implementation (a host namespace H and pod namespaces, prefix
// `pncf<hex>-`), plugin calls made exactly as a runtime makes them (CNI_* environment, config on
// stdin, the executable found on CNI_PATH and exec'd inside H), and the daemon. The independent read
// of the kernel afterwards and the normalising, flattening and diffing that turns two runs into
// "case → field → podnet vs reference" are in ./conformance-kernel.ts (re-exported here).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { netnsWithPrefix, run, runStatus, waitFor, within } from '../helpers.js';

export { Normalizer, diff, flatten, snapshot, type FieldDiff, type IpamSnapshot, type NsSnapshot, type Snapshot } from './conformance-kernel.js';

/** The reference plugins (Debian's containernetworking-plugins 1.1.1). */
export const REFERENCE_DIR = '/usr/lib/cni';

/** The implementations a case can run against. The mixed ones chain one side of each. */
export type ImplId = 'podnet' | 'reference' | 'podnet-oneshot' | 'podnet-bridge+ref-ipam' | 'ref-bridge+podnet-ipam';

/** One implementation: the `type`s its config names and the plugin path a runtime would search. */
export interface Impl {
  id: ImplId;
  /** Short tag used in namespace names. */
  tag: string;
  bridgeType: string;
  ipamType: string;
  portmapType: string;
  cniPath: string[];
  /** Extra environment of the runtime (PODNET_CNI_SOCKET: daemon or one-shot). */
  env: Record<string, string>;
}

/** The implementations, given the directory `podnet cni install` wrote and the daemon's socket. */
export function implementations(podnetDir: string, socket: string, noSocket: string): Record<ImplId, Impl> {
  const daemon = { PODNET_CNI_SOCKET: socket };
  return {
    podnet: { id: 'podnet', tag: 'pn', bridgeType: 'podnet-bridge', ipamType: 'podnet-host-local', portmapType: 'podnet-portmap', cniPath: [podnetDir], env: daemon },
    reference: { id: 'reference', tag: 'ref', bridgeType: 'bridge', ipamType: 'host-local', portmapType: 'portmap', cniPath: [REFERENCE_DIR], env: {} },
    'podnet-oneshot': { id: 'podnet-oneshot', tag: 'pn1', bridgeType: 'podnet-bridge', ipamType: 'podnet-host-local', portmapType: 'podnet-portmap', cniPath: [podnetDir], env: { PODNET_CNI_SOCKET: noSocket } },
    'podnet-bridge+ref-ipam': { id: 'podnet-bridge+ref-ipam', tag: 'mxa', bridgeType: 'podnet-bridge', ipamType: 'host-local', portmapType: 'podnet-portmap', cniPath: [podnetDir, REFERENCE_DIR], env: daemon },
    'ref-bridge+podnet-ipam': { id: 'ref-bridge+podnet-ipam', tag: 'mxb', bridgeType: 'bridge', ipamType: 'podnet-host-local', portmapType: 'portmap', cniPath: [podnetDir, REFERENCE_DIR], env: daemon },
  };
}

/** What one plugin call ended with. */
export interface Outcome {
  exit: number;
  stdout: string;
  stderr: string;
  /** stdout parsed, when it is JSON. */
  json?: Record<string, unknown>;
  ms: number;
}

/** Finds `type` on the plugin path, as libcni's FindInPath does. */
export function findInPath(type: string, path: readonly string[]): string | undefined {
  for (const dir of path) {
    const file = join(dir, type);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** Execs a plugin like a runtime: `nsenter --net=/run/netns/H <plugin>` with exactly `env` (plus PATH)
 * and `stdin`; bounded by `timeoutMs` (then SIGKILL). */
export function execPlugin(hostNs: string, exe: string, env: Record<string, string | undefined>, stdin: string, timeoutMs = 15_000): Promise<Outcome> {
  const t0 = Date.now();
  const vars: Record<string, string> = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) vars[k] = v;
  return new Promise((resolve) => {
    const child = spawn('nsenter', [`--net=/run/netns/${hostNs}`, exe], { env: vars, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let json: Record<string, unknown> | undefined;
      try {
        const v: unknown = JSON.parse(stdout);
        if (v && typeof v === 'object' && !Array.isArray(v)) json = v as Record<string, unknown>;
      } catch {
        // not JSON (empty, or text)
      }
      resolve({ exit: code ?? (signal ? 128 : 1), stdout, stderr, json, ms: Date.now() - t0 });
    });
  });
}

/** A case's kernel, made fresh per implementation: H (the runtime's namespace) and the pods. */
export class World {
  /** Namespace names by key: `H`, `p1`, `p2`, … */
  readonly ns: Record<string, string>;
  /** host-local's data dir for this world. */
  readonly dataDir: string;

  constructor(readonly prefix: string, readonly dir: string, pods: readonly string[]) {
    this.ns = Object.fromEntries(['H', ...pods].map((k) => [k, `${prefix}${k}`]));
    this.dataDir = join(dir, 'data');
  }

  /** Creates the namespaces. Equivalent to: `ip netns add NAME` for each. */
  create(): void {
    const input = Object.values(this.ns).map((n) => `netns add ${n}\n`).join('');
    runStdin(['ip', '-batch', '-'], input);
  }

  /** The CNI_NETNS of a pod (also for a pod whose namespace was deleted). */
  netnsPath(pod: string): string {
    return `/run/netns/${this.ns[pod] ?? `${this.prefix}${pod}`}`;
  }

  /** `ip -n NS ARGS…` in the namespace of `key`. */
  ip(key: string, args: readonly string[]): string {
    return run(['ip', '-n', this.ns[key], ...args]);
  }

  /** Deletes the namespace of `key` (a pod going away before DEL) and waits (bounded) until the kernel
   * has destroyed it: the host ends of its veths vanish from H. Equivalent to: `ip netns del NAME`. */
  async deleteNetns(key: string): Promise<void> {
    const peers = JSON.parse(this.ip(key, ['-json', 'link', 'show']) || '[]') as { link_index?: number; link_netnsid?: number }[];
    const hostEnds = peers.filter((l) => l.link_netnsid !== undefined && l.link_index !== undefined).map((l) => l.link_index);
    run(['ip', 'netns', 'del', this.ns[key]]);
    const gone = () => {
      const h = JSON.parse(this.ip('H', ['-json', 'link', 'show']) || '[]') as { ifindex: number }[];
      return !h.some((l) => hostEnds.includes(l.ifindex));
    };
    if (!(await waitFor(gone, 5000))) throw new Error(`the host ends of ${this.ns[key]}'s veths are still in H 5 s after ip netns del`);
  }

  /** Removes every namespace of this world (a namespace already gone is fine). */
  destroy(): void {
    for (const n of netnsWithPrefix(this.prefix)) runStatus(['ip', 'netns', 'del', n]);
  }
}

/** Runs argv with `input` on stdin; throws with stderr on failure. */
function runStdin(argv: readonly string[], input: string): void {
  const r = spawnSyncText(argv, input);
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.trim()}`);
}

/** Runs argv synchronously with optional stdin; never throws. */
function spawnSyncText(argv: readonly string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

// ---------------------------------------------------------------------------------------------
// podnet's plugins as a runtime would find them, and the daemon that serves them.

/** A unique prefix for this run's namespaces: `pncf<6 hex>-`. */
export function runPrefix(): string {
  return `pncf${randomBytes(3).toString('hex')}-`;
}

/** `node bin/podnet.js cni install --dir DIR --socket SOCKET`. */
export function installPodnet(repoRoot: string, dir: string, socket: string): void {
  run([process.execPath, join(repoRoot, 'bin', 'podnet.js'), 'cni', 'install', '--dir', dir, '--socket', socket]);
}

/** `podnet cni serve --socket SOCKET`, started here and stopped by its PID. */
export class Daemon {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  output = '';

  constructor(private readonly repoRoot: string, readonly socket: string) {}

  /** Starts the daemon and waits (bounded) until its socket exists. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [join(this.repoRoot, 'bin', 'podnet.js'), 'cni', 'serve', '--socket', this.socket], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((r) => child.on('exit', () => r()));
    child.stdout?.on('data', (b: Buffer) => { this.output += b.toString(); });
    child.stderr?.on('data', (b: Buffer) => { this.output += b.toString(); });
    if (!(await waitFor(() => existsSync(this.socket), 10_000))) throw new Error(`podnet cni serve did not listen on ${this.socket}: ${this.output}`);
  }

  /** The daemon's PID, or undefined before start. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** SIGTERM to the daemon's PID, SIGKILL after 5 s; waits until it has exited, then (bounded) until the
   * processes it had started (its shells) are gone too. Returns the PIDs of those that had to be killed. */
  async stop(): Promise<number[]> {
    const pid = this.child?.pid;
    if (!pid || !this.exited || this.child?.exitCode !== null) return [];
    const children = childrenOf(pid);
    process.kill(pid, 'SIGTERM');
    const done = await within(this.exited.then(() => true), 5000, false);
    if (!done) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      await this.exited;
    }
    const alive = (p: number) => existsSync(`/proc/${p}`) && !readFileSync(`/proc/${p}/stat`, 'latin1').includes(') Z ');
    await waitFor(() => !children.some(alive), 3000);
    const left = children.filter(alive);
    for (const p of left) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    return left;
  }
}

/** The PIDs whose parent is `pid` (field 4 of /proc/PID/stat). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}
