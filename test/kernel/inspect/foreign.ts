// Helpers for inspecting networks podnet did not build: the Debian reference CNI plugins exec'd as a
// runtime would, processes that hold a namespace nobody pinned, and independent kernel reads of a
// namespace that has no name (`nsenter --net=/proc/PID/ns/net ip -json …`). No podnet code here.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { alive, cmdline, netInodeOf, run, runStatus, statInode, waitFor } from '../helpers.js';

type Json = Record<string, unknown>;

/** Where Debian's containernetworking-plugins puts the reference plugins. */
export const CNI_DIR = '/usr/lib/cni';

/** A random 64-hex container ID, as runtimes make them. */
export const containerId = (): string => randomBytes(32).toString('hex');

/** Why a test must skip (a Debian package missing), or undefined when everything is there. */
export function missing(paths: Record<string, string>): string | undefined {
  const gone = Object.entries(paths).filter(([path]) => !existsSync(path)).map(([path, pkg]) => `${path} (Debian package ${pkg})`);
  return gone.length ? `not installed: ${gone.join(', ')} — run \`npm run setup\` as root` : undefined;
}

/** Execs a reference plugin inside `hostNs` (as a runtime on that host would) and returns its parsed stdout. */
export function cniExec(hostNs: string, plugin: string, env: Record<string, string>, config: Json): Json {
  const out = execFileSync('nsenter', [`--net=/run/netns/${hostNs}`, '--', `${CNI_DIR}/${plugin}`], {
    input: JSON.stringify(config), encoding: 'utf8', timeout: 20_000,
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_PATH: CNI_DIR, ...env },
  });
  return out.trim() ? (JSON.parse(out) as Json) : {};
}

/** A process holding a fresh, never-pinned network namespace: `unshare --net busybox sleep 600`
 * (unshare execs busybox, so the PID is busybox's). Resolves once the PID sits in its own namespace. */
export async function unpinnedNamespace(): Promise<{ pid: number; inode: number; path: string }> {
  const rootInode = netInodeOf(process.pid);
  const child = spawn('unshare', ['--net', 'busybox', 'sleep', '600'], { detached: true, stdio: 'ignore' });
  child.unref();
  const pid = child.pid ?? 0;
  const ok = await waitFor(() => {
    const ino = netInodeOf(pid);
    return ino !== undefined && ino !== rootInode && cmdline(pid)?.[0] === 'busybox';
  }, 5000);
  if (!ok) {
    await killAndWait(pid);
    throw new Error(`unshare --net busybox sleep 600 (pid ${pid}) did not come up in its own namespace`);
  }
  return { pid, inode: netInodeOf(pid) ?? 0, path: `/proc/${pid}/ns/net` };
}

/** SIGKILL, then (bounded) wait until the process is gone. */
export async function killAndWait(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  return waitFor(() => !alive(pid), 5000);
}

/** `ip -json -details ARGS…` inside a namespace given by path (pinned or not), parsed — independent of podnet. */
export function ipJsonAt(path: string, args: readonly string[]): Json[] {
  const out = run(['nsenter', `--net=${path}`, '--', 'ip', '-json', '-details', ...args]).trim();
  return out ? (JSON.parse(out) as Json[]) : [];
}

/** The nsid → name table of a namespace (`ip netns list-id`), independently. */
export function nsidsAt(path: string): { nsid: number; name?: string }[] {
  const out = run(['nsenter', `--net=${path}`, '--', 'ip', '-json', 'netns', 'list-id']).trim();
  return out ? (JSON.parse(out) as { nsid: number; name?: string }[]) : [];
}

/** Deletes every pinned namespace whose name starts with `prefix`; returns the ones still there. */
export function deleteNetnsWithPrefix(prefix: string): string[] {
  const list = () => {
    const out = run(['ip', '-json', 'netns', 'list']).trim();
    return (out ? (JSON.parse(out) as { name: string }[]) : []).map((e) => e.name).filter((n) => n.startsWith(prefix));
  };
  for (const ns of list()) runStatus(['ip', 'netns', 'del', ns]);
  return list();
}

/** Mount points at or under `dir` (podman's shm mounts), deepest first. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
}

/** Files named like an IPv4 address in host-local's `<dataDir>/<network>`. */
export function ipFiles(dataDir: string, network: string): string[] {
  try {
    return readdirSync(`${dataDir}/${network}`).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)).sort();
  } catch {
    return [];
  }
}

export { statInode };

/** A root filesystem with busybox and the libraries `ldd` names, `/bin/sh` → busybox (Debian's
 * busybox is dynamically linked): what podman's --rootfs and the test OCI image are made of. */
export function busyboxRootfs(dir: string): void {
  for (const d of ['bin', 'proc', 'sys', 'dev', 'etc', 'tmp', 'run']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync('/usr/bin/busybox', join(dir, 'bin/busybox'));
  symlinkSync('busybox', join(dir, 'bin/sh'));
  for (const line of execFileSync('ldd', ['/usr/bin/busybox'], { encoding: 'utf8' }).split('\n')) {
    const lib = /=>\s*(\/\S+)/.exec(line)?.[1] ?? /^\s*(\/\S+)/.exec(line)?.[1];
    if (!lib) continue;
    mkdirSync(join(dir, dirname(lib)), { recursive: true });
    copyFileSync(lib, join(dir, lib));
  }
}
