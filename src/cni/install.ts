// `podnet cni install`: podnet's plugins as executables a runtime can call. Each is a tiny Perl
// client (Perl is Essential on Debian and starts in ~4 ms with builtins only; Node needs ~70 ms):
// it hands the request to `podnet cni serve` over a unix socket — starting that daemon itself when
// none listens (docs/cni.md, "No daemon to start by hand") — or, when no daemon can run, execs the
// one-shot Node plugin. `podnet cni conflist`: the K3s-shaped network for them — K3s's real chain
// (flannel delegating to bridge, then portmap) or the bridge config flannel would hand its delegate.
import type { NetworkConfigList } from './runtime.js';
import { CLIENT_MARKER } from './exec.js';
import { DEFAULT_IDLE_EXIT_S, DEFAULT_SOCKET } from './socket.js';
import { K3S_NETWORK, cbr0Bridge, flannelChain } from './k3s.js';
import { CLIENT_TEMPLATE } from './client-script.js';

/** The plugins podnet installs, by executable name. */
export const EXECUTABLES = ['podnet-bridge', 'podnet-host-local', 'podnet-loopback', 'podnet-flannel', 'podnet-portmap'] as const;

/** What an installed client needs to know. */
export interface ClientOptions {
  /** The Node.js binary. */
  node: string;
  /** The one-shot plugin entry (`bin/podnet-cni.js`). */
  main: string;
  /** podnet's CLI (`bin/podnet.js`), which the client starts as `cni serve`. */
  podnet: string;
  socket?: string;
  /** Start the daemon when none listens (the default for the default socket). */
  autostart: boolean;
  /** Seconds a started daemon stays without requests before it exits. */
  idleExitS?: number;
}

const perlString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The text of one plugin executable. */
export function clientScript(type: string, o: ClientOptions): string {
  const socket = o.socket ?? DEFAULT_SOCKET;
  const values: Record<string, string> = {
    MARKER: `${CLIENT_MARKER} (${type}): written by \`podnet cni install\`.`,
    TYPE: perlString(type),
    SOCKET: perlString(socket),
    AUTOSTART: o.autostart ? '1' : '0',
    IDLE: String(Math.max(1, Math.round(o.idleExitS ?? DEFAULT_IDLE_EXIT_S))),
    NODE: perlString(o.node),
    MAIN: perlString(o.main),
    PODNET: perlString(o.podnet),
    NODE_TEXT: o.node.replace(/["\\]/g, ''),
  };
  return CLIENT_TEMPLATE.replace(/@@([A-Z_]+)@@/g, (m, k: string) => values[k] ?? m);
}

/** Options of the generated network. */
export interface ConflistOptions {
  subnet: string;
  clusterCIDR: string;
  mtu: number;
  dataDir?: string;
  /** Chain the reference portmap and bandwidth plugins as K3s does (they must be on the plugin path). */
  portmap?: boolean;
}

/** K3s's cbr0 network with podnet's plugins: the bridge config flannel hands its delegate on K3s. */
export function k3sConflist(o: ConflistOptions): NetworkConfigList {
  return {
    cniVersion: '1.0.0',
    name: K3S_NETWORK,
    plugins: [
      cbr0Bridge({ bridgeType: 'podnet-bridge', ipamType: 'podnet-host-local', clusterCIDR: o.clusterCIDR, subnet: o.subnet, mtu: o.mtu, ...(o.dataDir ? { dataDir: o.dataDir } : {}) }),
      ...(o.portmap ? [
        { type: 'portmap', capabilities: { portMappings: true } },
        { type: 'bandwidth', capabilities: { bandwidth: true } },
      ] : []),
    ],
  };
}

/** Where the flannel chain keeps its files (each left out means flannel's or host-local's default). */
export interface FlannelChainOptions {
  /** subnet.env (default /run/flannel/subnet.env). */
  subnetFile?: string;
  /** flannel's saved delegates (default /var/lib/cni/flannel). */
  dataDir?: string;
  /** host-local's store (default /var/lib/cni/networks). */
  ipamDataDir?: string;
  /** Chain the reference portmap and bandwidth plugins, exactly as K3s does, instead of podnet-portmap. */
  portmap?: boolean;
}

/** K3s's chain for a runtime: podnet-flannel (delegating to podnet-bridge and podnet-host-local), podnet-portmap. */
export function flannelConflist(o: FlannelChainOptions = {}): NetworkConfigList {
  return flannelChain({ flannel: 'podnet-flannel', bridge: 'podnet-bridge', hostLocal: 'podnet-host-local', portmap: 'podnet-portmap' }, { ...o, reference: o.portmap });
}

/** K3s's chain for the in-process registry (the lab): flannel (its delegate the default `bridge`),
 * host-local with its store in `ipamDataDir`, portmap. */
export function flannelPodNetwork(o: { subnetFile: string; dataDir: string; ipamDataDir: string }): NetworkConfigList {
  return flannelChain({ flannel: 'flannel', hostLocal: 'host-local', portmap: 'portmap' }, o);
}
