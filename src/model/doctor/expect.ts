// What a node should hold, from what it says about itself: a lab node from its lab's plan, its
// leases and its pods' record; a real K3s node from /run/flannel/subnet.env, the leases it can read
// and its CNI config; any other namespace from nothing (then only consistency is checked). Pure.
import { addressOf, addIp, networkOf, parseCidr } from '../ip.js';
import type { SubnetEnv } from '../subnet-env.js';
import { podSubnet } from '../subnet-env.js';
import { chainsOfText } from './nft-text.js';
import type { LeaseFact, NodeExpectation, RemoteNode } from './types.js';

/** flannel's device and parameters (docs/facts.md#flannel). */
export const FLANNEL_VTEP = { device: 'flannel.1', vni: 1, port: 8472 } as const;

/** A node of a lab as its plan records it. */
export interface LabNodeFacts {
  name: string;
  /** Underlay address with its prefix (198.51.100.2/24). */
  ip: string;
  podCIDR: string;
  bridgeIP: string;
  vtepMac: string;
}

/** The other nodes a node programs: every lease but its own; a lease no lab node announces is stale
 * (reported once, as a stale lease), and so is a lab node without a lease (reported as such). */
export function remotesFor(own: { ip: string; podCIDR?: string }, leases: readonly LeaseFact[], nodes: readonly LabNodeFacts[] = [], lab = false): RemoteNode[] {
  const byIp = new Map(nodes.map((n) => [addressOf(n.ip), n.name]));
  const vtepIP = (subnet: string) => networkOf(parseCidr(subnet));
  const fromLeases = leases.filter((l) => l.publicIP !== own.ip && l.subnet !== own.podCIDR).map((l): RemoteNode => ({
    name: byIp.get(l.publicIP) ?? l.publicIP, subnet: l.subnet, vtepIP: vtepIP(l.subnet), vtepMac: l.vtepMac.toLowerCase(), publicIP: l.publicIP,
    ...(lab && !byIp.has(l.publicIP) ? { stale: true } : {}),
  }));
  const leaseless = nodes.filter((n) => addressOf(n.ip) !== own.ip && !leases.some((l) => l.publicIP === addressOf(n.ip)) && n.podCIDR)
    .map((n): RemoteNode => ({ name: n.name, subnet: n.podCIDR, vtepIP: vtepIP(n.podCIDR), vtepMac: n.vtepMac.toLowerCase(), publicIP: addressOf(n.ip), stale: true }));
  return [...fromLeases, ...leaseless];
}

/** What a lab node should hold. `flannelRuleset` is the ruleset flannel writes for it (src/overlay/nft.ts). */
export function labExpectation(o: {
  clusterCIDR: string; mtu: number; node: LabNodeFacts; nodes: readonly LabNodeFacts[]; leases: readonly LeaseFact[];
  pods: readonly { name: string; ip?: string; containerId: string }[]; flannelRuleset: string;
}): NodeExpectation {
  const ip = addressOf(o.node.ip);
  const own = o.leases.find((l) => l.publicIP === ip);
  return {
    node: o.node.name, k3s: true, lab: true, clusterCIDR: o.clusterCIDR, podCIDR: own?.subnet ?? o.node.podCIDR, bridge: 'cni0', bridgeIP: o.node.bridgeIP,
    podMtu: o.mtu, hairpin: true, publicIP: ip, uplink: 'eth0',
    vtep: { ...FLANNEL_VTEP, mac: (own?.vtepMac ?? o.node.vtepMac).toLowerCase() || undefined },
    remotes: remotesFor({ ip, podCIDR: own?.subnet ?? o.node.podCIDR }, o.leases, o.nodes, true),
    flannelRules: chainsOfText(o.flannelRuleset), flannelRuleset: o.flannelRuleset,
    pods: o.pods.map((p) => ({ name: p.name, containerId: p.containerId, ...(p.ip ? { ip: p.ip } : {}) })),
  };
}

/** What the CNI config says about the bridge (K3s: flannel's delegate; else the bridge plugin's own keys). */
export interface ConflistFacts {
  bridge?: string;
  hairpin?: boolean;
}

/** What a real node (or any namespace) should hold: K3s's layout when subnet.env is there, else only
 * what its CNI config says. */
export function hostExpectation(o: { node: string; subnetEnv?: SubnetEnv; conflist?: ConflistFacts; leases?: readonly LeaseFact[]; publicIP?: string; flannelRuleset?: string }): NodeExpectation {
  const env = o.subnetEnv;
  const bridge = o.conflist?.bridge ?? 'cni0';
  if (!env) return { node: o.node, k3s: false, bridge, hairpin: o.conflist?.hairpin === true };
  const podCIDR = podSubnet(env);
  const c = parseCidr(podCIDR);
  return {
    node: o.node, k3s: true, clusterCIDR: env.network, podCIDR, bridge, bridgeIP: `${addIp(networkOf(c), 1)}/${c.prefix}`, podMtu: env.mtu,
    hairpin: o.conflist?.hairpin ?? true, ...(o.publicIP ? { publicIP: o.publicIP } : {}),
    vtep: { ...FLANNEL_VTEP, ...(o.leases && o.publicIP ? { mac: o.leases.find((l) => l.publicIP === o.publicIP)?.vtepMac.toLowerCase() } : {}) },
    ...(o.leases && o.publicIP ? { remotes: remotesFor({ ip: o.publicIP, podCIDR }, o.leases) } : {}),
    ...(o.flannelRuleset ? { flannelRules: chainsOfText(o.flannelRuleset), flannelRuleset: o.flannelRuleset } : {}),
  };
}
