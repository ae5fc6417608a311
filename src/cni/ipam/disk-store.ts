// host-local's reservations on disk, in the reference plugin's layout so both can share a directory:
// `<dataDir>/<network>/<ip>` holding `<containerID>\r\n<ifname>`, `last_reserved_ip.<set index>`, and
// `lock`, flocked while allocating or releasing.
//
// A reservation is made as the reference makes it: `<ip>` created exclusively (O_EXCL, 0600) and its
// owner written into it — one new file per ADD, which on a slow disk is most of IPAM's cost. A plugin
// killed between the create and the write leaves an empty file that names no owner, so no DEL would
// ever release it; the reference leaves it so. Here the next holder of the lock removes it: under the
// lock nobody (podnet or the reference, which takes the same flock) is between creating and writing,
// so an empty reservation is a dead writer's. (The temporary `.<ip>.*.tmp` files that earlier builds
// wrote and then linked into place are removed the same way.)
import { closeSync, ftruncateSync, openSync, readdirSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { FileMutex } from '../../host/lock.js';
import { ensureDir } from '../../host/dirs.js';
import { ipToInt, isDottedQuad } from '../../model/ip.js';
import { ownedBy, type Owner } from './allocator.js';
import type { Store } from './store.js';

/** Prefix of the files recording the last IP reserved per range set. */
export const LAST_RESERVED_PREFIX = 'last_reserved_ip.';

/** The end of the temporary files earlier builds wrote a reservation into (see the top of this file). */
const TMP_SUFFIX = '.tmp';

/** The separator the reference writes between container ID and ifname (it only matches this form). */
const LINE_BREAK = '\r\n';

/** One mutex per lock file in this process, so stores of one directory share a held flock. */
const mutexes = new Map<string, FileMutex>();
/** Reservations read under a lock generation, per store directory (see DiskStore.entries). */
const caches = new Map<string, { gen: number; entries: Map<string, Owner> }>();

const isCode = (e: unknown, code: string) => (e as NodeJS.ErrnoException)?.code === code;

/** Removes a file; one that is gone already (or cannot be removed) is left to the next holder of the lock. */
function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}

/** Writes `text` over the file at `path` where it lies, then cuts it to that length (created, 0600,
 * when missing). `last_reserved_ip.N` is rewritten on every ADD; opened with O_TRUNC, ext4 frees its
 * block and allocates another each time (0.2 ms a rewrite on this VM, against 0.03 in place). A crash
 * between the write and the cut leaves a longer value, at worst another address or none: it only
 * says where the next search starts (taken addresses are skipped whatever it says), as the
 * reference's own O_TRUNC-then-write leaves an empty file in the same window. */
function overwrite(path: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch (e) {
    if (!isCode(e, 'ENOENT')) throw e;
    writeFileSync(path, text, { mode: 0o600 });
    return;
  }
  try {
    const n = writeSync(fd, text, 0);
    ftruncateSync(fd, n);
  } finally {
    closeSync(fd);
  }
}

/** A reservation file's content: `<id>\r\n<ifname>` (also `\n`); a lone id is an old-format file. */
export function parseOwner(content: string): Owner {
  const [id = '', ifname = ''] = content.split(/\r?\n/);
  return { id: id.trim(), ifname: ifname.trim() };
}

/** The content of a reservation file, in the form the reference reads back. */
export function formatOwner(id: string, ifname: string): string {
  return `${id.trim()}${LINE_BREAK}${ifname}`;
}

/** host-local's store on disk: one file per reserved IP under `<dataDir>/<network>/`. */
export class DiskStore implements Store {
  /** The network's directory. */
  readonly dir: string;

  /** True while this store's withLock callback runs. */
  private locked = false;

  constructor(dataDir: string, network: string) {
    this.dir = join(dataDir, network);
  }

  private mutex(): FileMutex {
    const path = join(this.dir, 'lock');
    let m = mutexes.get(path);
    if (!m) mutexes.set(path, (m = new FileMutex(path)));
    return m;
  }

  /** The reservations, read once per lock generation: while podnet holds the flock without a break
   * (a burst of ADDs), nobody else can change the directory, so one read serves the whole burst. */
  private async entries(): Promise<Map<string, Owner>> {
    const gen = this.mutex().generation;
    const cached = caches.get(this.dir);
    if (this.locked && cached?.gen === gen) return cached.entries;
    const entries = new Map((await this.readAll()).map((e) => [e.ip, { id: e.id, ifname: e.ifname }]));
    if (this.locked) caches.set(this.dir, { gen, entries });
    return entries;
  }

  private cached(): Map<string, Owner> | undefined {
    const c = caches.get(this.dir);
    return this.locked && c?.gen === this.mutex().generation ? c.entries : undefined;
  }

  /** Creates the directory (0700) if missing and runs `fn` holding the flock on `<dir>/lock`.
   * Equivalent to: `mkdir -p -m 0700 DIR && flock -x DIR/lock …`. */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    await ensureDir(this.dir);
    const locked = () => this.mutex().with(async () => {
      this.locked = true;
      try {
        return await fn();
      } finally {
        this.locked = false;
      }
    });
    try {
      return await locked();
    } catch (e) {
      // ensureDir remembers what this process made; a long-running process (`podnet cni serve`) must
      // still cope with the directory being deleted under it: make it again and retry once.
      if (!isCode(e, 'ENOENT') || (e as NodeJS.ErrnoException).path !== join(this.dir, 'lock')) throw e;
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      return locked();
    }
  }

  /** Creates `<dir>/<ip>` exclusively (0600) holding (id, ifname), as the reference does (see the top
   * of this file), and records it as last reserved; false if taken. (Synchronous calls, like readAll:
   * tiny file operations, each a thread-pool round trip otherwise.) */
  async reserve(id: string, ifname: string, ip: string, rangeIndex: number): Promise<boolean> {
    const path = join(this.dir, ip);
    try {
      writeFileSync(path, formatOwner(id, ifname), { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if (isCode(e, 'EEXIST')) return false;
      unlinkQuietly(path); // created but not written (a full disk): it is ours, and names no owner
      throw e;
    }
    try {
      overwrite(join(this.dir, `${LAST_RESERVED_PREFIX}${rangeIndex}`), ip);
    } catch (e) {
      unlinkQuietly(path);
      throw e;
    }
    this.cached()?.set(ip, { id, ifname });
    return true;
  }

  /** The content of `last_reserved_ip.<rangeIndex>`, if it exists and holds an IPv4 address. */
  async lastReservedIP(rangeIndex: number): Promise<string | undefined> {
    try {
      const ip = readFileSync(join(this.dir, `${LAST_RESERVED_PREFIX}${rangeIndex}`), 'utf8').trim();
      return isDottedQuad(ip) ? ip : undefined;
    } catch (e) {
      if (isCode(e, 'ENOENT')) return undefined;
      throw e;
    }
  }

  /** Every file named by an IPv4 address, with its owner; a missing directory holds nothing. */
  async list(): Promise<{ ip: string; id: string; ifname: string }[]> {
    return byAddress(await this.unsorted());
  }

  /** Every reservation, in no order (what owner lookups need: they sort the few they keep). */
  private async unsorted(): Promise<{ ip: string; id: string; ifname: string }[]> {
    return [...(await this.entries())].map(([ip, o]) => ({ ip, ...o }));
  }

  /** Reads the directory and every reservation file, synchronously: a few hundred tiny files read in
   * one go cost a fraction of as many round trips through libuv's thread pool (at 100 pods ~1 ms
   * instead of ~5 ms per ADD and DEL), and the read is short enough not to hold up anything else. */
  private async readAll(): Promise<{ ip: string; id: string; ifname: string }[]> {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (e) {
      if (isCode(e, 'ENOENT')) return [];
      throw e;
    }
    // Holding the lock, nobody is between creating a reservation and writing it: an empty one (or an
    // earlier build's temporary file) is a killed plugin's, and goes.
    if (this.locked) for (const n of names.filter((x) => x.startsWith('.') && x.endsWith(TMP_SUFFIX))) unlinkQuietly(join(this.dir, n));
    const entries: { ip: string; id: string; ifname: string }[] = [];
    for (const ip of names.filter(isDottedQuad)) {
      try {
        const content = readFileSync(join(this.dir, ip), 'utf8');
        if (content === '' && this.locked) unlinkQuietly(join(this.dir, ip));
        else entries.push({ ip, ...parseOwner(content) });
      } catch (e) {
        if (!isCode(e, 'ENOENT') && !isCode(e, 'EISDIR')) throw e;
      }
    }
    return byAddress(entries);
  }

  /** Deletes every file owned by (id, ifname); nothing to delete is fine. */
  async releaseByOwner(id: string, ifname: string): Promise<string[]> {
    const owned = byAddress(ownedBy(await this.unsorted(), id, ifname));
    await Promise.all(owned.map((e) => unlink(join(this.dir, e.ip)).catch((err: unknown) => {
      if (!isCode(err, 'ENOENT')) throw err;
    })));
    const cache = this.cached();
    for (const e of owned) cache?.delete(e.ip);
    return owned.map((e) => e.ip);
  }

  /** The IPs whose files name (id, ifname). */
  async getByOwner(id: string, ifname: string): Promise<string[]> {
    return byAddress(ownedBy(await this.unsorted(), id, ifname)).map((e) => e.ip);
  }
}

/** Sorted by address, each address parsed once (a comparator parsing both sides costs N log N parses
 * on every ADD and DEL). */
function byAddress<T extends { ip: string }>(entries: T[]): T[] {
  return entries.map((e) => ({ e, n: ipToInt(e.ip) })).sort((a, b) => a.n - b.n).map((x) => x.e);
}
