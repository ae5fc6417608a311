// The topology as a graph for ELK's layered layout, and ELK's answer as a drawing (boxes and wires
// in page coordinates) that the page draws as it is. Each node is a group laid out left to right — its uplink interface on
// its left border, then cni0 and flannel.1, the host veths, the pods (each pod's eth0 on its own
// left border) — and the groups sit one under the other right of the underlay switch, whose ports
// face them: the whole reads left to right, switch → node → bridge → veth → pod, and stays about as
// wide as one node however many nodes there are (a page fits it to its panel: more nodes make it
// taller, not wider). Nothing here is placed by hand: sizes come from the labels, positions from ELK. Pure.
import type { ElkExtendedEdge, ElkNode, ElkPort } from 'elkjs/lib/elk-api.js';
import type { Box, BoxKind, Drawing, TopologyDoc, Wire } from './api.js';
import { placeServices } from './layout-services.js';

/** Text metrics of the page's 12px monospace font (web/src/styles.css). */
const CHAR = 7.3;
const LINE = 15;
const PAD = { x: 8, y: 5 };
const GROUP_TOP = 30;

const size = (lines: string[]) => ({
  width: Math.ceil(Math.max(...lines.map((l) => l.length)) * CHAR + 2 * PAD.x),
  height: lines.length * LINE + 2 * PAD.y,
});

/** Everything ELK needs besides the graph: each id's kind, lines and port owner. */
export interface Labels {
  [id: string]: { kind: BoxKind; lines: string[]; owner?: string };
}

const ips = (xs: string[]) => xs.join(' ') || 'no IPv4';

/** The ELK graph of a topology, and the labels of its boxes. */
export function toElk(doc: Pick<TopologyDoc, 'nodes' | 'edges' | 'underlay'>): { graph: ElkNode; labels: Labels } {
  const labels: Labels = {};
  const label = (id: string, kind: BoxKind, lines: string[], owner?: string) => {
    labels[id] = { kind, lines, ...(owner ? { owner } : {}) };
    return { id, ...size(lines) };
  };
  const port = (id: string, kind: BoxKind, lines: string[], owner: string, side: 'WEST' | 'EAST', inside: 'half' | 'whole'): ElkPort => {
    const p = label(id, kind, lines, owner);
    const depth = p.width;
    return { ...p, layoutOptions: { 'elk.port.side': side, 'elk.port.borderOffset': String(-(inside === 'half' ? depth / 2 : depth)) } };
  };
  const home = new Map<string, string>();
  const groups: ElkNode[] = doc.nodes.map((n) => {
    const g = n.graph;
    const children: ElkNode[] = [
      ...g.bridges.map((b) => label(b.id, 'bridge', [b.name, ips(b.ips)])),
      ...g.vxlans.map((v) => label(v.id, 'vxlan', [v.name, `${ips(v.ips)} vni ${v.vni}`])),
      ...g.remotes.map((r) => label(r.id, 'remote', [`remote ${r.name}`, [r.ip, r.subnet].filter(Boolean).join(' ')])),
      ...g.veths.map((v) => label(v.id, 'veth', [v.label])),
      ...g.pods.map((p) => {
        const ports = p.ifaces.map((i) => port(i.id, 'pod-iface', [i.label, ips(i.ips.map((x) => x.split('/')[0]))], p.id, 'WEST', 'whole'));
        const name = size([p.name]);
        const width = Math.max(...ports.map((x) => x.width ?? 0), 0) + name.width + 6;
        const height = Math.max(name.height, ports.reduce((s, x) => s + (x.height ?? 0), 0) + 6);
        labels[p.id] = { kind: 'pod', lines: [p.name, p.kind === 'pod' ? '' : p.kind] };
        for (const x of ports) home.set(x.id, n.id);
        return { id: p.id, width, height, ports, layoutOptions: { 'elk.portConstraints': 'FIXED_SIDE' } };
      }),
    ];
    // Positions as the order to keep (INTERACTIVE crossing minimisation sorts each layer by them): the
    // server lists veths and pods in pod-name order; ELK's own crossing minimisation, or its model-order
    // constraints, would take seconds at 250 pods on a node.
    children.forEach((c, i) => { c.y = i * 1000; });
    for (const c of children) home.set(c.id, n.id);
    const ports = g.interfaces.map((i) => port(i.id, 'interface', [i.name, ips(i.ips)], n.id, 'WEST', 'half'));
    for (const p of ports) home.set(p.id, n.id);
    labels[n.id] = { kind: 'group', lines: [`node ${n.name}`] };
    return {
      id: n.id, children, ports, edges: [],
      layoutOptions: {
        'elk.algorithm': 'layered', 'elk.direction': 'RIGHT', 'elk.portConstraints': 'FIXED_SIDE',
        // ELK keeps the inner half of a port on the left border clear by itself.
        'elk.padding': `[top=${GROUP_TOP},left=12,bottom=12,right=12]`,
        'elk.portAlignment.west': 'CENTER',
        'elk.edgeRouting': 'ORTHOGONAL', 'elk.layered.mergeEdges': 'true', 'elk.spacing.nodeNode': '6', 'elk.spacing.edgeEdge': '4',
        'elk.layered.spacing.nodeNodeBetweenLayers': '28', 'elk.layered.spacing.edgeNodeBetweenLayers': '8',
        'elk.layered.crossingMinimization.strategy': 'INTERACTIVE',
      },
    };
  });
  const root: ElkNode = {
    id: 'root', children: [...groups], edges: [],
    layoutOptions: {
      'elk.algorithm': 'layered', 'elk.direction': 'RIGHT', 'elk.edgeRouting': 'ORTHOGONAL', 'elk.json.edgeCoords': 'ROOT',
      'elk.spacing.nodeNode': '24', 'elk.layered.spacing.nodeNodeBetweenLayers': '40', 'elk.padding': '[top=16,left=16,bottom=16,right=16]',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
    },
  };
  const u = doc.underlay;
  if (u) {
    const box = label(u.bridge.id, 'underlay-bridge', [`underlay switch ${u.bridge.name}`, ips(u.bridge.ips)]);
    const ports = u.ports.map((p) => port(p.id, 'underlay-port', [p.name], u.bridge.id, 'EAST', 'half'));
    // Wide enough for its label beside the ports that sit half inside its right border, tall enough for them all.
    const width = box.width + Math.max(0, ...ports.map((p) => (p.width ?? 0) / 2)) + 4;
    const height = Math.max(box.height, ports.reduce((s, p) => s + (p.height ?? 0) + 8, 8));
    root.children!.unshift({ ...box, width, height, ports, layoutOptions: { 'elk.portConstraints': 'FIXED_SIDE' } });
  }
  // Each edge goes in the group both its ends belong to, else at the root (underlay → node).
  for (const e of doc.edges) {
    if (e.kind === 'switch-port') continue; // drawn as the port on the switch's border
    if (e.kind === 'service-endpoint') continue; // placed beside ELK's drawing (layout-services.ts)
    const [a, b] = [home.get(e.source), home.get(e.target)];
    const edge: ElkExtendedEdge = { id: e.id, sources: [e.source], targets: [e.target] };
    const owner = a !== undefined && a === b ? groups.find((g) => g.id === a) : root;
    owner?.edges?.push(edge);
  }
  return { graph: root, labels };
}

/** ELK's result as a drawing: every shape moved into page coordinates (ELK gives them relative to
 * their parent; edges, with `elk.json.edgeCoords` ROOT, already in page coordinates). */
export function toDrawing(laid: ElkNode, labels: Labels, doc: Pick<TopologyDoc, 'edges' | 'services'>): Drawing {
  const edges = new Map(doc.edges.map((e) => [e.id, e]));
  const boxes: Box[] = [];
  const wires: Wire[] = [];
  const walk = (n: ElkNode, ox: number, oy: number) => {
    const x = ox + (n.x ?? 0);
    const y = oy + (n.y ?? 0);
    const l = labels[n.id];
    if (l) boxes.push({ id: n.id, kind: l.kind, lines: l.lines, x, y, w: n.width ?? 0, h: n.height ?? 0 });
    for (const p of n.ports ?? []) {
      const pl = labels[p.id];
      if (pl) boxes.push({ id: p.id, kind: pl.kind, lines: pl.lines, x: x + (p.x ?? 0), y: y + (p.y ?? 0), w: p.width ?? 0, h: p.height ?? 0, ...(pl.owner ? { owner: pl.owner } : {}) });
    }
    for (const c of n.children ?? []) walk(c, x, y);
    for (const e of n.edges ?? []) {
      const t = edges.get(e.id);
      if (!t) continue;
      const points = (e.sections ?? []).flatMap((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint]);
      wires.push({ id: e.id, kind: t.kind, source: t.source, target: t.target, points });
    }
  };
  walk(laid, 0, 0);
  return placeServices({ width: laid.width ?? 0, height: laid.height ?? 0, boxes, wires }, doc);
}
