// Where node subnet leases live: the LeaseStore seam with flannel's key layout
// (`/coreos.com/network/config`, `/coreos.com/network/subnets/10.42.1.0-24`), implemented by a file
// on this machine (the default; src/overlay/file-store.ts) and by etcd v3, the store flannel itself
// uses (src/overlay/etcd-store.ts). `openStore` picks one from a `--store` value.
import type { Lease, LeaseAttrs, LeaseError } from '../model/flannel.js';
import { UserError } from '../model/errors.js';

/** A node subnet lease store. Every method may throw when the store is unreachable; callers retry. */
export interface LeaseStore {
  /** For messages: `file /var/lib/podnet/demo/leases.json`, `etcd http://198.51.100.254:2379`. */
  readonly description: string;
  /** The network config's JSON, or undefined when none is stored. */
  getConfig(): Promise<string | undefined>;
  /** Stores the config unless one is there already. */
  putConfigIfAbsent(value: string): Promise<void>;
  /** Every lease, and one error per key whose value cannot be read (skipped, never fatal). */
  list(): Promise<{ leases: Lease[]; invalid: LeaseError[] }>;
  /** Creates the lease for `subnet` if nobody holds it; false when somebody does (a race lost).
   * `ttlSeconds` 0 makes a reservation: a key without TTL. */
  create(subnet: string, attrs: LeaseAttrs, ttlSeconds: number): Promise<boolean>;
  /** Extends our lease by `ttlSeconds` from now (rewriting its value); false when it is gone. */
  renew(subnet: string, attrs: LeaseAttrs, ttlSeconds: number): Promise<boolean>;
  /** Removes a lease (a node deleted for good). Absent is fine. */
  remove(subnet: string): Promise<void>;
  /** Calls `onChange` once the watch has begun — what changed between the caller's last read and
   * then is unknown to it, so the caller reads again — and after any change to the subnets
   * (coalescing is fine); `onError` when the store cannot be watched for now. Returns a function
   * that stops watching. */
  watch(onChange: () => void, onError: (e: Error) => void): () => void;
  close(): Promise<void>;
}

/** A store problem a user can fix: one line. */
export class StoreError extends UserError {
  constructor(message: string) {
    super('usage', message);
    this.name = 'StoreError';
  }
}

/** The store cannot be reached for now (etcd down, a lock not taken in time): retry later. Its message
 * is one line: the store, then the first clause of the cause (gRPC errors run on for several). */
export class StoreUnavailable extends UserError {
  constructor(store: string, cause: unknown) {
    const why = ((cause as Error)?.message ?? String(cause)).split('\n')[0].split(/: (?=[A-Z0-9]|\d+ )/)[0].slice(0, 160);
    super('unavailable', `${store} is unreachable (${why})`, { cause });
    this.name = 'StoreUnavailable';
  }
}

/** `etcd://HOST:PORT[,HOST:PORT…]` → client URLs; a StoreError names what is wrong. */
export function etcdEndpoints(spec: string): string[] {
  const hosts = spec.slice('etcd://'.length).split(',').filter(Boolean);
  if (hosts.length === 0) throw new StoreError(`--store ${spec}: name at least one endpoint, like etcd://198.51.100.254:2379`);
  for (const h of hosts) {
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(h)) throw new StoreError(`--store ${spec}: "${h}" is not HOST:PORT (like 198.51.100.254:2379)`);
  }
  return hosts.map((h) => `http://${h}`);
}

/** Opens the store a `--store` value names: `file:PATH` (or a bare path), or `etcd://HOST:PORT[,HOST:PORT…]`. */
export async function openStore(spec: string): Promise<LeaseStore> {
  if (spec.startsWith('etcd://')) {
    return openEtcd(etcdEndpoints(spec));
  }
  const path = spec.startsWith('file:') ? spec.slice('file:'.length) : spec;
  if (!path.startsWith('/')) throw new StoreError(`--store ${spec}: give etcd://HOST:PORT or an absolute file path (file:/var/lib/podnet/leases.json)`);
  const { FileLeaseStore } = await import('./file-store.js');
  return new FileLeaseStore(path);
}

/** An etcd client for these URLs (`http://…`, `unix:///path`). The client (gRPC) is loaded only when
 * asked for: it costs ~0.2 s of start-up, which every other command would pay. */
export async function openEtcd(urls: string[]): Promise<LeaseStore> {
  const { EtcdLeaseStore } = await import('./etcd-store.js');
  return new EtcdLeaseStore(urls);
}
