// host-local's store in memory: for pure tests and dry runs. `snapshotOf` copies a live store's
// reservations so a dry run allocates exactly what a real ADD would, without writing anything.
import { ownedBy, type Owner } from './allocator.js';
import type { Store } from './store.js';

/** What a MemoryStore starts with. */
export interface MemoryStoreSeed {
  reservations?: readonly ({ ip: string } & Owner)[];
  /** Last reserved IP per range set index. */
  lastReserved?: readonly (string | undefined)[];
}

/** A Store kept in maps; `withLock` serialises callers within this process. */
export class MemoryStore implements Store {
  private readonly ips = new Map<string, Owner>();
  private readonly last = new Map<number, string>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(seed: MemoryStoreSeed = {}) {
    for (const r of seed.reservations ?? []) this.ips.set(r.ip, { id: r.id, ifname: r.ifname });
    (seed.lastReserved ?? []).forEach((ip, i) => { if (ip !== undefined) this.last.set(i, ip); });
  }

  /** A MemoryStore holding what `store` holds now (range set indexes 0..maxRangeSets−1), read
   * without its lock and without writing: a DiskStore whose directory is missing reads as empty. */
  static async snapshotOf(store: Store, maxRangeSets = 16): Promise<MemoryStore> {
    const lastReserved: (string | undefined)[] = [];
    for (let i = 0; i < maxRangeSets; i++) lastReserved.push(await store.lastReservedIP(i));
    return new MemoryStore({ reservations: await store.list(), lastReserved });
  }

  /** Runs `fn` after every earlier caller has finished. */
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(() => fn());
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Reserves `ip` for (id, ifname) unless taken, recording it as last reserved of `rangeIndex`. */
  async reserve(id: string, ifname: string, ip: string, rangeIndex: number): Promise<boolean> {
    if (this.ips.has(ip)) return false;
    this.ips.set(ip, { id, ifname });
    this.last.set(rangeIndex, ip);
    return true;
  }

  /** The last IP reserved in range set `rangeIndex`. */
  async lastReservedIP(rangeIndex: number): Promise<string | undefined> {
    return this.last.get(rangeIndex);
  }

  /** Every reservation with its owner. */
  async list(): Promise<{ ip: string; id: string; ifname: string }[]> {
    return [...this.ips].map(([ip, o]) => ({ ip, ...o }));
  }

  /** Forgets what (id, ifname) holds; returns the IPs released. */
  async releaseByOwner(id: string, ifname: string): Promise<string[]> {
    const ips = ownedBy(await this.list(), id, ifname).map((e) => e.ip);
    for (const ip of ips) this.ips.delete(ip);
    return ips;
  }

  /** The IPs held by (id, ifname). */
  async getByOwner(id: string, ifname: string): Promise<string[]> {
    return ownedBy(await this.list(), id, ifname).map((e) => e.ip);
  }
}
