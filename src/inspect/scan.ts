// Reads a whole host into a Snapshot: every network namespace (pinned under /run/netns, bind-mounted
// elsewhere, or only held by processes), deduplicated by inode; in each, one `ip -batch` process for
// links+addresses, routes, neighbours and nsids, and `bridge fdb` where there is a bridge or vxlan.
// A namespace that vanishes mid-scan is kept with its error, never fatal.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { netnsInode } from '../host/process.js';
import { pool } from '../host/pool.js';
import type { Runner } from '../host/runner.js';
import { inNetns, CURRENT_NETNS, type Netns } from '../host/netns.js';
import { addrsFromJson, fdbFromJson, linkFromJson, neighFromJson, routeFromJson } from '../model/kernel.js';
import { peerKey, resolvePeers, type NetnsSnapshot, type NsProcess, type Snapshot } from '../model/snapshot.js';

type Json = Record<string, unknown>;

/** What to scan. */
export interface ScanOptions {
  /** The namespace treated as the host (default: the one podnet runs in). */
  host?: Netns;
  /** Scan only these namespaces (by pinned name or path) plus the host; default: every namespace. */
  only?: readonly string[];
  /** How many namespaces are read at once. */
  concurrency?: number;
}

/** A namespace found on the machine, before reading it. */
interface Found {
  inode: number;
  names: string[];
  path: string;
  processes: NsProcess[];
}

const PIN_DIRS = ['/run/netns', '/var/run/netns'];


/** Every namespace pinned as a file: /run/netns and any other nsfs bind mount (docker's, say). */
async function pinned(): Promise<Map<number, { names: string[]; path: string }>> {
  const out = new Map<number, { names: string[]; path: string }>();
  const add = (inode: number, path: string, name?: string) => {
    const e = out.get(inode) ?? { names: [], path };
    if (name && !e.names.includes(name)) e.names.push(name);
    out.set(inode, e);
  };
  for (const dir of PIN_DIRS) {
    let names: string[] = [];
    try {
      names = await readdir(dir);
    } catch { /* no such dir */ }
    await Promise.all(names.map(async (n) => {
      const ino = await netnsInode(`${dir}/${n}`);
      if (ino !== undefined) add(ino, `${dir}/${n}`, n);
    }));
  }
  try {
    for (const line of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
      const [left, right] = line.split(' - ');
      if (!right?.startsWith('nsfs ')) continue;
      const mountPoint = left.split(' ')[4];
      if (!mountPoint || PIN_DIRS.some((d) => mountPoint.startsWith(`${d}/`))) continue;
      const m = /net:\[(\d+)\]/.exec(left.split(' ')[3] ?? '');
      const ino = m ? Number(m[1]) : await netnsInode(mountPoint);
      if (ino !== undefined) add(ino, mountPoint);
    }
  } catch { /* no mountinfo */ }
  return out;
}

/** Every process's network namespace, with its command line. */
async function processes(): Promise<Map<number, NsProcess[]>> {
  const out = new Map<number, NsProcess[]>();
  const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n));
  await Promise.all(pids.map(async (p) => {
    try {
      const m = /^net:\[(\d+)\]$/.exec(await readlink(`/proc/${p}/ns/net`));
      if (!m) return;
      const cmd = (await readFile(`/proc/${p}/cmdline`, 'latin1')).replace(/\0+$/, '').replace(/\0/g, ' ');
      if (!cmd) return; // kernel threads
      const ino = Number(m[1]);
      const list = out.get(ino) ?? [];
      list.push({ pid: Number(p), cmd });
      out.set(ino, list);
    } catch { /* the process ended */ }
  }));
  for (const list of out.values()) list.sort((a, b) => a.pid - b.pid);
  return out;
}

/** Finds every namespace on the machine, keyed by inode. */
async function discover(host: Netns): Promise<{ hostInode: number; found: Found[] }> {
  const hostInode = await netnsInode(host.path);
  if (hostInode === undefined) throw new Error(`cannot open the host namespace ${host.path}`);
  const [pins, procs] = await Promise.all([pinned(), processes()]);
  const inodes = new Set<number>([hostInode, ...pins.keys(), ...procs.keys()]);
  const found = [...inodes].map((inode): Found => {
    const pin = pins.get(inode);
    const ps = procs.get(inode) ?? [];
    const path = inode === hostInode ? host.path : pin?.path ?? (ps[0] ? `/proc/${ps[0].pid}/ns/net` : '');
    return { inode, names: pin?.names.sort() ?? (inode === hostInode && host.name ? [host.name] : []), path, processes: ps };
  });
  return { hostInode, found: found.filter((f) => f.path) };
}

/** The argv that runs `program args` inside a found namespace (by name when pinned: `ip -n`). */
function argvIn(f: Found, hostInode: number, host: Netns, program: 'ip' | 'bridge', args: string[]): string[] {
  if (f.inode === hostInode) return inNetns(host, program, args);
  const pinnedName = f.names.find((n) => f.path === `/run/netns/${n}` || f.path === `/var/run/netns/${n}`);
  return inNetns(pinnedName ? { name: pinnedName, path: f.path } : { path: f.path }, program, args);
}

const BATCH = ['addr show', 'route show', 'neigh show'];

/** `ip netns list-id` opens every file in /run/netns and asks the kernel about each, so reading it in
 * every namespace costs O(namespaces²) (measured: 40% of a pod's read at 250 pods). It is read where
 * veths fan out — the host, bridges, vxlan — and later only in namespaces whose peers stay ambiguous. */
async function readNsids(runner: Runner, f: Found, hostInode: number, host: Netns): Promise<NetnsSnapshot['nsids']> {
  const r = await runner.run({ argv: argvIn(f, hostInode, host, 'ip', ['-json', 'netns', 'list-id']), mutates: false });
  if (r.exitCode !== 0 || !r.stdout.trim()) return [];
  return (JSON.parse(r.stdout) as Json[]).map((j) => ({ nsid: Number(j.nsid), ...(typeof j.name === 'string' ? { name: j.name } : {}) }));
}

/** Reads one namespace. Equivalent to: `ip -n NS -json -details -batch -` (addr, route, neigh) and,
 * for the host and where a bridge or vxlan is present, `bridge -n NS -json fdb show` and `ip -n NS -json netns list-id`. */
async function readNetns(runner: Runner, f: Found, hostInode: number, host: Netns): Promise<NetnsSnapshot> {
  const base: NetnsSnapshot = {
    id: `ino:${f.inode}`, inode: f.inode, names: f.names, path: f.path, processes: f.processes,
    links: [], addrs: [], routes: [], neighs: [], fdb: [], nsids: [], identity: { kind: 'unknown', name: '', source: 'none' },
  };
  const r = await runner.run({ argv: argvIn(f, hostInode, host, 'ip', ['-json', '-details', '-force', '-batch', '-']), input: `${BATCH.join('\n')}\n`, mutates: false });
  const outputs = r.stdout.split('\n').filter((l) => l.startsWith('['));
  if (outputs.length < BATCH.length) return { ...base, error: (r.stderr.trim().split('\n')[0] || `ip exited ${r.exitCode}`) };
  const [addrJson, routeJson, neighJson] = outputs.map((o) => JSON.parse(o) as Json[]);
  const links = addrJson.map(linkFromJson);
  const snap: NetnsSnapshot = {
    ...base,
    links,
    addrs: addrsFromJson(addrJson),
    routes: routeJson.map(routeFromJson),
    neighs: neighJson.map(neighFromJson),
  };
  const fansOut = links.some((l) => l.kind === 'bridge' || l.kind === 'vxlan');
  if (fansOut || f.inode === hostInode) {
    const [b, nsids] = await Promise.all([
      fansOut ? runner.run({ argv: argvIn(f, hostInode, host, 'bridge', ['-json', 'fdb', 'show']), mutates: false }) : undefined,
      readNsids(runner, f, hostInode, host),
    ]);
    if (b && b.exitCode === 0 && b.stdout.trim()) snap.fdb = (JSON.parse(b.stdout) as Json[]).map(fdbFromJson);
    snap.nsids = nsids;
  }
  return snap;
}


/** Scans the machine into a Snapshot (identities are filled by identify()). */
export async function scanHost(runner: Runner, opts: ScanOptions = {}): Promise<Snapshot> {
  const host = opts.host ?? CURRENT_NETNS;
  const { hostInode, found } = await discover(host);
  // `only` names namespaces by pinned name or by any path that opens them: compare inodes, not strings.
  const wanted = opts.only ? new Set(opts.only.filter((w) => !w.includes('/'))) : undefined;
  const wantedInodes = new Set((await Promise.all((opts.only ?? []).filter((w) => w.includes('/')).map(netnsInode))).filter((i): i is number => i !== undefined));
  const selected = found.filter((f) => f.inode === hostInode || !wanted || f.names.some((n) => wanted.has(n)) || wantedInodes.has(f.inode));
  const namespaces = await pool(selected, opts.concurrency ?? 16, (f) => readNetns(runner, f, hostInode, host));
  // Second pass: the nsid table of each namespace that still has a veth whose peer is ambiguous.
  const peers = resolvePeers({ takenAt: '', host: `ino:${hostInode}`, namespaces });
  const ambiguous = namespaces.filter((n) => !n.error && n.nsids.length === 0 && n.links.some((l) => l.kind === 'veth' && !peers.get(peerKey(n.id, l.index))?.netns));
  await pool(ambiguous, opts.concurrency ?? 16, async (n) => {
    n.nsids = await readNsids(runner, selected.find((f) => `ino:${f.inode}` === n.id)!, hostInode, host);
  });
  namespaces.sort((a, b) => Number(b.inode === hostInode) - Number(a.inode === hostInode) || (a.names[0] ?? '~').localeCompare(b.names[0] ?? '~') || a.inode - b.inode);
  return { takenAt: new Date().toISOString(), host: `ino:${hostInode}`, namespaces };
}
