// Finding every network namespace on the machine: pinned under /run/netns, bind-mounted elsewhere
// (an nsfs mount: docker's, a runtime's), or only held by processes — keyed by inode, since one
// namespace can have many names and paths. Reads /proc and /run/netns; runs no process.
// Synchronous reads, as in ./process.ts: /proc and /run/netns never wait on a disk.
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import type { NsProcess } from '../model/snapshot.js';
import { netnsInode, processStartTimeSync } from './process.js';
import type { Netns } from './netns.js';

/** A namespace found on the machine, before reading it. */
export interface FoundNetns {
  inode: number;
  /** Its names under /run/netns (or /var/run/netns). */
  names: string[];
  /** A path that opens it. */
  path: string;
  /** The processes inside it (pid, command line), by pid. */
  processes: NsProcess[];
}

const PIN_DIRS = ['/run/netns', '/var/run/netns'];

/** Every namespace pinned as a file: /run/netns and any other nsfs bind mount. */
async function pinned(): Promise<Map<number, { names: string[]; path: string }>> {
  const out = new Map<number, { names: string[]; path: string }>();
  const add = (inode: number, path: string, name?: string) => {
    const e = out.get(inode) ?? { names: [], path };
    if (name && !e.names.includes(name)) e.names.push(name);
    out.set(inode, e);
  };
  const listed = (dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  for (const dir of PIN_DIRS) {
    for (const n of listed(dir)) {
      const ino = await netnsInode(`${dir}/${n}`);
      if (ino !== undefined) add(ino, `${dir}/${n}`, n);
    }
  }
  let mountinfo = '';
  try {
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch { /* no /proc: no bind mounts found */ }
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right?.startsWith('nsfs ')) continue;
    const mountPoint = left.split(' ')[4];
    if (!mountPoint || PIN_DIRS.some((d) => mountPoint.startsWith(`${d}/`))) continue;
    const m = /net:\[(\d+)\]/.exec(left.split(' ')[3] ?? '');
    const ino = m ? Number(m[1]) : await netnsInode(mountPoint);
    if (ino !== undefined) add(ino, mountPoint);
  }
  return out;
}

/** Every process's network namespace, with its command line; kernel threads are left out. With
 * `wanted`, only the processes of the namespaces it accepts (their command lines are the costly part). */
export async function processesByNetns(wanted?: (inode: number) => boolean): Promise<Map<number, NsProcess[]>> {
  const out = new Map<number, NsProcess[]>();
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${p}/ns/net`));
      if (!m || (wanted && !wanted(Number(m[1])))) continue;
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'latin1').replace(/\0+$/, '').replace(/\0/g, ' ');
      if (!cmd) continue;
      const ino = Number(m[1]);
      const list = out.get(ino) ?? [];
      list.push({ pid: Number(p), cmd });
      out.set(ino, list);
    } catch { /* the process ended */ }
  }
  for (const list of out.values()) list.sort((a, b) => a.pid - b.pid);
  return out;
}

/** Which namespaces a discovery wants: by pinned name, or by inode (a namespace only processes hold). */
export interface NetnsWanted {
  names: ReadonlySet<string>;
  inodes: ReadonlySet<number>;
}

/** Every namespace on the machine (with `host`, which opens the one treated as the host), or with
 * `wanted` only those it names and the host. Reads /run/netns, /proc/self/mountinfo and every
 * /proc/PID/ns/net (command lines only of processes in the namespaces found). */
export async function netnsDiscover(host: Netns, wanted?: NetnsWanted): Promise<{ hostInode: number; found: FoundNetns[] }> {
  const hostInode = await netnsInode(host.path);
  if (hostInode === undefined) throw new Error(`cannot open the host namespace ${host.path}`);
  const all = await pinned();
  const pins = wanted ? new Map([...all].filter(([ino, p]) => ino === hostInode || wanted.inodes.has(ino) || p.names.some((n) => wanted.names.has(n)))) : all;
  const procs = await processesByNetns(wanted && ((ino) => ino === hostInode || pins.has(ino) || wanted.inodes.has(ino)));
  const inodes = new Set<number>([hostInode, ...pins.keys(), ...procs.keys()]);
  const found = [...inodes].map((inode): FoundNetns => {
    const pin = pins.get(inode);
    const ps = procs.get(inode) ?? [];
    const path = inode === hostInode ? host.path : pin?.path ?? (ps[0] ? `/proc/${ps[0].pid}/ns/net` : '');
    return { inode, names: pin?.names.sort() ?? (inode === hostInode && host.name ? [host.name] : []), path, processes: ps };
  });
  return { hostInode, found: found.filter((f) => f.path) };
}

/** The handle of a found namespace: by its pinned name when its path is the pin (so `ip -n NAME`
 * reaches it), else by path. */
export function foundHandle(f: FoundNetns): Netns {
  const name = f.names.find((n) => PIN_DIRS.some((d) => f.path === `${d}/${n}`));
  return name ? { name, path: f.path } : { path: f.path };
}

/** A namespace held open by this process for as long as a request needs it. */
export interface HeldNetns {
  ns: Netns;
  /** The namespace's inode. */
  inode: number;
  release(): Promise<void>;
}

/** Opens the network namespace of process `pid` and keeps it open (through a file descriptor of this
 * process, so it outlives the process), after checking that `pid` is still the process that started
 * at `startTime` (a PID reused by another process has another start time). Undefined when the
 * process is gone or is another one. The handle's path is `/proc/<this pid>/fd/<fd>`, which other
 * programs podnet runs (ip, nsenter) can open while it is held. Equivalent to: `exec {fd}</proc/PID/ns/net`. */
export function netnsHold(pid: number, startTime: string | undefined): Promise<HeldNetns | undefined> {
  // Synchronous on purpose: three small /proc reads in one turn of the loop cost less than as many
  // thread-pool round trips, and this is on every daemon request's path.
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/ns/net`, 'r');
  } catch {
    return Promise.resolve(undefined);
  }
  const same = startTime === undefined || processStartTimeSync(pid) === startTime;
  if (!same) {
    closeSync(fd);
    return Promise.resolve(undefined);
  }
  const inode = fstatSync(fd).ino;
  let open = true;
  const release = () => {
    if (open) closeSync(fd);
    open = false;
    return Promise.resolve();
  };
  return Promise.resolve({ ns: { path: `/proc/${process.pid}/fd/${fd}` }, inode, release });
}

/** What a path given as a network namespace is: `missing`, `not-netns` (a regular file, a directory…),
 * or `netns` (an nsfs file: a namespace pinned or held by a process). */
export function netnsKind(path: string): Promise<'missing' | 'not-netns' | 'netns'> {
  // Synchronous: two stats of /proc and a pin, cheaper in one turn than as thread-pool round trips.
  try {
    const s = statSync(path);
    return Promise.resolve(s.dev === statSync('/proc/self/ns/net').dev && !s.isDirectory() ? 'netns' : 'not-netns');
  } catch {
    return Promise.resolve('missing');
  }
}
