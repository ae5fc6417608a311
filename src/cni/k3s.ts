// K3s's pod network `cbr0`, built in one place: the flannel plugin's delegate (the bridge config it
// makes from subnet.env), the same config for one node's subnet without flannel (`podnet cni conflist`,
// a lab's dry run), and K3s's flannel chain. Facts: docs/cni.md ("K3s's network").
import { formatSubnetEnv, parseSubnetEnv, type SubnetEnv } from '../model/subnet-env.js';
import { addIp, formatCidr, networkOf, parseCidr } from '../model/ip.js';
import { buildDelegate } from './flannel.js';
import type { NetworkConfigList } from './runtime.js';

/** The network's name in K3s's conflist. */
export const K3S_NETWORK = 'cbr0';
/** The delegate keys K3s's conflist gives flannel (the rest flannel derives from subnet.env). */
export const K3S_DELEGATE = { hairpinMode: true, forceAddress: true, isDefaultGateway: true } as const;

/** subnet.env as flannel would write it for a node's subnet (flannel masquerades itself, so the bridge does not). */
export function subnetEnvFor(o: { clusterCIDR: string; subnet: string; mtu: number }): SubnetEnv {
  const c = parseCidr(o.subnet);
  return parseSubnetEnv(formatSubnetEnv({ network: o.clusterCIDR, subnet: formatCidr({ ip: addIp(networkOf(c), 1), prefix: c.prefix }), mtu: o.mtu, ipMasq: true }));
}

/** The bridge config of one node's cbr0: exactly what flannel hands its delegate on K3s, for
 * `subnet`, with the bridge and IPAM plugins named `bridgeType`/`ipamType`. */
export function cbr0Bridge(o: { bridgeType: string; ipamType: string; clusterCIDR: string; subnet: string; mtu: number; dataDir?: string }): Record<string, unknown> & { type: string } {
  const env = subnetEnvFor(o);
  return buildDelegate({ name: K3S_NETWORK, cniVersion: '1.0.0' },
    { subnetFile: '', dataDir: '', delegate: { type: o.bridgeType, ...K3S_DELEGATE }, ipam: { type: o.ipamType, ...(o.dataDir ? { dataDir: o.dataDir } : {}) } }, env);
}

/** K3s's chain: flannel with K3s's delegate keys, then portmap (or, with `reference`, the reference
 * portmap and bandwidth plugins exactly as K3s chains them). */
export function flannelChain(t: { flannel: string; bridge?: string; hostLocal: string; portmap: string }, o: { subnetFile?: string; dataDir?: string; ipamDataDir?: string; reference?: boolean }): NetworkConfigList {
  const portMappings = { capabilities: { portMappings: true } };
  return {
    cniVersion: '1.0.0',
    name: K3S_NETWORK,
    plugins: [
      {
        type: t.flannel,
        ...(o.subnetFile ? { subnetFile: o.subnetFile } : {}),
        ...(o.dataDir ? { dataDir: o.dataDir } : {}),
        delegate: { ...(t.bridge ? { type: t.bridge } : {}), ...K3S_DELEGATE },
        ipam: { type: t.hostLocal, ...(o.ipamDataDir ? { dataDir: o.ipamDataDir } : {}) },
      },
      ...(o.reference
        ? [{ type: 'portmap', ...portMappings }, { type: 'bandwidth', capabilities: { bandwidth: true } }]
        : [{ type: t.portmap, ...portMappings }]),
    ],
  };
}
