// Leases in etcd v3, laid out exactly as flannel lays them out: `/coreos.com/network/config` and one
// key per subnet under `/coreos.com/network/subnets/`, each attached to an etcd lease with the TTL
// (a key without an etcd lease is a reservation). Creating is a transaction "create only if absent",
// so two nodes racing for one subnet cannot both win; renewing grants a fresh etcd lease and rewrites
// the key under it, as flannel does. Calls fail fast (no client-side retries): the agent retries.
import { ConstantBackoff, noop } from 'cockatiel';
import { Etcd3, type IKeyValue, type Watcher } from 'etcd3';
import { CONFIG_KEY, LeaseError, SUBNETS_PREFIX, formatLease, parseLease, subnetKey, type Lease, type LeaseAttrs } from '../model/flannel.js';
import { StoreUnavailable, type LeaseStore } from './store.js';

/** How long one call may take before it counts as "etcd unreachable", ms. */
const CALL_MS = 2000;
/** How often a broken watch is re-established, ms. */
const REWATCH_MS = 500;

export class EtcdLeaseStore implements LeaseStore {
  readonly description: string;
  private readonly client: Etcd3;

  constructor(readonly endpoints: string[]) {
    this.description = `etcd ${endpoints.join(',')}`;
    this.client = new Etcd3({
      hosts: endpoints,
      dialTimeout: CALL_MS,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + CALL_MS }),
      faultHandling: { host: () => noop, global: noop, watchBackoff: new ConstantBackoff(REWATCH_MS).next() },
    });
  }

  /** Runs one etcd call; any failure of the call itself means "unreachable for now". */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw new StoreUnavailable(this.description, e);
    }
  }

  async getConfig(): Promise<string | undefined> {
    return (await this.call(() => this.client.get(CONFIG_KEY).string())) ?? undefined;
  }

  async putConfigIfAbsent(value: string): Promise<void> {
    await this.call(() => this.client.if(CONFIG_KEY, 'Create', '==', 0).then(this.client.put(CONFIG_KEY).value(value)).commit());
  }

  async list(): Promise<{ leases: Lease[]; invalid: LeaseError[] }> {
    const res = await this.call(() => this.client.getAll().prefix(SUBNETS_PREFIX).exec());
    const leases: Lease[] = [];
    const invalid: LeaseError[] = [];
    for (const kv of res.kvs) {
      try {
        leases.push(parseLease(kv.key.toString(), kv.value.toString()));
      } catch (e) {
        invalid.push(e as LeaseError);
      }
    }
    return { leases, invalid };
  }

  /** An etcd lease for `ttlSeconds` (none for a reservation). */
  private async grant(ttlSeconds: number): Promise<string | undefined> {
    if (ttlSeconds <= 0) return undefined;
    const lease = this.client.lease(ttlSeconds, { autoKeepAlive: false });
    lease.on('lost', () => undefined); // expiry is the store's business, not an error of ours
    return lease.grant();
  }

  private put(key: string, attrs: LeaseAttrs, leaseId: string | undefined) {
    const p = this.client.put(key).value(formatLease(attrs));
    return leaseId ? p.lease(leaseId) : p;
  }

  /** Writes the lease under a fresh etcd lease if the key's create revision compares as asked:
   * `== 0` (absent: create), `> 0` (present: renew). A write that loses gives its etcd lease back. */
  private async putIf(subnet: string, attrs: LeaseAttrs, ttlSeconds: number, op: '==' | '>'): Promise<boolean> {
    const key = subnetKey(subnet);
    const id = await this.call(() => this.grant(ttlSeconds));
    const r = await this.call(() => this.client.if(key, 'Create', op, 0).then(this.put(key, attrs, id)).commit());
    if (!r.succeeded && id) await this.client.leaseClient.leaseRevoke({ ID: id }).catch(() => undefined);
    return r.succeeded;
  }

  create(subnet: string, attrs: LeaseAttrs, ttlSeconds: number): Promise<boolean> {
    return this.putIf(subnet, attrs, ttlSeconds, '==');
  }

  renew(subnet: string, attrs: LeaseAttrs, ttlSeconds: number): Promise<boolean> {
    return this.putIf(subnet, attrs, ttlSeconds, '>');
  }

  async remove(subnet: string): Promise<void> {
    await this.call(() => this.client.delete().key(subnetKey(subnet)).exec());
  }

  watch(onChange: () => void, onError: (e: Error) => void): () => void {
    let watcher: Watcher | undefined;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const start = async () => {
      try {
        const w = await this.client.watch().prefix(SUBNETS_PREFIX).create();
        if (stopped) {
          await w.cancel();
          return;
        }
        watcher = w;
        // A lease put between the caller's last read and now raised no event: the caller reads again.
        onChange();
        w.on('put', (_kv: IKeyValue) => onChange());
        w.on('delete', () => onChange());
        w.on('connected', () => onChange()); // after a reconnect: what changed meanwhile is unknown
        w.on('disconnected', (e) => onError(new StoreUnavailable(this.description, e)));
        w.on('error', (e) => onError(new StoreUnavailable(this.description, e)));
      } catch (e) {
        onError(new StoreUnavailable(this.description, e));
        if (!stopped) timer = setTimeout(() => void start(), REWATCH_MS);
      }
    };
    void start();
    return () => {
      stopped = true;
      clearTimeout(timer);
      void watcher?.cancel().catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
