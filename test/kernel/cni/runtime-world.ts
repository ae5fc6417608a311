// What runtimes.test.ts needs around a real container runtime: podnet's CLI (`cni install`,
// `cni conflist`, `cni serve`) run as a user runs it, a busybox root filesystem and an OCI image
// tar of it (no registry), a containerd of our own (temp root/state/socket, stopped by PID), and the
// few machine-wide files ctr insists on (/etc/cni/net.d, /opt/cni/bin) — created only under
// podnet-test names, recorded, and removed exactly. Every command and every wait is bounded.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, run, waitFor, within, WatchedChild } from '../helpers.js';
import { killAndWait } from '../inspect/foreign.js';
import { EXECUTABLES } from '../../../src/cni/install.js';

/** `bin/podnet.js` of this checkout (dist/test/kernel/cni → the project root). */
export const PODNET_BIN = fileURLToPath(new URL('../../../../bin/podnet.js', import.meta.url));

/** The plugin executables `podnet cni install` writes. */
export const PLUGINS: string[] = [...EXECUTABLES];

export interface Ran { status: number; stdout: string; stderr: string }

/** Runs argv with extra environment; never throws, bounded by `timeoutMs`. `unset` drops variables. */
export function exec(argv: readonly string[], opts: { env?: Record<string, string>; unset?: readonly string[]; timeoutMs?: number } = {}): Ran {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  for (const k of opts.unset ?? []) delete env[k];
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? ` (${r.error.message})` : ''}` };
}

/** Like exec, but throws with stderr unless the exit status is 0; returns stdout. */
export function execOk(argv: readonly string[], opts: Parameters<typeof exec>[1] = {}): string {
  const r = exec(argv, opts);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** `podnet ARGS…` through bin/podnet.js, as a user runs it. */
export function podnet(args: readonly string[]): string {
  return execOk([process.execPath, PODNET_BIN, ...args], { timeoutMs: 30_000 });
}

/** A random /24 inside 10.88.0.0/16 and its gateway (never 192.0.2.0/24, the machine's own). */
export function randomSubnet(avoid: readonly number[] = []): { octet: number; subnet: string; gateway: string } {
  let octet: number;
  do octet = 2 + (randomBytes(1)[0] % 250); while (avoid.includes(octet) || octet === 88);
  return { octet, subnet: `10.88.${octet}.0/24`, gateway: `10.88.${octet}.1` };
}

/** `podnet cni conflist` for `subnet` (cluster CIDR 10.88.0.0/16, host-local in `dataDir`), written to `file`. */
export function writeConflist(file: string, subnet: string, dataDir: string): Record<string, unknown> {
  podnet(['cni', 'conflist', '--subnet', subnet, '--cluster-cidr', '10.88.0.0/16', '--data-dir', dataDir, '--out', file]);
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}


const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** An OCI image layout tar (oci-layout, index.json, blobs/sha256/{layer,config,manifest}) of a
 * single uncompressed layer holding `rootfs`: what `ctr images import` takes without a registry. */
export function ociImageTar(rootfs: string, work: string): string {
  const layout = join(work, 'oci');
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const blob = (data: Buffer | string) => {
    const digest = sha256(data);
    writeFileSync(join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: Buffer.byteLength(data) };
  };
  const layerTar = join(work, 'layer.tar');
  run(['tar', '--numeric-owner', '-C', rootfs, '-cf', layerTar, '.']);
  const layerBytes = readFileSync(layerTar);
  const layerDigest = sha256(layerBytes);
  renameSync(layerTar, join(blobs, layerDigest));
  const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${layerDigest}`, size: layerBytes.length };
  const config = blob(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
  }));
  const manifest = blob(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [layer],
  }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, platform: { architecture: 'amd64', os: 'linux' } }],
  }));
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const tar = join(work, 'image.tar');
  run(['tar', '--numeric-owner', '-C', layout, '-cf', tar, 'oci-layout', 'index.json', 'blobs']);
  return tar;
}

/** `podnet cni serve --socket SOCK`, started as a child; `stop()` sends SIGTERM to its PID (SIGKILL
 * if it has not exited within 5 s) and waits, bounded, for it and the shells it started. */
export class Serve {
  readonly child: WatchedChild;

  private constructor(readonly socket: string) {
    this.child = new WatchedChild([process.execPath, PODNET_BIN, 'cni', 'serve', '--socket', socket]);
  }

  static async start(socket: string): Promise<Serve> {
    const s = new Serve(socket);
    // It says "listening on SOCKET" on stderr (podnet's messages go there) once the socket is bound.
    const up = await waitFor(() => `${s.child.lines.join('\n')}${s.child.stderr.join('')}`.includes('listening on'), 15_000, 20);
    if (!up || !existsSync(socket)) {
      await s.stop();
      throw new Error(`podnet cni serve did not start: ${s.child.stderr.join('').trim() || s.child.lines.join(' ')}`);
    }
    return s;
  }

  get pid(): number {
    return this.child.pid;
  }

  /** PIDs of the daemon's direct children (the shells its runner starts when it serves a request). */
  children(): number[] {
    return childrenOf(this.pid);
  }

  /** Returns how it ended: 'SIGTERM' (exited on its own after SIGTERM) or 'SIGKILL'. */
  async stop(): Promise<'SIGTERM' | 'SIGKILL'> {
    const kids = this.children();
    try {
      process.kill(this.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    let how: 'SIGTERM' | 'SIGKILL' = 'SIGTERM';
    if ((await within(this.child.exited, 5000, 'timeout')) === 'timeout') {
      how = 'SIGKILL';
      await this.child.kill();
    }
    if (!(await waitFor(() => kids.every((p) => !alive(p)), 5000, 50))) for (const p of kids) await killAndWait(p);
    return how;
  }
}

/** The PIDs whose parent is `ppid` (field 4 of /proc/PID/stat). */
export function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid && alive(Number(name))) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

/** Live processes whose command line mentions `needle` (our temp dir): conmon, containerd shims. */
export function processesMentioning(needle: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    if (pid === process.pid) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(needle) && alive(pid);
    } catch {
      return false;
    }
  });
}

/** A containerd of our own: config, root, state and sockets under `dir`; the CRI plugin (which
 * would watch /etc/cni/net.d) and the opt plugin (which would create /opt/containerd) disabled. */
export class Containerd {
  readonly address: string;
  private child: WatchedChild | undefined;

  constructor(readonly dir: string) {
    this.address = join(dir, 'containerd.sock');
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const config = join(this.dir, 'config.toml');
    writeFileSync(config, [
      'version = 2',
      `root = "${join(this.dir, 'root')}"`,
      `state = "${join(this.dir, 'state')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs",',
      '  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]',
      '[grpc]',
      `  address = "${this.address}"`,
      '[ttrpc]',
      `  address = "${this.address}.ttrpc"`,
      '',
    ].join('\n'));
    this.child = new WatchedChild(['containerd', '--config', config, '--log-level', 'info']);
    const up = await waitFor(() => existsSync(this.address) && exec(['ctr', '-a', this.address, 'version'], { timeoutMs: 5000 }).status === 0, 20_000, 100);
    if (!up) {
      const log = this.child.stderr.join('').trim().split('\n').slice(-5).join('\n');
      await this.stop();
      throw new Error(`containerd did not come up on ${this.address}: ${log}`);
    }
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last lines of its log (stderr). */
  log(lines = 15): string {
    return (this.child?.stderr.join('') ?? '').trim().split('\n').slice(-lines).join('\n');
  }

  /** `ctr -a ADDRESS ARGS…`, optionally inside a network namespace, with extra environment. */
  ctr(args: readonly string[], opts: { netns?: string; env?: Record<string, string>; unset?: readonly string[]; timeoutMs?: number } = {}): Ran {
    const argv = ['ctr', '-a', this.address, ...args];
    return exec(opts.netns ? ['nsenter', `--net=/run/netns/${opts.netns}`, '--', ...argv] : argv, opts);
  }

  /** SIGTERM to its PID, SIGKILL after 10 s; bounded. */
  async stop(): Promise<void> {
    const c = this.child;
    if (!c) return;
    this.child = undefined;
    try {
      process.kill(c.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    if ((await within(c.exited, 10_000, 'timeout')) === 'timeout') await c.kill();
  }
}

/** Every path under `dir` (itself included), or [] when it does not exist. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out = [dir];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    try {
      if (statSync(p).isDirectory()) out.push(...tree(p));
      else out.push(p);
    } catch {
      out.push(p);
    }
  }
  return out;
}

/** Remembers what exists under `dir` now; `removeNewEmptyDirs()` later removes only the directories
 * that appeared since and are empty (containerd's shims make /run/containerd/s whatever the config
 * says), and returns whatever new entry it had to leave. */
export class DirSnapshot {
  private readonly before: Set<string>;

  constructor(readonly dir: string) {
    this.before = new Set(tree(dir));
  }

  removeNewEmptyDirs(): string[] {
    const fresh = tree(this.dir).filter((p) => !this.before.has(p)).sort((a, b) => b.length - a.length);
    const left: string[] = [];
    for (const p of fresh) {
      try {
        if (statSync(p).isDirectory() && readdirSync(p).length === 0) rmdirSync(p);
        else left.push(p);
      } catch {
        left.push(p);
      }
    }
    return left;
  }
}

/** The files ctr reads that we may not choose: /etc/cni/net.d/<first>.conflist and /opt/cni/bin/<plugin>. */
export const SYSTEM_NET_D = '/etc/cni/net.d';
export const SYSTEM_BIN = '/opt/cni/bin';

/** Our footprint in /etc/cni/net.d and /opt/cni/bin: planned up front (so a test can skip with a
 * reason before touching anything), every created path recorded, and `remove()` deletes exactly
 * those — files, then the directories we had to create, only if they are empty again. */
export class SystemCniFiles {
  readonly conflist: string;
  readonly created: string[] = [];
  /** Why we must not touch the machine's CNI directories, or undefined when we may. */
  readonly refusal: string | undefined;

  constructor(id: string) {
    this.conflist = join(SYSTEM_NET_D, `00-podnet-test-${id}.conflist`);
    this.refusal = this.check();
  }

  private check(): string | undefined {
    const name = this.conflist.split('/').pop() ?? '';
    const earlier = existsSync(SYSTEM_NET_D) ? readdirSync(SYSTEM_NET_D).filter((f) => f < name) : [];
    if (earlier.length) return `${SYSTEM_NET_D} already holds ${earlier.join(', ')}, which sorts before ${name}: ctr would read that instead, and it is not ours to move`;
    const taken = PLUGINS.map((p) => join(SYSTEM_BIN, p)).filter((p) => existsSync(p));
    if (taken.length) return `${taken.join(', ')} already exist${taken.length === 1 ? 's' : ''} (a real podnet install?): not ours to overwrite`;
    return undefined;
  }

  private mkdirs(dir: string): void {
    const missing: string[] = [];
    for (let d = dir; !existsSync(d); d = dirname(d)) missing.unshift(d);
    for (const d of missing) {
      mkdirSync(d);
      this.created.push(d);
    }
  }

  /** `podnet cni install --dir /opt/cni/bin --socket SOCKET` and `podnet cni conflist … --out /etc/cni/net.d/00-podnet-test-ID.conflist`. */
  install(socket: string, subnet: string, dataDir: string): void {
    const refusal = this.refusal ?? this.check(); // again: the machine may have changed since the file loaded
    if (refusal) throw new Error(refusal);
    this.mkdirs(SYSTEM_BIN);
    this.mkdirs(SYSTEM_NET_D);
    for (const p of PLUGINS) this.created.push(join(SYSTEM_BIN, p));
    podnet(['cni', 'install', '--dir', SYSTEM_BIN, '--socket', socket]);
    this.created.push(this.conflist);
    writeConflist(this.conflist, subnet, dataDir);
  }

  /** Removes what `install` created, deepest first; returns what it could not remove. */
  remove(): string[] {
    const left: string[] = [];
    for (const p of [...this.created].reverse()) {
      try {
        if (!existsSync(p)) continue;
        if (statSync(p).isDirectory()) {
          if (readdirSync(p).length === 0) rmdirSync(p);
          else left.push(`${p} (not empty)`);
        } else {
          rmSync(p);
        }
      } catch (e) {
        left.push(`${p} (${(e as Error).message})`);
      }
    }
    this.created.length = 0;
    return left;
  }
}
