// The topology the UI draws, built from snapshots with `podnet graph`'s model: one GraphModel per
// node (its interfaces, bridges, VXLAN devices, host veths and pods), the lab's underlay switch, and
// the edges between them, each read from the snapshot. Also indexes every element id (for details)
// and every capture point name `owner/iface` (for journeys). Pure.
import type { Snapshot } from '../model/snapshot.js';
import { graphModel, type GraphModel } from '../views/graph.js';
import { clusterModel } from '../views/cluster.js';
import { graphServices, serviceLabel, type GraphService } from '../views/graph-services.js';
import type { ServicePortEndpoints } from '../model/k8s.js';
import type { ElementKind, TopologyDoc, TopologyEdge, TopologyNode, TopologyUnderlay, UiSource } from './api.js';

/** What an element id stands for, for the details views. */
export interface ElementRef {
  id: string;
  kind: ElementKind;
  title: string;
  /** The snapshot re-hosted on the element's node (or the underlay). */
  view: Snapshot;
  /** The namespace the element lives in. */
  netnsId: string;
  /** Its owner's name (node or pod). */
  owner: string;
  /** The link it is, for link elements (for a remote node: the VXLAN device that reaches it). */
  link?: string;
  /** For a remote node: what the VXLAN device's entries say of it. */
  remote?: { ip: string; vtepMac: string; subnet: string };
  /** For a Service: what is drawn of it. */
  service?: GraphService;
}

/** The drawn topology, and the indexes the API answers from. */
export interface BuiltTopology {
  doc: Omit<TopologyDoc, 'version' | 'readOnly' | 'drawing'>;
  elements: Map<string, ElementRef>;
  /** Capture point id (`pod1/eth0`, `server/cni0`) → element id. */
  points: Map<string, string>;
}

/** What was scanned: every node's snapshot (hosted on that node), and the underlay's when there is one. */
export interface Scanned {
  source: UiSource;
  takenAt: string;
  nodes: Snapshot[];
  underlay?: Snapshot;
  /** A lab's Service ports and their endpoints (lab/sync.ts's labEndpoints). */
  servicePorts?: ServicePortEndpoints[];
}

/** The same snapshot seen from another namespace (all views are drawn "from the host"). */
export function rehost(s: Snapshot, netnsId: string): Snapshot {
  return { ...s, host: netnsId };
}

const nsOf = (s: Snapshot) => s.namespaces.find((n) => n.id === s.host);
const edge = (source: string, target: string, kind: TopologyEdge['kind']): TopologyEdge => ({ id: `${source}->${target}`, source, target, kind });

/** Builds the document and its indexes. */
export function buildTopology(scan: Scanned): BuiltTopology {
  const elements = new Map<string, ElementRef>();
  const points = new Map<string, string>();
  const edges: TopologyEdge[] = [];
  const nodes: TopologyNode[] = [];
  const add = (ref: ElementRef) => elements.set(ref.id, ref);

  const cluster = clusterModel(scan.nodes, scan.underlay);
  for (const view of scan.nodes) {
    const ns = nsOf(view);
    if (!ns) continue;
    // A remote VTEP that is a node drawn here is shown by that node; the others get a box of their own.
    const g = cluster.nodes.find((x) => x.node === ns.identity.name) ?? graphModel(view);
    const node: TopologyNode = { id: `node:${g.node}`, name: g.node, netnsId: ns.id, netns: ns.names[0] ?? ns.path, graph: g };
    nodes.push(node);
    add({ id: node.id, kind: 'node', title: `node ${g.node}`, view, netnsId: ns.id, owner: g.node });
    const link = (id: string, kind: ElementKind, name: string, title: string) => {
      add({ id, kind, title, view, netnsId: ns.id, owner: g.node, link: name });
      points.set(`${g.node}/${name}`, id);
    };
    for (const i of g.interfaces) link(i.id, 'interface', i.name, `${g.node} ${i.name}`);
    for (const b of g.bridges) link(b.id, 'bridge', b.name, `${g.node} bridge ${b.name}`);
    for (const v of g.vxlans) link(v.id, 'vxlan', v.name, `${g.node} VXLAN ${v.name}`);
    for (const v of g.veths) link(v.id, 'veth', v.name, `${g.node} host veth ${v.label}`);
    for (const r of g.remotes) {
      const dev = g.vxlans.find((v) => v.id === r.vxlan);
      add({ id: r.id, kind: 'remote', title: `remote node ${r.name}`, view, netnsId: ns.id, owner: g.node, ...(dev ? { link: dev.name } : {}), remote: { ip: r.ip, vtepMac: r.vtepMac, subnet: r.subnet } });
    }
    for (const p of g.pods) {
      add({ id: p.id, kind: 'pod', title: `pod ${p.name}`, view, netnsId: p.netnsId, owner: p.name });
      for (const i of p.ifaces) {
        add({ id: i.id, kind: 'pod-iface', title: `${p.name} ${i.label}`, view, netnsId: p.netnsId, owner: p.name, link: i.name });
        points.set(`${p.name}/${i.name}`, i.id);
      }
    }
    edges.push(...nodeEdges(g, ns.routes.map((r) => r.dev)));
  }

  let underlay: TopologyUnderlay | undefined;
  const u = cluster.underlay;
  if (scan.underlay && u) {
    const view = scan.underlay;
    underlay = { id: 'underlay', netnsId: u.netnsId, netns: u.netns, bridge: u.bridge, ports: u.ports.map((p) => ({ id: p.id, name: p.name, label: p.label, peer: p.peer })) };
    add({ id: 'underlay', kind: 'underlay', title: 'underlay switch', view, netnsId: u.netnsId, owner: u.name });
    add({ id: u.bridge.id, kind: 'underlay-bridge', title: `underlay bridge ${u.bridge.name}`, view, netnsId: u.netnsId, owner: u.name, link: u.bridge.name });
    // A trace names the switch's capture point `underlay/<bridge>`.
    points.set(`underlay/${u.bridge.name}`, u.bridge.id);
    for (const p of u.ports) {
      add({ id: p.id, kind: 'underlay-port', title: `underlay port ${p.label}`, view, netnsId: u.netnsId, owner: u.name, link: p.name });
      points.set(`underlay/${p.name}`, p.id);
      edges.push(edge(u.bridge.id, p.id, 'switch-port'));
      if (p.iface) edges.push(edge(p.id, p.iface, 'underlay'));
    }
  }
  const services = graphServices(scan.servicePorts ?? [], cluster.nodes);
  const first = scan.nodes[0];
  for (const svc of services) {
    if (first) add({ id: svc.id, kind: 'service', title: serviceLabel(svc).join(' '), view: first, netnsId: first.host, owner: `${svc.namespace}/${svc.name}`, service: svc });
    for (const e of svc.edges) if (e.iface) edges.push(edge(svc.id, e.iface, 'service-endpoint'));
  }
  return { doc: { takenAt: scan.takenAt, source: scan.source, ...(underlay ? { underlay } : {}), nodes, edges, ...(services.length ? { services } : {}) }, elements, points };
}

/** The edges inside one node: uplink → bridge, uplink → VXLAN device, bridge → VXLAN device (when the
 * node routes through it), VXLAN device → remote node, bridge → host veth, host veth → pod interface. */
function nodeEdges(g: GraphModel, routeDevs: (string | undefined)[]): TopologyEdge[] {
  const out: TopologyEdge[] = [];
  for (const b of g.bridges) if (b.uplink) out.push(edge(b.uplink, b.id, 'uplink'));
  for (const v of g.vxlans) {
    if (v.underlay) out.push(edge(v.underlay, v.id, 'vxlan-underlay'));
    if (routeDevs.includes(v.name)) for (const b of g.bridges) out.push(edge(b.id, v.id, 'routed'));
  }
  for (const r of g.remotes) if (r.vxlan) out.push(edge(r.vxlan, r.id, 'vxlan-remote'));
  for (const v of g.veths) {
    if (v.bridge) out.push(edge(v.bridge, v.id, 'bridge-port'));
    if (v.iface) out.push(edge(v.id, v.iface, 'veth-pair'));
  }
  return out;
}

/** A key that changes exactly when the drawn topology does (not with the time of the scan). */
export function topologyKey(doc: BuiltTopology['doc']): string {
  return JSON.stringify({ source: doc.source, underlay: doc.underlay, nodes: doc.nodes, edges: doc.edges, services: doc.services });
}
