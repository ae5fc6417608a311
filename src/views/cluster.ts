// A whole cluster as one drawing: each node's graph (its remote VTEPs that are nodes of the drawing
// left to the tunnels between them), the underlay switch with a port per node, and the flannel.1
// tunnels, each read from a node's VXLAN entries (route, neighbour, FDB) for another drawn node.
// Built from one snapshot per node (and the switch's): what `podnet graph` of a lab and `podnet ui`
// draw. Pure.
import type { Snapshot } from '../model/snapshot.js';
import { graphModel, type GraphModel } from './graph.js';
import type { GraphService } from './graph-services.js';

/** The underlay switch: its bridge and a port per node, each joined to the node's interface. */
export interface ClusterUnderlay {
  /** The switch's name as the evidence gives it (`demo/underlay`). */
  name: string;
  netnsId: string;
  netns: string;
  bridge: { id: string; name: string; ips: string[] };
  ports: { id: string; name: string; label: string; peer: string; node: string; iface: string }[];
}

/** A flannel.1-to-flannel.1 tunnel: `from`'s VXLAN device sends to `to`'s node (its route,
 * neighbour and FDB entry), `vtepMac` being `to`'s VTEP. */
export interface ClusterTunnel {
  from: { node: string; vxlan: string };
  to: { node: string; vxlan: string };
  vtepMac: string;
}

/** The drawing of a cluster. */
export interface ClusterModel {
  nodes: GraphModel[];
  underlay?: ClusterUnderlay;
  tunnels: ClusterTunnel[];
  /** The lab's Services with edges to their endpoints on every node (graph-services.ts). */
  services?: GraphService[];
}

const hostOf = (s: Snapshot) => s.namespaces.find((n) => n.id === s.host);

/** The cluster of `nodes` (one snapshot hosted on each) and, when given, the underlay switch. */
export function clusterModel(nodes: readonly Snapshot[], underlay?: Snapshot): ClusterModel {
  const whole = nodes.filter((s) => hostOf(s)).map(graphModel);
  const drawn = new Set(whole.map((g) => g.node));
  const tunnels: ClusterTunnel[] = [];
  for (const g of whole) {
    for (const r of g.remotes.filter((x) => drawn.has(x.name) && x.vxlan)) {
      const to = whole.find((x) => x.node === r.name)!;
      const vx = to.vxlans[0];
      if (vx) tunnels.push({ from: { node: g.node, vxlan: r.vxlan }, to: { node: to.node, vxlan: vx.id }, vtepMac: r.vtepMac });
    }
  }
  const graphs = whole.map((g) => ({ ...g, remotes: g.remotes.filter((r) => !drawn.has(r.name)) }));
  return { nodes: graphs, ...(underlay ? { underlay: switchOf(underlay, graphs) } : {}), tunnels };
}

/** The switch of a snapshot hosted on its namespace, each port joined to the node interface it peers with. */
function switchOf(view: Snapshot, nodes: readonly GraphModel[]): ClusterUnderlay | undefined {
  const ns = hostOf(view);
  const g = graphModel(view);
  const bridge = g.bridges[0];
  if (!ns || !bridge) return undefined;
  const ports = g.veths.filter((v) => v.bridge === bridge.id).map((v) => {
    // The port's peer is `<node>:<iface>`.
    const [node, iface] = [v.peer.slice(0, v.peer.lastIndexOf(':')), v.peer.slice(v.peer.lastIndexOf(':') + 1)];
    const target = nodes.find((n) => n.node === node)?.interfaces.find((i) => i.name === iface);
    return { id: v.id, name: v.name, label: v.label, peer: v.peer, node: target ? node : '', iface: target?.id ?? '' };
  });
  return { name: g.node, netnsId: ns.id, netns: ns.names[0] ?? ns.path, bridge: { id: bridge.id, name: bridge.name, ips: bridge.ips }, ports };
}
