// The network between a lab's nodes: a switch namespace with a bridge (sw0) and, per member (a
// node, or the control-plane namespace of a lab that runs etcd), a veth whose far end is the
// member's eth0 with its underlay address and default route via the switch.
import { addressOf, type CidrText } from '../model/ip.js';
import { checkAgainstRoutes, type Topology } from '../model/topology.js';
import { CURRENT_NETNS } from '../host/netns.js';
import { addrAdd, linkAddBridge, linkAddVeth, linkSetMaster, linkSetUp, routeAdd } from '../host/ip-lines.js';
import type { LabDeps } from './deps.js';
import type { LabPlan, NodePlan } from './plan.js';
import { labNetns } from './names.js';

/** A namespace joined to the underlay: its port's name on the switch, its namespace, its address. */
interface Member {
  port: string;
  netns: string;
  ip: CidrText;
}

/** Wires `nodes` (and the control plane, when given) to the underlay switch; `createSwitch` makes the
 * switch's bridge first (a new lab; not for a node added later); `nodeSysctls` are written on the nodes
 * too (what kube-proxy sets at start-up in its mode). */
export async function wireUnderlay(deps: LabDeps, plan: Pick<LabPlan, 'underlay'>, nodes: readonly NodePlan[], control?: { netns: string; ip: CidrText }, createSwitch = true,
  nodeSysctls: readonly [string, string][] = []): Promise<void> {
  const u = plan.underlay;
  const members: Member[] = [...nodes.map((n) => ({ port: n.name, netns: n.netns, ip: n.ip })), ...(control ? [{ port: 'etcd', netns: control.netns, ip: control.ip }] : [])];
  (await deps.host.net(labNetns(u.netns)).batch([
    ...(createSwitch ? [linkAddBridge(u.bridge), linkSetUp(u.bridge), addrAdd(u.gateway, u.bridge)] : []),
    ...members.flatMap((m) => [linkAddVeth(m.port, 'eth0', { peerNetns: m.netns }), linkSetMaster(m.port, u.bridge), linkSetUp(m.port)]),
  ])).ok();
  const nodeNetns = new Set(nodes.map((n) => n.netns));
  await Promise.all(members.map(async (m) => {
    // A node as K3s sets it up for kube-proxy and flannel: forwarding, and bridged traffic of cni0 through
    // iptables/nftables (br_netfilter's switch is per network namespace on this kernel).
    const sysctls: [string, string][] = [['net/ipv4/ip_forward', '1'], ...(nodeNetns.has(m.netns) ? [['net/bridge/bridge-nf-call-iptables', '1'] as [string, string], ...nodeSysctls] : [])];
    (await deps.host.net(labNetns(m.netns)).configure(sysctls, [
      linkSetUp('lo'), linkSetUp('eth0'), addrAdd(m.ip, 'eth0'), routeAdd('default', { via: addressOf(u.gateway), dev: 'eth0' }),
    ])).ok();
  }));
}

/** Refuses a topology whose ranges overlap this machine's own routes (read from the namespace podnet
 * runs in, read only): a lab range that overlaps one would make `ip route get` and traces ambiguous. */
export async function checkMachineRoutes(deps: LabDeps, topology: Topology): Promise<void> {
  const routes = await deps.host.net(CURRENT_NETNS).routeList('all').catch(() => []);
  checkAgainstRoutes(topology, routes.filter((r) => r.dst && r.dst !== 'default'));
}
