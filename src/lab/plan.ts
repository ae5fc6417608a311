// Resolve: a validated topology becomes a plan — every name, address, MAC and ID the lab will use.
// Pure: randomness comes in as a function, so a seeded plan is reproducible (golden tests, --dry-run).
import { addIp, formatCidr, networkOf, parseCidr, type Cidr, type CidrText } from '../model/ip.js';
import { macFromBytes } from '../model/mac.js';
import { nodePodCidr, type Topology } from '../model/topology.js';
import type { NetworkConfigList } from '../cni/runtime.js';
import { cbr0Bridge, K3S_NETWORK } from '../cni/k3s.js';
import { nodeNetnsName, podNetnsName, underlayNetnsName } from './names.js';

/** The switch namespace and bridge that stand for the network between nodes. */
export interface UnderlayPlan {
  netns: string;
  bridge: string;
  cidr: CidrText;
  /** The switch's own address: the nodes' default gateway. */
  gateway: CidrText;
}

/** One node: a namespace with `eth0` on the underlay, `cni0` and its pods. */
export interface NodePlan {
  name: string;
  netns: string;
  /** Node address on the underlay, with its prefix length. */
  ip: CidrText;
  podCIDR: CidrText;
  /** cni0's address (the pods' gateway), with its prefix length. */
  bridgeIP: CidrText;
  /** The MAC of the node's flannel.1 (fixed before creation, as flannel does). */
  vtepMac: string;
  /** When the node joined the lab (set for nodes added after `lab up`; else the lab's own time). */
  createdAt?: string;
}

/** One pod: a `podnet-<lab>-cni-<uuid>` namespace with eth0, a pause-like process, a sandbox ID. */
export interface PodPlan {
  name: string;
  node: string;
  containerId: string;
  netns: string;
  mac: string;
  /** The pod's address, bare (10.42.0.2): predicted with host-local's own allocator over the node's
   * store, then what host-local handed out. */
  ip?: string;
}

/** Everything `lab up` will create. */
export interface LabPlan {
  lab: string;
  clusterCIDR: CidrText;
  serviceCIDR: CidrText;
  mtu: number;
  underlay: UnderlayPlan;
  nodes: NodePlan[];
  pods: PodPlan[];
}

/** Random bytes: crypto in production, a seeded generator in tests. */
export type RandomSource = (n: number) => Uint8Array;

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** A version-4-shaped UUID from random bytes. */
export function uuidFrom(random: RandomSource): string {
  const b = random(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Plans a pod on `node`: sandbox ID (64 hex, like containerd's), namespace, MAC. */
export function planPod(lab: string, name: string, node: string, random: RandomSource): PodPlan {
  return { name, node, containerId: hex(random(32)), netns: podNetnsName(lab, uuidFrom(random)), mac: macFromBytes(random(6)) };
}

/** Resolves a topology into a plan. Pods without a node are spread over the nodes in order. */
export function resolvePlan(lab: string, t: Topology, random: RandomSource): LabPlan {
  const underlay: Cidr = parseCidr(t.underlay);
  const base = networkOf(underlay);
  const nodes = t.nodes.map((n, i): NodePlan => {
    const pc = nodePodCidr(t, i);
    return {
      name: n.name,
      netns: nodeNetnsName(lab, n.name),
      ip: `${addIp(base, 2 + i)}/${underlay.prefix}`,
      podCIDR: formatCidr(pc),
      bridgeIP: `${addIp(networkOf(pc), 1)}/${pc.prefix}`,
      vtepMac: '',
    };
  });
  const pods = t.pods.map((p, i) => planPod(lab, p.name, p.node ?? nodes[i % nodes.length].name, random));
  // Drawn after the pods', so adding them left every earlier plan (and the golden dry run) unchanged.
  for (const n of nodes) n.vtepMac = macFromBytes(random(6));
  return {
    lab,
    clusterCIDR: t.clusterCIDR,
    serviceCIDR: t.serviceCIDR,
    mtu: t.mtu,
    underlay: { netns: underlayNetnsName(lab), bridge: 'sw0', cidr: formatCidr({ ip: base, prefix: underlay.prefix }), gateway: `${addIp(base, 1)}/${underlay.prefix}` },
    nodes,
    pods,
  };
}

/** The K3s network for a node without flannel: conflist `cbr0` holding the bridge config flannel
 * would hand its delegate for the node's subnet (a dry run has no subnet.env to read), with
 * host-local's store under the node's own data dir. */
export function podNetwork(plan: Pick<LabPlan, 'mtu' | 'clusterCIDR'>, node: NodePlan, dataDir: string): NetworkConfigList {
  return { cniVersion: '1.0.0', name: K3S_NETWORK, plugins: [cbr0Bridge({ bridgeType: 'bridge', ipamType: 'host-local', clusterCIDR: plan.clusterCIDR, subnet: node.podCIDR, mtu: plan.mtu, dataDir })] };
}

/** containerd's loopback network (go-cni's WithLoNetwork: this name, this version), run for every pod
 * before the pod network, on the interface `lo` (LOOPBACK_IFNAME). */
export const LOOPBACK_NETWORK: NetworkConfigList = { cniVersion: '0.3.1', name: 'cni-loopback', plugins: [{ type: 'loopback' }] };
/** The CNI_IFNAME go-cni gives the loopback network (so its cache file is `cni-loopback-<id>-lo`). */
export const LOOPBACK_IFNAME = 'lo';
