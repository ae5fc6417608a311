// Leases held in memory: what `lab up --dry-run` plans against (nothing is written anywhere) and
// what the agent's unit tests run on. Same semantics as the other stores, expiry included.
import { CONFIG_KEY, LeaseError, SUBNETS_PREFIX, formatLease, parseLease, subnetKey, type Lease, type LeaseAttrs } from '../model/flannel.js';
import type { LeaseStore } from './store.js';

export class MemoryLeaseStore implements LeaseStore {
  readonly description = 'memory';
  readonly keys = new Map<string, { value: string; expiresAt?: number }>();
  private readonly watchers = new Set<() => void>();

  constructor(private readonly now: () => number = Date.now) {}

  private live(key: string) {
    const e = this.keys.get(key);
    return e && (e.expiresAt === undefined || e.expiresAt > this.now()) ? e : undefined;
  }

  private changed(): void {
    for (const w of this.watchers) w();
  }

  /** Stores a raw value (tests: a corrupt lease). */
  putRaw(key: string, value: string): void {
    this.keys.set(key, { value });
    this.changed();
  }

  async getConfig(): Promise<string | undefined> {
    return this.live(CONFIG_KEY)?.value;
  }

  async putConfigIfAbsent(value: string): Promise<void> {
    if (!this.live(CONFIG_KEY)) this.keys.set(CONFIG_KEY, { value });
  }

  async list(): Promise<{ leases: Lease[]; invalid: LeaseError[] }> {
    const leases: Lease[] = [];
    const invalid: LeaseError[] = [];
    for (const key of [...this.keys.keys()].filter((k) => k.startsWith(SUBNETS_PREFIX))) {
      const e = this.live(key);
      if (!e) continue;
      try {
        leases.push(parseLease(key, e.value, e.expiresAt ? new Date(e.expiresAt).toISOString() : undefined));
      } catch (err) {
        invalid.push(err as LeaseError);
      }
    }
    return { leases, invalid };
  }

  private set(subnet: string, attrs: LeaseAttrs, ttlSeconds: number): void {
    this.keys.set(subnetKey(subnet), { value: formatLease(attrs), ...(ttlSeconds > 0 ? { expiresAt: this.now() + ttlSeconds * 1000 } : {}) });
    this.changed();
  }

  async create(subnet: string, attrs: LeaseAttrs, ttlSeconds: number): Promise<boolean> {
    if (this.live(subnetKey(subnet))) return false;
    this.set(subnet, attrs, ttlSeconds);
    return true;
  }

  async renew(subnet: string, attrs: LeaseAttrs, ttlSeconds: number): Promise<boolean> {
    if (!this.live(subnetKey(subnet))) return false;
    this.set(subnet, attrs, ttlSeconds);
    return true;
  }

  async remove(subnet: string): Promise<void> {
    if (this.keys.delete(subnetKey(subnet))) this.changed();
  }

  watch(onChange: () => void): () => void {
    this.watchers.add(onChange);
    queueMicrotask(() => { if (this.watchers.has(onChange)) onChange(); }); // the watch has begun
    return () => this.watchers.delete(onChange);
  }

  async close(): Promise<void> {}
}
