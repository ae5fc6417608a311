// Flannel's VXLAN datapath between a lab's nodes (k3s-networking-facts.md §4): on each node a
// `flannel.1` (vxlan id 1, dstport 8472, nolearning, local = the node's underlay IP, MTU = underlay
// − 50, a fixed MAC, address 10.42.X.0/32), and per remote node, in flannel's order: (1) a permanent
// neighbour 10.42.Y.0 → its VTEP MAC, (2) an FDB entry VTEP MAC → its node IP, (3) the route
// 10.42.Y.0/24 via 10.42.Y.0 onlink — the route last, so the kernel never ARPs over the overlay.
// Pure: the lines are applied by the lab.
import { networkOf, parseCidr } from '../model/ip.js';
import type { NodePlan } from './plan.js';

/** flannel's VXLAN parameters. */
export const FLANNEL = { device: 'flannel.1', vni: 1, port: 8472, overhead: 50 } as const;

/** The commands that make node `node`'s side of the overlay: `ip` lines before the FDB (device,
 * neighbours), `bridge` lines (FDB), and `ip` lines after it (routes). */
export function overlayLines(nodes: readonly NodePlan[], node: NodePlan, underlayMtu = 1500): { before: string[]; fdb: string[]; after: string[] } {
  const d = FLANNEL.device;
  const vtepIp = (n: NodePlan) => networkOf(parseCidr(n.podCIDR));
  const nodeIp = (n: NodePlan) => n.ip.split('/')[0];
  const remotes = nodes.filter((n) => n.name !== node.name);
  return {
    before: [
      `link add ${d} address ${node.vtepMac} mtu ${underlayMtu - FLANNEL.overhead} type vxlan id ${FLANNEL.vni} local ${nodeIp(node)} dev eth0 dstport ${FLANNEL.port} nolearning`,
      `addr add ${vtepIp(node)}/32 dev ${d}`,
      `link set ${d} up`,
      ...remotes.map((r) => `neigh replace ${vtepIp(r)} lladdr ${r.vtepMac} dev ${d} nud permanent`),
    ],
    fdb: remotes.map((r) => `fdb append ${r.vtepMac} dev ${d} dst ${nodeIp(r)} self permanent`),
    after: remotes.map((r) => `route replace ${r.podCIDR} via ${vtepIp(r)} dev ${d} onlink`),
  };
}
