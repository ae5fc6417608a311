// What reliability.test.ts and fuzz-ops.test.ts share: podnet's installed plugin executables (the
// Perl clients `podnet cni install` writes) driven exactly as a runtime drives them — exec'd inside a
// host namespace with `nsenter --net=/run/netns/H DIR/podnet-X`, the CNI_* environment and the config
// on stdin, each client leading its own process group so a test can SIGKILL it and everything it
// started — either handing the request to a `podnet cni serve` daemon the test started (stopped by
// its PID) or, with no daemon, exec'ing the one-shot Node plugin. Plus a tiny runtime (libcni's
// role: a result cache, DEL after a failed ADD is the caller's) and independent readers of what the
// kernel and host-local's store hold. Every namespace carries the world's unique prefix.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { alive, netnsWithPrefix, run, tempDir, uniqueName, waitFor } from '../helpers.js';
import { PODNET_BIN, Serve } from './runtime-world.js';

export type Mode = 'daemon' | 'one-shot';

/** What one plugin execution printed and how it ended. */
export interface Exit { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }

/** A plugin client started the way a runtime starts it; `pid` leads its own process group. */
export interface Started {
  pid: number;
  done: Promise<Exit>;
  /** SIGKILL to the client's whole process group (the client, and in one-shot mode Node and what it started). */
  kill(): void;
}

/** Starts a plugin client the way a runtime does: in namespace `h` (`nsenter --net`), with exactly
 * `env`, the config on stdin, its own process group; killed (the whole group) after `boundMs`. */
export function spawnClient(h: string, exePath: string, env: Record<string, string>, stdin: string | Buffer, boundMs = 60_000): Started {
  const t0 = performance.now();
  const child = spawn('nsenter', [`--net=/run/netns/${h}`, exePath], { env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  const pid = child.pid ?? 0;
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  child.stdin.on('error', () => undefined);
  child.stdin.end(stdin);
  const kill = () => {
    // Only while the client is not reaped: until then its PID (and so its group's) cannot be reused.
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(kill, boundMs);
  const done = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), ms: performance.now() - t0 });
    });
  });
  return { pid, done, kill };
}

/** The spec's error object, parsed from a plugin's stdout. */
export interface CniErr { cniVersion: string; code: number; msg: string; details?: string }

/** A world for driving the executables: a temp dir, the installed clients, an optional daemon. */
export class ClientWorld {
  readonly prefix: string;
  readonly bin: string;
  readonly socket: string;
  serve: Serve | undefined;
  private seq = 0;
  /** Every client ever started (for the "no leftover process" check). */
  readonly started: number[] = [];

  private constructor(readonly tmp: string, label: string) {
    this.prefix = `${uniqueName(label)}-`;
    this.bin = join(tmp, 'bin');
    this.socket = join(tmp, 'cni.sock');
  }

  /** Installs the clients under a fresh temp dir; `daemon` also starts `podnet cni serve`. */
  static async create(label: string, daemon: boolean): Promise<ClientWorld> {
    const w = new ClientWorld(await tempDir(label), label);
    run([process.execPath, PODNET_BIN, 'cni', 'install', '--dir', w.bin, '--socket', w.socket], 30_000);
    if (daemon) w.serve = await Serve.start(w.socket);
    return w;
  }

  /** Starts `DIR/exe` inside namespace `h` with the CNI environment and `stdin`. One-shot mode points
   * the client at a socket nobody listens on, so it execs Node. */
  start(mode: Mode, h: string, exe: string, cni: Record<string, string>, stdin: string | Buffer, boundMs = 60_000): Started {
    if (mode === 'daemon') assert.ok(this.serve && existsSync(this.socket), 'podnet cni serve is running');
    return this.startOn(mode === 'daemon' ? this.socket : join(this.tmp, 'no-daemon.sock'), h, exe, cni, stdin, boundMs);
  }

  /** Like start, with the client pointed at `socket` (PODNET_CNI_SOCKET): a daemon of the test's own. */
  startOn(socket: string, h: string, exe: string, cni: Record<string, string>, stdin: string | Buffer, boundMs = 60_000): Started {
    // WORLD_MARK marks every process a client starts (its environment is inherited): what is left is found by it, not by PIDs the machine may have reused.
    const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', PODNET_CNI_SOCKET: socket, [WORLD_MARK]: this.prefix, ...cni };
    const c = spawnClient(h, join(this.bin, exe), env, stdin, boundMs);
    this.started.push(c.pid);
    return c;
  }

  /** Runs a client to completion. */
  exec(mode: Mode, h: string, exe: string, cni: Record<string, string>, stdin: string | Buffer): Promise<Exit> {
    return this.start(mode, h, exe, cni, stdin).done;
  }

  /** Runs `read` with the daemon and everything it started frozen (SIGSTOP to its process group,
   * SIGCONT after), so what the kernel and the store hold cannot change while both are read: a request
   * whose client was killed may still be running in the daemon. Without a daemon, just runs `read`
   * (a killed one-shot plugin's whole group is dead). */
  frozen<T>(read: () => T): T {
    const pgid = this.serve?.pid;
    if (!pgid) return read();
    process.kill(-pgid, 'SIGSTOP');
    try {
      return read();
    } finally {
      process.kill(-pgid, 'SIGCONT');
    }
  }

  /** Creates namespaces `<prefix><name>` in one `ip -batch`; returns the full names. */
  nsAdd(names: readonly string[]): string[] {
    const full = names.map((n) => `${this.prefix}${n}`);
    execFileSync('ip', ['-batch', '-'], { input: full.map((n) => `netns add ${n}\n`).join(''), stdio: ['pipe', 'ignore', 'pipe'], timeout: 20_000 });
    return full;
  }

  /** A fresh label for namespaces and container IDs. */
  next(label: string): string {
    return `${label}${this.seq++}`;
  }

  /** Processes still running that a client of this world started (they carry its mark in their
   * environment). Not by process group: over a thousand operations, the PIDs of finished clients are
   * reused by other tests' processes, whose groups would then look like this world's. */
  leftoverProcesses(): number[] {
    const mark = `${WORLD_MARK}=${this.prefix}\0`;
    return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(mark) && alive(pid);
      } catch {
        return false; // gone, or a kernel thread
      }
    });
  }

  /** Stops the daemon by its PID, removes every namespace with the prefix and the temp dir; returns
   * what was left (namespaces, client processes). */
  async close(): Promise<string[]> {
    const problems: string[] = [];
    if (this.serve) await this.serve.stop();
    const stray = this.leftoverProcesses();
    if (stray.length) {
      const what = (pid: number) => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 120); } catch { return '?'; } };
      problems.push(`client processes left: ${stray.map((pid) => `${pid} (${what(pid)})`).join(', ')}`);
      // Each by its PID, checked to carry this world's mark just now: never a process group, whose id may be reused.
      for (const pid of stray) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await waitFor(() => this.leftoverProcesses().length === 0, 5000);
    }
    nsDel(netnsWithPrefix(this.prefix));
    const left = netnsWithPrefix(this.prefix);
    if (left.length) problems.push(`namespaces left: ${left.join(', ')}`);
    await rm(this.tmp, { recursive: true, force: true });
    return problems;
  }
}

/** The environment variable that marks a world's client processes (value: the world's prefix). */
const WORLD_MARK = 'PODNET_TEST_CNI_WORLD';

/** Deletes namespaces (those already gone are fine). */
export function nsDel(names: readonly string[]): void {
  if (names.length === 0) return;
  try {
    execFileSync('ip', ['-force', '-batch', '-'], { input: names.map((n) => `netns del ${n}\n`).join(''), stdio: ['pipe', 'ignore', 'ignore'], timeout: 20_000 });
  } catch {
    // some were gone
  }
}

/** host-local's reservation files in `<dataDir>/<network>`: IP → container ID (first line). */
export function ipFiles(dataDir: string, network = 'cbr0'): Map<string, string> {
  const dir = join(dataDir, network);
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).filter((x) => /^\d+\.\d+\.\d+\.\d+$/.test(x)).sort()) {
    try {
      out.set(f, readFileSync(join(dir, f), 'utf8').split(/\r?\n/)[0]);
    } catch {
      // released meanwhile
    }
  }
  return out;
}

/** One IPv4 address an interface holds, read from the kernel. */
export interface HeldAddr { ns: string; dev: string; ip: string }

/** Every IPv4 address on every interface but `lo` of each namespace, read independently of podnet:
 * `ip -n NS -json -details addr show` for each namespace, run by one shell (one spawn from Node). A
 * namespace that is gone reads as holding nothing. */
export function heldAddrs(namespaces: readonly string[]): HeldAddr[] {
  if (namespaces.length === 0) return [];
  const script = 'for ns in "$@"; do printf "%s\\n" "$ns"; ip -n "$ns" -json -details addr show 2>/dev/null || echo "[]"; done';
  const out = execFileSync('sh', ['-c', script, 'sh', ...namespaces], { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  const lines = out.split('\n');
  const held: HeldAddr[] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const ns = lines[i];
    const list = (lines[i + 1].trim() ? JSON.parse(lines[i + 1]) : []) as { ifname: string; addr_info?: { family: string; local: string }[] }[];
    for (const l of list) {
      if (l.ifname === 'lo') continue;
      for (const a of l.addr_info ?? []) if (a.family === 'inet') held.push({ ns, dev: l.ifname, ip: a.local });
    }
  }
  return held;
}

/** The addresses held by more than one interface: `ip → ["ns/dev", …]`. */
export function duplicates(held: readonly HeldAddr[]): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const h of held) by.set(h.ip, [...(by.get(h.ip) ?? []), `${h.ns}/${h.dev}`]);
  return new Map([...by].filter(([, where]) => where.length > 1));
}

/** Parses the spec's error JSON from a failed plugin run; asserts its shape (no stack trace). */
export function cniError(e: Exit): CniErr {
  assert.notEqual(e.code, 0, `expected a failure, got exit 0: ${e.stdout}`);
  let err: CniErr;
  try {
    err = JSON.parse(e.stdout) as CniErr;
  } catch {
    assert.fail(`stdout is not the spec's error JSON (exit ${e.code ?? e.signal}): ${JSON.stringify(e.stdout)} stderr ${JSON.stringify(e.stderr.slice(0, 300))}`);
  }
  assert.equal(typeof err.cniVersion, 'string', 'cniVersion');
  assert.equal(typeof err.code, 'number', 'code');
  assert.equal(typeof err.msg, 'string', 'msg');
  assert.doesNotMatch(err.msg, /\n\s+at /, 'no stack trace');
  return err;
}

/** Asserts a plugin run succeeded. */
export function assertOk(e: Exit, what: string): void {
  assert.equal(e.code, 0, `${what}: exit ${e.code ?? e.signal}: ${e.stdout}${e.stderr}`);
}

/** The CNI environment for one attachment. */
export function cniEnv(command: string, cid: string, netns: string, path: string, ifname = 'eth0'): Record<string, string> {
  return { CNI_COMMAND: command, CNI_CONTAINERID: cid, CNI_NETNS: netns, CNI_IFNAME: ifname, CNI_PATH: path, CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${cid}` };
}

/** K3s's bridge delegate (docs/facts.md#k3s) for podnet's executables, host-local's store in `dataDir`. */
export function bridgeConf(dataDir: string, subnet: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cniVersion: '1.0.0', name: 'cbr0', type: 'podnet-bridge', bridge: 'cni0', hairpinMode: true, forceAddress: true, isDefaultGateway: true, isGateway: true, ipMasq: false, mtu: 1450,
    ipam: { type: 'podnet-host-local', ranges: [[{ subnet }]], routes: [{ dst: '10.42.0.0/16' }], dataDir },
    ...over,
  };
}

/** libcni's result cache, reduced to what a runtime keeps per attachment: written after a successful
 * ADD, read for CHECK and DEL, removed after a successful DEL. */
export class ResultCache {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private file(cid: string, ifname = 'eth0'): string {
    return join(this.dir, `cbr0-${cid}-${ifname}`);
  }

  put(cid: string, result: string): void {
    writeFileSync(this.file(cid), JSON.stringify({ kind: 'cniCacheV1', containerId: cid, ifName: 'eth0', networkName: 'cbr0', result: JSON.parse(result) as unknown }));
  }

  get(cid: string): Record<string, unknown> | undefined {
    try {
      return (JSON.parse(readFileSync(this.file(cid), 'utf8')) as { result: Record<string, unknown> }).result;
    } catch {
      return undefined;
    }
  }

  drop(cid: string): void {
    rmSync(this.file(cid), { force: true });
  }

  /** The container IDs with an entry. */
  entries(): string[] {
    return existsSync(this.dir) ? readdirSync(this.dir).map((f) => f.replace(/^cbr0-/, '').replace(/-eth0$/, '')).sort() : [];
  }
}
