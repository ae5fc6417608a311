// The default lease store: one JSON file holding flannel's keys (`/coreos.com/network/config`,
// `/coreos.com/network/subnets/…`) with an optional expiry each — etcd's key space in a file.
// Safe across processes: every change is read-modify-write under flock on `<file>.lock`, written to
// a temp file and renamed. Expired leases read as absent (and are dropped on the next write);
// watching polls the file, which also notices expiries.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensureDir } from '../host/dirs.js';
import { lockFile } from '../host/lock.js';
import { CONFIG_KEY, LeaseError, SUBNETS_PREFIX, formatLease, parseLease, subnetKey, type Lease, type LeaseAttrs } from '../model/flannel.js';
import { StoreError, StoreUnavailable, type LeaseStore } from './store.js';
import { lexical } from '../model/order.js';

interface Entry {
  value: string;
  expiresAt?: string;
}
type Keys = Record<string, Entry>;

/** How often a watcher looks at the file, ms. */
const POLL_MS = 200;

export class FileLeaseStore implements LeaseStore {
  readonly description: string;

  constructor(readonly path: string, private readonly now: () => number = Date.now) {
    this.description = `file ${path}`;
  }

  private live(keys: Keys): Keys {
    const t = this.now();
    return Object.fromEntries(Object.entries(keys).filter(([, e]) => !e.expiresAt || Date.parse(e.expiresAt) > t));
  }

  private async read(): Promise<Keys> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw e;
    }
    try {
      return this.live(JSON.parse(text) as Keys);
    } catch {
      throw new StoreError(`${this.path} is not a podnet lease file (not JSON): move it away and run the command again`);
    }
  }

  /** Read-modify-write under the file lock; `change` returns false to write nothing. */
  private async update<T>(change: (keys: Keys) => { write: boolean; result: T }): Promise<T> {
    await ensureDir(dirname(this.path));
    const held = await lockFile(`${this.path}.lock`, 30).catch((e: unknown) => { throw new StoreUnavailable(this.description, e); });
    try {
      const keys = await this.read();
      const { write, result } = change(keys);
      if (write) {
        const tmp = `${this.path}.${process.pid}.tmp`;
        await writeFile(tmp, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
        await rename(tmp, this.path);
      }
      return result;
    } finally {
      await held.release();
    }
  }

  private expiry(ttlSeconds: number): Pick<Entry, 'expiresAt'> {
    return ttlSeconds > 0 ? { expiresAt: new Date(this.now() + ttlSeconds * 1000).toISOString() } : {};
  }

  async getConfig(): Promise<string | undefined> {
    return (await this.read())[CONFIG_KEY]?.value;
  }

  putConfigIfAbsent(value: string): Promise<void> {
    return this.update((keys) => {
      if (keys[CONFIG_KEY]) return { write: false, result: undefined };
      keys[CONFIG_KEY] = { value };
      return { write: true, result: undefined };
    });
  }

  async list(): Promise<{ leases: Lease[]; invalid: LeaseError[] }> {
    const leases: Lease[] = [];
    const invalid: LeaseError[] = [];
    for (const [key, e] of Object.entries(await this.read())) {
      if (!key.startsWith(SUBNETS_PREFIX)) continue;
      try {
        leases.push(parseLease(key, e.value, e.expiresAt));
      } catch (err) {
        invalid.push(err as LeaseError);
      }
    }
    return { leases, invalid };
  }

  create(subnet: string, attrs: LeaseAttrs, ttlSeconds: number): Promise<boolean> {
    return this.update((keys) => {
      const key = subnetKey(subnet);
      if (keys[key]) return { write: false, result: false };
      keys[key] = { value: formatLease(attrs), ...this.expiry(ttlSeconds) };
      return { write: true, result: true };
    });
  }

  renew(subnet: string, attrs: LeaseAttrs, ttlSeconds: number): Promise<boolean> {
    return this.update((keys) => {
      const key = subnetKey(subnet);
      if (!keys[key]) return { write: false, result: false };
      keys[key] = { value: formatLease(attrs), ...this.expiry(ttlSeconds) };
      return { write: true, result: true };
    });
  }

  remove(subnet: string): Promise<void> {
    return this.update((keys) => {
      const key = subnetKey(subnet);
      const had = key in keys;
      delete keys[key];
      return { write: had, result: undefined };
    });
  }

  watch(onChange: () => void, onError: (e: Error) => void): () => void {
    let last: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const tick = async () => {
      try {
        const keys = await this.read();
        const sig = JSON.stringify(Object.entries(keys).filter(([k]) => k.startsWith(SUBNETS_PREFIX)).sort(([a], [b]) => lexical(a, b)).map(([k, e]) => [k, e.value]));
        if (sig !== last) onChange(); // the first look too: the watch has begun
        last = sig;
      } catch (e) {
        onError(e as Error);
      }
      if (!stopped) timer = setTimeout(tick, POLL_MS);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  async close(): Promise<void> {}
}
