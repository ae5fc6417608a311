// `podnet graph` of a whole lab: every node's drawing, the underlay switch with a port per node, and
// the flannel.1 tunnels between nodes — as Mermaid (the same writer as one node's) and as DOT (one
// cluster per node).
import type { ClusterModel } from '../../views/cluster.js';
import { renderTopologyMermaid } from '../mermaid.js';
import { dotString, renderGraphDot, serviceDotLines } from './dot.js';
import { withServices } from './mermaid.js';

/** A `graph TB` Mermaid diagram of the cluster. */
export function renderClusterMermaid(c: ClusterModel): string {
  return withServices(renderTopologyMermaid(c.nodes, c), c.services);
}

/** The cluster as one DOT graph: each node's drawing as a cluster, the switch, the tunnels. */
export function renderClusterDot(c: ClusterModel): string {
  const out = ['graph "cluster" {', '  graph [label="the cluster: nodes, underlay switch, flannel.1 tunnels", labelloc=t, fontname="monospace", rankdir=TB, compound=true];',
    '  node [shape=box, style="rounded,filled", fontname="monospace", fontsize=10, penwidth=2];', '  edge [color="#555555"];'];
  for (const g of c.nodes) {
    // One node's graph, its body only, as a cluster (ids are unique across nodes: they carry the node's name).
    const body = renderGraphDot(g).split('\n').slice(1, -2);
    out.push(`  subgraph ${dotString(`cluster_node_${g.node}`)} {`, `    label=${dotString(`node ${g.node}`)}; style=rounded; color="#888888";`, ...body.filter((l) => !/^\s*(graph|node|edge) \[|rank=same/.test(l)).map((l) => `  ${l}`), '  }');
  }
  const u = c.underlay;
  if (u) {
    out.push(`  ${dotString(u.bridge.id)} [label=${dotString(`${u.name}\n${u.bridge.name} Bridge\n${u.bridge.ips.join(' ')}`)}, fillcolor="#ffecd4", color="#cc6600"];`);
    for (const p of u.ports) {
      out.push(`  ${dotString(p.id)} [label=${dotString(p.label)}, fillcolor="#f3e5f5", color="#6a1b9a"];`, `  ${dotString(u.bridge.id)} -- ${dotString(p.id)};`);
      if (p.iface) out.push(`  ${dotString(p.id)} -- ${dotString(p.iface)} [penwidth=3, color="#6a1b9a"];`);
    }
  }
  // An undirected graph: one edge per pair of nodes (each sends to the other), labelled with both VTEPs.
  const pairs = new Map<string, string[]>();
  for (const t of c.tunnels) {
    const key = [t.from.vxlan, t.to.vxlan].sort().join(' -- ');
    pairs.set(key, [...(pairs.get(key) ?? []), `${t.to.node} ${t.vtepMac}`]);
  }
  for (const [key, macs] of pairs) {
    const [a, b] = key.split(' -- ');
    out.push(`  ${dotString(a)} -- ${dotString(b)} [style=dashed, color="#8a6d00", label=${dotString(`VXLAN\n${macs.join('\n')}`)}, fontname="monospace", fontsize=9];`);
  }
  out.push(...serviceDotLines(c.services));
  out.push('}');
  return `${out.join('\n')}\n`;
}
