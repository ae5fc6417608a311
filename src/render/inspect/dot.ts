// The topology as Graphviz DOT: an undirected graph, the host interfaces, bridges and host veths
// on their own ranks, one cluster per pod network namespace, in the blog diagram's colours; the
// remote nodes of a VXLAN device as dashed boxes beside it.
import type { GraphModel } from '../../views/graph.js';
import { serviceLabel, type GraphService } from '../../views/graph-services.js';
import { SERVICE_COLORS } from './graph-services.js';

/** A DOT quoted string: backslashes and quotes escaped, newlines as `\n`. */
export const dotString = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;

const COLORS = {
  interface: ['#d4edff', '#0066cc'],
  bridge: ['#ffecd4', '#cc6600'],
  namespace: ['#e8f5e9', '#2e7d32'],
  veth: ['#f3e5f5', '#6a1b9a'],
  overlay: ['#fff8c4', '#8a6d00'],
  remote: ['#ffffff', '#8a6d00'],
} as const;

/** DOT lines (indented for a graph body) for the Services and their edges to drawn endpoints. */
export function serviceDotLines(services: readonly GraphService[] | undefined): string[] {
  const out: string[] = [];
  for (const s of services ?? []) {
    out.push(`  ${dotString(s.id)} [label=${dotString(serviceLabel(s).join('\n'))}, shape=hexagon, fillcolor="${SERVICE_COLORS[0]}", color="${SERVICE_COLORS[1]}"];`);
    for (const e of s.edges) {
      if (!e.iface) continue;
      out.push(`  ${dotString(s.id)} -- ${dotString(e.iface)} [color="${SERVICE_COLORS[1]}", fontcolor="${SERVICE_COLORS[1]}", label=${dotString(`${e.port} → ${e.endpoint}`)}, fontname="monospace", fontsize=9${e.ready ? '' : ', style=dashed'}];`);
    }
  }
  return out;
}

const lines = (...parts: string[]) => parts.filter((p) => p !== '').join('\n');

/** `graph "<node>" { … }`: the host's topology as DOT (render with `dot -Tsvg`). */
export function renderGraphDot(g: GraphModel): string {
  const out = [`graph ${dotString(g.node)} {`];
  out.push(`  graph [label=${dotString(`${g.node}: pod network`)}, labelloc=t, fontname="monospace", rankdir=TB, nodesep=0.25, ranksep=0.6];`);
  out.push('  node [shape=box, style="rounded,filled", fontname="monospace", fontsize=10, penwidth=2];');
  out.push('  edge [color="#555555"];');
  const node = (id: string, label: string, cls: keyof typeof COLORS, indent = '  ', extra = '') =>
    out.push(`${indent}${dotString(id)} [label=${dotString(label)}, fillcolor="${COLORS[cls][0]}", color="${COLORS[cls][1]}"${extra}];`);
  const rank = (ids: string[]) => { if (ids.length > 1) out.push(`  { rank=same; ${ids.map(dotString).join('; ')}; }`); };

  for (const i of g.interfaces) node(i.id, lines(`Host Interface ${i.name}`, ...i.ips), 'interface');
  for (const x of g.vxlans) node(x.id, lines(`${x.name} VXLAN`, ...x.ips, [x.vni ? `vni ${x.vni}` : '', x.dstport ? `udp ${x.dstport}` : ''].filter(Boolean).join(' ')), 'overlay');
  for (const r of g.remotes) node(r.id, lines(`Node ${r.name}`, r.ip !== r.name ? r.ip : '', r.subnet ? `pods ${r.subnet}` : ''), 'remote', '  ', ', style="rounded,filled,dashed"');
  for (const b of g.bridges) node(b.id, lines(`${b.name} Bridge`, ...b.ips), 'bridge');
  for (const v of g.veths) node(v.id, lines(v.label, v.iface ? '' : `peer ${v.peer}`), 'veth', '  ', v.iface ? '' : ', style="rounded,filled,dashed"');
  for (const p of g.pods) {
    out.push(`  subgraph ${dotString(`cluster_${p.id}`)} {`);
    out.push(`    label=${dotString(`${p.name} Network Namespace`)}; labelloc=b; style="rounded,filled"; fillcolor="${COLORS.namespace[0]}"; color="${COLORS.namespace[1]}"; penwidth=2;`);
    for (const i of p.ifaces) node(i.id, lines(i.label, ...i.ips), 'veth', '    ');
    out.push('  }');
  }
  rank([...g.interfaces.map((i) => i.id), ...g.vxlans.map((x) => x.id), ...g.remotes.map((r) => r.id)]);
  rank(g.bridges.map((b) => b.id));
  rank(g.veths.map((v) => v.id));
  for (const b of g.bridges) if (b.uplink) out.push(`  ${dotString(b.uplink)} -- ${dotString(b.id)};`);
  for (const x of g.vxlans) if (x.underlay) out.push(`  ${dotString(x.underlay)} -- ${dotString(x.id)} [style=dashed];`);
  for (const r of g.remotes) if (r.vxlan) out.push(`  ${dotString(r.vxlan)} -- ${dotString(r.id)} [style=dashed, color="${COLORS.overlay[1]}", label=${dotString(r.vtepMac ? `VTEP ${r.vtepMac}` : 'VXLAN')}, fontname="monospace", fontsize=9];`);
  for (const v of g.veths) if (v.bridge) out.push(`  ${dotString(v.bridge)} -- ${dotString(v.id)};`);
  for (const v of g.veths) if (v.iface) out.push(`  ${dotString(v.id)} -- ${dotString(v.iface)} [penwidth=3, color="${COLORS.veth[1]}"];`);
  out.push(...serviceDotLines(g.services));
  out.push('}');
  return `${out.join('\n')}\n`;
}
