// Which cluster nodes an inspection can name, so an overlay peer (node IP, VTEP MAC, pod subnet)
// shows as `agent1` rather than 198.51.100.3: on a lab node, the lab's nodes from its state; on any
// other host, the host itself from flannel's /run/flannel/subnet.env (its subnet) and its VXLAN
// device (its underlay IP and VTEP MAC). A real node's remote peers have no name here: the views
// show their IPs.
import { readFile } from 'node:fs/promises';
import type { ClusterNode, NetnsSnapshot } from '../model/snapshot.js';
import { parseSubnetEnv, podSubnet } from '../model/subnet-env.js';
import type { LabState } from '../lab/state.js';
import { addressOf } from '../model/ip.js';

/** flannel's file on a real node. */
export const SUBNET_ENV = '/run/flannel/subnet.env';

/** A lab's nodes as its state declares them (a state written before the overlay has no VTEP MACs). */
export function labNodes(state: LabState): ClusterNode[] {
  return state.plan.nodes.map((n) => ({ name: n.name, ip: addressOf(n.ip), podCIDR: n.podCIDR, vtepMac: n.vtepMac ?? '', source: 'lab' }));
}

/** This host as a cluster node, from subnet.env at `path` (its pod subnet) and its VXLAN device (IP,
 * VTEP MAC); undefined when the file is absent or unreadable, or the host has no VXLAN device. */
export async function subnetEnvNode(path: string, host: NetnsSnapshot): Promise<ClusterNode | undefined> {
  let podCIDR: string;
  try {
    podCIDR = podSubnet(parseSubnetEnv(await readFile(path, 'utf8')));
  } catch {
    return undefined;
  }
  const vxlan = host.links.find((l) => l.kind === 'vxlan' && l.local !== undefined);
  if (!vxlan || vxlan.kind !== 'vxlan') return undefined;
  return { name: host.identity.name, ip: vxlan.local ?? '', podCIDR, vtepMac: vxlan.mac, source: 'subnet.env' };
}
