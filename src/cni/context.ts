// The context in-process callers (the lab) hand to plugins: podnet's registry (bridge, host-local,
// loopback, flannel, portmap) for delegates, the disk store for IPAM (an in-memory copy for dry
// runs, so a dry run writes nothing).
import { secureRandom } from '../host/random.js';
import type { Host } from '../host/host.js';
import type { Netns } from '../host/netns.js';
import { invokePlugin, PluginRegistry, type PluginContext } from './plugin.js';
import type { CniEnv, CniResult } from './spec.js';
import type { Store } from './ipam/store.js';
import { DiskStore } from './ipam/disk-store.js';
import { MemoryStore } from './ipam/memory-store.js';
import { bridge } from './bridge/bridge.js';
import { hostLocal } from './ipam/host-local.js';
import { loopback } from './loopback.js';
import { flannelPlugin, type FlannelFiles } from './flannel.js';
import { portmap } from './portmap.js';

/** podnet's plugins by type. `flannelFiles` replaces the machine's files for flannel (a dry run's
 * subnet.env in memory: `memoryFiles({ [subnetFile]: formatSubnetEnv(env) })`). */
export function defaultRegistry(o: { flannelFiles?: FlannelFiles } = {}): PluginRegistry {
  return new PluginRegistry([bridge, hostLocal, loopback, flannelPlugin(o.flannelFiles), portmap]);
}

/** The environment variables a plugin sees for `env`. */
export function envVars(env: CniEnv): Record<string, string> {
  return { CNI_COMMAND: env.command, CNI_CONTAINERID: env.containerId, CNI_NETNS: env.netns, CNI_IFNAME: env.ifname, CNI_ARGS: env.args, CNI_PATH: env.path.join(':') };
}

/** Options for an in-process plugin context. */
export interface ContextOptions {
  host: Host;
  hostNetns: Netns;
  registry?: PluginRegistry;
  /** Dry run: IPAM works on an in-memory copy of the store. */
  dryRun?: boolean;
  random?: (n: number) => Uint8Array;
}

/** A PluginContext whose delegates are podnet's own plugins, called in process. */
export function inProcessContext(opts: ContextOptions): PluginContext {
  const registry = opts.registry ?? defaultRegistry();
  const stores = new Map<string, Store>();
  const memory = new Map<string, Promise<MemoryStore>>();
  const ctx: PluginContext = {
    host: opts.host,
    hostNetns: opts.hostNetns,
    random: opts.random ?? secureRandom,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    async delegate(type: string, env: CniEnv, stdin: string): Promise<CniResult | undefined> {
      const out = await invokePlugin(registry.get(type), envVars(env), stdin, ctx);
      if (out.error) throw out.error;
      return out.result;
    },
    ipamStore(dataDir: string, network: string): Store {
      const key = `${dataDir}\0${network}`;
      let s = stores.get(key);
      if (!s) {
        const disk = new DiskStore(dataDir, network);
        if (opts.dryRun) {
          if (!memory.has(key)) memory.set(key, MemoryStore.snapshotOf(disk));
          const snap = memory.get(key)!;
          s = lazyStore(snap);
        } else {
          s = disk;
        }
        stores.set(key, s);
      }
      return s;
    },
  };
  return ctx;
}

/** A Store that forwards to one that is still being made. */
function lazyStore(p: Promise<Store>): Store {
  return {
    withLock: async (fn) => (await p).withLock(fn),
    reserve: async (...a) => (await p).reserve(...a),
    lastReservedIP: async (...a) => (await p).lastReservedIP(...a),
    list: async () => (await p).list(),
    releaseByOwner: async (...a) => (await p).releaseByOwner(...a),
    getByOwner: async (...a) => (await p).getByOwner(...a),
  };
}
