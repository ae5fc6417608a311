// The node agent: what flanneld does on a node, over a LeaseStore. It acquires the node's subnet
// lease (ours again if the store still has it, else the previous subnet from subnet.env, else a
// free one; a lost race is retried), keeps flannel.1's MAC across restarts, creates flannel.1,
// installs the masquerade/forward rules, writes subnet.env (last, as flannel does, so a pod never
// starts before the rules), and reconciles every other lease into neighbour, FDB and route entries.
// `reconcile()` runs once for `lab up`; `run()` keeps going: it watches the store, renews the lease
// before it expires, re-applies everything periodically, and rides out a store that is down —
// what is already in the kernel stays, so pods keep talking meanwhile.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir } from '../host/dirs.js';
import type { Host } from '../host/host.js';
import type { Netns } from '../host/netns.js';
import { chooseSubnet, subnetOfKey, parseNetworkConfig, type Lease, type LeaseAttrs, type LeaseError } from '../model/flannel.js';
import { addIp, networkOf, parseCidr } from '../model/ip.js';
import { macFromBytes, parseMac } from '../model/mac.js';
import { formatSubnetEnv, parseSubnetEnv, podSubnet } from '../model/subnet-env.js';
import { applyFlannelRules } from './nft.js';
import { StoreUnavailable, type LeaseStore } from './store.js';
import { FLANNEL, Vtep, remotesOf } from './vxlan.js';

/** Everything an agent needs to know about its node. */
export interface AgentOptions {
  host: Host;
  /** The node's network namespace (the current one on a real host). */
  netns: Netns;
  store: LeaseStore;
  node: string;
  /** The node's underlay address (flannel's PublicIP) and interface. */
  publicIP: string;
  underlayDev: string;
  underlayMtu: number;
  /** Where the node keeps `vtep.mac` (flannel.1's MAC, kept across restarts). */
  dataDir: string;
  /** flannel's /run/flannel/subnet.env. */
  subnetFile: string;
  /** Lease TTL in seconds; 0 makes a reservation (a key without TTL). flannel: 24 h. */
  ttlSeconds: number;
  /** A subnet to take when free (a lab's declared podCIDR, like K3s's node.spec.podCIDR). */
  hint?: string;
  /** Masquerade pod traffic leaving the cluster network (FLANNEL_IPMASQ). */
  ipMasq: boolean;
  /** One line per event worth telling (lease acquired, entries changed, store down/up). */
  log: (line: string) => void;
  random: (n: number) => Uint8Array;
  /** flannel.1's MAC when neither our lease nor vtep.mac has one yet (a lab's planned MAC); else random. */
  vtepMac?: string;
  /** The network config (JSON) to store when the store has none. */
  initConfig?: string;
}

/** The margin before expiry at which a lease is renewed (flannel: an hour; a third of a short TTL). */
const renewMarginS = (ttl: number) => Math.min(3600, ttl / 3);
/** How long to wait before retrying a store that failed, and between full re-applies, ms. */
const RETRY_MS = 1000;
const RESYNC_MS = 10_000;
/** Attempts at acquiring before giving up on this round (each a lost race). */
const ACQUIRE_ATTEMPTS = 10;

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

/** A node's underlay as the kernel has it: the interface (`iface`, else the default route's), its
 * first IPv4 address and its MTU. Equivalent to: `ip -json route show` and `ip -json addr show dev DEV`. */
export async function findUnderlay(host: Host, ns: Netns, iface?: string): Promise<{ dev: string; ip?: string; mtu: number }> {
  const net = host.net(ns);
  const dev = iface ?? (await net.routeList()).find((r) => r.dst === 'default')?.dev;
  if (!dev) throw new Error('--iface: no default route to take the underlay interface from; name it (like --iface eth0)');
  const { link, addrs } = await net.addrShow(dev);
  if (!link) throw new Error(`--iface ${dev}: no such interface`);
  return { dev, ip: addrs.find((a) => a.family === 'inet')?.local, mtu: link.mtu };
}

export class NodeAgent {
  /** Our lease once acquired. */
  lease?: Lease;
  private network?: string;
  private readonly vtep: Vtep;
  private readonly reported = new Set<string>();
  private storeDown = false;

  constructor(readonly o: AgentOptions) {
    this.vtep = new Vtep(o.host, o.netns);
  }

  /** The subnet this node holds (after setup). */
  get subnet(): string | undefined {
    return this.lease?.subnet;
  }

  /** flannel.1's MAC: restored from our lease, else from vtep.mac, else the given or a new one (saved first). */
  private async vtepMac(reuse?: Lease): Promise<string> {
    const file = join(this.o.dataDir, 'vtep.mac');
    const fromLease = reuse ? parseMac(reuse.attrs.BackendData.VtepMAC) : undefined;
    const saved = parseMac((await readFile(file, 'utf8').catch(() => '')).trim());
    const mac = fromLease ?? saved ?? (this.o.vtepMac ? parseMac(this.o.vtepMac) : undefined) ?? macFromBytes(this.o.random(6));
    if (mac !== saved && !this.o.host.dryRun) {
      await ensureDir(this.o.dataDir);
      await writeFile(file, `${mac}\n`);
    }
    return mac;
  }

  private async previousSubnet(): Promise<string | undefined> {
    try {
      return podSubnet(parseSubnetEnv(await readFile(this.o.subnetFile, 'utf8')));
    } catch {
      return undefined;
    }
  }

  private attrs(mac: string): LeaseAttrs {
    return { PublicIP: this.o.publicIP, BackendType: 'vxlan', BackendData: { VNI: FLANNEL.vni, VtepMAC: mac } };
  }

  /** Acquires (or re-acquires) our lease, as flannel does; retries lost races. */
  async acquire(): Promise<Lease> {
    const { store } = this.o;
    if (this.o.initConfig) await store.putConfigIfAbsent(this.o.initConfig);
    const raw = await store.getConfig();
    if (raw === undefined) throw new Error(`no network config at /coreos.com/network/config in ${store.description}: store one (like {"Network":"10.42.0.0/16","Backend":{"Type":"vxlan"}}) or give --network`);
    const config = parseNetworkConfig(raw);
    this.network = config.Network;
    const previous = this.lease?.subnet ?? (await this.previousSubnet());
    for (let attempt = 1; attempt <= ACQUIRE_ATTEMPTS; attempt++) {
      const { leases, invalid } = await store.list();
      this.report(invalid);
      const unreadable = invalid.flatMap((e) => { try { return [subnetOfKey(e.key)]; } catch { return []; } });
      const choice = chooseSubnet({ config, leases, unreadable, publicIP: this.o.publicIP, previous, hint: this.o.hint, pick: (n) => this.o.random(4).reduce((a, b) => a * 256 + b, 0) % n });
      if (choice.kind === 'full') throw new Error(`no free subnet left in ${config.Network} between ${config.SubnetMin} and ${config.SubnetMax} (/${config.SubnetLen}): remove a node or widen the network`);
      if (choice.kind === 'reuse') {
        const attrs = this.attrs(await this.vtepMac(choice.lease));
        if (await store.renew(choice.lease.subnet, attrs, this.o.ttlSeconds)) return this.took(choice.lease.subnet, attrs, 'kept');
        continue; // it expired between list and renew: choose again
      }
      const attrs = this.attrs(await this.vtepMac());
      if (await store.create(choice.subnet, attrs, this.o.ttlSeconds)) return this.took(choice.subnet, attrs, 'acquired');
      this.o.log(`lease ${choice.subnet} was taken by another node meanwhile; choosing again (attempt ${attempt}/${ACQUIRE_ATTEMPTS})`);
    }
    throw new Error(`could not acquire a subnet lease in ${ACQUIRE_ATTEMPTS} attempts (other nodes kept taking the chosen subnets): try again`);
  }

  private took(subnet: string, attrs: LeaseAttrs, how: string): Lease {
    const expiresAt = this.o.ttlSeconds > 0 ? new Date(Date.now() + this.o.ttlSeconds * 1000).toISOString() : undefined;
    this.lease = { subnet, attrs, ...(expiresAt ? { expiresAt } : {}) };
    this.o.log(`${how} lease ${subnet} (PublicIP ${attrs.PublicIP}, VtepMAC ${attrs.BackendData.VtepMAC}${expiresAt ? `, expires ${expiresAt}` : ', no TTL'})`);
    return this.lease;
  }

  /** Acquires the lease, makes flannel.1 and the rules, then writes subnet.env. */
  async setup(): Promise<Lease> {
    const lease = await this.acquire();
    // The device, the rules and subnet.env do not depend on one another: made at once (one after the
    // other in a dry run, so that the commands print in a fixed order).
    const steps = [
      () => this.vtep.ensureDevice({ mac: lease.attrs.BackendData.VtepMAC, localIP: this.o.publicIP, underlayDev: this.o.underlayDev, underlayMtu: this.o.underlayMtu, subnet: lease.subnet }),
      () => applyFlannelRules(this.o.host.runner, this.o.netns, this.network!, lease.subnet, this.o.ipMasq),
      () => this.writeSubnetEnv(lease.subnet),
    ];
    if (this.o.host.dryRun) {
      for (const step of steps) await step();
      return lease;
    }
    const failed = (await Promise.allSettled(steps.map((step) => step()))).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return lease;
  }

  private async writeSubnetEnv(subnet: string): Promise<void> {
    if (this.o.host.dryRun) return;
    const c = parseCidr(subnet);
    const text = formatSubnetEnv({ network: this.network!, subnet: `${addIp(networkOf(c), 1)}/${c.prefix}`, mtu: this.o.underlayMtu - FLANNEL.overhead, ipMasq: this.o.ipMasq });
    const dir = this.o.subnetFile.slice(0, this.o.subnetFile.lastIndexOf('/')) || '/';
    await ensureDir(dir);
    const tmp = `${this.o.subnetFile}.${process.pid}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, this.o.subnetFile);
  }

  /** Logs each unreadable lease once (it is skipped, never fatal). */
  private report(invalid: readonly LeaseError[]): void {
    for (const e of invalid) {
      if (this.reported.has(e.message)) continue;
      this.reported.add(e.message);
      this.o.log(`skipping lease ${e.message}`);
    }
  }

  /** Programs every other lease into flannel.1's neighbour, FDB and route entries; removes the rest. */
  async reconcile(): Promise<string[]> {
    if (!this.lease) throw new Error('reconcile before setup');
    const { leases, invalid } = await this.o.store.list();
    this.report(invalid);
    const changed = await this.vtep.reconcile(remotesOf(leases, this.lease.subnet));
    for (const line of changed) this.o.log(line);
    return changed;
  }

  /** Notes a store failure once per outage. */
  private down(e: unknown): void {
    if (!this.storeDown) this.o.log(`${(e as Error).message.split('\n')[0]}: keeping the kernel as it is, retrying every ${RETRY_MS / 1000}s`);
    this.storeDown = true;
  }

  private up(): void {
    if (this.storeDown) this.o.log(`${this.o.store.description} reachable again`);
    this.storeDown = false;
  }

  /** Runs until `signal` aborts: setup (retried while the store is down), then watch, renew and
   * re-apply. Returns when stopped. */
  async run(signal: AbortSignal, onReady?: () => void): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.setup();
        await this.reconcile();
        this.up();
        break;
      } catch (e) {
        if (!isStoreError(e)) throw e;
        this.down(e);
        await sleep(RETRY_MS, signal);
      }
    }
    if (signal.aborted) return;
    onReady?.();
    let dirty = false;
    let wake: (() => void) | undefined;
    const poke = () => { dirty = true; wake?.(); };
    const stopWatch = this.o.store.watch(poke, (e) => { this.down(e); poke(); });
    signal.addEventListener('abort', () => wake?.(), { once: true });
    let nextResync = Date.now() + RESYNC_MS;
    try {
      while (!signal.aborted) {
        const renewAt = this.lease?.expiresAt ? Date.parse(this.lease.expiresAt) - renewMarginS(this.o.ttlSeconds) * 1000 : Infinity;
        const wait = Math.max(0, Math.min(renewAt, nextResync) - Date.now());
        if (!dirty) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(wait, 60_000));
            wake = () => { clearTimeout(timer); resolve(); };
          });
        }
        wake = undefined;
        if (signal.aborted) break;
        try {
          if (Date.now() >= renewAt) await this.renew();
          const resync = Date.now() >= nextResync;
          if (dirty || resync || this.storeDown) {
            dirty = false;
            await this.reconcile();
            if (resync) {
              await applyFlannelRules(this.o.host.runner, this.o.netns, this.network!, this.lease!.subnet, this.o.ipMasq);
              nextResync = Date.now() + RESYNC_MS;
            }
          }
          this.up();
        } catch (e) {
          if (!isStoreError(e)) this.o.log(`reconcile failed: ${(e as Error).message.split('\n')[0]}`);
          else this.down(e);
          dirty = true;
          await sleep(RETRY_MS, signal);
        }
      }
    } finally {
      stopWatch();
    }
  }

  /** Renews our lease; when it is gone (expired while the store was down), acquires again — the
   * previous subnet first — and re-makes the device if the subnet changed. */
  private async renew(): Promise<void> {
    const lease = this.lease!;
    if (await this.o.store.renew(lease.subnet, lease.attrs, this.o.ttlSeconds)) {
      this.took(lease.subnet, lease.attrs, 'renewed');
      return;
    }
    this.o.log(`lease ${lease.subnet} is gone from ${this.o.store.description}: acquiring again`);
    await this.setup();
  }
}

const isStoreError = (e: unknown) => e instanceof StoreUnavailable;
